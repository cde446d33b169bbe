"""ECR's registry door: ``ACCOUNT.dkr.ecr.REGION.amazonaws.com`` in front of the registry
(ecr_registry.py), its layers' S3 redirects, and GetAuthorizationToken.

What a registry request meets, in order, as at ECR:

- Basic auth with the user ``AWS`` and a token from GetAuthorizationToken (ecr_tokens.py):
  none or a bad one is ``401 Not Authorized`` with ECR's ``Www-Authenticate`` challenge;
  an expired one ``403 DENIED``.
- The registry's account and region: the host name's, or, on the daemon's own port (the
  host pushing through ``localhost:4566``), the token's. A token of another account is
  refused as ECR refuses a principal that no repository policy admits; the endpoint the
  request came through (``ecr.dkr``) applies its policy to the action (``registry_action``).
- The repository: it must exist in the account and region through the ECR API (the
  backend's, moto); else ``404 NAME_UNKNOWN``. In the registry each account's
  repositories live under ``ACCOUNT/REGION/``, a namespace no request can name itself.
- A layer download (``GET .../blobs/DIGEST``) that came through a VPC is answered with a
  ``307`` to a presigned S3 URL on AWS's layer bucket
  (``prod-REGION-starport-layer-bucket.s3.REGION.amazonaws.com``), as ECR does: the
  client must then reach S3 (an S3 interface or gateway endpoint, a NAT) or time out. That
  URL, when it arrives through any S3 path, is answered from the registry's storage once
  its signature (SigV4, signed with a key derived from the token key) and expiry hold,
  and the S3 endpoint's policy admits ``s3:GetObject`` on the bucket. From the host (no
  network path: the host cannot resolve AWS's names) a layer is relayed at once.

The error bodies are ECR's as clients print them (``denied: Your authorization token has
expired...``, ``name unknown: The repository with name 'x' does not exist in the registry
with id '...'``); the 401 body and challenge are what ECR answers ``curl``. Where ECR's
exact answer is not published (a catalog request, a token of another region) the answer
is a guess, said so beside it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from pocketlink.gateway.endpoint_policy import EndpointPolicies, EndpointPolicyDenied
from pocketlink.gateway.identity import Credentials
from pocketlink.gateway.paths import NetworkPath
from pocketlink.policy.actions import registry_action
from pocketlink.services.backend import Backend, error_response, operation_of
from pocketlink.services.ecr_registry import Registry, RegistryUnavailable
from pocketlink.services.ecr_tokens import (
    USERNAME,
    AuthorizationTokens,
    ExpiredToken,
    InvalidToken,
    Token,
    basic_credentials,
)
from pocketlink.services.operations import Call
from pocketlink.wire import sigv4
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest, HttpResponse

REGISTRY_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?::\d+)?$")
LAYER_HOST = re.compile(
    r"^prod-(?P<region>[a-z0-9-]+)-starport-layer-bucket\.s3\.(?P=region)\.amazonaws\.com"
    r"(?::\d+)?$")
_BLOB = re.compile(r"^/v2/.+/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
_MANIFEST = re.compile(r"^/v2/.+/manifests/(?P<reference>[^/]+)$")
DEFAULT_REGION = "us-east-1"  # an unsigned call's, as the gateway's
LAYER_URL_EXPIRES = 3600  # seconds a layer's S3 URL holds (a guess: AWS does not say)
API_VERSION = {"Docker-Distribution-Api-Version": "registry/2.0"}
JSON = {"Content-Type": "application/json; charset=utf-8"}
log = logging.getLogger("pocketlink.registry")
EXPIRED = "Your authorization token has expired. Reauthenticate and try again."


def registry_name(account: str, region: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def layer_bucket(region: str) -> str:
    return f"prod-{region}-starport-layer-bucket"


def registry_errors(status: int, code: str, message: str) -> HttpResponse:
    """An answer in the distribution API's error format, as ECR writes it."""
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return HttpResponse(status, body, {**API_VERSION, **JSON})


class RegistryAccess:
    def __init__(self, registry: Registry, tokens: AuthorizationTokens, backend: Backend,
                 credentials: Credentials) -> None:
        self.registry = registry
        self.tokens = tokens
        self.backend = backend
        self.credentials = credentials  # who an access key is (a role's ARN for its token)
        self._layer_secret = hmac.new(tokens.key, b"layer urls", hashlib.sha256).hexdigest()

    # --- which requests are the registry's ----------------------------------------------
    def claims(self, request: HttpRequest, from_host: bool) -> bool:
        """A registry or layer request: by its host name, or, on the daemon's own port
        (``from_host``), an unsigned ``/v2/`` request (the host names the registry
        ``localhost:4566``)."""
        host = request.headers.get("host", "").lower()
        if REGISTRY_HOST.match(host) or LAYER_HOST.match(host):
            return True
        return from_host and (request.path == "/v2" or request.path.startswith("/v2/")) and \
            sigv4.credential_scope(request) is None

    @staticmethod
    def label(request: HttpRequest) -> str:
        """What the request log calls a request ``claims`` takes."""
        return "s3.layer" if LAYER_HOST.match(request.headers.get("host", "").lower()) \
            else "ecr.registry"

    async def relay(self, request: HttpRequest, path: NetworkPath | None,
                    policies: EndpointPolicies) -> HttpResponse:
        """The answer to a request ``claims`` takes."""
        layer = LAYER_HOST.match(request.headers.get("host", "").lower())
        if layer is not None:
            return await self._layer(request, layer["region"], path, policies)
        try:
            return await self._registry(request, path, policies)
        except RegistryUnavailable as error:
            return registry_errors(503, "UNAVAILABLE", f"The registry is not available "
                                   f"({error}); try again.")

    # --- ECR's API: GetAuthorizationToken, the rest the backend's -------------------------
    async def forward(self, service: str, request: HttpRequest, account: str) -> HttpResponse:
        """What ``Backend.forward`` does for a request of ECR's API (the gateway has
        authenticated and authorized it), but for GetAuthorizationToken: pocketlink's."""
        if operation_of(request) != "GetAuthorizationToken":
            return await self.backend.forward(service, request, account)
        scope = sigv4.credential_scope(request)
        caller = self.credentials.caller(scope.access_key) if scope is not None else None
        return self.authorization_token(
            account, scope.region if scope is not None else DEFAULT_REGION,
            caller[1] if caller else f"arn:aws:iam::{account}:root")

    def authorization_token(self, account: str, region: str, principal: str) -> HttpResponse:
        """ECR's GetAuthorizationToken answer (json 1.1): one authorizationData for the
        caller's registry (``registryIds`` is deprecated and ignored, as at AWS)."""
        password, expires = self.tokens.issue(account, region, principal)
        token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
        body = {"authorizationData": [{
            "authorizationToken": token, "expiresAt": expires.timestamp(),
            "proxyEndpoint": f"https://{registry_name(account, region)}"}]}
        return HttpResponse(200, json.dumps(body).encode(), {
            "Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())})

    # --- the registry ---------------------------------------------------------------------
    async def _registry(self, request: HttpRequest, path: NetworkPath | None,
                        policies: EndpointPolicies) -> HttpResponse:
        named = REGISTRY_HOST.match(request.headers.get("host", "").lower())
        token = self._token(request)
        if not isinstance(token, Token):
            return token
        account, region = (named["account"], named["region"]) if named else \
            (token.account, token.region)
        if token.region != region:  # a guess: ECR's answer to another region's token
            return _not_authorized(request)
        if request.path in ("/v2", "/v2/"):
            return await self._exchange(request, "")
        action = registry_action(request.method, request.path)
        if action is None:  # the catalog, or no route: ECR serves none (its answer a guess)
            return registry_errors(404, "UNSUPPORTED", "The operation is unsupported.")
        iam_action, name = action
        if token.account != account:
            return registry_errors(403, "DENIED", (
                f"User: {token.principal} is not authorized to perform: {iam_action} on "
                f"resource: arn:aws:ecr:{region}:{account}:repository/{name} because no "
                f"resource-based policy allows the {iam_action} action"))
        try:
            policies.authorize(path, lambda: Call("ecr", iam_action.partition(":")[2], {
                "repositoryName": name, "registryId": account}), account, region)
        except EndpointPolicyDenied as error:
            return registry_errors(403, "DENIED", error.message)
        if not await self._repository_exists(account, region, name):
            return registry_errors(404, "NAME_UNKNOWN", (
                f"The repository with name '{name}' does not exist in the registry with id "
                f"'{account}'"))
        prefix = f"{account}/{region}"
        blob = _BLOB.match(request.path)
        if blob is not None and request.method == "GET" and path is not None:
            return await self._redirect(request, prefix, account, region, blob["digest"])
        answer = await self._exchange(request, prefix)
        manifest = _MANIFEST.match(request.path)
        if manifest is not None and request.method == "PUT" and answer.status == 201:
            await self._record(request, account, region, name, manifest["reference"],
                               answer.headers.get("Docker-Content-Digest", ""))
        return answer

    def _token(self, request: HttpRequest) -> Token | HttpResponse:
        credentials = basic_credentials(request.headers.get("authorization", ""))
        if credentials is None or credentials[0] != USERNAME:
            return _not_authorized(request)
        try:
            return self.tokens.check(credentials[1])
        except InvalidToken:
            return _not_authorized(request)
        except ExpiredToken:
            return registry_errors(403, "DENIED", EXPIRED)

    async def _repository_exists(self, account: str, region: str, name: str) -> bool:
        """Asked of the ECR API (the backend), each time: a repository deleted there is
        gone from the registry's door at once."""
        answer = await self.backend.forward("ecr", _ecr_call(
            account, region, "DescribeRepositories", {"repositoryNames": [name]}), account)
        if answer.status >= 500:
            raise RegistryUnavailable("the ECR API (backend) is not available")
        return answer.status == 200

    async def _record(self, request: HttpRequest, account: str, region: str, name: str,
                      reference: str, digest: str) -> None:
        """A manifest the registry took, told to the ECR API (PutImage with the registry's
        digest), so that describe-images and list-images show what was pushed."""
        image = {"repositoryName": name, "imageManifest": request.body.decode("utf-8"),
                 "imageDigest": digest}
        if not reference.startswith("sha256:"):
            image["imageTag"] = reference
        media_type = request.headers.get("content-type")
        if media_type:
            image["imageManifestMediaType"] = media_type
        answer = await self.backend.forward("ecr", _ecr_call(account, region, "PutImage",
                                                             image), account)
        if answer.status != 200:
            log.warning("ECR's API did not record %s:%s of %s (%d): %s", name, reference,
                        account, answer.status, answer.body[:200])

    async def _exchange(self, request: HttpRequest, prefix: str) -> HttpResponse:
        """``request`` relayed to the registry under the account's namespace ``prefix``,
        and the answer with that namespace taken out of its locations and names."""
        inner = request.path if not prefix else f"/v2/{prefix}/{request.path[4:]}"
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        answer = await self.registry.exchange(HttpRequest(
            request.method, inner, _own_mounts(request.query, prefix), headers, request.body))
        if prefix:
            location = answer.headers.get("Location")
            if location is not None and location.startswith(f"/v2/{prefix}/"):
                answer.headers["Location"] = "/v2/" + location[len(f"/v2/{prefix}/"):]
            if answer.headers.get("Content-Type", "").startswith("application/json"):
                answer.body = answer.body.replace(f'"{prefix}/'.encode(), b'"')
        return answer

    async def _redirect(self, request: HttpRequest, prefix: str, account: str, region: str,
                        digest: str) -> HttpResponse:
        """ECR's answer to a layer download: where in S3 to fetch it, once the registry
        says the repository holds it."""
        held = await self._exchange(HttpRequest("HEAD", request.path, "", request.headers),
                                    prefix)
        if held.status != 200:
            return registry_errors(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return HttpResponse(307, b"", {**API_VERSION, "Location": self.layer_url(
            account, region, digest), "Docker-Content-Digest": digest})

    # --- the layer bucket ------------------------------------------------------------------
    def layer_url(self, account: str, region: str, digest: str) -> str:
        """A presigned S3 GET of the layer ``digest``, its key ``sha256/HEX`` (the storage
        is by digest). Signed with ``account`` as the access key: the door's fairness turns
        and the S3 endpoint's policy see the registry's account as the caller."""
        host = f"{layer_bucket(region)}.s3.{region}.amazonaws.com"
        url = f"https://{host}/{digest.replace(':', '/', 1)}"
        signer = S3SigV4QueryAuth(BotoCredentials(account, self._layer_secret), "s3", region,
                                  expires=LAYER_URL_EXPIRES)
        unsigned = AWSRequest("GET", url)
        signer.add_auth(unsigned)
        return unsigned.url

    async def _layer(self, request: HttpRequest, region: str, path: NetworkPath | None,
                     policies: EndpointPolicies) -> HttpResponse:
        signature = sigv4.signature_of(request)
        if request.method != "GET" or signature is None or not signature.presigned:
            return _s3_error(403, "AccessDenied", "Access Denied")
        problem = sigv4.check(request, signature, self._layer_secret, datetime.now(UTC))
        if problem is not None:
            if problem.kind == "presign-expired":
                return _s3_error(403, "AccessDenied", "Request has expired")
            return _s3_error(403, "SignatureDoesNotMatch", problem.message)
        key = request.path.lstrip("/")
        try:
            policies.authorize(path, lambda: Call("s3", "GetObject", {
                "Bucket": layer_bucket(region), "Key": key}), signature.scope.access_key, region)
        except EndpointPolicyDenied as error:
            return error_response("s3", error)
        blob = self.registry.blob_path(key.replace("/", ":", 1))
        try:
            data = await asyncio.to_thread(blob.read_bytes) if blob is not None else None
        except FileNotFoundError:
            data = None
        if data is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return HttpResponse(200, data, {"Content-Type": "application/octet-stream"})


def _own_mounts(query: str, prefix: str) -> str:
    """A cross-repository mount (``?mount=DIGEST&from=REPOSITORY``) from the account's own
    repositories only: ``from`` is put in its namespace, as the path is, so that a digest
    known from another account mounts nothing of it."""
    if not prefix or "from=" not in query:
        return query
    return urlencode([(k, f"{prefix}/{v}" if k == "from" else v)
                      for k, v in parse_qsl(query, keep_blank_values=True)])


def _ecr_call(account: str, region: str, operation: str, params: dict) -> HttpRequest:
    """A call of ECR's API for the backend, in the caller's account and region (moto reads
    the region from the signature's scope; the backend does not check it)."""
    return HttpRequest("POST", "/", "", {
        "host": f"api.ecr.{region}.amazonaws.com",
        "x-amz-target": f"AmazonEC2ContainerRegistry_V20150921.{operation}",
        "content-type": "application/x-amz-json-1.1",
        "authorization": f"AWS4-HMAC-SHA256 Credential={account}/20150921/{region}/ecr/"
                         "aws4_request, SignedHeaders=host, Signature=0"},
        json.dumps(params).encode())


def _not_authorized(request: HttpRequest) -> HttpResponse:
    """ECR's answer to a request without a (valid) token, as ``curl`` shows it; its realm
    the registry's name (``localhost:4566`` for the host's)."""
    realm = f"https://{request.headers.get('host', '').lower()}/"
    return HttpResponse(401, b"Not Authorized\n", {
        **API_VERSION, "Content-Type": "text/plain; charset=utf-8",
        "Www-Authenticate": f'Basic realm="{realm}",service="ecr.amazonaws.com"'})


def _s3_error(status: int, code: str, message: str) -> HttpResponse:
    return error_response("s3", ServiceError(message, code=code, status=status))
