"""The route an instance's packet to an address takes: its subnet's route table (or the
VPC's main one), the most specific route that covers the address, prefix lists expanded
(a customer's blocks, a gateway service's), as the router's kernel tables are made from
the same store (network/topology.py)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pocketlink.model.aws_services import gateway_prefix_lists
from pocketlink.model.ec2 import Route, RouteTable, Vpc
from pocketlink.model.internet import InternetGateway, NatGateway
from pocketlink.model.peering import PeeringState, VpcPeeringConnection
from pocketlink.model.prefix_lists import customer_cidrs
from pocketlink.store import Store


@dataclass(frozen=True)
class Match:
    table: RouteTable | None
    route: Route | None
    cidr: str  # the block of the route that covered the address


def table_of(store: Store, subnet_id: str, vpc: Vpc) -> RouteTable | None:
    for table in store.all(RouteTable):
        if table.vpc_id == vpc.id and any(a.subnet_id == subnet_id for a in table.associations):
            return table
    return store.get(RouteTable, vpc.main_route_table_id)


def _blocks(store: Store, route: Route, region: str) -> list[str]:
    if route.destination_prefix_list_id:
        gateway = [c for p in gateway_prefix_lists(region)
                   if p.prefix_list_id == route.destination_prefix_list_id for c in p.cidrs]
        return gateway or customer_cidrs(store, route.destination_prefix_list_id)
    return [route.destination]


def match(store: Store, subnet_id: str, vpc: Vpc, address: str) -> Match:
    """The route a packet from ``subnet_id`` to ``address`` takes."""
    table = table_of(store, subnet_id, vpc)
    ip = ipaddress.ip_address(address)
    best: tuple[int, Route, str] | None = None
    for route in table.routes if table else []:
        for block in _blocks(store, route, vpc.region):
            try:
                network = ipaddress.ip_network(block, strict=False)
            except ValueError:
                continue
            if network.version == ip.version and ip in network and \
                    (best is None or network.prefixlen > best[0]):
                best = (network.prefixlen, route, block)
    return Match(table, best[1], best[2]) if best else Match(table, None, "")


def target_of(route: Route) -> str:
    return (route.gateway_id or route.nat_gateway_id or route.vpc_peering_connection_id
            or route.egress_only_internet_gateway_id or route.network_interface_id
            or route.instance_id or route.transit_gateway_id or "?")


def peered_vpc(store: Store, vpc: Vpc, address: str) -> tuple[VpcPeeringConnection, Vpc] | None:
    """An active peering of ``vpc`` whose other VPC holds ``address``."""
    ip = ipaddress.ip_address(address)
    for peering in store.all(VpcPeeringConnection):
        side = peering.side_of(vpc.id)
        if side is None or peering.status != PeeringState.ACTIVE:
            continue
        other = store.get(Vpc, peering.accepter_vpc_id if side == "requester"
                          else peering.requester_vpc_id)
        cidrs = [other.cidr_block, *(a.cidr for a in other.cidr_associations),
                 *(a.cidr for a in other.ipv6_associations)] if other else []
        if other is not None and any(
                c and ip.version == (n := ipaddress.ip_network(c, strict=False)).version
                and ip in n for c in cidrs):
            return peering, other
    return None


def exit_for(store: Store, vpc: Vpc, address: str) -> str | None:
    """What a route to ``address`` could go through: a peering to the VPC that holds it,
    else the VPC's attached internet gateway, else an available NAT gateway."""
    peered = peered_vpc(store, vpc, address)
    if peered is not None:
        return f"--vpc-peering-connection-id {peered[0].id}"
    gateway = next((g for g in store.all(InternetGateway) if g.vpc_id == vpc.id), None)
    if gateway is not None:
        return f"--gateway-id {gateway.id}"
    nat = next((n for n in store.all(NatGateway) if n.vpc_id == vpc.id
                and n.state == "available"), None)
    return f"--nat-gateway-id {nat.id}" if nat else None
