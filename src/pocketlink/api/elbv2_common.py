"""What the ELBv2 areas share: ARNs, names, Marker/PageSize pages, attribute checks."""

from __future__ import annotations

import re
import secrets

from pocketlink.api.context import RequestContext
from pocketlink.api.errors import elbv2
from pocketlink.api.pages import window
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.numbers import integer

NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")

# Route 53 zone ids of Network Load Balancer DNS names, per region (AWS's published table).
NLB_HOSTED_ZONES = {
    "us-east-1": "Z26RNL4JYFTOTI", "us-east-2": "ZLMOA37VPKANP", "us-west-1": "Z24FKFUX50B4VW",
    "us-west-2": "Z18D5FSROUN65G", "ca-central-1": "Z2EPGBW3API2WT",
    "eu-west-1": "Z2IFOLAFXWLO4F", "eu-west-2": "ZD4D7Y8KGAS4G", "eu-west-3": "Z1CMS0P5QUZ6D5",
    "eu-central-1": "Z3F0SRJ5LGBH90", "eu-north-1": "Z1UDT6IFJ4EJM",
    "ap-northeast-1": "Z31USIVHYNEOWT", "ap-northeast-2": "ZIBE1TIR4HY56",
    "ap-northeast-3": "Z1GWIQ4HH19I5X", "ap-southeast-1": "ZKVM4W9LS7TM",
    "ap-southeast-2": "ZCT6FZBF4DROD", "ap-south-1": "ZVDDRBQ08TROA", "sa-east-1": "ZTK26PT1VY4CU",
}


def validation(message: str) -> ServiceError:
    return ServiceError(message, code="ValidationError")


def hex_id() -> str:
    return secrets.token_hex(8)


def arn(context: RequestContext, resource: str) -> str:
    return f"arn:aws:elasticloadbalancing:{context.region}:{context.account}:{resource}"


def check_name(name: str, what: str) -> None:
    if not NAME.match(name):
        raise validation(f"{what} name '{name}' cannot be longer than '32' characters, and can "
                         "contain only alphanumeric characters and hyphens, not beginning or "
                         "ending with a hyphen")


def page(items: list, params: dict) -> tuple[list, dict[str, str]]:
    """ELBv2's pages: ``PageSize`` (1-400) and an opaque ``Marker``; the ``NextMarker`` to add
    to the result, as ``pages.page`` gives EC2's ``NextToken``."""
    size = params.get("PageSize", 400)
    if not 1 <= size <= 400:
        raise validation(f"1 validation error detected: Value '{size}' at 'pageSize' failed to "
                         "satisfy constraint: Member must have value less than or equal to 400")
    chunk, following = window(items, params.get("Marker"), size,
                              lambda: validation("Invalid value for marker"))
    return chunk, {"NextMarker": following} if following else {}


def attributes_out(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in values.items()]


def attribute_changes(params: dict, known: dict[str, str], what: str) -> dict[str, str]:
    """The Attributes a Modify*Attributes call sets, every key one ``what`` has; each
    resource checks the values its own way before ``set_attributes``."""
    changes = {a.get("Key", ""): a.get("Value", "") for a in params["Attributes"]}
    for key in changes:
        if key not in known:
            raise validation(f"{what} attribute key '{key}' is not recognized")
    return changes


def set_attributes(context: RequestContext, resource: LoadBalancer | TargetGroup | Listener,
                   changes: dict[str, str]) -> dict:
    """Checked ``changes`` written onto ``resource``, answered with all its attributes."""
    with context.store.transaction() as tx:
        mine = tx.edit(type(resource), resource.id)
        mine.attributes.update(changes)
    return {"Attributes": attributes_out(mine.attributes)}


def boolean_attribute(key: str, value: str) -> None:
    if value not in ("true", "false"):
        raise elbv2.InvalidConfigurationRequestException(f"The value of '{key}' must be 'true' or 'false'")


def integer_attribute(key: str, value: str, low: int, high: int) -> None:
    number = integer(value, signed=True)
    if number is None or not low <= number <= high:
        raise elbv2.InvalidConfigurationRequestException(
            f"The value of '{key}' must be an integer between {low} and {high}")
