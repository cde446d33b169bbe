"""``diff(desired, observed) -> actions``, table-driven: what the kernel must be told for
each gap between a spec and what a namespace holds. No root: observations are data."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from pocketlink.network.changes import (
    COUNT_FLOWS,
    HOST_SYSCTLS,
    MAIN_TABLE,
    ROUTER_SYSCTLS,
    AddAddress,
    AddBridge,
    AddRule,
    AddVeth,
    Announce,
    CreateNamespace,
    DeleteAddress,
    DeleteLink,
    DeleteRoute,
    Link,
    LoadRuleset,
    Observed,
    ReplaceRoute,
    Route,
    SetLink,
    SetSysctl,
    WriteResolvConf,
    after,
    diff_host,
    diff_router,
)
from pocketlink.network.firewall import digest_of
from pocketlink.network.topology import NOWHERE, BridgeSpec, HostSpec, RouterSpec, RouteSpec

RULESET = 'table inet pocketlink {\n  comment "0123456789abcdef"\n}\n'
NS = "pl-vpc-1"
BRIDGE = BridgeSpec("plb0000000001", "subnet-1", ("10.0.1.1/24",), 10_001)
ROUTER = RouterSpec("vpc-1", NS, (BRIDGE,), ("10.0.0.2/32",),
                    (RouteSpec(10_001, "10.9.0.0/16", via="10.0.1.5"),), RULESET)
HOST = HostSpec("i-1", "pl-i-1", NS, "plv0000000001", BRIDGE.name, "02:00:00:00:00:01",
                ("10.0.1.5/24",), "10.0.1.1", None, RULESET, "nameserver 10.0.0.2\n", "running")


def converged_router(**changes) -> Observed:
    """What the kernel holds once ``ROUTER`` is applied, with ``changes``."""
    fields = {
        "exists": True,
        "links": {"lo": Link(True, frozenset({"127.0.0.1/8", "::1/128", "10.0.0.2/32",
                                               *ROUTER.metadata_addresses})),
                  BRIDGE.name: Link(True, frozenset({"10.0.1.1/24"})),
                  HOST.veth: Link(True, frozenset(), master=BRIDGE.name)},
        "rules": frozenset({(f, BRIDGE.name, 10_001) for f in (socket.AF_INET, socket.AF_INET6)}),
        "routes": frozenset({Route(10_001, "10.9.0.0/16", "10.0.1.5")}),
        "ruleset": digest_of(RULESET),
        "sysctls": dict(ROUTER_SYSCTLS),
    }
    return Observed(**{**fields, **changes})


def converged_host(**changes) -> Observed:
    fields = {
        "exists": True,
        "links": {"lo": Link(True, frozenset({"127.0.0.1/8", "::1/128"})),
                  "eth0": Link(True, frozenset({"10.0.1.5/24"}))},
        "routes": frozenset({Route(MAIN_TABLE, "0.0.0.0/0", "10.0.1.1")}),
        "ruleset": digest_of(RULESET),
        "sysctls": dict(HOST_SYSCTLS),
        "resolv_conf": HOST.resolv_conf,
    }
    return Observed(**{**fields, **changes})


@pytest.mark.parametrize(("observed", "expected"), [
    (converged_router(), []),
    (converged_router(ruleset="stale"), [LoadRuleset(NS, RULESET)]),
    (converged_router(routes=frozenset()),
     [ReplaceRoute(NS, Route(10_001, "10.9.0.0/16", "10.0.1.5"))]),
    (converged_router(routes=frozenset({Route(10_001, "10.9.0.0/16", "10.0.1.6")})),
     [ReplaceRoute(NS, Route(10_001, "10.9.0.0/16", "10.0.1.5"))]),
    (converged_router(routes=frozenset({Route(10_001, "10.9.0.0/16", "10.0.1.5"),
                                        Route(10_001, "10.8.0.0/16", None, True)})),
     [DeleteRoute(NS, Route(10_001, "10.8.0.0/16", None, True))]),
    (converged_router(sysctls={**dict(ROUTER_SYSCTLS), "net/ipv4/ip_forward": "0"}),
     [SetSysctl(NS, "net/ipv4/ip_forward", "1")]),
    (converged_router(links={**converged_router().links,
                             BRIDGE.name: Link(False, frozenset({"10.0.1.1/24", "10.0.1.7/24"})),
                             "plb0000000099": Link(True, frozenset())}),
     [DeleteAddress(NS, BRIDGE.name, "10.0.1.7/24"), SetLink(NS, BRIDGE.name),
      DeleteLink(NS, "plb0000000099")]),
    # An endpoint ENI's address, new on the bridge, is announced once added.
    (converged_router(links={**converged_router().links,
                             BRIDGE.name: Link(True, frozenset())}),
     [AddAddress(NS, BRIDGE.name, "10.0.1.1/24"), Announce(NS, BRIDGE.name, "10.0.1.1/24")]),
    (converged_router(rules=frozenset({(socket.AF_INET, BRIDGE.name, 10_001)})),
     [AddRule(NS, socket.AF_INET6, BRIDGE.name, 10_001)]),
])
def test_diff_router(observed, expected) -> None:
    assert diff_router(ROUTER, observed) == expected


def test_the_routers_last_resort_is_a_silent_blackhole_beside_the_kernels_own_routes(
        ) -> None:
    """What no route takes is dropped with no ICMP (a call out times out, as at AWS); the
    main table's connected routes, the kernel's, are left alone."""
    router = dataclasses.replace(ROUTER, routes=ROUTER.routes + NOWHERE)
    connected = Route(MAIN_TABLE, "10.0.1.0/24", None)
    blackholes = {Route(MAIN_TABLE, "0.0.0.0/0", None, True), Route(MAIN_TABLE, "::/0", None, True)}
    held = converged_router(routes=converged_router().routes | {connected})
    assert sorted(diff_router(router, held), key=str) == sorted(
        (ReplaceRoute(NS, r) for r in blackholes), key=str)
    assert diff_router(router, converged_router(routes=held.routes | blackholes)) == []


def test_a_missing_router_is_built_whole_in_order() -> None:
    actions = diff_router(ROUTER, Observed(exists=False))
    kinds = [type(a).__name__ for a in actions]
    assert actions[0] == CreateNamespace(NS)
    # sysctls before links (new bridges inherit "default"), bridge before its addresses,
    # addresses before the routes through them, the ruleset before any address.
    assert kinds.index("SetSysctl") < kinds.index("AddBridge")
    assert kinds.index("LoadRuleset") < kinds.index("AddAddress")
    assert actions.index(AddBridge(NS, BRIDGE.name)) < \
        actions.index(AddAddress(NS, BRIDGE.name, "10.0.1.1/24"))
    assert kinds.index("AddAddress") < kinds.index("ReplaceRoute")
    assert AddAddress(NS, "lo", "10.0.0.2/32") in actions


@pytest.mark.parametrize(("observed", "router", "expected"), [
    (converged_host(), converged_router(), []),
    (converged_host(resolv_conf=None), converged_router(),
     [WriteResolvConf("pl-i-1", HOST.resolv_conf)]),
    (converged_host(routes=frozenset()), converged_router(),
     [ReplaceRoute("pl-i-1", Route(MAIN_TABLE, "0.0.0.0/0", "10.0.1.1"))]),
    # The port fell off its bridge.
    (converged_host(), converged_router(links={**converged_router().links,
                                               HOST.veth: Link(True, frozenset())}),
     [SetLink(NS, HOST.veth, master=BRIDGE.name)]),
    # The router side is gone but an old eth0 is left: it goes first, the pair is made anew.
    (converged_host(), converged_router(links={"lo": converged_router().links["lo"]}),
     [DeleteLink("pl-i-1", "eth0"), AddVeth(NS, HOST.veth, "pl-i-1", HOST.mac_address),
      SetLink(NS, HOST.veth, master=BRIDGE.name), AddAddress("pl-i-1", "eth0", "10.0.1.5/24"),
      SetLink("pl-i-1", "eth0")]),
])
def test_diff_host(observed, router, expected) -> None:
    assert diff_host(HOST, observed, router) == expected


def test_a_missing_host_is_made_then_plugged() -> None:
    actions = diff_host(HOST, Observed(exists=False), converged_router(
        links={"lo": converged_router().links["lo"]}))
    assert actions[:2] == [CreateNamespace("pl-i-1"),
                           AddVeth(NS, HOST.veth, "pl-i-1", HOST.mac_address)]
    assert actions[-2:] == [LoadRuleset("pl-i-1", RULESET),
                            WriteResolvConf("pl-i-1", HOST.resolv_conf)]


def test_a_gateway_endpoints_route_is_a_local_route_of_its_subnets_table() -> None:
    """Put while the route table holds it, taken away (as a local route: its scope is the
    kernel's match) when it no longer does."""
    router = dataclasses.replace(ROUTER, routes=(
        *ROUTER.routes, RouteSpec(10_001, "198.18.0.0/24", local=True)))
    local = Route(10_001, "198.18.0.0/24", None, False, True)
    assert diff_router(router, converged_router()) == [ReplaceRoute(NS, local)]
    held = converged_router(routes=converged_router().routes | {local})
    assert diff_router(router, held) == []
    assert diff_router(ROUTER, held) == [DeleteRoute(NS, local)]


# --- after: what a namespace holds once its actions held -----------------------------------
ENDPOINT = dataclasses.replace(BRIDGE, addresses=("10.0.1.1/24", "10.0.1.9/24"))
RULESET2 = RULESET.replace("0123456789abcdef", "fedcba9876543210")


@pytest.mark.parametrize(("held", "spec"), [
    (converged_router(), ROUTER),
    # A new endpoint's ENI and its groups.
    (converged_router(), dataclasses.replace(ROUTER, bridges=(ENDPOINT,), ruleset=RULESET2)),
    # The same one deleted again, a route moved, a rule missing, a sysctl off.
    (converged_router(links={**converged_router().links,
                             BRIDGE.name: Link(True, frozenset({"10.0.1.1/24", "10.0.1.9/24"}))},
                      routes=frozenset({Route(10_001, "10.9.0.0/16", "10.0.1.6"),
                                        Route(10_001, "10.8.0.0/16", None, True)}),
                      rules=frozenset({(socket.AF_INET, BRIDGE.name, 10_001)}),
                      sysctls={**dict(ROUTER_SYSCTLS), "net/ipv4/ip_forward": "0"}), ROUTER),
    # A router built whole.
    (Observed(exists=False), ROUTER),
    # A second subnet's bridge, new.
    (converged_router(), dataclasses.replace(ROUTER, bridges=(
        BRIDGE, BridgeSpec("plb0000000002", "subnet-2", ("10.0.2.1/24",), 10_002)))),
])
def test_a_router_planned_from_what_its_last_run_left_needs_nothing_more(held, spec) -> None:
    """``after`` is the state ``diff_router`` planned for: planning again from it finds
    nothing to do (what the next run of a router that links to no other namespace plans
    from, instead of reading the kernel)."""
    actions = diff_router(spec, held)
    left = after(NS, held, actions)
    assert left is not None
    # Only the sysctl a new namespace's kernel may not have yet is set again.
    assert diff_router(spec, left) == ([SetSysctl(NS, *COUNT_FLOWS[0])]
                                       if CreateNamespace(NS) in actions else [])


def test_a_new_endpoint_planned_from_what_the_last_run_left_is_its_address_and_groups(
        ) -> None:
    left = after(NS, converged_router(), diff_router(ROUTER, converged_router()))
    assert left is not None
    assert diff_router(dataclasses.replace(ROUTER, bridges=(ENDPOINT,), ruleset=RULESET2),
                       left) == [LoadRuleset(NS, RULESET2),
                                 AddAddress(NS, BRIDGE.name, "10.0.1.9/24"),
                                 Announce(NS, BRIDGE.name, "10.0.1.9/24")]


@pytest.mark.parametrize("actions", [
    [AddVeth(NS, "plv0000000002", "pl-i-2", "02:00:00:00:00:02")],
    [LoadRuleset(NS, RULESET), AddAddress("pl-vpc-2", BRIDGE.name, "10.0.1.9/24")],
    [SetLink(NS, "plb0000000099")],  # a link it does not know of
])
def test_what_after_cannot_write_down_sends_the_next_run_to_the_kernel(actions) -> None:
    assert after(NS, converged_router(), actions) is None


def test_a_sysctl_the_kernel_may_not_have_yet_is_left_unknown() -> None:
    [(key, value)] = COUNT_FLOWS
    left = after(NS, converged_router(), [SetSysctl(NS, key, value)])
    assert left is not None and key not in left.sysctls
