"""What the kernel holds, what must change, with no I/O: ``diff(desired, observed) -> actions``.

``kernel.observe_*`` reads a namespace into an ``Observed`` (links, addresses, rules,
routes, the loaded ruleset's digest, sysctls); ``diff_router`` and ``diff_host`` compare it
with a ``RouterSpec`` or ``HostSpec`` and return the ``Action``s that close the gap, in the
order they must run; ``kernel.apply`` runs them. Keeping the middle step pure is what lets
the planners be tested table-driven, without root (tests/reconcile). ``after`` is the
other way round: what a namespace holds once a list of actions held, so that the next run
of a router can plan from what its own last run left instead of reading the kernel again.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from pocketlink.network import names
from pocketlink.network.firewall import digest_of
from pocketlink.network.internet import (
    IGW_TABLE,
    UPLINK_INTERNET,
    UPLINK_INTERNET6,
    UPLINK_PREFIX,
    UPLINK_PREFIX6,
    UPLINK_ROUTER,
    UPLINK_ROUTER6,
    InternetSpec,
)
from pocketlink.network.topology import MAIN_TABLE, HostSpec, RouterSpec

LOOPBACK = ("127.0.0.1/8", "::1/128")
FAMILIES = (socket.AF_INET, socket.AF_INET6)
# No duplicate address detection (addresses usable at once) and no autoconfiguration.
QUIET_IPV6 = (("net/ipv6/conf/default/accept_dad", "0"), ("net/ipv6/conf/all/accept_dad", "0"),
              ("net/ipv6/conf/default/accept_ra", "0"), ("net/ipv6/conf/default/autoconf", "0"))
# Conntrack counts each flow's packets and bytes both ways: flow logs' ACCEPT records.
COUNT_FLOWS = (("net/netfilter/nf_conntrack_acct", "1"),)
ROUTER_SYSCTLS = (*QUIET_IPV6, *COUNT_FLOWS, ("net/ipv4/ip_forward", "1"),
                  ("net/ipv6/conf/all/forwarding", "1"),
                  # A peer VPC's packets arrive from addresses this router has no route
                  # back to but through the peering's link: no reverse-path filter.
                  ("net/ipv4/conf/all/rp_filter", "0"), ("net/ipv4/conf/default/rp_filter", "0"))
# Root in an instance's sandbox is root of its own user namespace only: ports below 1024
# (httpd's 80) are open to every uid of the instance's network namespace instead.
HOST_SYSCTLS = (*QUIET_IPV6, *COUNT_FLOWS, ("net/ipv4/ip_unprivileged_port_start", "0"))
SYSCTL_KEYS = tuple(dict.fromkeys(key for key, _ in (*ROUTER_SYSCTLS, *HOST_SYSCTLS)))


@dataclass(frozen=True)
class Link:
    up: bool
    addresses: frozenset[str]  # normalised, "10.0.1.1/24"; link-local IPv6 left out
    master: str | None = None  # the bridge a port belongs to


@dataclass(frozen=True)
class Route:
    table: int
    destination: str  # normalised network, "0.0.0.0/0"
    via: str | None = None
    blackhole: bool = False
    local: bool = False  # a gateway endpoint's prefix list, delivered to the router
    throw: bool = False


@dataclass(frozen=True)
class DeviceRoute:
    """A route bound to one device: the internet namespace's way to a public address (via
    one VPC's downlink; every downlink has the same addresses), or a local route that makes
    a whole range its own (``local``, on lo)."""

    destination: str  # normalised network
    device: str
    via: str | None = None
    local: bool = False


@dataclass(frozen=True)
class Observed:
    """One namespace as the kernel holds it (``exists`` False: nothing else is read)."""

    exists: bool
    links: dict[str, Link] = field(default_factory=dict)
    rules: frozenset[tuple[int, str, int]] = frozenset()  # (family, bridge, table)
    routes: frozenset[Route] = frozenset()
    ruleset: str | None = None  # the digest of pocketlink's loaded table
    sysctls: dict[str, str] = field(default_factory=dict)
    resolv_conf: str | None = None
    device_routes: frozenset[DeviceRoute] = frozenset()  # read where asked (the internet)
    gateway_ruleset: str | None = None  # the digest of a router's IGW_TABLE
    neighbours: frozenset[str] = frozenset()  # the peer routers' namespaces that exist


# --- actions: each one kernel change, in one namespace -------------------------------------
@dataclass(frozen=True)
class Action:
    namespace: str


@dataclass(frozen=True)
class CreateNamespace(Action):
    pass


@dataclass(frozen=True)
class SetSysctl(Action):
    key: str
    value: str


@dataclass(frozen=True)
class AddBridge(Action):
    name: str


@dataclass(frozen=True)
class DeleteLink(Action):
    name: str


@dataclass(frozen=True)
class AddVeth(Action):
    """A veth pair from ``namespace`` (the router): ``name`` there, ``eth0`` in ``peer``."""

    name: str
    peer: str
    mac_address: str
    peer_name: str = names.INSTANCE_INTERFACE


@dataclass(frozen=True)
class SetLink(Action):
    name: str
    master: str | None = None


@dataclass(frozen=True)
class AddAddress(Action):
    link: str
    address: str


@dataclass(frozen=True)
class Announce(Action):
    """A gratuitous ARP for an IPv4 address just added to a bridge: a client that asked for
    it before it was there gets its answer now, not at its next ARP try a second later."""

    link: str
    address: str


@dataclass(frozen=True)
class DeleteAddress(Action):
    link: str
    address: str


@dataclass(frozen=True)
class AddRule(Action):
    family: int
    bridge: str
    table: int


@dataclass(frozen=True)
class DeleteRule(Action):
    family: int
    bridge: str
    table: int


@dataclass(frozen=True)
class ReplaceRoute(Action):
    route: Route


@dataclass(frozen=True)
class DeleteRoute(Action):
    route: Route


@dataclass(frozen=True)
class LoadRuleset(Action):
    ruleset: str


@dataclass(frozen=True)
class WriteResolvConf(Action):
    text: str


@dataclass(frozen=True)
class AddLinkPair(Action):
    """A veth pair from ``namespace``: ``name`` there, ``peer`` in ``peer_namespace`` (a
    router's uplink to the internet, a peering's link to the other VPC's router)."""

    name: str
    peer: str
    peer_namespace: str


@dataclass(frozen=True)
class ReplaceDeviceRoute(Action):
    route: DeviceRoute


@dataclass(frozen=True)
class DeleteDeviceRoute(Action):
    route: DeviceRoute


@dataclass(frozen=True)
class LoadTable(Action):
    """An nftables table of its own beside pocketlink's (the router's IGW_TABLE)."""

    family: str
    table: str
    ruleset: str


@dataclass(frozen=True)
class DeleteTable(Action):
    family: str
    table: str


def normal(address: str) -> str:
    return str(ipaddress.ip_interface(address))


def network(destination: str) -> str:
    return str(ipaddress.ip_network(destination, strict=False))


def family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


# --- after --------------------------------------------------------------------------------
def after(namespace: str, observed: Observed, actions: Iterable[Action]) -> Observed | None:
    """What ``namespace`` holds once every one of ``actions`` held, from ``observed`` (what
    it held before them); None where an action's effect is not written down here (a veth
    pair, another namespace's change, a table of its own): the kernel is asked again then.
    A new namespace holds only its loopback, down. A sysctl the kernel may not have yet
    (COUNT_FLOWS: conntrack loads with the first ruleset that names it) is left unknown,
    so that it is set again."""
    links, rules, routes = dict(observed.links), set(observed.rules), set(observed.routes)
    sysctls, ruleset = dict(observed.sysctls), observed.ruleset
    for action in actions:
        if action.namespace != namespace:
            return None
        match action:
            case CreateNamespace():
                observed = Observed(exists=True)
                links, rules, routes = {"lo": Link(False, frozenset())}, set(), set()
                sysctls, ruleset = {}, None
            case SetSysctl(key=key, value=value):
                if (key, value) in COUNT_FLOWS:
                    sysctls.pop(key, None)
                else:
                    sysctls[key] = value
            case LoadRuleset(ruleset=text):
                ruleset = digest_of(text)
            case AddBridge(name=name):
                links[name] = Link(False, frozenset())
            case DeleteLink(name=name):
                links.pop(name, None)
            case SetLink(name=name, master=master) if name in links:
                link = links[name]
                links[name] = Link(True, link.addresses, master or link.master)
            case AddAddress(link=name, address=address) if name in links:
                link = links[name]
                links[name] = dataclasses.replace(link, addresses=link.addresses | {address})
            case DeleteAddress(link=name, address=address) if name in links:
                link = links[name]
                links[name] = dataclasses.replace(link, addresses=link.addresses - {address})
            case Announce():
                pass
            case AddRule(family=fam, bridge=bridge, table=table):
                rules.add((fam, bridge, table))
            case DeleteRule(family=fam, bridge=bridge, table=table):
                rules.discard((fam, bridge, table))
            case ReplaceRoute(route=route):
                routes = {r for r in routes if (r.table, r.destination) !=
                          (route.table, route.destination)} | {route}
            case DeleteRoute(route=route):
                routes.discard(route)
            case _:
                return None
    return dataclasses.replace(observed, links=links, rules=frozenset(rules),
                               routes=frozenset(routes), sysctls=sysctls, ruleset=ruleset)


# --- diff ---------------------------------------------------------------------------------
def _addresses(namespace: str, link: str, have: Link | None, wanted: tuple[str, ...]
               ) -> list[Action]:
    present = have.addresses if have else frozenset()
    wanted_set = {normal(a) for a in wanted}
    return [AddAddress(namespace, link, a) for a in sorted(wanted_set - present)] + \
        [DeleteAddress(namespace, link, a) for a in sorted(present - wanted_set)]


def _sysctls(namespace: str, wanted: tuple[tuple[str, str], ...], observed: Observed
             ) -> list[Action]:
    return [SetSysctl(namespace, key, value) for key, value in wanted
            if observed.sysctls.get(key) != value]


def _ruleset(namespace: str, ruleset: str, observed: Observed) -> list[Action]:
    return [] if observed.ruleset == digest_of(ruleset) else [LoadRuleset(namespace, ruleset)]


def diff_router(spec: RouterSpec, observed: Observed, internet: Observed | None = None
                ) -> list[Action]:
    """``internet``: the internet namespace, where the router's uplink leads (if it has one)."""
    ns = spec.namespace
    actions: list[Action] = [] if observed.exists else [CreateNamespace(ns)]
    actions += _sysctls(ns, ROUTER_SYSCTLS, observed)
    # The ruleset before any address it names: an address (an endpoint's ENI, whose
    # listener may be bound the moment it exists) is filtered by its own groups from its
    # first packet, not open to every source (the input policy accepts) until a later load.
    actions += _ruleset(ns, spec.ruleset, observed)
    lo = observed.links.get("lo")
    if lo is None or not lo.up:
        actions.append(SetLink(ns, "lo"))
    # The resolver's addresses live on the router's loopback: packets for them that
    # arrive on a bridge are delivered locally, to AmazonProvidedDNS (and the metadata
    # service's, to it).
    actions += _addresses(ns, "lo", lo,
                          LOOPBACK + spec.resolver_addresses + spec.metadata_addresses)
    wanted_bridges = {b.name for b in spec.bridges}
    for bridge in spec.bridges:
        have = observed.links.get(bridge.name)
        if have is None:
            actions.append(AddBridge(ns, bridge.name))
        added = _addresses(ns, bridge.name, have, bridge.addresses)
        actions += added
        if have is None or not have.up:
            actions.append(SetLink(ns, bridge.name))
        actions += [Announce(ns, a.link, a.address) for a in added
                    if isinstance(a, AddAddress) and ":" not in a.address]
    actions += [DeleteLink(ns, name) for name in sorted(observed.links)
                if name.startswith(names.PREFIX + "b") and name not in wanted_bridges]
    actions += diff_uplink(spec, observed, internet)
    actions += _peering_links(spec, observed)
    wanted_rules = {(f, b.name, b.table) for b in spec.bridges for f in FAMILIES} | {
        (f, link, table) for link, table in spec.ingress for f in FAMILIES}
    actions += [AddRule(ns, *rule) for rule in sorted(wanted_rules - observed.rules)]
    actions += [DeleteRule(ns, *rule) for rule in sorted(observed.rules - wanted_rules)]
    wanted_routes = {Route(r.table, network(r.destination), r.via, r.blackhole, local=r.local,
                           throw=r.throw)
                     for r in spec.routes if r.via or r.blackhole or r.local or r.throw}
    tables = {b.table for b in spec.bridges} | {table for _, table in spec.ingress}
    wanted_keys = {(r.table, r.destination) for r in wanted_routes}
    actions += [DeleteRoute(ns, r) for r in sorted(observed.routes, key=_route_order)
                if r.table in tables and (r.table, r.destination) not in wanted_keys]
    actions += [ReplaceRoute(ns, r) for r in sorted(wanted_routes - observed.routes,
                                                    key=_route_order)]
    return actions


def diff_uplink(spec: RouterSpec, observed: Observed, internet: Observed | None
                ) -> list[Action]:
    """The router's internet gateway: the link to the internet namespace (both ends), the
    internet's routes to the VPC's public addresses, the router's 1:1 NAT table."""
    ns, uplink = spec.namespace, spec.uplink
    present = sorted(n for n in observed.links if n.startswith(names.PREFIX + "g"))
    if uplink is None:
        return [DeleteLink(ns, n) for n in present] + \
            ([DeleteTable(ns, "inet", IGW_TABLE)] if observed.gateway_ruleset else [])
    actions: list[Action] = [DeleteLink(ns, n) for n in present if n != uplink.name]
    have = observed.links.get(uplink.name)
    if have is None:
        actions.append(AddLinkPair(ns, uplink.name, uplink.peer, uplink.internet))
    actions += _addresses(ns, uplink.name, have, (f"{UPLINK_ROUTER}/{UPLINK_PREFIX}",
                                                  f"{UPLINK_ROUTER6}/{UPLINK_PREFIX6}"))
    if have is None or not have.up:
        actions.append(SetLink(ns, uplink.name))
    world = internet or Observed(exists=False)
    peer = world.links.get(uplink.peer) if have is not None else None
    actions += _addresses(uplink.internet, uplink.peer, peer,
                          (f"{UPLINK_INTERNET}/{UPLINK_PREFIX}",
                           f"{UPLINK_INTERNET6}/{UPLINK_PREFIX6}"))
    if peer is None or not peer.up:
        actions.append(SetLink(uplink.internet, uplink.peer))
    wanted = {DeviceRoute(f"{public}/32", uplink.peer, UPLINK_ROUTER)
              for _, public in uplink.mappings} | {
        DeviceRoute(network(block), uplink.peer, UPLINK_ROUTER6) for block in uplink.ipv6_blocks}
    routed = {r for r in world.device_routes
              if r.device == uplink.peer and r.via} if peer else set()
    actions += [DeleteDeviceRoute(uplink.internet, r) for r in sorted(routed - wanted, key=str)]
    actions += [ReplaceDeviceRoute(uplink.internet, r) for r in sorted(wanted - routed, key=str)]
    if observed.gateway_ruleset != digest_of(uplink.ruleset):
        actions.append(LoadTable(ns, "inet", IGW_TABLE, uplink.ruleset))
    return actions


def diff_internet(spec: InternetSpec, observed: Observed) -> list[Action]:
    """The internet namespace itself: its firewall first, then the service ranges its own."""
    ns = spec.namespace
    actions: list[Action] = [] if observed.exists else [CreateNamespace(ns)]
    actions += _sysctls(ns, ROUTER_SYSCTLS, observed)
    actions += _ruleset(ns, spec.ruleset, observed)
    lo = observed.links.get("lo")
    if lo is None or not lo.up:
        actions.append(SetLink(ns, "lo"))
    actions += _addresses(ns, "lo", lo, LOOPBACK)
    wanted = {DeviceRoute(network(r), "lo", local=True) for r in spec.local}
    actions += [ReplaceDeviceRoute(ns, r) for r in sorted(wanted - observed.device_routes, key=str)]
    return actions


def _peering_links(spec: RouterSpec, observed: Observed) -> list[Action]:
    """The peerings' links: the requester's router makes a missing pair once the other
    router exists, and sets up both ends; each router keeps its own end's addresses."""
    ns = spec.namespace
    actions: list[Action] = []
    for link in spec.peerings:
        have = observed.links.get(link.name)
        if have is None and link.makes and link.peer_namespace in observed.neighbours:
            actions += [AddLinkPair(ns, link.name, link.peer_name, link.peer_namespace),
                        *_addresses(ns, link.name, None, link.addresses), SetLink(ns, link.name),
                        *_addresses(link.peer_namespace, link.peer_name, None,
                                    link.peer_addresses),
                        SetLink(link.peer_namespace, link.peer_name)]
        elif have is not None:
            actions += _addresses(ns, link.name, have, link.addresses)
            if not have.up:
                actions.append(SetLink(ns, link.name))
    wanted = {link.name for link in spec.peerings}
    actions += [DeleteLink(ns, name) for name in sorted(observed.links)
                if name.startswith(names.PREFIX + "p") and name not in wanted]
    return actions


def _route_order(route: Route) -> tuple:
    return (route.table, route.destination, route.via or "")


def _attached(spec: HostSpec, observed: Observed, router: Observed) -> list[Action]:
    """The ENIs attached beside the primary one: ``ethN`` each, its veth a port of its own
    subnet's bridge; an ``ethN`` no ENI is attached as any more goes (and its veth with it)."""
    ns = spec.namespace
    actions: list[Action] = []
    for interface in spec.attached:
        inside = observed.links.get(interface.name)
        port = router.links.get(interface.veth)
        if port is None:
            if inside is not None:
                actions.append(DeleteLink(ns, interface.name))
            actions.append(AddVeth(spec.router, interface.veth, ns, interface.mac_address,
                                   interface.name))
            inside = None
        if port is None or port.master != interface.bridge or not port.up:
            actions.append(SetLink(spec.router, interface.veth, master=interface.bridge))
        actions += _addresses(ns, interface.name, inside, interface.addresses)
        if inside is None or not inside.up:
            actions.append(SetLink(ns, interface.name))
    wanted = {i.name for i in spec.attached} | {names.INSTANCE_INTERFACE}
    actions += [DeleteLink(ns, name) for name in sorted(observed.links)
                if name.startswith("eth") and name not in wanted]
    return actions


def diff_host(spec: HostSpec, observed: Observed, router: Observed) -> list[Action]:
    """The instance's namespace (``observed``) and its port on the VPC router (``router``)."""
    ns = spec.namespace
    actions: list[Action] = [] if observed.exists else [CreateNamespace(ns)]
    eth0 = observed.links.get(names.INSTANCE_INTERFACE)
    port = router.links.get(spec.veth)
    if port is None:
        if eth0 is not None:
            # A veth end left from an earlier life would keep the name eth0 taken.
            actions.append(DeleteLink(ns, names.INSTANCE_INTERFACE))
        actions.append(AddVeth(spec.router, spec.veth, ns, spec.mac_address))
        eth0 = None
    if port is None or port.master != spec.bridge or not port.up:
        actions.append(SetLink(spec.router, spec.veth, master=spec.bridge))
    actions += _sysctls(ns, HOST_SYSCTLS + spec.sysctls, observed)
    lo = observed.links.get("lo")
    if lo is None or not lo.up:
        actions.append(SetLink(ns, "lo"))
    actions += _addresses(ns, "lo", lo, LOOPBACK)
    actions += _addresses(ns, names.INSTANCE_INTERFACE, eth0, spec.addresses)
    if eth0 is None or not eth0.up:
        actions.append(SetLink(ns, names.INSTANCE_INTERFACE))
    defaults = {r.destination: r for r in observed.routes}
    for gateway, default in ((spec.gateway4, "0.0.0.0/0"), (spec.gateway6, "::/0")):
        if gateway:
            route = Route(MAIN_TABLE, default, gateway)
            if defaults.get(default) != route:
                actions.append(ReplaceRoute(ns, route))
    actions += _attached(spec, observed, router)
    actions += _ruleset(ns, spec.ruleset, observed)
    if observed.resolv_conf != spec.resolv_conf:
        actions.append(WriteResolvConf(ns, spec.resolv_conf))
    return actions
