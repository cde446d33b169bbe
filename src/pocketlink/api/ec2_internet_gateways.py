"""Internet gateways: create, attach to one VPC, detach, delete, describe.

Attached, a gateway is the VPC's link to the emulated internet (network/internet.py): a
route table's ``0.0.0.0/0 -> igw-...`` leads there, and the VPC's public addresses are
translated on it. The errors are AWS's: a gateway attached elsewhere is
``Resource.AlreadyAssociated``, detaching one that is not attached ``Gateway.NotAttached``,
detaching while public addresses are mapped or deleting while attached
``DependencyViolation``. Routes to a detached gateway turn ``blackhole``, as at AWS, and
``active`` again when it is attached back.

An egress-only internet gateway lets a VPC's IPv6 addresses out (a route ``::/0 ->
eigw-...``) and only replies back in; it is attached to its VPC from birth to deletion.
"""

from __future__ import annotations

from pocketlink.api import ec2_defaults as defaults
from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.model import ids
from pocketlink.model.ec2 import NetworkInterface, RouteTable, Vpc
from pocketlink.model.internet import Address, EgressOnlyInternetGateway, InternetGateway
from pocketlink.store import Transaction

GATEWAY_FILTERS: dict[str, filters.Field] = {
    "internet-gateway-id": lambda g: g.id,
    "owner-id": lambda g: g.account,
    "attachment.vpc-id": lambda g: g.vpc_id,
    "attachment.state": lambda g: "available" if g.vpc_id else None,
}


def describe_gateway(gateway: InternetGateway) -> dict:
    item: dict = {
        "InternetGatewayId": gateway.id,
        "OwnerId": gateway.account,
        # DescribeInternetGateways says "available" for an attached gateway.
        "Attachments": [{"State": "available", "VpcId": gateway.vpc_id}] if gateway.vpc_id else [],
    }
    if gateway.tags:
        item["Tags"] = tags.tag_set(gateway.tags)
    return item


def attached_gateway(context: RequestContext, vpc_id: str) -> InternetGateway | None:
    return next((g for g in context.store.all(InternetGateway) if g.vpc_id == vpc_id), None)


def _route_states(tx: Transaction, context: RequestContext, gateway_id: str, state: str) -> None:
    for table in owned(context, RouteTable):
        if any(r.gateway_id == gateway_id for r in table.routes):
            mine = tx.edit(RouteTable, table.id)
            for route in mine.routes:
                if route.gateway_id == gateway_id:
                    route.state = state


@operation("ec2", "CreateInternetGateway")
def create_internet_gateway(context: RequestContext, params: dict) -> dict:
    gateway = InternetGateway(id=ids.new_id("igw"), account=context.account,
                              region=context.region,
                              tags=tags.from_specifications(params, "internet-gateway"))
    with context.store.transaction() as tx:
        tx.put(gateway)
    return {"InternetGateway": describe_gateway(gateway)}


@operation("ec2", "DescribeInternetGateways")
def describe_internet_gateways(context: RequestContext, params: dict) -> dict:
    defaults.ensure(context)  # the default VPC's gateway is there from the first listing
    gateways = select(context, InternetGateway, params.get("InternetGatewayIds"))
    gateways = filters.apply(gateways, params.get("Filters"), GATEWAY_FILTERS)
    chunk, more = pages.page(gateways, params, ids_param="InternetGatewayIds")
    return {"InternetGateways": [describe_gateway(g) for g in chunk], **more}


@operation("ec2", "AttachInternetGateway")
def attach_internet_gateway(context: RequestContext, params: dict) -> dict:
    gateway = require(context, InternetGateway, params["InternetGatewayId"])
    vpc = require(context, Vpc, params["VpcId"])
    if gateway.vpc_id is not None:
        raise ec2.ResourceAlreadyAssociated(
            f"resource {gateway.id} is already attached to network {gateway.vpc_id}")
    other = attached_gateway(context, vpc.id)
    if other is not None:
        # AWS's words here are a guess: a VPC takes one internet gateway.
        raise ec2.InvalidParameterValue(
            f"Network {vpc.id} already has an internet gateway attached ({other.id})")
    with context.store.transaction() as tx:
        tx.edit(InternetGateway, gateway.id).vpc_id = vpc.id
        _route_states(tx, context, gateway.id, "active")
    return {}


def mapped_addresses(context: RequestContext, vpc_id: str) -> list[Address]:
    """The public addresses mapped to ENIs of ``vpc_id`` (an ENI that is gone maps none)."""
    live = {e.id for e in context.store.all(NetworkInterface) if e.vpc_id == vpc_id}
    return [a for a in context.store.all(Address) if a.network_interface_id in live]


@operation("ec2", "DetachInternetGateway")
def detach_internet_gateway(context: RequestContext, params: dict) -> dict:
    gateway = require(context, InternetGateway, params["InternetGatewayId"])
    vpc = require(context, Vpc, params["VpcId"])
    if gateway.vpc_id != vpc.id:
        raise ec2.GatewayNotAttached(f"resource {gateway.id} is not attached to network {vpc.id}")
    if mapped_addresses(context, vpc.id):
        raise ec2.DependencyViolation(
            f"Network {vpc.id} has some mapped public address(es). Please unmap those public "
            "address(es) before detaching the gateway.")
    with context.store.transaction() as tx:
        tx.edit(InternetGateway, gateway.id).vpc_id = None
        _route_states(tx, context, gateway.id, "blackhole")
    return {}


@operation("ec2", "DeleteInternetGateway")
def delete_internet_gateway(context: RequestContext, params: dict) -> dict:
    gateway = require(context, InternetGateway, params["InternetGatewayId"])
    if gateway.vpc_id is not None:
        raise ec2.DependencyViolation(
            f"The internetGateway '{gateway.id}' has dependencies and cannot be deleted.")
    with context.store.transaction() as tx:
        tx.delete(gateway)
    return {}


# --- egress-only internet gateways (IPv6 out, replies back in) ---------------------------
EGRESS_FILTERS: dict[str, filters.Field] = {
    "egress-only-internet-gateway-id": lambda g: g.id,
    "attachment.vpc-id": lambda g: g.vpc_id,
    "attachment.state": lambda g: "attached",
}


def describe_egress_only(gateway: EgressOnlyInternetGateway) -> dict:
    item: dict = {"EgressOnlyInternetGatewayId": gateway.id,
                  "Attachments": [{"State": "attached", "VpcId": gateway.vpc_id}]}
    if gateway.tags:
        item["Tags"] = tags.tag_set(gateway.tags)
    return item


@operation("ec2", "CreateEgressOnlyInternetGateway")
def create_egress_only_internet_gateway(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    gateway = EgressOnlyInternetGateway(
        id=ids.new_id("eigw"), account=context.account, region=context.region, vpc_id=vpc.id,
        tags=tags.from_specifications(params, "egress-only-internet-gateway"))
    with context.store.transaction() as tx:
        tx.put(gateway)
    token = params.get("ClientToken")
    return {"EgressOnlyInternetGateway": describe_egress_only(gateway),
            **({"ClientToken": token} if token else {})}


@operation("ec2", "DescribeEgressOnlyInternetGateways")
def describe_egress_only_internet_gateways(context: RequestContext, params: dict) -> dict:
    gateways = select(context, EgressOnlyInternetGateway,
                      params.get("EgressOnlyInternetGatewayIds"))
    gateways = filters.apply(gateways, params.get("Filters"), EGRESS_FILTERS)
    chunk, more = pages.page(gateways, params, ids_param="EgressOnlyInternetGatewayIds")
    return {"EgressOnlyInternetGateways": [describe_egress_only(g) for g in chunk], **more}


@operation("ec2", "DeleteEgressOnlyInternetGateway")
def delete_egress_only_internet_gateway(context: RequestContext, params: dict) -> dict:
    gateway = require(context, EgressOnlyInternetGateway, params["EgressOnlyInternetGatewayId"])
    with context.store.transaction() as tx:
        for table in owned(context, RouteTable):
            if any(r.egress_only_internet_gateway_id == gateway.id for r in table.routes):
                mine = tx.edit(RouteTable, table.id)
                for route in mine.routes:
                    if route.egress_only_internet_gateway_id == gateway.id:
                        route.state = "blackhole"
        tx.delete(gateway)
    return {"ReturnCode": True}
