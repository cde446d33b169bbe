"""What a resource provider may call: pocketlink's own API handlers in-process, and the
backend's services (moto) as any client calls them.

``Api.call("ec2", "CreateVpc", {...})`` runs the handler the gateway would run for that
request, with the stack's account and region, its parameters first shaped as botocore's
model says (a template's ``"443"`` becomes the integer the handler expects, ``"true"`` a
boolean). ``await Api.backend("ssm", "PutParameter", {...})`` serializes the request with
botocore's own serializer, forwards it to the backend with the account, and parses the
answer with botocore's parser. Either raises ``ProviderError`` with the service's words.
``await Api.until(check)`` waits for the store to make ``check()`` true (an NLB turning
active, an endpoint available): woken by each commit, not by a timer.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import time
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlencode

from botocore import parsers, serialize
from botocore.exceptions import ParamValidationError
from botocore.model import Shape

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import Handler, collect
from pocketlink.wire import specs
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest

# How long a resource may wait for the world (an NLB to turn active) before it fails.
STABILIZE_TIMEOUT = 300.0


class ProviderError(Exception):
    """A resource could not be made, changed or removed; the message is the event's reason."""


@cache
def _handlers() -> dict[tuple[str, str], Handler]:
    return collect()


def shaped(shape: Shape | None, value: Any) -> Any:
    """``value`` as the botocore ``shape`` types it (CloudFormation passes numbers and
    booleans as strings as often as not)."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: shaped(members.get(k), v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [shaped(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: shaped(shape.value, v) for k, v in value.items()}
    if kind in ("integer", "long") and isinstance(value, str | float):
        try:
            return int(value)
        except ValueError:
            return value
    if kind in ("double", "float") and isinstance(value, str | int):
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true" if value.lower() in ("true", "false") else value
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, int | float):
        return str(value)
    return value


def _reason(service: str, error: ServiceError, request_id: str) -> str:
    """As AWS's resource handlers word a service's refusal."""
    service_id = specs.load(service).model.metadata.get("serviceId", service)
    return (f'Resource handler returned message: "{error.message} (Service: {service_id}, '
            f'Status Code: {error.status}, Request ID: {request_id})" (HandlerErrorCode: '
            f'{_handler_code(error)}, ErrorCode: {error.code})')


def _handler_code(error: ServiceError) -> str:
    if "NotFound" in error.code or "NoSuch" in error.code:
        return "NotFound"
    if "Duplicate" in error.code or "AlreadyExists" in error.code:
        return "AlreadyExists"
    if error.status >= 500:
        return "ServiceInternalError"
    return "InvalidRequest" if error.code != "DependencyViolation" else "ResourceConflict"


class Api:
    """A provider's calls, for one resource (``logical_id``) of one stack."""

    def __init__(self, context: RequestContext, stack_name: str = "", logical_id: str = "",
                 initiated: Callable[[str], None] | None = None) -> None:
        self.context = context
        self.stack_name = stack_name
        self.logical_id = logical_id
        self._initiated = initiated

    def initiated(self, physical_id: str) -> None:
        """The resource exists, and now it is waited for: the stack records its physical
        id at once (AWS's "Resource creation Initiated"), so that a stop of the daemon in
        the wait leaves nothing the stack does not know of."""
        if self._initiated is not None:
            self._initiated(physical_id)

    def physical_name(self, max_length: int = 255, lower: bool = False) -> str:
        """A name for a resource the template does not name, as CloudFormation makes them:
        the stack's name, the logical id and a random suffix, cut to fit."""
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits)
                         for _ in range(12 if max_length > 40 else 8))
        room = max_length - len(suffix) - 2
        stack = self.stack_name[: max(1, room // 2)]
        logical = self.logical_id[: max(1, room - len(stack))]
        name = f"{stack}-{logical}-{suffix}"
        return name.lower() if lower else name

    @property
    def account(self) -> str:
        return self.context.account

    @property
    def region(self) -> str:
        return self.context.region

    def call(self, service: str, operation: str, params: dict) -> dict:
        spec = specs.load(service)
        model = spec.model.operation_model(operation)
        handler = _handlers()[(service, operation)]
        context = RequestContext(self.context.account, self.context.region, str(uuid.uuid4()),
                                 self.context.store, principal=self.context.principal,
                                 consoles=self.context.consoles,
                                 instance_profiles=self.context.instance_profiles,
                                 user_id=self.context.user_id, backend=self.context.backend)
        try:
            return handler(context, shaped(model.input_shape, params)) or {}
        except ServiceError as error:
            raise ProviderError(_reason(service, error, context.request_id)) from None

    async def backend(self, service: str, operation: str, params: dict) -> dict:
        backend = self.context.backend
        if backend is None:
            raise ProviderError(f"the {service} backend is not running in this daemon")
        model = specs.load(service).model
        op = model.operation_model(operation)
        protocol = model.metadata["protocol"]
        try:
            request = serialize.create_serializer(protocol, include_validation=True) \
                .serialize_to_request(shaped(op.input_shape, params), op)
        except ParamValidationError as error:  # a property the provider did not translate
            raise ProviderError(f"{service} {operation}: {error}") from None
        body = request["body"]
        if isinstance(body, dict):
            body = urlencode(body, doseq=True)
        if isinstance(body, str):
            body = body.encode()
        query = request["query_string"]
        if isinstance(query, dict):
            query = urlencode(query, doseq=True)
        prefix = model.metadata["endpointPrefix"]
        global_ = model.metadata.get("globalEndpoint")
        host = global_ or f"{prefix}.{self.region}.amazonaws.com"
        stamp = time.strftime("%Y%m%d", time.gmtime())
        signing = model.metadata.get("signingName") or prefix
        headers = {k.lower(): v for k, v in request["headers"].items()}
        headers.update({
            "host": host,
            # moto reads the service from the scope and the account from x-moto-account-id;
            # the request never leaves the daemon.
            "authorization": f"AWS4-HMAC-SHA256 Credential={self.account}/{stamp}/"
                             f"{self.region}/{signing}/aws4_request, SignedHeaders=host, "
                             "Signature=0"})
        if protocol == "query":
            headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8"
        response = await backend.forward(
            signing, HttpRequest(request["method"], request["url_path"], query or "", headers,
                                 body or b""), self.account)
        parsed = parsers.create_parser(protocol).parse(
            {"status_code": response.status, "headers": response.headers,
             "body": response.body}, op.output_shape)
        if response.status >= 300:
            error = parsed.get("Error") or {}
            failure = ServiceError(error.get("Message") or response.body.decode(errors="replace"),
                                   code=error.get("Code") or "InternalFailure",
                                   status=response.status)
            request_id = (parsed.get("ResponseMetadata") or {}).get("RequestId", "")
            raise ProviderError(_reason(service, failure, request_id))
        parsed.pop("ResponseMetadata", None)
        return parsed

    async def until(self, check: Callable[[], Any], what: str,
                    timeout: float = STABILIZE_TIMEOUT) -> Any:
        """``check()``'s first true answer; each store commit asks it again. ``what`` is
        the reason the resource fails with when ``timeout`` runs out."""
        store = self.context.store
        changed = asyncio.Event()
        store.listeners.append(changed.set)
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                answer = check()
                if answer:
                    return answer
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise ProviderError(f"{what} (waited {timeout:.0f} seconds)")
                changed.clear()
                try:
                    await asyncio.wait_for(changed.wait(), remaining)
                except TimeoutError:
                    continue
        finally:
            store.listeners.remove(changed.set)
