"""Observe what a namespace holds, and apply the actions that ``changes.diff_*`` plans.

Observing reads the kernel into plain data (``Observed``); applying runs each action and
says which failed and why, carrying on with the rest (a refused route does not stop the
addresses after it). Only objects that carry pocketlink's names are touched. pyroute2 does
all of it but the nftables rulesets, each loaded whole in one ``nft -f`` inside its
namespace, and the resolv.conf files.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import socket
import struct
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeVar

from pyroute2 import IPRoute, NetlinkError

from pocketlink.network import names, netns
from pocketlink.network.changes import (
    COUNT_FLOWS,
    FAMILIES,
    MAIN_TABLE,
    SYSCTL_KEYS,
    Action,
    AddAddress,
    AddBridge,
    AddLinkPair,
    AddRule,
    AddVeth,
    Announce,
    CreateNamespace,
    DeleteAddress,
    DeleteDeviceRoute,
    DeleteLink,
    DeleteRoute,
    DeleteRule,
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
    SetSysctl,
    WriteResolvConf,
    diff_host,
    diff_internet,
    diff_router,
    family,
    network,
    normal,
)
from pocketlink.network.firewall import TABLE
from pocketlink.network.internet import IGW_TABLE, InternetSpec
from pocketlink.network.topology import HostSpec, RouterSpec

T = TypeVar("T")
IFA_F_NODAD = 0x02
IFF_UP = 0x1
RTN_LOCAL, RTN_BLACKHOLE, RTN_THROW = 2, 6, 9
RT_SCOPE_HOST = 254  # a local route's: the kernel refuses one of universe scope
LOCAL_TABLE = 255
RULE_PRIORITY = 1000
ETH_P_ARP, ETH_P_IP, ARP_REQUEST = 0x0806, 0x0800, 1
OUR_TABLES = 10_000  # the subnets' routing tables are numbered from here


@dataclass(frozen=True)
class Failure:
    """An action the kernel refused, and its words."""

    action: Action
    reason: str

    def __str__(self) -> str:
        return f"{describe(self.action)}: {self.reason}"


def describe(action: Action) -> str:
    """An action as a person reads it in a log or a LastError."""
    detail = " ".join(str(getattr(action, f.name)) for f in fields(action)
                      if f.name not in ("namespace", "ruleset", "text"))
    return f"{type(action).__name__} {detail} in {action.namespace}".replace("  ", " ")


def _netlink(namespace: str, work: Callable[[IPRoute], T]) -> T:
    """``work`` with a netlink socket inside ``namespace``, opened on a thread that entered
    it (not with ``IPRoute(netns=...)``, which forks: see netns.create)."""
    def run() -> T:
        with IPRoute() as ipr:
            return work(ipr)
    return netns.run_in(namespace, run)


# --- observe ------------------------------------------------------------------------------
def observe(namespace: str, tables: Iterable[int] = (), ruleset: bool = True,
            devices: bool = False) -> Observed:
    """What ``namespace`` holds: links and addresses always, the routes of ``tables``, the
    loaded ruleset's digest when asked, and (``devices``) the routes of the main and local
    tables bound to a device (the internet namespace's)."""
    if netns.inode(namespace) is None:
        return Observed(exists=False)
    wanted_tables = tuple(tables)

    def read(ipr: IPRoute) -> Observed:
        by_index = {link["index"]: link for link in ipr.get_links()}
        addresses: dict[int, set[str]] = {}
        for a in ipr.get_addr():
            address = a.get_attr("IFA_ADDRESS") or ""
            if not address.startswith("fe80:"):
                addresses.setdefault(a["index"], set()).add(normal(f"{address}/{a['prefixlen']}"))
        links = {}
        for index, link in by_index.items():
            master = by_index.get(link.get_attr("IFLA_MASTER") or -1)
            links[link.get_attr("IFLA_IFNAME")] = Link(
                up=bool(link["flags"] & IFF_UP), addresses=frozenset(addresses.get(index, ())),
                master=master.get_attr("IFLA_IFNAME") if master is not None else None)
        rules, routes = set(), set()
        for fam in FAMILIES:
            for rule in ipr.get_rules(family=fam):
                table = rule.get_attr("FRA_TABLE")
                if table and table >= OUR_TABLES:
                    rules.add((fam, rule.get_attr("FRA_IIFNAME"), table))
            unspecified = "::" if fam == socket.AF_INET6 else "0.0.0.0"
            # One dump for all the tables: the kernel sends every route whatever table is
            # asked for, and pyroute2 decodes them all before it filters; asked table by
            # table, a router's run decoded each route once per table.
            for route in ipr.get_routes(family=fam) if wanted_tables else ():
                table = route.get_attr("RTA_TABLE", route["table"])
                if table not in wanted_tables:
                    continue
                destination = f"{route.get_attr('RTA_DST') or unspecified}/{route['dst_len']}"
                routes.add(Route(table, network(destination), route.get_attr("RTA_GATEWAY"),
                                 route["type"] == RTN_BLACKHOLE,
                                 local=route["type"] == RTN_LOCAL,
                                 throw=route["type"] == RTN_THROW))
        sysctls = {}
        for key in SYSCTL_KEYS:
            try:
                sysctls[key] = (Path("/proc/sys") / key).read_text().strip()
            except OSError:
                continue
        bound = _device_routes(ipr, by_index) if devices else frozenset()
        return Observed(True, links, frozenset(rules), frozenset(routes), None, sysctls,
                        device_routes=bound)

    observed = _netlink(namespace, read)
    digest = _loaded_digest(namespace) if ruleset else None
    resolv = netns.ETC_NETNS / namespace / "resolv.conf"
    return dataclasses.replace(observed, ruleset=digest,
                               resolv_conf=resolv.read_text() if resolv.exists() else None)


def _device_routes(ipr: IPRoute, by_index: dict) -> frozenset[DeviceRoute]:
    found = set()
    for fam in FAMILIES:
        unspecified = "::" if fam == socket.AF_INET6 else "0.0.0.0"
        for table in (MAIN_TABLE, LOCAL_TABLE):
            for route in ipr.get_routes(family=fam, table=table):
                link = by_index.get(route.get_attr("RTA_OIF") or -1)
                if link is None or route.get_attr("RTA_TABLE", table) != table:
                    continue
                destination = network(f"{route.get_attr('RTA_DST') or unspecified}/"
                                      f"{route['dst_len']}")
                found.add(DeviceRoute(destination, link.get_attr("IFLA_IFNAME"),
                                      route.get_attr("RTA_GATEWAY"), route["type"] == RTN_LOCAL))
    return frozenset(found)


def _with_ruleset(observed: Observed, loaded: str | None) -> Observed:
    return dataclasses.replace(observed, ruleset=loaded) if loaded else observed


# What a plan returns: its actions, and what it planned from when the next run may plan
# from that again (``changes.after``), else None.
Planned = tuple[list[Action], Observed | None]


def plan_router(spec: RouterSpec, loaded: str | None = None, held: Observed | None = None
                ) -> Planned:
    """The router's actions; ``loaded``: the digest of the ruleset this daemon loaded there
    last, taken as observed (asking nft costs a process), or None to ask. ``held``: what
    this daemon's last run left there, taken as observed (the netlink dumps, decoded in
    Python, were most of a run while endpoints were created by the hundred; the caller
    reads the kernel after applying) where nothing else changes the router: no uplink, no
    peering or transit gateway link, whose other ends other runs make."""
    alone = spec.uplink is None and not spec.peerings
    if held is not None and alone:
        return diff_router(spec, held), held
    observed = observe(spec.namespace, {b.table for b in spec.bridges} |
                       {r.table for r in spec.routes} | {t for _, t in spec.ingress},
                       ruleset=not loaded)
    internet = None
    if spec.uplink is not None or any(n.startswith(names.PREFIX + "g") for n in observed.links):
        observed = dataclasses.replace(
            observed, gateway_ruleset=_loaded_digest(spec.namespace, "inet", IGW_TABLE))
        if spec.uplink is not None:
            internet = observe(spec.uplink.internet, ruleset=False, devices=True)
    neighbours = frozenset(link.peer_namespace for link in spec.peerings
                           if netns.inode(link.peer_namespace) is not None)
    observed = dataclasses.replace(_with_ruleset(observed, loaded), neighbours=neighbours)
    return diff_router(spec, observed, internet), observed if alone else None


def plan_internet(spec: InternetSpec, loaded: str | None = None, held: Observed | None = None
                  ) -> Planned:
    observed = observe(spec.namespace, ruleset=not loaded, devices=True)
    return diff_internet(spec, _with_ruleset(observed, loaded)), None


def plan_host(spec: HostSpec, loaded: str | None = None, held: Observed | None = None
              ) -> Planned:
    router = observe(spec.router, ruleset=False)
    observed = observe(spec.namespace, (MAIN_TABLE,), ruleset=not loaded)
    return diff_host(spec, _with_ruleset(observed, loaded), router), None


# --- apply --------------------------------------------------------------------------------
def apply(actions: list[Action], owner: str) -> list[Failure]:
    """Run ``actions`` in order; those the kernel refuses come back with its reason."""
    failures: list[Failure] = []
    batch: list[Action] = []

    def flush() -> None:
        if not batch:
            return
        done = list(batch)
        batch.clear()
        try:
            failures.extend(_netlink(done[0].namespace, lambda ipr: _run_all(ipr, done)))
        except OSError as error:
            failures.extend(Failure(a, error.strerror or str(error)) for a in done)

    for action in actions:
        if batch and batch[0].namespace != action.namespace:
            flush()
        if isinstance(action, (CreateNamespace, LoadRuleset, WriteResolvConf, LoadTable,
                               DeleteTable)):
            flush()
            try:
                _run_outside(action, owner)
            except (OSError, RuntimeError) as error:
                failures.append(Failure(action, _reason(error)))
        else:
            batch.append(action)
    flush()
    return failures


def _reason(error: Exception) -> str:
    if isinstance(error, NetlinkError):
        return os.strerror(error.code) if error.code else str(error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


def _run_all(ipr: IPRoute, actions: list[Action]) -> list[Failure]:
    failures = []
    for action in actions:
        try:
            _run(ipr, action)
        except NetlinkError as error:
            # What an earlier action brought with it (lo's own addresses once it is up)
            # is already there: an add that finds its object done is done.
            if not (error.code == errno.EEXIST and isinstance(action, (AddAddress, AddRule))):
                failures.append(Failure(action, _reason(error)))
        except (OSError, RuntimeError) as error:
            failures.append(Failure(action, _reason(error)))
    return failures


def _run_outside(action: Action, owner: str) -> None:
    match action:
        case CreateNamespace(namespace=namespace):
            netns.create(namespace, owner)
        case LoadRuleset(namespace=namespace, ruleset=ruleset):
            script = f"table inet {TABLE}\ndelete table inet {TABLE}\n{ruleset}"
            done = _nft(namespace, "-f", "-", text=script)
            if done.returncode != 0:
                raise RuntimeError(f"nft: {done.stderr.strip()}")
        case WriteResolvConf(namespace=namespace, text=text):
            netns.write_resolv_conf(namespace, text)
        case LoadTable(namespace=namespace, family=fam, table=table, ruleset=ruleset):
            script = f"table {fam} {table}\ndelete table {fam} {table}\n{ruleset}"
            done = _nft(namespace, "-f", "-", text=script)
            if done.returncode != 0:
                raise RuntimeError(f"nft: {done.stderr.strip()}")
        case DeleteTable(namespace=namespace, family=fam, table=table):
            _nft(namespace, "delete", "table", fam, table)


def _index(ipr: IPRoute, name: str) -> int:
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise RuntimeError(f"link {name} is missing")
    return found[0]


def _run(ipr: IPRoute, action: Action) -> None:
    match action:
        case SetSysctl(key=key, value=value):
            if (key, value) in COUNT_FLOWS and not (Path("/proc/sys") / key).exists():
                return  # conntrack not loaded yet (the first ruleset naming it loads it): the
                # next pass sets it
            netns.sysctl(key, value)
        case AddBridge(name=name):
            ipr.link("add", ifname=name, kind="bridge")
        case DeleteLink(name=name):
            # Gone already is done: a peering's pair goes with either end.
            for index in ipr.link_lookup(ifname=name):
                ipr.link("del", index=index)
        case AddVeth(name=name, peer=peer, mac_address=mac, peer_name=peer_name):
            # One end a port of the subnet's bridge, the other the instance's eth0 with the
            # ENI's MAC address.
            target = os.open(netns.NETNS_DIR / peer, os.O_RDONLY)
            try:
                ipr.link("add", ifname=name, kind="veth",
                         peer={"ifname": peer_name, "net_ns_fd": target, "address": mac})
            finally:
                os.close(target)
        case AddLinkPair(name=name, peer=peer, peer_namespace=peer_namespace):
            target = os.open(netns.NETNS_DIR / peer_namespace, os.O_RDONLY)
            try:
                ipr.link("add", ifname=name, kind="veth",
                         peer={"ifname": peer, "net_ns_fd": target})
            finally:
                os.close(target)
        case ReplaceDeviceRoute(route=route) if route.local:
            ipr.route("replace", table=LOCAL_TABLE, dst=route.destination, type="local",
                      scope="host", oif=_index(ipr, route.device),
                      family=family(route.destination))
        case ReplaceDeviceRoute(route=route):
            ipr.route("replace", dst=route.destination, gateway=route.via,
                      oif=_index(ipr, route.device), family=family(route.destination))
        case DeleteDeviceRoute(route=route):
            ipr.route("del", table=LOCAL_TABLE if route.local else MAIN_TABLE,
                      dst=route.destination, oif=_index(ipr, route.device),
                      family=family(route.destination))
        case SetLink(name=name, master=None):
            ipr.link("set", index=_index(ipr, name), state="up")
        case SetLink(name=name, master=master):
            ipr.link("set", index=_index(ipr, name), master=_index(ipr, master), state="up")
        case AddAddress(link=link, address=address):
            ip, prefix = address.split("/")
            ipr.addr("add", index=_index(ipr, link), address=ip, prefixlen=int(prefix),
                     family=family(ip), flags=IFA_F_NODAD if ":" in ip else 0)
        case Announce(link=link, address=address):
            _announce(link, address)
        case DeleteAddress(link=link, address=address):
            ip, prefix = address.split("/")
            ipr.addr("del", index=_index(ipr, link), address=ip, prefixlen=int(prefix),
                     family=family(ip))
        case AddRule(family=fam, bridge=bridge, table=table):
            ipr.rule("add", family=fam, iifname=bridge, table=table, priority=RULE_PRIORITY)
        case DeleteRule(family=fam, bridge=bridge, table=table):
            ipr.rule("del", family=fam, iifname=bridge, table=table, priority=RULE_PRIORITY)
        case ReplaceRoute(route=route) if route.blackhole or route.throw:
            ipr.route("replace", table=route.table, dst=route.destination,
                      type="blackhole" if route.blackhole else "throw",
                      family=family(route.destination))
        case ReplaceRoute(route=route) if route.local:
            ipr.route("replace", table=route.table, dst=route.destination, type="local",
                      oif=_index(ipr, "lo"), scope=RT_SCOPE_HOST, family=family(route.destination))
        case ReplaceRoute(route=route):
            ipr.route("replace", table=route.table, dst=route.destination, gateway=route.via,
                      family=family(route.destination))
        case DeleteRoute(route=route) if route.local:  # a delete matches its scope
            ipr.route("del", table=route.table, dst=route.destination, type="local",
                      scope=RT_SCOPE_HOST, family=family(route.destination))
        case DeleteRoute(route=route):
            ipr.route("del", table=route.table, dst=route.destination,
                      family=family(route.destination))
        case _:
            raise RuntimeError(f"no way to apply {action}")


def link_names(namespace: str) -> set[str]:
    """The names of the links ``namespace`` holds (none when it is not there)."""
    if netns.inode(namespace) is None:
        return set()
    return _netlink(namespace, lambda ipr: {link.get_attr("IFLA_IFNAME")
                                            for link in ipr.get_links()})


def _announce(link: str, address: str) -> None:
    """One gratuitous ARP request (sender and target both ``address``) broadcast on
    ``link``: a neighbour entry waiting for the address takes the answer at once."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((link, 0))
        mac = raw.getsockname()[4]  # the link's own address
        ip = socket.inet_aton(address.split("/")[0])
        raw.send(b"\xff" * 6 + mac + struct.pack("!H", ETH_P_ARP)
                 + struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, ARP_REQUEST) + mac + ip
                 + bytes(6) + ip)


def _nft(namespace: str, *args: str, text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["nsenter", f"--net={netns.NETNS_DIR / namespace}", "nft", *args],
                          input=text, capture_output=True, text=True, check=False)


def _loaded_digest(namespace: str, fam: str = "inet", name: str = TABLE) -> str | None:
    """The digest in the comment of a loaded table. nft's JSON leaves table comments out
    (nftables 1.0.6), so the text is read: the comment is the line after the table's
    (terse: no set elements). Without it every look would load the table again, and a
    reload zeroes its counters (a NAT gateway's)."""
    done = _nft(namespace, "-t", "list", "table", fam, name)
    lines = done.stdout.splitlines() if done.returncode == 0 else []
    found = re.match(r'\s*comment "([^"]*)"', lines[1]) if len(lines) > 1 else None
    return found.group(1) if found else None
