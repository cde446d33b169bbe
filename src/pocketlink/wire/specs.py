"""Service models: botocore's own, loaded once, with pocketlink's fixes applied as data.

Faults in a model are mended in ``spec-patches.json`` (RFC 6902 operations, per service),
never by an ``if service == ...`` branch in the protocol code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

from pocketlink.wire.errors import ServiceError

# The services pocketlink speaks, by botocore's model name.
SERVICES = ("ec2", "elbv2", "sts", "route53", "autoscaling", "cloudwatch", "acm",
            "cloudformation", "fis")


@dataclass
class ServiceSpec:
    """One service's model, its operations by name, and its modelled error classes."""

    name: str
    model: ServiceModel
    errors: dict[str, type[ServiceError]] = field(default_factory=dict)

    @property
    def protocol(self) -> str:
        return self.model.metadata["protocol"]

    @property
    def signing_name(self) -> str:
        return self.model.metadata.get("signingName") or self.model.metadata["endpointPrefix"]

    def operation(self, name: str) -> OperationModel | None:
        try:
            return self.model.operation_model(name)
        except Exception:  # botocore raises OperationNotFoundError
            return None

    def error(self, shape_name: str, message: str) -> ServiceError:
        """The modelled error ``shape_name`` (e.g. ``LoadBalancerNotFoundException``)."""
        return self.errors[shape_name](message)


def _apply_patch(document: dict, operations: list[dict]) -> None:
    """The subset of RFC 6902 the patch file uses: add, replace, remove."""
    for op in operations:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        target = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if op["op"] in ("add", "replace"):
            if isinstance(target, list):
                target.insert(len(target) if last == "-" else int(last), op["value"])
            else:
                target[last] = op["value"]
        elif op["op"] == "remove":
            del target[int(last) if isinstance(target, list) else last]
        else:
            raise ValueError(f"unsupported patch op {op['op']}")


def _error_classes(model: ServiceModel) -> dict[str, type[ServiceError]]:
    """One ServiceError subclass per error shape: code from the model, status from httpStatusCode."""
    classes: dict[str, type[ServiceError]] = {}
    for shape in model.error_shapes:
        error = shape.metadata.get("error", {})
        code = error.get("code", shape.name)
        status = error.get("httpStatusCode", 400)
        sender_fault = error.get("senderFault", True)
        classes[shape.name] = type(
            shape.name,
            (ServiceError,),
            {"code": code, "status": status, "sender_fault": sender_fault, "__module__": __name__},
        )
    return classes


@cache
def load(name: str) -> ServiceSpec:
    loader = Loader()
    document = loader.load_service_model(name, "service-2")
    patches = json.loads(resources.files("pocketlink.wire").joinpath("spec-patches.json").read_text())
    _apply_patch(document, patches.get(name, []))
    model = ServiceModel(document, service_name=name)
    return ServiceSpec(name=name, model=model, errors=_error_classes(model))


def all_specs() -> list[ServiceSpec]:
    return [load(name) for name in SERVICES]
