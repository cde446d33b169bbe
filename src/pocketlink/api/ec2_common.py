"""What every EC2 area needs: id checks, ``require_*`` lookups with EC2's errors, CIDR parsing."""

from __future__ import annotations

import ipaddress
from typing import TypeVar

from pocketlink.api.context import RequestContext
from pocketlink.model import ids
from pocketlink.model.base import Resource
from pocketlink.model.ec2 import (
    Instance,
    NetworkInterface,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from pocketlink.wire.errors import Ec2Error

R = TypeVar("R", bound=Resource)

# id prefix -> (resource class, EC2's name of the id in errors, TagSpecification type)
KINDS: dict[str, tuple[type[Resource], str, str]] = {
    "vpc": (Vpc, "InvalidVpcID", "vpc"),
    "subnet": (Subnet, "InvalidSubnetID", "subnet"),
    "sg": (SecurityGroup, "InvalidGroup", "security-group"),
    "rtb": (RouteTable, "InvalidRouteTableID", "route-table"),
    "eni": (NetworkInterface, "InvalidNetworkInterfaceID", "network-interface"),
    "i": (Instance, "InvalidInstanceID", "instance"),
}


def require(context: RequestContext, prefix: str, resource_id: str) -> Resource:
    """The caller's resource ``resource_id``, or EC2's Malformed / NotFound error for it."""
    cls, error, _ = KINDS[prefix]
    malformed = "InvalidGroupId.Malformed" if prefix == "sg" else f"{error}.Malformed"
    if not ids.looks_like(prefix, resource_id):
        raise Ec2Error(malformed, resource_id)
    resource = context.store.get(cls, resource_id)
    if resource is None or resource.account != context.account or \
            resource.region != context.region:
        raise Ec2Error(f"{error}.NotFound", resource_id)
    return resource


def require_vpc(context: RequestContext, vpc_id: str) -> Vpc:
    return require(context, "vpc", vpc_id)  # type: ignore[return-value]


def require_subnet(context: RequestContext, subnet_id: str) -> Subnet:
    return require(context, "subnet", subnet_id)  # type: ignore[return-value]


def require_group(context: RequestContext, group_id: str) -> SecurityGroup:
    return require(context, "sg", group_id)  # type: ignore[return-value]


def require_route_table(context: RequestContext, route_table_id: str) -> RouteTable:
    return require(context, "rtb", route_table_id)  # type: ignore[return-value]


def require_instance(context: RequestContext, instance_id: str) -> Instance:
    return require(context, "i", instance_id)  # type: ignore[return-value]


def owned(context: RequestContext, cls: type[R]) -> list[R]:
    """The caller's resources of a kind in the request's region, oldest first."""
    return [r for r in context.store.all(cls)
            if r.account == context.account and r.region == context.region]


def select(context: RequestContext, cls: type[R], prefix: str, wanted: list[str] | None) -> list[R]:
    """The Describe selection by ids: every id must exist, as EC2 insists."""
    if not wanted:
        return owned(context, cls)
    return [require(context, prefix, resource_id) for resource_id in dict.fromkeys(wanted)]  # type: ignore[misc]


def ipv4_network(value: str, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    """A CIDR block in its one text (``10.0.0.0/016`` and ``010.0.0.0/16`` are refused)."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        network = None
    if network is None or str(network) != value:
        raise Ec2Error("InvalidParameterValue",
                       f"Value ({value}) for parameter {parameter} is invalid. "
                       "This is not a valid CIDR block.")
    return network


def ipv6_network(value: str, parameter: str = "ipv6CidrBlock") -> ipaddress.IPv6Network:
    try:
        return ipaddress.IPv6Network(value, strict=True)
    except ValueError:
        raise Ec2Error("InvalidParameterValue",
                       f"Value ({value}) for parameter {parameter} is invalid. "
                       "This is not a valid IPv6 CIDR block.") from None
