"""Site-to-Site VPN in the pure planners (no daemon, no root): a route to a virtual private
gateway, static or propagated, is a blackhole route of the subnet's kernel table, whatever
its state (never a route towards another network); and the VPN records' moves."""

from __future__ import annotations

from datetime import UTC, datetime

from pocketlink.model.ec2 import Route, RouteTable
from pocketlink.model.vpn import (
    PROPAGATED,
    VpcAttachment,
    VpnConnection,
    VpnGateway,
    VpnStaticRoute,
)
from pocketlink.network import names
from pocketlink.network.topology import RouteSpec, desired_vpc, inputs
from pocketlink.reconcile.lifecycle import due_transitions
from tests.reconcile.conftest import SUBNET, VPC, common

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)
TABLE = "rtb-" + VPC[4:]
VGW = "vgw-00000000000000001"


def _applied(store, transitions) -> None:
    with store.transaction() as tx:
        for transition in transitions:
            transition.apply(tx)


def _vgw_routes(store) -> set[RouteSpec]:
    router = desired_vpc(store, inputs(store)[VPC]).router
    number = names.route_table_number(SUBNET)
    return {r for r in router.routes if r.table == number and r.destination.startswith("172.")}


def test_a_route_to_a_vgw_is_a_blackhole_attached_or_not(store) -> None:
    with store.transaction() as tx:
        tx.put(VpnGateway(**common(id=VGW)))
        tx.get(RouteTable, TABLE).routes.append(Route(
            destination_cidr_block="172.16.0.0/16", gateway_id=VGW, state="blackhole"))
    number = names.route_table_number(SUBNET)
    assert _vgw_routes(store) == {RouteSpec(number, "172.16.0.0/16", blackhole=True)}
    with store.transaction() as tx:
        tx.get(VpnGateway, VGW).attachments.append(VpcAttachment(vpc_id=VPC, state="attached"))
        tx.get(RouteTable, TABLE).routes[-1].state = "active"
    assert _vgw_routes(store) == {RouteSpec(number, "172.16.0.0/16", blackhole=True)}


def test_a_connection_settles_and_its_routes_propagate_as_blackholes(store) -> None:
    with store.transaction() as tx:
        tx.put(VpnGateway(**common(id=VGW, attachments=[VpcAttachment(vpc_id=VPC)])))
        tx.put(VpnConnection(**common(
            id="vpn-00000000000000001", customer_gateway_id="cgw-00000000000000001",
            vpn_gateway_id=VGW, static_routes_only=True,
            routes=[VpnStaticRoute(destination_cidr_block="172.20.0.0/16")])))
        tx.get(RouteTable, TABLE).propagating_vgws.append(VGW)
    _applied(store, due_transitions(store, MOMENT))
    assert store.get(VpnGateway, VGW).attachments[0].state == "attached"
    connection = store.get(VpnConnection, "vpn-00000000000000001")
    assert connection.state == "available" and connection.routes[0].state == "available"
    [propagated] = [r for r in store.get(RouteTable, TABLE).routes if r.origin == PROPAGATED]
    assert (propagated.destination_cidr_block, propagated.gateway_id) == ("172.20.0.0/16", VGW)
    number = names.route_table_number(SUBNET)
    assert _vgw_routes(store) == {RouteSpec(number, "172.20.0.0/16", blackhole=True)}
    assert not [t for t in due_transitions(store, MOMENT) if "vpn-" in t.what or "vgw-" in t.what]
