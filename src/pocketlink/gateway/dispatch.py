"""One request, start to finish: who may send it, route, identify, parse, handle, serialize.

Before a request reaches a handler it must come from no foreign web page (a browser's
``Origin`` or ``Sec-Fetch-Site`` saying so is refused, as LocalStack's CORS checks do),
stay within its client's request rate, name a real region, and, with ``--strict-auth``,
carry a SigV4 signature that holds (``wire.sigv4.check``). The daemon's own control
(status, shutdown) is not here: it is served on a unix socket (``gateway.control``).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import botocore.exceptions
import botocore.loaders

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import Handler, collect
from pocketlink.gateway.bucket_policy import BucketPolicies
from pocketlink.gateway.endpoint_policy import EndpointPolicies
from pocketlink.gateway.identity import Credentials
from pocketlink.gateway.limits import RateLimiter, held_off
from pocketlink.gateway.paths import NetworkPath
from pocketlink.model import regions
from pocketlink.services.backend import Backend, error_response, operation_of
from pocketlink.services.operations import Call, call_of
from pocketlink.store import Store
from pocketlink.wire import sigv4, specs
from pocketlink.wire.errors import (
    DryRun,
    InternalError,
    NotImplementedOperation,
    ServiceError,
)
from pocketlink.wire.message import HttpRequest, HttpResponse
from pocketlink.wire.parser import RequestParser, create_parser
from pocketlink.wire.router import Router, UnknownService
from pocketlink.wire.rpc import protocol_of
from pocketlink.wire.serializer import ResponseSerializer, create_serializer
from pocketlink.wire.specs import ServiceSpec, all_specs

if TYPE_CHECKING:  # only annotations name them
    from pocketlink.console.app import Console
    from pocketlink.imds.roles import InstanceProfiles
    from pocketlink.metrics.store import MetricStore
    from pocketlink.services.ecr_access import RegistryAccess

log = logging.getLogger("pocketlink.api")

PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"

DEFAULT_REGION = "us-east-1"
# The largest body an API request may have. No EC2, ELBv2, STS or Route 53 request comes
# near it (UserData is at most 16 KiB; 1,000 Route 53 changes of 32,000 value characters
# are well under). AWS publishes no figure for its query APIs: this one is pocketlink's.
MAX_BODY = 1024 * 1024
# What the backend's services take in one request: S3 parts (the CLI sends 8 MiB ones) and
# objects. The body passes through memory whole (docs/limitations.md), hence a bound.
BACKEND_MAX_BODY = 64 * 1024 * 1024
# What one registry request (an image layer's upload) may carry: it passes through memory
# whole, as the backend's bodies do (docs/limitations.md).
REGISTRY_MAX_BODY = 256 * 1024 * 1024
# Fetch metadata values a browser sends for a request made by the page's own origin, or
# typed by the user; anything else (same-site, cross-site) comes from another page.
_OWN_FETCH_SITES = ("same-origin", "none")


class AuthError(ServiceError):
    pass


@dataclass
class Protocol:
    parser: RequestParser
    serializer: ResponseSerializer


@cache
def _region_patterns() -> tuple[re.Pattern[str], ...]:
    """What a region looks like in each AWS partition, from botocore's endpoints data."""
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return tuple(re.compile(p["regionRegex"], re.ASCII) for p in endpoints["partitions"])


def is_real_region(name: str) -> bool:
    """Listed by DescribeRegions, or shaped as a region of an AWS partition (in ASCII:
    an Arabic-Indic digit is a digit to Python, not in a region)."""
    return name in regions.REGIONS or any(p.fullmatch(name) for p in _region_patterns())


def own_origins(host: str, port: int) -> frozenset[str]:
    """The origins a page served by this daemon itself would have (its console's)."""
    names = {"localhost", "127.0.0.1", "[::1]"}
    if host not in ("0.0.0.0", "::", ""):
        names.add(f"[{host}]" if ":" in host else host)
    return frozenset(f"http://{name}:{port}" for name in names)


def loopback_only(host: str) -> bool:
    """Whether a listener on ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Gateway:
    def __init__(self, store: Store, credentials: Credentials | None = None,
                 strict_auth: bool = False, consoles: Callable[[str], Path] | None = None,
                 origins: frozenset[str] = frozenset(),
                 limiter: RateLimiter | None = None, backend: Backend | None = None,
                 instance_profiles: InstanceProfiles | None = None,
                 registry: RegistryAccess | None = None,
                 metrics: MetricStore | None = None,
                 prometheus: Callable[[], bytes] | None = None,
                 loopback: bool = False, console: Console | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.prometheus = prometheus  # the Prometheus page, when served on this port
        self.console = console  # the web console (/_pocketlink/console/), a client of this API
        self.backend = backend
        self.registry = registry  # ECR's registry door: its requests bypass the API
        self.instance_profiles = instance_profiles
        self.consoles = consoles
        self.credentials = credentials or Credentials()
        self.strict_auth = strict_auth
        self.origins = origins  # the daemon's own (http://localhost:<port>...): a console's
        self.limiter = limiter or RateLimiter()
        self.endpoint_policies = EndpointPolicies(store, self.credentials)
        self.bucket_policies = BucketPolicies(self.credentials, loopback)
        specs = all_specs()
        self.router = Router(specs)
        self.protocols: dict[str, Protocol] = {}
        # A service of several protocols (CloudWatch: rpc-v2-cbor, json, query): each one.
        self.variants: dict[tuple[str, str], Protocol] = {}
        for spec in specs:
            try:
                self.protocols[spec.name] = Protocol(create_parser(spec), create_serializer(spec))
            except NotImplementedError:
                continue  # its protocol arrives with its first handler
            for name in spec.model.metadata.get("protocols", ()):
                self.variants[(spec.name, name)] = Protocol(create_parser(spec, name),
                                                            create_serializer(spec, name))
        self.handlers: dict[tuple[str, str], Handler] = collect()

    def handle(self, request: HttpRequest, peer: str = "", path: NetworkPath | None = None
               ) -> HttpResponse:
        """``path``: how the request came, when through an interface endpoint (the service
        front's socket says; None for a request on the daemon's own port)."""
        if request.path.startswith("/_pocketlink/"):
            return self._internal(request)
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        spec: ServiceSpec | None = None
        action = "-"
        account = "-"
        try:
            try:  # routed first, so that a refusal is in the service's format
                spec = self.router.route(request)
            finally:
                self._check_origin(request)
            protocol = self._protocol(spec, request)
            if protocol is None:
                raise ServiceError(f"pocketlink does not serve {spec.name} yet",
                                   code="UnknownService")
            signature = sigv4.signature_of(request)
            if signature is None and sigv4.claims_signature(request):
                raise AuthError("Authorization header requires 'Credential' parameter in "
                                "the form <key>/<date>/<region>/<service>/aws4_request.",
                                code="IncompleteSignature", status=403)
            access_key = signature.scope.access_key if signature else ""
            self._throttle(spec, access_key, peer)
            account = self.credentials.account_for(access_key)
            region = signature.scope.region if signature else DEFAULT_REGION
            if not is_real_region(region):
                raise _region_error(spec, region)
            self._authenticate(spec, request, signature)
            operation, params = _parse(protocol, request)
            action = operation.name
            handler = self.handlers.get((spec.name, operation.name))
            if handler is None:
                raise NotImplementedOperation(operation.name)
            self.endpoint_policies.authorize(
                path, lambda: Call(spec.name, operation.name, params), access_key, region)
            if params.get("DryRun"):
                raise DryRun()
            caller = self.credentials.caller(access_key)
            context = RequestContext(account, region, request_id, self.store,
                                     consoles=self.consoles,
                                     instance_profiles=self.instance_profiles,
                                     metrics=self.metrics,
                                     backend=self.backend,
                                     **({"user_id": caller[0], "principal": caller[1]}
                                        if caller else {}))
            result = handler(context, params) or {}
            response = protocol.serializer.serialize(operation, result, request_id)
        except ServiceError as error:
            response = self._error(spec, error, request_id, request)
        except Exception:
            log.exception("%s %s failed", spec.name if spec else "?", action)
            response = self._error(spec, InternalError(), request_id, request)
        elapsed = (time.perf_counter() - started) * 1000
        log.info("%s.%s %s %d %.1fms%s", spec.name if spec else "?", action, account,
                 response.status, elapsed, _via(path))
        return response

    def parse_ahead(self, request: HttpRequest) -> None:
        """A request's parse, done before its turn, on the API's thread (api_thread.py):
        pure work on the request and botocore's model, and most of a large request's CPU
        (a 1 MiB value, checked character by character). ``handle`` takes it, or raises its
        error, where it would have parsed: what a request is refused for first is the same.
        Under ``--strict-auth`` an unsigned request is not parsed ahead: it is refused first."""
        if request.path.startswith("/_pocketlink/") or \
                (self.registry is not None and self.registry.claims(request, from_host=True)) \
                or (self.backend is not None and self.backend.caller(request) is not None):
            return  # not the gateway's to parse
        if self.strict_auth and sigv4.signature_of(request) is None:
            return  # refused before its parse (``handle``): its body costs nothing
        try:
            spec = self.router.route(request)
        except ServiceError:
            return  # ``handle`` routes it again, and refuses it
        protocol = self._protocol(spec, request)
        if protocol is None:
            return
        try:
            request.parsed = protocol.parser.parse(request)
        except Exception as error:  # raised again, and logged if a bug, by ``handle``
            request.parsed = error

    def console_page(self, request: HttpRequest, path: NetworkPath | None = None
                     ) -> Awaitable[HttpResponse] | None:
        """The web console's page to come (it calls this API back, from a worker thread),
        or None: not a console path, or the request came through an endpoint."""
        if self.console is None or path is not None or not self.console.claims(request.path):
            return None
        return self.console.serve(request, self)

    def forwarding(self, request: HttpRequest, peer: str = "", path: NetworkPath | None = None
                   ) -> Awaitable[HttpResponse] | None:
        """The answer to come for a request the backend serves (its SigV4 scope names one
        of the backend's services), or None: pocketlink answers it itself (``handle``)."""
        if self.registry is not None and self.registry.claims(request, from_host=path is None):
            return self._registry(self.registry, request, path)  # ECR's registry, its layers
        looking = self.instance_profiles.prefetch(request, self.credentials) \
            if self.instance_profiles is not None else None
        if looking is not None:  # EC2 naming an instance profile: IAM is asked first
            return self._after(looking, request, peer, path)
        caller = self.backend.caller(request) if self.backend is not None else None
        if caller is None:
            return None
        if caller[0] == "ecr" and self.registry is not None:  # its token is pocketlink's
            return self._forward(self.registry, request, *caller, peer, path)
        return self._forward(self.backend, request, *caller, peer, path)  # type: ignore[arg-type]

    async def _after(self, looking: Awaitable[None], request: HttpRequest, peer: str,
                     path: NetworkPath | None) -> HttpResponse:
        """``handle``, once what it needs of IAM (an instance profile) has been asked."""
        await looking
        return self.handle(request, peer, path)

    async def _registry(self, registry: RegistryAccess, request: HttpRequest,
                        path: NetworkPath | None) -> HttpResponse:
        started = time.perf_counter()
        try:
            self._check_origin(request)
            response = await registry.relay(request, path, self.endpoint_policies)
        except ServiceError as error:
            response = HttpResponse(error.status, error.message.encode())
        except Exception:
            log.exception("registry %s %s failed", request.method, request.path)
            response = HttpResponse(500, b"InternalError")
        log.info("%s %s %s %d %.1fms%s", registry.label(request), request.method, request.path,
                 response.status, (time.perf_counter() - started) * 1000, _via(path))
        return response

    async def _forward(self, backend: Backend | RegistryAccess, request: HttpRequest, service: str,
                       access_key: str, peer: str, path: NetworkPath | None) -> HttpResponse:
        started = time.perf_counter()
        account = self.credentials.account_for(access_key)
        spec = specs.load(service)
        try:
            self._check_origin(request)
            self._throttle(spec, access_key, peer)
            signature = sigv4.signature_of(request)
            if signature is not None and not is_real_region(signature.scope.region):
                raise _region_error(spec, signature.scope.region)
            self._authenticate(spec, request, signature)
            region = signature.scope.region if signature else DEFAULT_REGION
            call = cache(lambda: call_of(service, request))
            self.endpoint_policies.authorize(path, call, access_key, region)
            if service == "s3":
                await self.bucket_policies.authorize(
                    lambda asked: backend.forward(service, asked, account), path, call(),
                    request, access_key, region)
            response = await backend.forward(service, request, account)
            if service == "s3":
                self.bucket_policies.answered(call(), response)
        except ServiceError as error:
            response = error_response(service, error)
            held_off(response, error)
        except Exception:
            log.exception("%s %s failed", service, request.method)
            response = error_response(service, InternalError())
        log.info("%s.%s %s %d %.1fms%s", service, operation_of(request), account,
                 response.status, (time.perf_counter() - started) * 1000, _via(path))
        return response

    def refuse(self, request: HttpRequest | None, error: ServiceError) -> HttpResponse:
        """An HTTP-level error (too large, malformed) in the format of the service the
        request is for, when its head says; in EC2's when nothing was understood."""
        spec = None
        if request is not None:
            try:
                spec = self.router.route(request)
            except ServiceError:
                spec = None
        return self._error(spec, error, str(uuid.uuid4()), request)

    def body_limit(self, request: HttpRequest) -> int:
        if self.registry is not None and self.registry.claims(request, from_host=True):
            return REGISTRY_MAX_BODY
        if self.backend is not None and self.backend.caller(request) is not None:
            return BACKEND_MAX_BODY
        return MAX_BODY

    def _check_origin(self, request: HttpRequest) -> None:
        """A page in a local browser must not drive the API: a request that a browser made
        for another origin is refused, whatever it carries (a query-string signature, a
        form post). Programs (SDKs, the CLI, curl) send neither header."""
        origin = request.headers.get("origin")
        site = request.headers.get("sec-fetch-site")
        if (origin is not None and origin not in self.origins) or (
                site is not None and site not in _OWN_FETCH_SITES):
            # LocalStack answers a forbidden origin with a bare 403; the code is pocketlink's.
            raise AuthError(f"Requests from the web page of origin {origin or site!r} are "
                            "refused: only programs and the daemon's own origin may call "
                            "this API.", code="AccessDenied", status=403)

    def _throttle(self, spec: ServiceSpec, access_key: str, peer: str) -> None:
        known = not self.strict_auth or self.credentials.secret_for(access_key) is not None
        client = f"key:{access_key}" if access_key and known else f"address:{peer}"
        if self.limiter.allow(client):
            return
        if "ThrottlingException" in spec.errors:  # Route 53 models it
            raise spec.error("ThrottlingException", "Rate exceeded")
        if spec.protocol == "ec2":
            raise ServiceError("Request limit exceeded.", code="RequestLimitExceeded",
                               status=503)
        raise ServiceError("Rate exceeded", code="Throttling", status=400)

    def _authenticate(self, spec: ServiceSpec, request: HttpRequest,
                      signature: sigv4.Signature | None) -> None:
        if not self.strict_auth:
            return
        if signature is None:
            raise AuthError("Request is missing Authentication Token",
                            code="MissingAuthenticationToken", status=403)
        secret = self.credentials.secret_for(signature.scope.access_key)
        if secret is None:
            raise AuthError("The security token included in the request is invalid.",
                            code="InvalidClientTokenId", status=403)
        token = request.headers.get("x-amz-security-token") or \
            dict(parse_qsl(request.query)).get("X-Amz-Security-Token")
        refused = self.credentials.session_refusal(signature.scope.access_key, token,
                                                   datetime.now(UTC))
        if refused is not None:
            raise AuthError(refused[1], code=refused[0], status=403)
        problem = sigv4.check(request, signature, secret)
        if problem is not None:
            raise _auth_error(spec, problem)

    def _protocol(self, spec: ServiceSpec, request: HttpRequest) -> Protocol | None:
        """The service's protocol, or the one of its several the request came in."""
        return self.variants.get((spec.name, protocol_of(spec, request))) or \
            self.protocols.get(spec.name)

    def _error(self, spec: ServiceSpec | None, error: ServiceError, request_id: str,
               request: HttpRequest | None = None) -> HttpResponse:
        protocol = (self._protocol(spec, request) if spec and request else None) or \
            self.protocols.get(spec.name if spec else "ec2") or self.protocols["ec2"]
        unserved = _unserved_serializer(error) if spec is None else None
        response = (unserved or protocol.serializer).serialize_error(error, request_id)
        held_off(response, error)
        return response

    def _internal(self, request: HttpRequest) -> HttpResponse:
        """Whether the daemon is up, for probes: nothing else about it is on the web but
        the Prometheus page, when ``pocketlink up --prometheus`` asked for it, and the web
        console (``console_page``), which shows only what the API answers its key."""
        if request.path == "/_pocketlink/health":
            return HttpResponse(200, json.dumps({"status": "running"}).encode(),
                                {"Content-Type": "application/json"})
        if request.path == "/_pocketlink/metrics" and self.prometheus is not None:
            return HttpResponse(200, self.prometheus(), {"Content-Type": PROMETHEUS_TYPE})
        return HttpResponse(404, b'{"error": "not found"}', {"Content-Type": "application/json"})


def _parse(protocol: Protocol, request: HttpRequest) -> tuple:
    """(operation, params): what ``parse_ahead`` found, or parsed now."""
    ahead, request.parsed = request.parsed, None
    if ahead is None:
        return protocol.parser.parse(request)
    if isinstance(ahead, BaseException):
        raise ahead
    return ahead


def _unserved_serializer(error: ServiceError) -> ResponseSerializer | None:
    """For a service pocketlink does not serve, the serializer of its own protocol, when
    botocore models it by its signing name: the client reads the refusal in the format it
    expects (a json service's ``__type``, not EC2's XML). None: EC2's form it is."""
    service = getattr(error, "service", None) if isinstance(error, UnknownService) else None
    if not service:
        return None
    try:
        return create_serializer(specs.load(service))
    except (botocore.exceptions.DataNotFoundError, NotImplementedError):
        return None  # no model by that name, or a protocol pocketlink does not speak


def _via(path: NetworkPath | None) -> str:
    """The request log line's account of a request through the service front: the
    interface endpoint it came through, or the internet (an internet or NAT gateway)."""
    if path is None:
        return ""
    return f" via {path.vpce_id or 'the internet'} from {path.source_ip}"


def _region_error(spec: ServiceSpec, region: str) -> AuthError:
    message = f"Credential should be scoped to a valid region, not '{region}'. "
    if spec.protocol == "ec2":
        return AuthError(message, code="AuthFailure", status=401)
    return AuthError(message, code="SignatureDoesNotMatch", status=403)


# (who, Problem.kind) -> (code, HTTP status, message or None for the Problem's own).
# "who" is the signing name where a service differs from its protocol (S3), else the
# protocol. EC2 reports a time out of range as RequestExpired (its common errors), the
# query and rest-xml services as SignatureDoesNotMatch with the times spelt out, S3 as
# RequestTimeTooSkewed; S3 refuses an expired presigned URL as AccessDenied.
_AUTH_ERRORS: dict[tuple[str, str], tuple[str, int, str | None]] = {
    ("ec2", "expired"): ("RequestExpired", 400, "Request has expired."),
    ("ec2", "not-yet-current"): ("RequestExpired", 400, "Request has expired."),
    ("ec2", "presign-expired"): ("RequestExpired", 400, "Request has expired."),
    ("ec2", "incomplete"): ("IncompleteSignature", 400, None),
    ("s3", "expired"): ("RequestTimeTooSkewed", 403, "The difference between the request "
                        "time and the current time is too large."),
    ("s3", "not-yet-current"): ("RequestTimeTooSkewed", 403, "The difference between the "
                                "request time and the current time is too large."),
    ("s3", "presign-expired"): ("AccessDenied", 403, "Request has expired"),
    ("s3", "body-hash"): ("XAmzContentSHA256Mismatch", 400, None),
}
_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
             "Check your AWS Secret Access Key and signing method. Consult the service "
             "documentation for details.")


def _auth_error(spec: ServiceSpec, problem: sigv4.Problem) -> AuthError:
    who = spec.signing_name if spec.signing_name == "s3" else spec.protocol
    known = _AUTH_ERRORS.get((who, problem.kind))
    if known is not None:
        code, status, message = known
        return AuthError(message or problem.message, code=code, status=status)
    if problem.kind == "incomplete":
        return AuthError(problem.message, code="IncompleteSignature", status=403)
    if problem.kind == "body-hash":  # any service but S3 hashes the body itself
        return AuthError(_MISMATCH, code="SignatureDoesNotMatch", status=403)
    return AuthError(problem.message, code="SignatureDoesNotMatch", status=403)

