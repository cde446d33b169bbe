"""Which service a request is for: the SigV4 credential scope says, as it does at AWS.

Unsigned requests fall back on what the protocols themselves carry: the query protocols'
``Version`` parameter, the json protocol's ``X-Amz-Target``, rpc-v2-cbor's
``/service/NAME/...`` path, rest-xml's versioned path.
"""

from __future__ import annotations

from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest
from pocketlink.wire.sigv4 import credential_scope
from pocketlink.wire.specs import ServiceSpec


class UnknownService(ServiceError):
    code = "UnknownService"

    def __init__(self, what: str, service: str | None = None) -> None:
        super().__init__(f"pocketlink does not serve {what}")
        self.service = service  # the signing name asked for, when a signature named one


class Router:
    def __init__(self, specs: list[ServiceSpec]) -> None:
        self.by_signing_name = {spec.signing_name: spec for spec in specs}
        self.by_version = {
            spec.model.metadata["apiVersion"]: spec for spec in specs
            if spec.protocol in ("query", "ec2") or
            "query" in spec.model.metadata.get("protocols", ())
        }
        self.by_target_prefix = {
            spec.model.metadata["targetPrefix"]: spec for spec in specs
            if "targetPrefix" in spec.model.metadata
        }
        self.by_path_version = {
            spec.model.metadata["apiVersion"]: spec for spec in specs
            if spec.protocol.startswith("rest")
        }

    def route(self, request: HttpRequest) -> ServiceSpec:
        scope = credential_scope(request)
        if scope is not None:
            spec = self.by_signing_name.get(scope.service)
            if spec is None:
                raise UnknownService(f"the service '{scope.service}'", scope.service)
            return spec
        target = request.headers.get("x-amz-target")
        if not target and request.path.startswith("/service/"):  # smithy-rpc-v2-cbor
            target = request.path.split("/")[2]
        if target:
            spec = self.by_target_prefix.get(target.split(".", 1)[0])
            if spec is not None:
                return spec
        first = request.path.lstrip("/").split("/", 1)[0]
        if first in self.by_path_version:
            return self.by_path_version[first]
        version = request.form.get("Version")
        if version in self.by_version:
            return self.by_version[version]
        raise UnknownService("this request: sign it with SigV4 or name a service's Version")
