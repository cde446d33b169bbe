"""One request, start to finish: route, identify, parse, handle, serialize."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import Handler, collect
from pocketlink.gateway.identity import Credentials
from pocketlink.model.states import failures
from pocketlink.store import Store
from pocketlink.wire import sigv4
from pocketlink.wire.errors import (
    DryRun,
    InternalError,
    NotImplementedOperation,
    ServiceError,
)
from pocketlink.wire.message import HttpRequest, HttpResponse
from pocketlink.wire.parser import RequestParser, create_parser
from pocketlink.wire.router import Router
from pocketlink.wire.serializer import ResponseSerializer, create_serializer
from pocketlink.wire.specs import ServiceSpec, all_specs

log = logging.getLogger("pocketlink.api")

DEFAULT_REGION = "us-east-1"


class AuthError(ServiceError):
    pass


@dataclass
class Protocol:
    parser: RequestParser
    serializer: ResponseSerializer


class Gateway:
    def __init__(self, store: Store, credentials: Credentials | None = None,
                 strict_auth: bool = False, shutdown: Callable[[], None] | None = None,
                 consoles: Callable[[str], Path] | None = None) -> None:
        self.store = store
        self.shutdown = shutdown
        self.consoles = consoles
        self.credentials = credentials or Credentials()
        self.strict_auth = strict_auth
        specs = all_specs()
        self.router = Router(specs)
        self.protocols: dict[str, Protocol] = {}
        for spec in specs:
            try:
                self.protocols[spec.name] = Protocol(create_parser(spec), create_serializer(spec))
            except NotImplementedError:
                continue  # its protocol arrives with its first handler
        self.handlers: dict[tuple[str, str], Handler] = collect()

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/_pocketlink/"):
            return self._internal(request)
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        spec: ServiceSpec | None = None
        action = "-"
        account = "-"
        try:
            spec = self.router.route(request)
            protocol = self.protocols.get(spec.name)
            if protocol is None:
                raise ServiceError(f"pocketlink does not serve {spec.name} yet",
                                   code="UnknownService")
            signature = sigv4.signature_of(request)
            access_key = signature.scope.access_key if signature else ""
            account = self.credentials.account_for(access_key)
            self._authenticate(request, signature)
            region = signature.scope.region if signature else DEFAULT_REGION
            operation, params = protocol.parser.parse(request)
            action = operation.name
            handler = self.handlers.get((spec.name, operation.name))
            if handler is None:
                raise NotImplementedOperation(operation.name)
            if params.get("DryRun"):
                raise DryRun()
            context = RequestContext(account, region, request_id, self.store,
                                     consoles=self.consoles)
            result = handler(context, params) or {}
            response = protocol.serializer.serialize(operation, result, request_id)
        except ServiceError as error:
            response = self._error(spec, error, request_id)
        except Exception:
            log.exception("%s %s failed", spec.name if spec else "?", action)
            response = self._error(spec, InternalError(), request_id)
        elapsed = (time.perf_counter() - started) * 1000
        log.info("%s.%s %s %d %.1fms", spec.name if spec else "?", action, account,
                 response.status, elapsed)
        return response

    def _authenticate(self, request: HttpRequest, signature: sigv4.Signature | None) -> None:
        if not self.strict_auth:
            return
        if signature is None:
            raise AuthError("Request is missing Authentication Token",
                            code="MissingAuthenticationToken", status=403)
        secret = self.credentials.secret_for(signature.scope.access_key)
        if secret is None:
            raise AuthError("The security token included in the request is invalid.",
                            code="InvalidClientTokenId", status=403)
        if not sigv4.verify(request, signature, secret):
            raise AuthError(
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.", code="SignatureDoesNotMatch", status=403)

    def _error(self, spec: ServiceSpec | None, error: ServiceError, request_id: str
               ) -> HttpResponse:
        protocol = self.protocols.get(spec.name if spec else "ec2") or self.protocols["ec2"]
        return protocol.serializer.serialize_error(error, request_id)

    def _internal(self, request: HttpRequest) -> HttpResponse:
        """pocketlink's own endpoints, for ``pocketlink status`` and health probes."""
        if request.path == "/_pocketlink/health":
            body: dict = {"status": "running", "pid": os.getpid()}
        elif request.path == "/_pocketlink/shutdown" and request.method == "POST" and \
                self.shutdown is not None:
            self.shutdown()
            body = {"status": "stopping"}
        elif request.path == "/_pocketlink/status":
            body = {"status": "running", "state": self.store.path, "resources": self.store.summary(),
                    "failures": failures(self.store)}
        else:
            return HttpResponse(404, b'{"error": "not found"}',
                                {"Content-Type": "application/json"})
        return HttpResponse(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
