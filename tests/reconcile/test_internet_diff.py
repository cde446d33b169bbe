"""The internet's pieces of the planners, as data (no root): a router's uplink (both ends,
the internet's routes to its public addresses and IPv6 blocks, its 1:1 NAT table), the
internet namespace itself, and the local route as a throw route."""

from __future__ import annotations

import dataclasses

from pocketlink.network.changes import (
    ROUTER_SYSCTLS,
    AddAddress,
    AddLinkPair,
    CreateNamespace,
    DeleteDeviceRoute,
    DeleteLink,
    DeleteTable,
    DeviceRoute,
    Link,
    LoadRuleset,
    LoadTable,
    Observed,
    ReplaceDeviceRoute,
    ReplaceRoute,
    Route,
    SetLink,
    diff_internet,
    diff_router,
    diff_uplink,
)
from pocketlink.network.firewall import digest_of
from pocketlink.network.internet import (
    UPLINK_ROUTER,
    UPLINK_ROUTER6,
    UplinkSpec,
    gateway_ruleset,
    internet_spec,
)
from pocketlink.network.topology import RouteSpec
from tests.reconcile.test_diff import ROUTER, converged_router

INTERNET = "pl-internet-0000000000"
MAPPINGS = (("10.0.1.5", "198.51.100.7"),)
BLOCKS = ("fd12:3456:789a:100::/56",)
UPLINK = UplinkSpec("plg0000000001", "pli0000000001", INTERNET, MAPPINGS, BLOCKS,
                    gateway_ruleset("plg0000000001", MAPPINGS, BLOCKS, inbound_ipv6=True))
WITH_UPLINK = dataclasses.replace(ROUTER, uplink=UPLINK)
WANTED_ROUTES = {DeviceRoute("198.51.100.7/32", UPLINK.peer, UPLINK_ROUTER),
                 DeviceRoute(BLOCKS[0], UPLINK.peer, UPLINK_ROUTER6)}


def _linked() -> tuple[Observed, Observed]:
    router = converged_router()
    router = dataclasses.replace(router, links={**router.links, UPLINK.name: Link(
        True, frozenset({"169.254.255.1/31", "fd00:ec2:0:ff::1/127"}))},
        gateway_ruleset=digest_of(UPLINK.ruleset))
    internet = Observed(True, links={"lo": Link(True, frozenset()), UPLINK.peer: Link(
        True, frozenset({"169.254.255.0/31", "fd00:ec2:0:ff::/127"}))},
        device_routes=frozenset(WANTED_ROUTES))
    return router, internet


def test_a_new_uplink_is_both_ends_the_internets_routes_and_the_nat_table():
    actions = diff_uplink(WITH_UPLINK, converged_router(), Observed(True))
    assert actions[0] == AddLinkPair(ROUTER.namespace, UPLINK.name, UPLINK.peer, INTERNET)
    assert AddAddress(ROUTER.namespace, UPLINK.name, "169.254.255.1/31") in actions
    assert AddAddress(INTERNET, UPLINK.peer, "fd00:ec2:0:ff::/127") in actions
    assert SetLink(INTERNET, UPLINK.peer) in actions
    assert {a.route for a in actions if isinstance(a, ReplaceDeviceRoute)} == WANTED_ROUTES
    assert actions[-1] == LoadTable(ROUTER.namespace, "inet", "pocketlink_igw", UPLINK.ruleset)


def test_a_converged_uplink_needs_nothing_and_a_stale_route_goes():
    router, internet = _linked()
    assert diff_uplink(WITH_UPLINK, router, internet) == []
    stale = DeviceRoute("203.0.113.9/32", UPLINK.peer, UPLINK_ROUTER)
    internet = dataclasses.replace(internet, device_routes=internet.device_routes | {stale})
    assert diff_uplink(WITH_UPLINK, router, internet) == [DeleteDeviceRoute(INTERNET, stale)]


def test_without_a_gateway_the_uplink_and_its_table_go():
    router, _ = _linked()
    assert diff_uplink(ROUTER, router, None) == [DeleteLink(ROUTER.namespace, UPLINK.name),
                                                 DeleteTable(ROUTER.namespace, "inet",
                                                             "pocketlink_igw")]


def test_the_uplink_comes_before_the_routes_through_it():
    router = dataclasses.replace(WITH_UPLINK, routes=(
        *ROUTER.routes, RouteSpec(10_001, "0.0.0.0/0", via="169.254.255.0")))
    actions = diff_router(router, converged_router(), Observed(True))
    link = actions.index(AddLinkPair(ROUTER.namespace, UPLINK.name, UPLINK.peer, INTERNET))
    route = actions.index(ReplaceRoute(ROUTER.namespace, Route(10_001, "0.0.0.0/0",
                                                               "169.254.255.0")))
    assert link < route


def test_the_local_route_is_a_throw_route():
    router = dataclasses.replace(ROUTER, routes=(*ROUTER.routes,
                                                 RouteSpec(10_001, "10.0.0.0/16", throw=True)))
    assert diff_router(router, converged_router()) == [
        ReplaceRoute(ROUTER.namespace, Route(10_001, "10.0.0.0/16", throw=True))]


def test_the_internet_namespace_firewall_first_then_its_ranges():
    spec = internet_spec(INTERNET)
    actions = diff_internet(spec, Observed(False))
    assert actions[0] == CreateNamespace(INTERNET)
    assert actions.index(LoadRuleset(INTERNET, spec.ruleset)) < min(
        i for i, a in enumerate(actions) if isinstance(a, ReplaceDeviceRoute))
    assert {a.route for a in actions if isinstance(a, ReplaceDeviceRoute)} == {
        DeviceRoute("198.18.0.0/15", "lo", local=True),
        DeviceRoute("2001:db8::/32", "lo", local=True)}
    converged = Observed(True, links={"lo": Link(True, frozenset({"127.0.0.1/8", "::1/128"}))},
                         ruleset=digest_of(spec.ruleset), sysctls=dict(ROUTER_SYSCTLS),
                         device_routes=frozenset({DeviceRoute("198.18.0.0/15", "lo", local=True),
                                                  DeviceRoute("2001:db8::/32", "lo",
                                                              local=True)}))
    assert diff_internet(spec, converged) == []


def test_egress_only_lets_no_new_ipv6_connection_in():
    egress = gateway_ruleset("plg1", (), BLOCKS, inbound_ipv6=False)
    both = gateway_ruleset("plg1", (), BLOCKS, inbound_ipv6=True)
    inward = f'iifname "plg1" ip6 daddr {{ {BLOCKS[0]} }} accept'
    assert inward not in egress and inward in both
