"""The transit gateway's router and the VPC routers' side of it, as plain data from an
in-memory store, and the state moves the reconciler makes. No daemon, no root."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketlink.model.ec2 import CidrAssociation, Route, RouteTable, Vpc
from pocketlink.model.transit_gateways import (
    TransitGateway,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayVpcAttachment,
)
from pocketlink.network import names
from pocketlink.network.topology import NOWHERE, RouteSpec, desired_vpc, inputs
from pocketlink.network.transit_gateways import gateway_router
from pocketlink.reconcile.transit_gateways import transit_gateway_transitions
from tests.reconcile.conftest import PROVIDER_SUBNET, PROVIDER_VPC, SUBNET, VPC, common

GATEWAY = "tgw-00000000000000001"
TABLE = "tgw-rtb-00000000000000001"
ATTACH_A, ATTACH_B = "tgw-attach-00000000000000001", "tgw-attach-00000000000000002"
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def attached(store):
    """Both VPCs of the world attached (A index 0, B index 1), associated with one table
    that both propagate into; A's main route table sends 10.0.0.0/8 to the gateway."""
    with store.transaction() as tx:
        for vpc_id, cidr in ((VPC, "10.0.0.0/16"), (PROVIDER_VPC, "10.1.0.0/16")):
            tx.edit(Vpc, vpc_id).cidr_associations = [CidrAssociation(association_id="a",
                                                                      cidr=cidr)]
        tx.put(TransitGateway(**common(id=GATEWAY, state="available")))
        for index, (attachment, vpc_id, subnet) in enumerate(
                ((ATTACH_A, VPC, SUBNET), (ATTACH_B, PROVIDER_VPC, PROVIDER_SUBNET))):
            tx.put(TransitGatewayVpcAttachment(**common(
                id=attachment, transit_gateway_id=GATEWAY, vpc_id=vpc_id, subnet_ids=[subnet],
                state="available", link_index=index)))
        tx.put(TransitGatewayRouteTable(**common(
            id=TABLE, transit_gateway_id=GATEWAY, state="available",
            associations=[ATTACH_A, ATTACH_B], propagations=[ATTACH_A, ATTACH_B])))
        tx.edit(RouteTable, "rtb-" + VPC[4:]).routes.append(
            Route(destination_cidr_block="10.0.0.0/8", transit_gateway_id=GATEWAY))
    return store


def test_the_gateway_routes_each_table_by_the_attachments_it_is_chosen_for(attached):
    router = gateway_router(attached, attached.get(TransitGateway, GATEWAY))
    number = names.route_table_number(TABLE)
    assert router.namespace == f"pl-{GATEWAY}" and router.bridges == ()
    assert {(link.peering_id, link.makes, link.peer_namespace) for link in router.peerings} == {
        (ATTACH_A, True, f"pl-{VPC}"), (ATTACH_B, True, f"pl-{PROVIDER_VPC}")}
    links = {link.peering_id: link.name for link in router.peerings}
    assert set(router.ingress) == {(links[ATTACH_A], number), (links[ATTACH_B], number)}
    # Propagated: each VPC's block via the VPC router's end of its attachment's link.
    assert set(router.routes) == {RouteSpec(number, "10.0.0.0/16", via="169.254.192.2"),
                                  RouteSpec(number, "10.1.0.0/16", via="169.254.192.6"),
                                  *NOWHERE}


def test_a_static_blackhole_wins_over_a_propagated_route(attached):
    with attached.transaction() as tx:
        tx.edit(TransitGatewayRouteTable, TABLE).routes.append(
            TransitGatewayRoute(destination_cidr_block="10.1.0.0/16", blackhole=True))
    router = gateway_router(attached, attached.get(TransitGateway, GATEWAY))
    assert RouteSpec(names.route_table_number(TABLE), "10.1.0.0/16", blackhole=True) \
        in router.routes
    assert not any(r.destination == "10.1.0.0/16" and r.via for r in router.routes)


def test_an_attachment_no_table_is_chosen_for_has_no_rule(attached):
    with attached.transaction() as tx:
        tx.edit(TransitGatewayRouteTable, TABLE).associations = [ATTACH_A]
    router = gateway_router(attached, attached.get(TransitGateway, GATEWAY))
    assert len(router.ingress) == 1


def test_the_vpc_router_keeps_its_end_and_routes_to_the_gateway_end(attached):
    router = desired_vpc(attached, inputs(attached)[VPC]).router
    (link,) = router.peerings
    assert (link.peering_id, link.makes, link.peer_namespace) == (ATTACH_A, False,
                                                                 f"pl-{GATEWAY}")
    assert link.addresses[0] == "169.254.192.2/30"
    assert RouteSpec(names.route_table_number(SUBNET), "10.0.0.0/8", via="169.254.192.1") \
        in router.routes


def test_a_route_to_a_pending_attachment_is_a_blackhole(attached):
    with attached.transaction() as tx:
        tx.edit(TransitGatewayVpcAttachment, ATTACH_A).state = "pending"
    router = desired_vpc(attached, inputs(attached)[VPC]).router
    assert RouteSpec(names.route_table_number(SUBNET), "10.0.0.0/8", blackhole=True) \
        in router.routes


def test_states_wait_for_the_network(attached):
    with attached.transaction() as tx:
        tx.edit(TransitGatewayVpcAttachment, ATTACH_A).state = "pending"
        tx.edit(TransitGatewayVpcAttachment, ATTACH_B).state = "deleting"
        tx.edit(TransitGateway, GATEWAY).state = "pending"
    due = dict(transit_gateway_transitions(attached, MOMENT, {ATTACH_B}, set()))
    assert due == {}  # no namespace yet, A's link not up, B's link still there
    due = dict(transit_gateway_transitions(attached, MOMENT, {ATTACH_A},
                                           {names.namespace(GATEWAY)}))
    assert set(due) == {f"{GATEWAY} available", f"{ATTACH_A} available", f"{ATTACH_B} deleted"}


def test_ipv6_blocks_propagate_with_the_attachments_ipv6_support(attached):
    with attached.transaction() as tx:
        tx.edit(Vpc, PROVIDER_VPC).ipv6_associations = [CidrAssociation(
            association_id="b6", cidr="fd00:1:2:300::/56")]
        tx.edit(RouteTable, "rtb-" + VPC[4:]).routes.append(
            Route(destination_ipv6_cidr_block="fd00::/8", transit_gateway_id=GATEWAY))
    number = names.route_table_number(TABLE)
    router = gateway_router(attached, attached.get(TransitGateway, GATEWAY))
    assert not any(":" in r.destination for r in router.routes if r.table == number)
    with attached.transaction() as tx:
        tx.edit(TransitGatewayVpcAttachment, ATTACH_B).ipv6_support = "enable"
    router = gateway_router(attached, attached.get(TransitGateway, GATEWAY))
    assert RouteSpec(number, "fd00:1:2:300::/56", via="fd00:ec2:0:2::6") in router.routes
    vpc_router = desired_vpc(attached, inputs(attached)[VPC]).router
    assert RouteSpec(names.route_table_number(SUBNET), "fd00::/8", via="fd00:ec2:0:2::1") \
        in vpc_router.routes
