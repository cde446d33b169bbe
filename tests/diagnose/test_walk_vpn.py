"""The hop walker and a route to a virtual private gateway: the VPC router drops what it
takes (docs/vpn.md), so the walk fails at that route, attached or not, where a walk through
an internet gateway goes on."""

from __future__ import annotations

from pocketlink.diagnose import diagnose
from pocketlink.model.ec2 import Route, RouteTable
from pocketlink.model.vpn import VpcAttachment, VpnGateway
from tests.diagnose.test_walk import world  # noqa: F401  (the walker's small world)
from tests.reconcile.conftest import VPC, common

VGW = "vgw-00000000000000001"


def test_a_route_to_a_vgw_is_where_the_walk_stops(world):  # noqa: F811
    with world.transaction() as tx:
        tx.put(VpnGateway(**common(id=VGW, attachments=[
            VpcAttachment(vpc_id=VPC, state="attached")])))
        tx.edit(RouteTable, f"rtb-{VPC[4:]}").routes.append(Route(
            destination_cidr_block="192.0.2.0/24", gateway_id=VGW))
    found = diagnose(world, "i-00000000000000001", "192.0.2.7", 443)
    assert found.failure is not None and found.failure.name == "route", found.hops
    assert VGW in found.failure.detail and "dropped" in found.failure.detail
