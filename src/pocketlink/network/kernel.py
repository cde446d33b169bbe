"""Observe what exists in the kernel and apply the difference to what the topology wants.

Every step is idempotent: it looks first (a dump), then adds what is missing and removes
what is extra, touching only objects that carry pocketlink's names. pyroute2 does all of
it but the nftables rulesets, each loaded whole in one ``nft -f`` inside its namespace.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import subprocess
from collections.abc import Callable
from typing import TypeVar

from pyroute2 import IPRoute, NetlinkError

from pocketlink.network import names, netns
from pocketlink.network.firewall import TABLE, digest_of
from pocketlink.network.topology import HostSpec, RouterSpec

log = logging.getLogger("pocketlink.network")

T = TypeVar("T")
IFA_F_NODAD = 0x02
LOOPBACK = ("127.0.0.1/8", "::1/128")
RULE_PRIORITY = 1000
FAMILIES = (socket.AF_INET, socket.AF_INET6)


def _netlink(namespace: str, work: Callable[[IPRoute], T]) -> T:
    """``work`` with a netlink socket inside ``namespace``, opened on a thread that entered
    it (not with ``IPRoute(netns=...)``, which forks: see netns.create)."""
    def run() -> T:
        with IPRoute() as ipr:
            return work(ipr)
    return netns.run_in(namespace, run)


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return found[0] if found else None


def _links(ipr: IPRoute) -> dict[str, int]:
    return {link.get_attr("IFLA_IFNAME"): link["index"] for link in ipr.get_links()}


def _addresses(ipr: IPRoute, index: int) -> set[str]:
    return {f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}" for a in ipr.get_addr(index=index)
            if not a.get_attr("IFA_ADDRESS", "").startswith("fe80:")}


def _ensure_addresses(ipr: IPRoute, index: int, wanted: tuple[str, ...]) -> None:
    have = _addresses(ipr, index)
    for address in wanted:
        if _normal(address) in {_normal(h) for h in have}:
            continue
        ip, prefix = address.split("/")
        ipr.addr("add", index=index, address=ip, prefixlen=int(prefix),
                 family=_family(ip), flags=IFA_F_NODAD if ":" in ip else 0)
    for address in have:
        if _normal(address) not in {_normal(w) for w in wanted}:
            ip, prefix = address.split("/")
            ipr.addr("del", index=index, address=ip, prefixlen=int(prefix), family=_family(ip))


def _normal(address: str) -> str:
    return str(ipaddress.ip_interface(address))


def _up(ipr: IPRoute, index: int) -> None:
    ipr.link("set", index=index, state="up")


def _quiet_ipv6() -> None:
    """No duplicate address detection (addresses usable at once) and no autoconfiguration,
    in the calling thread's namespace."""
    for key in ("net/ipv6/conf/default/accept_dad", "net/ipv6/conf/all/accept_dad",
                "net/ipv6/conf/default/accept_ra", "net/ipv6/conf/default/autoconf"):
        netns.sysctl(key, "0")


def _router_sysctls() -> None:
    _quiet_ipv6()
    netns.sysctl("net/ipv4/ip_forward", "1")
    netns.sysctl("net/ipv6/conf/all/forwarding", "1")


def converge_router(spec: RouterSpec, owner: str) -> None:
    fresh = netns.create(spec.namespace, owner)

    def converge(ipr: IPRoute) -> None:
        _router_sysctls()
        _converge_router_links(ipr, spec)
    _netlink(spec.namespace, converge)
    _converge_ruleset(spec.namespace, spec.ruleset, fresh)


def _converge_router_links(ipr: IPRoute, spec: RouterSpec) -> None:
    links = _links(ipr)
    _up(ipr, links["lo"])
    # The resolver's addresses live on the router's loopback: packets for them that
    # arrive on a bridge are delivered locally, to AmazonProvidedDNS.
    _ensure_addresses(ipr, links["lo"], LOOPBACK + spec.resolver_addresses)
    for bridge in spec.bridges:
        if bridge.name not in links:
            ipr.link("add", ifname=bridge.name, kind="bridge")
            links = _links(ipr)
        _ensure_addresses(ipr, links[bridge.name], bridge.addresses)
        _up(ipr, links[bridge.name])
    wanted_bridges = {b.name for b in spec.bridges}
    for name, index in links.items():
        if name.startswith(names.PREFIX + "b") and name not in wanted_bridges:
            ipr.link("del", index=index)
    _converge_rules(ipr, spec)
    _converge_routes(ipr, spec)


def _converge_rules(ipr: IPRoute, spec: RouterSpec) -> None:
    wanted = {(family, b.name, b.table) for b in spec.bridges for family in FAMILIES}
    have = set()
    for family in FAMILIES:
        for rule in ipr.get_rules(family=family):
            table = rule.get_attr("FRA_TABLE")
            if table and table >= 10_000:
                have.add((family, rule.get_attr("FRA_IIFNAME"), table))
    for family, bridge, table in wanted - have:
        ipr.rule("add", family=family, iifname=bridge, table=table, priority=RULE_PRIORITY)
    for family, bridge, table in have - wanted:
        try:
            ipr.rule("del", family=family, iifname=bridge, table=table, priority=RULE_PRIORITY)
        except NetlinkError:
            continue


def _converge_routes(ipr: IPRoute, spec: RouterSpec) -> None:
    wanted = {(r.table, str(ipaddress.ip_network(r.destination))): r for r in spec.routes}
    tables = {b.table for b in spec.bridges}
    for family in FAMILIES:
        unspecified = "::" if family == socket.AF_INET6 else "0.0.0.0"
        for table in tables:
            for route in ipr.get_routes(family=family, table=table):
                destination = f"{route.get_attr('RTA_DST') or unspecified}/{route['dst_len']}"
                if (table, str(ipaddress.ip_network(destination, strict=False))) not in wanted:
                    ipr.route("del", table=table, dst=destination, family=family)
    for (table, destination), route in wanted.items():
        family = _family(destination)
        if route.blackhole:
            ipr.route("replace", table=table, dst=destination, type="blackhole", family=family)
        elif route.via:
            try:
                ipr.route("replace", table=table, dst=destination, gateway=route.via,
                          family=family)
            except NetlinkError as error:
                log.warning("route %s via %s in %s: %s", destination, route.via,
                            spec.namespace, error)


def converge_host(spec: HostSpec, owner: str) -> None:
    fresh = netns.create(spec.namespace, owner)
    if not fresh and _netlink(spec.router, lambda router: _index(router, spec.veth)) is None:
        # A veth end left from an earlier life would keep the name eth0 taken.
        _netlink(spec.namespace, _drop_instance_interface)
    _netlink(spec.router, lambda router: _plug(router, spec))

    def address(host: IPRoute) -> None:
        _quiet_ipv6()
        # Root in the instance's sandbox is root of its own user namespace only: ports
        # below 1024 (httpd's 80) are open to every uid in this namespace instead.
        netns.sysctl("net/ipv4/ip_unprivileged_port_start", "0")
        _address_host(host, spec)
    _netlink(spec.namespace, address)
    _converge_ruleset(spec.namespace, spec.ruleset, fresh)
    netns.write_resolv_conf(spec.namespace, spec.resolv_conf)


def _drop_instance_interface(host: IPRoute) -> None:
    stale = _index(host, names.INSTANCE_INTERFACE)
    if stale is not None:
        host.link("del", index=stale)


def _plug(router: IPRoute, spec: HostSpec) -> None:
    """The veth pair: one end a port of the subnet's bridge, the other the instance's eth0
    with the ENI's MAC address."""
    bridge = _index(router, spec.bridge)
    if bridge is None:
        raise RuntimeError(f"bridge {spec.bridge} of {spec.router} is missing")
    veth = _index(router, spec.veth)
    if veth is None:
        target = os.open(netns.NETNS_DIR / spec.namespace, os.O_RDONLY)
        try:
            router.link("add", ifname=spec.veth, kind="veth",
                        peer={"ifname": names.INSTANCE_INTERFACE, "net_ns_fd": target,
                              "address": spec.mac_address})
        finally:
            os.close(target)
        veth = _index(router, spec.veth)
    router.link("set", index=veth, master=bridge, state="up")


def _address_host(host: IPRoute, spec: HostSpec) -> None:
    links = _links(host)
    _up(host, links["lo"])
    _ensure_addresses(host, links["lo"], LOOPBACK)
    eth0 = links[names.INSTANCE_INTERFACE]
    _ensure_addresses(host, eth0, spec.addresses)
    _up(host, eth0)
    if spec.gateway4:
        host.route("replace", dst="0.0.0.0/0", gateway=spec.gateway4, family=socket.AF_INET)
    if spec.gateway6:
        host.route("replace", dst="::/0", gateway=spec.gateway6, family=socket.AF_INET6)


def _nft(namespace: str, *args: str, text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["nsenter", f"--net={netns.NETNS_DIR / namespace}", "nft", *args],
                          input=text, capture_output=True, text=True, check=False)


def _loaded_digest(namespace: str) -> str | None:
    done = _nft(namespace, "-j", "list", "tables")
    if done.returncode != 0:
        return None
    for item in json.loads(done.stdout or "{}").get("nftables", []):
        table = item.get("table")
        if table and table.get("name") == TABLE and table.get("family") == "inet":
            return table.get("comment")
    return None


def _converge_ruleset(namespace: str, ruleset: str, fresh: bool) -> None:
    if not fresh and _loaded_digest(namespace) == digest_of(ruleset):
        return
    script = f"table inet {TABLE}\ndelete table inet {TABLE}\n{ruleset}"
    done = _nft(namespace, "-f", "-", text=script)
    if done.returncode != 0:
        raise RuntimeError(f"nft in {namespace}: {done.stderr.strip()}")
