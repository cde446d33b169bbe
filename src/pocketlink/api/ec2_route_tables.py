"""Route tables: the main one every VPC is born with, custom ones, subnet associations, routes.

Local routes (``origin CreateRouteTable``) come and go with the VPC's CIDR blocks and
cannot be deleted. Gateway endpoint routes (prefix-list destinations) arrive with the
endpoints' issue and, as at AWS, cannot be made or removed through these calls. A route
to an internet gateway (``igw-``) needs the gateway attached to the table's VPC; one to a
NAT gateway (``nat-``) turns ``blackhole`` when the NAT gateway is deleted, as at AWS. A
route to a virtual private gateway (``vgw-``) is ``active`` while the gateway is attached to
the table's VPC; the ones EnableVgwRoutePropagation brings (``PropagatingVgws``) are kept
by ec2_vpn_gateways and cannot be deleted or replaced here.
"""

from __future__ import annotations

import dataclasses

from pocketlink.api import ec2_defaults as defaults
from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import ipv4_network, ipv6_network
from pocketlink.api.ec2_managed_prefix_lists import find_list
from pocketlink.api.ec2_peering import find_peering
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import find, owned, require, select
from pocketlink.model import ids
from pocketlink.model.ec2 import (
    Instance,
    NetworkInterface,
    Route,
    RouteTable,
    RouteTableAssociation,
    Subnet,
    Vpc,
)
from pocketlink.model.internet import EgressOnlyInternetGateway, InternetGateway, NatGateway
from pocketlink.model.peering import PEERING_ENDED, PeeringState
from pocketlink.model.transit_gateways import attached_to
from pocketlink.model.vpn import PROPAGATED, VpnGateway, VpnState, gateway_route_state
from pocketlink.store import Transaction
from pocketlink.wire.errors import ServiceError

ROUTE_TABLE_FILTERS: dict[str, filters.Field] = {
    "route-table-id": lambda t: t.id,
    "vpc-id": lambda t: t.vpc_id,
    "owner-id": lambda t: t.account,
    "association.main": lambda t: any(a.main for a in t.associations),
    "association.subnet-id": lambda t: [a.subnet_id for a in t.associations],
    "association.gateway-id": lambda t: [a.gateway_id for a in t.associations],
    "association.route-table-association-id": lambda t: [
        a.association_id for a in t.associations],
    "association.route-table-id": lambda t: [t.id for _ in t.associations],
    "route.destination-cidr-block": lambda t: [r.destination_cidr_block for r in t.routes],
    "route.destination-ipv6-cidr-block": lambda t: [
        r.destination_ipv6_cidr_block for r in t.routes],
    "route.destination-prefix-list-id": lambda t: [r.destination_prefix_list_id for r in t.routes],
    "route.gateway-id": lambda t: [r.gateway_id for r in t.routes],
    "route.vpc-peering-connection-id": lambda t: [r.vpc_peering_connection_id for r in t.routes],
    "route.transit-gateway-id": lambda t: [r.transit_gateway_id for r in t.routes],
    "route.nat-gateway-id": lambda t: [r.nat_gateway_id for r in t.routes],
    "route.instance-id": lambda t: [r.instance_id for r in t.routes],
    "route.egress-only-internet-gateway-id": lambda t: [
        r.egress_only_internet_gateway_id for r in t.routes],
    "route.origin": lambda t: [r.origin for r in t.routes],
    "route.state": lambda t: [r.state for r in t.routes],
}

# The route targets the API takes, and the Route field each one fills.
_TARGETS = {
    "GatewayId": "gateway_id",
    "InstanceId": "instance_id",
    "NetworkInterfaceId": "network_interface_id",
    "NatGatewayId": "nat_gateway_id",
    "EgressOnlyInternetGatewayId": "egress_only_internet_gateway_id",
    "VpcPeeringConnectionId": "vpc_peering_connection_id",
    "TransitGatewayId": "transit_gateway_id",
}
_UNSUPPORTED_TARGETS = ("LocalGatewayId", "CarrierGatewayId",
                        "CoreNetworkArn", "VpcEndpointId", "OdbNetworkArn")


def describe_route(route: Route, owner: str) -> dict:
    item: dict = {"Origin": route.origin, "State": route.state}
    for key, value in (("DestinationCidrBlock", route.destination_cidr_block),
                       ("DestinationIpv6CidrBlock", route.destination_ipv6_cidr_block),
                       ("DestinationPrefixListId", route.destination_prefix_list_id),
                       ("GatewayId", route.gateway_id), ("InstanceId", route.instance_id),
                       ("NatGatewayId", route.nat_gateway_id),
                       ("EgressOnlyInternetGatewayId", route.egress_only_internet_gateway_id),
                       ("NetworkInterfaceId", route.network_interface_id),
                       ("VpcPeeringConnectionId", route.vpc_peering_connection_id),
                       ("TransitGatewayId", route.transit_gateway_id)):
        if value:
            item[key] = value
    if route.instance_id:
        item["InstanceOwnerId"] = owner
    return item


def describe_route_table(table: RouteTable) -> dict:
    item = {
        "RouteTableId": table.id,
        "VpcId": table.vpc_id,
        "OwnerId": table.account,
        "Routes": [describe_route(r, table.account) for r in table.routes],
        "Associations": [
            {"Main": a.main, "RouteTableAssociationId": a.association_id,
             "RouteTableId": table.id, "AssociationState": {"State": a.state},
             **({"SubnetId": a.subnet_id} if a.subnet_id else {}),
             **({"GatewayId": a.gateway_id} if a.gateway_id else {})}
            for a in table.associations
        ],
        "PropagatingVgws": [{"GatewayId": g} for g in table.propagating_vgws],
    }
    if table.tags:
        item["Tags"] = tags.tag_set(table.tags)
    return item


@operation("ec2", "CreateRouteTable")
def create_route_table(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    main = context.store.get(RouteTable, vpc.main_route_table_id)
    local = [dataclasses.replace(r) for r in (main.routes if main else [])
             if r.gateway_id == "local"]
    table = RouteTable(id=ids.new_id("rtb"), account=context.account, region=context.region,
                       vpc_id=vpc.id, routes=local,
                       tags=tags.from_specifications(params, "route-table"))
    with context.store.transaction() as tx:
        tx.put(table)
    return {"RouteTable": describe_route_table(table)}


@operation("ec2", "DescribeRouteTables")
def describe_route_tables(context: RequestContext, params: dict) -> dict:
    defaults.ensure(context)
    tables = select(context, RouteTable, params.get("RouteTableIds"))
    tables = filters.apply(tables, params.get("Filters"), ROUTE_TABLE_FILTERS)
    chunk, more = pages.page(tables, params, ids_param="RouteTableIds", high=100)
    return {"RouteTables": [describe_route_table(t) for t in chunk], **more}


@operation("ec2", "DeleteRouteTable")
def delete_route_table(context: RequestContext, params: dict) -> dict:
    table = require(context, RouteTable, params["RouteTableId"])
    if table.associations:
        raise ec2.DependencyViolation(f"The routeTable '{table.id}' has dependencies and cannot be deleted.")
    with context.store.transaction() as tx:
        tx.delete(table)
    return {}


@operation("ec2", "AssociateRouteTable")
def associate_route_table(context: RequestContext, params: dict) -> dict:
    table = require(context, RouteTable, params["RouteTableId"])
    if params.get("GatewayId") and params.get("SubnetId"):
        raise ec2.InvalidParameterCombination("Exactly one of subnetId or gatewayId must be "
                                              "given")  # the words are a guess
    if params.get("GatewayId"):
        association = _gateway_association(context, table, params["GatewayId"])
    else:
        association = _subnet_association(context, table, params.get("SubnetId"))
    with context.store.transaction() as tx:
        mine = tx.edit(RouteTable, table.id)
        mine.associations.append(association)
    return {"AssociationId": association.association_id,
            "AssociationState": {"State": "associated"}}


def _subnet_association(context: RequestContext, table: RouteTable, subnet_id: str | None
                        ) -> RouteTableAssociation:
    if not subnet_id:
        raise ec2.MissingParameter("SubnetId")
    subnet = require(context, Subnet, subnet_id)
    if subnet.vpc_id != table.vpc_id:
        raise ec2.InvalidParameterValue(
            f"Route table {table.id} and subnet {subnet.id} belong to different "
            "networks.")
    for other in owned(context, RouteTable):
        if any(a.subnet_id == subnet.id for a in other.associations):
            raise ec2.ResourceAlreadyAssociated(
                f"the specified association for route table {other.id} conflicts "
                "with an existing association")
    return RouteTableAssociation(association_id=ids.new_id("rtbassoc"), subnet_id=subnet.id)


def _gateway_association(context: RequestContext, table: RouteTable, gateway_id: str
                         ) -> RouteTableAssociation:
    """A gateway route table (an edge association): the gateway is an internet gateway
    attached to the table's VPC ("The gateway and route table must be in the same VPC",
    AWS::EC2::GatewayRouteTableAssociation's reference; the refusal's words are CreateRoute's
    for such a gateway), it has one such table, and the table routes only to the VPC
    (local) or to network interfaces, as the VPC guide's gateway route tables allow. The
    VPC router routes what comes in through the gateway by it (network/topology.py)."""
    if gateway_id.startswith("vgw-") and find(context, VpnGateway, gateway_id) is not None:
        raise ec2.InvalidParameterValue(
            "pocketlink does not associate route tables with virtual private gateways yet")
    gateway = find(context, InternetGateway, gateway_id)
    if gateway is None:
        raise ec2.InvalidGatewayIDNotFound(gateway_id)
    if gateway.vpc_id != table.vpc_id:
        raise ec2.InvalidParameterValue(
            f"route table {table.id} and network gateway {gateway_id} belong to different "
            "networks")
    unfit = next((r for r in table.routes if r.gateway_id != "local" and
                  not r.network_interface_id and not r.destination_prefix_list_id), None)
    if unfit is not None:  # the words are a guess
        raise ec2.InvalidParameterValue(
            f"Route table {table.id} has a route to "
            f"{unfit.destination_cidr_block or unfit.destination_ipv6_cidr_block} whose "
            "target a gateway route table cannot have: only local routes and routes to a "
            "network interface are allowed")
    for other in owned(context, RouteTable):
        if any(a.gateway_id == gateway_id for a in other.associations):
            raise ec2.ResourceAlreadyAssociated(
                f"the specified association for route table {other.id} conflicts "
                "with an existing association")
    return RouteTableAssociation(association_id=ids.new_id("rtbassoc"), gateway_id=gateway_id)


def _association(context: RequestContext, association_id: str
                 ) -> tuple[RouteTable, RouteTableAssociation]:
    for table in owned(context, RouteTable):
        for association in table.associations:
            if association.association_id == association_id:
                return table, association
    raise ec2.InvalidAssociationIDNotFound(association_id)


@operation("ec2", "DisassociateRouteTable")
def disassociate_route_table(context: RequestContext, params: dict) -> dict:
    table, association = _association(context, params["AssociationId"])
    if association.main:
        # AWS's words, as ansible/ansible#25521 quotes its answer
        raise ec2.InvalidParameterValue(
            f"cannot disassociate the main route table association {association.association_id}")
    with context.store.transaction() as tx:
        mine = tx.edit(RouteTable, table.id)
        mine.associations = [a for a in mine.associations
                             if a.association_id != association.association_id]
    return {}


@operation("ec2", "ReplaceRouteTableAssociation")
def replace_route_table_association(context: RequestContext, params: dict) -> dict:
    old_table, association = _association(context, params["AssociationId"])
    new_table = require(context, RouteTable, params["RouteTableId"])
    if new_table.vpc_id != old_table.vpc_id:
        raise ec2.InvalidParameterValue("The route tables belong to different networks.")
    replacement = RouteTableAssociation(association_id=ids.new_id("rtbassoc"),
                                        subnet_id=association.subnet_id,
                                        gateway_id=association.gateway_id, main=association.main)
    with context.store.transaction() as tx:
        old = tx.edit(RouteTable, old_table.id)
        old.associations = [a for a in old.associations
                            if a.association_id != association.association_id]
        new = tx.edit(RouteTable, new_table.id)
        new.associations.append(replacement)
        if association.main:
            vpc = tx.edit(Vpc, old_table.vpc_id)
            vpc.main_route_table_id = new_table.id
    return {"NewAssociationId": replacement.association_id,
            "AssociationState": {"State": "associated"}}


def _destination(params: dict) -> tuple[str, str]:
    """Which destination a route call names: (Route field, normalized value)."""
    given = [k for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock",
                         "DestinationPrefixListId") if params.get(k)]
    if not given:
        raise ec2.MissingParameter("destinationCidrBlock")
    if len(given) > 1:
        raise ec2.InvalidParameterCombination(
            "Exactly one of destinationCidrBlock, destinationIpv6CidrBlock or "
            "destinationPrefixListId must be given")
    key = given[0]
    if key == "DestinationCidrBlock":
        return "destination_cidr_block", str(ipv4_network(params[key], "destinationCidrBlock"))
    if key == "DestinationIpv6CidrBlock":
        return "destination_ipv6_cidr_block", str(
            ipv6_network(params[key], "destinationIpv6CidrBlock"))
    return "destination_prefix_list_id", params[key]


def _check_destination(context: RequestContext, field: str, destination: str) -> None:
    """A prefix list named as a destination must be there (the caller's or AWS's)."""
    if field == "destination_prefix_list_id":
        find_list(context, destination)


def _route_target(context: RequestContext, table: RouteTable, params: dict) -> dict[str, str]:
    for key in _UNSUPPORTED_TARGETS:
        if params.get(key):
            raise ec2.InvalidParameterValue(f"pocketlink does not route to {key} targets yet")
    given = {field: params[key] for key, field in _TARGETS.items() if params.get(key)}
    if not given:
        raise ec2.MissingParameter("gatewayId, instanceId, natGatewayId, networkInterfaceId or "
                                   "vpcPeeringConnectionId")
    if len(given) > 1:
        raise ec2.InvalidParameterCombination("Exactly one route target must be given")
    field, value = next(iter(given.items()))
    if (field == "gateway_id" and value.startswith("igw-")) or \
            field == "egress_only_internet_gateway_id":
        kind = InternetGateway if field == "gateway_id" else EgressOnlyInternetGateway
        gateway = find(context, kind, value)
        if gateway is None:  # a route names its gateway as a gateway, whatever its kind
            raise ec2.InvalidGatewayIDNotFound(value)
        if gateway.vpc_id != table.vpc_id:
            raise ec2.InvalidParameterValue(
                f"route table {table.id} and network gateway {value} belong to different "
                "networks")
        return given
    if field == "nat_gateway_id":
        nat = require(context, NatGateway, value)
        if nat.state == "deleted":
            raise ec2.NatGatewayNotFound(value)
        if nat.vpc_id != table.vpc_id:
            raise ec2.InvalidParameterValue(
                f"route table {table.id} and NAT gateway {value} belong to different networks")
        return given
    if field == "vpc_peering_connection_id":
        return {field: value, "state": _peering_route_state(context, table, value)}
    if field == "transit_gateway_id":
        # AWS's answer to a route that outruns its attachment, as Terraform users meet it
        if not attached_to(context.store, value, table.account, table.vpc_id):
            raise ServiceError(f"The transitGateway ID '{value}' does not exist.",
                               code="InvalidTransitGatewayID.NotFound")
        return given
    if field == "gateway_id" and value.startswith("vgw-"):
        vgw = find(context, VpnGateway, value)
        if vgw is None or vgw.state == VpnState.DELETED:
            raise ec2.InvalidGatewayIDNotFound(value)
        # AWS's check of a gateway attached elsewhere is not known for a vgw: the route is
        # taken, and is a blackhole until the gateway is attached to the table's VPC.
        return {field: value, "state": gateway_route_state(vgw, table.vpc_id)}
    if field == "gateway_id":
        if value == "local" or value.startswith("vpce-"):
            raise ec2.InvalidParameterValue(
                f"The gateway ID '{value}' cannot be the target of a route you "
                "create")
        raise ec2.InvalidGatewayIDNotFound(value)
    resource = require(context, Instance if field == "instance_id" else NetworkInterface, value)
    if getattr(resource, "vpc_id", None) != table.vpc_id:
        raise ec2.InvalidParameterValue(f"{value} is in another network than route table {table.id}")
    # As at AWS, a route names both ends: an instance's ENI, an attached ENI's instance.
    if isinstance(resource, Instance):
        given["network_interface_id"] = resource.network_interface_id
    elif isinstance(resource, NetworkInterface) and resource.instance_id:
        given["instance_id"] = resource.instance_id
    return given


def _peering_route_state(context: RequestContext, table: RouteTable, peering_id: str) -> str:
    """A route through a peering of the table's VPC that is not over: ``active`` once the
    peering is, ``blackhole`` until then (pocketlink's reading: AWS documents no state for
    a route through a peering still pending)."""
    peering = find_peering(context, peering_id)
    if peering.side_of(table.vpc_id) is None or peering.status in PEERING_ENDED:
        raise ec2.InvalidVpcPeeringConnectionIDNotFound(peering_id)
    return "active" if peering.status == PeeringState.ACTIVE else "blackhole"


def blackhole_routes(tx: Transaction, context: RequestContext, target_ids: set[str]) -> None:
    """Routes to an instance or ENI that is gone stay, as at AWS, in state ``blackhole``."""
    def doomed(route: Route) -> bool:
        return bool({route.instance_id, route.network_interface_id, route.nat_gateway_id}
                    & target_ids)

    for table in owned(context, RouteTable):
        if any(doomed(r) for r in table.routes):
            mine = tx.edit(RouteTable, table.id)
            for route in mine.routes:
                if doomed(route):
                    route.state = "blackhole"


def _is_gateway_endpoint_route(route: Route) -> bool:
    return bool(route.destination_prefix_list_id and (route.gateway_id or "").startswith("vpce-"))


@operation("ec2", "CreateRoute")
def create_route(context: RequestContext, params: dict) -> dict:
    table = require(context, RouteTable, params["RouteTableId"])
    field, destination = _destination(params)
    _check_destination(context, field, destination)
    target = _route_target(context, table, params)
    if "egress_only_internet_gateway_id" in target and field != "destination_ipv6_cidr_block":
        # AWS's words are a guess: an egress-only gateway carries IPv6 only.
        raise ec2.InvalidParameterValue(
            "An egress-only internet gateway can only be the target of an IPv6 route")
    if any(getattr(r, field) == destination for r in table.routes):
        raise ec2.RouteAlreadyExists(f"The route identified by {destination} already exists.")
    with context.store.transaction() as tx:
        mine = tx.edit(RouteTable, table.id)
        mine.routes.append(Route(**{field: destination}, **target))
    return {"Return": True}


def _find_route(table: RouteTable, params: dict) -> Route:
    field, destination = _destination(params)
    for route in table.routes:
        if getattr(route, field) == destination:
            return route
    raise ec2.InvalidRouteNotFound(destination, table.id)


@operation("ec2", "DeleteRoute")
def delete_route(context: RequestContext, params: dict) -> dict:
    table = require(context, RouteTable, params["RouteTableId"])
    route = _find_route(table, params)
    if route.gateway_id == "local":
        raise ec2.InvalidParameterValue(
            f"cannot remove local route {route.destination} in route table "
            f"{table.id}")
    if _is_gateway_endpoint_route(route):
        raise ec2.InvalidParameterValue(f"The route {route.destination} is managed by VPC endpoint "
                                        f"{route.gateway_id}; modify the endpoint instead.")
    if route.origin == PROPAGATED:  # the words are a guess
        raise ec2.InvalidParameterValue(
            f"The route {route.destination} is propagated by {route.gateway_id}; disable "
            "its route propagation instead.")
    with context.store.transaction() as tx:
        mine = tx.edit(RouteTable, table.id)
        mine.routes = [r for r in mine.routes if r.destination != route.destination]
    return {}


@operation("ec2", "ReplaceRoute")
def replace_route(context: RequestContext, params: dict) -> dict:
    table = require(context, RouteTable, params["RouteTableId"])
    route = _find_route(table, params)
    if route.gateway_id == "local" or _is_gateway_endpoint_route(route) or \
            route.origin == PROPAGATED:
        raise ec2.InvalidParameterValue(f"The route {route.destination} cannot be replaced")
    target = _route_target(context, table, params)
    with context.store.transaction() as tx:
        mine = tx.edit(RouteTable, table.id)
        for candidate in mine.routes:
            if candidate.destination == route.destination:
                candidate.gateway_id = candidate.instance_id = None
                candidate.network_interface_id = candidate.nat_gateway_id = None
                candidate.egress_only_internet_gateway_id = None
                candidate.vpc_peering_connection_id = None
                candidate.state = "active"
                for field, value in target.items():
                    setattr(candidate, field, value)
    return {}
