"""The kernel state the stored faults want, as plain data: no I/O.

- An nftables table ``inet pocketlink-fault`` per namespace, beside (never inside) the
  reconciler's ``pocketlink`` table, which therefore never undoes it: a drop in any base
  chain is final, whatever the other tables accept.
  - ``lose-az``: every VPC router drops what comes from or goes to its ENIs in the zone
    (endpoint ENIs and NLB nodes are the router's own addresses: the data plane's
    listeners and its connections from a node go through its input and output hooks), and
    each instance in the zone drops everything but its loopback.
  - ``kill-target``: the instance resets every connection opened to it (what a host whose
    server process died answers); its processes keep running, so clearing it is instant.
  - ``stop-resolver``: the VPC router drops DNS to the resolver's addresses.
  - ``disrupt-subnet``: the VPC router drops what crosses the subnet's border, either way,
    as a network ACL denying all does (FIS's ``aws:network:disrupt-connectivity``, scope
    ``all``): what stays inside the subnet passes, and so does its traffic with the
    resolver and the metadata service, which no network ACL filters at AWS.
  - ``loss``: the VPC router drops that share of the packets it routes to the ENI's
    addresses, at random (nftables ``numgen``: it needs no netem; what the subnet's bridge
    carries between two of its own ENIs is not routed, and not dropped).
- ``netem``: latency's ``tc netem`` qdisc on the router's end of an instance ENI's veth, so
  the delay hits every packet delivered to that ENI (a kernel without netem refuses it).
- ``hung``: the instances whose processes are stopped (SIGSTOP): their kernel still
  completes TCP handshakes, so a TCP health check passes while HTTP hangs, as at AWS.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pocketlink.model.ec2 import Instance, NetworkInterface, Subnet, Vpc
from pocketlink.model.faults import Fault, lost_subnets
from pocketlink.network import names
from pocketlink.network.addresses import (
    METADATA_IPV4,
    METADATA_IPV6,
    RESOLVER_IPV6,
    RESOLVER_LINK_LOCAL,
    resolver_address,
)
from pocketlink.store import Store

TABLE = "pocketlink-fault"


@dataclass(frozen=True)
class FaultPlan:
    tables: dict[str, str] = field(default_factory=dict)  # namespace -> the table's text
    netem: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    hung: frozenset[str] = frozenset()  # instance ids


def _addresses(eni: NetworkInterface) -> list[str]:
    return [a for a in (eni.private_ip_address, *eni.secondary_private_ip_addresses,
                        *eni.ipv6_addresses) if a]


def _drop_both_ways(addresses: list[str]) -> list[str]:
    rules = []
    for family, wanted in (("ip", [a for a in addresses if ":" not in a]),
                           ("ip6", [a for a in addresses if ":" in a])):
        if wanted:
            listed = ", ".join(sorted(wanted))
            rules += [f"{family} saddr {{ {listed} }} drop", f"{family} daddr {{ {listed} }} drop"]
    return rules


def _table(chains: dict[str, list[str]]) -> str:
    body = []
    for hook, rules in chains.items():
        lines = "\n".join(f"    {rule}" for rule in rules)
        body.append(f"  chain {hook} {{\n    type filter hook {hook} priority -300; "
                    f"policy accept;\n{lines}\n  }}")
    return f"table inet {TABLE} {{\n" + "\n".join(body) + "\n}\n"


def plan(store: Store) -> FaultPlan:
    faults = list(store.all(Fault))
    if not faults:
        return FaultPlan()
    rules: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    lost = lost_subnets(store)
    for vpc_id, addresses in _lost_addresses(store, lost).items():
        for hook in ("prerouting", "output"):
            rules[names.namespace(vpc_id)][hook] += _drop_both_ways(addresses)
    for instance in store.all(Instance):
        if instance.subnet_id in lost:
            space = rules[names.namespace(instance.id)]
            space["input"] += ['iifname "lo" accept', "drop"]
            space["output"] += ['oifname "lo" accept', "drop"]
    netem: dict[tuple[str, str], list[str]] = defaultdict(list)
    hung = set()
    for fault in faults:
        match fault.action:
            case "kill-target":
                rules[names.namespace(fault.target)]["input"].append(
                    "meta l4proto tcp ct direction original reject with tcp reset")
            case "hang-target":
                hung.add(fault.target)
            case "stop-resolver":
                vpc = store.get(Vpc, fault.target)
                if vpc is not None:
                    rules[names.namespace(vpc.id)]["prerouting"] += [
                        f"ip daddr {{ {resolver_address(vpc)}, {RESOLVER_LINK_LOCAL} }} "
                        "meta l4proto { tcp, udp } th dport 53 drop",
                        f"ip6 daddr {RESOLVER_IPV6} meta l4proto {{ tcp, udp }} th dport 53 drop"]
            case "latency":
                eni = store.get(NetworkInterface, fault.target)
                if eni is not None:
                    netem[(names.namespace(eni.vpc_id), names.veth(eni.id))] += [
                        "delay", f"{fault.value}ms"]
            case "disrupt-subnet":
                subnet = store.get(Subnet, fault.target)
                vpc = store.get(Vpc, subnet.vpc_id) if subnet is not None else None
                if vpc is not None:
                    for hook, rules_of in _border(subnet, vpc).items():
                        rules[names.namespace(vpc.id)][hook] += rules_of
            case "loss":
                eni = store.get(NetworkInterface, fault.target)
                if eni is not None:
                    share = "" if fault.value == 100 else \
                        f"numgen random mod 100 < {fault.value} "
                    rules[names.namespace(eni.vpc_id)]["postrouting"] += [
                        f"{'ip6' if ':' in a else 'ip'} daddr {a} {share}drop"
                        for a in _addresses(eni)]
    return FaultPlan({space: _table(chains) for space, chains in rules.items()},
                     {link: tuple(args) for link, args in netem.items()}, frozenset(hung))


def _border(subnet: Subnet, vpc: Vpc) -> dict[str, list[str]]:
    """A network ACL denying all, on the router: what comes from the subnet (prerouting)
    or from the router's own addresses in it (output) to outside it, and what goes into
    it from outside, is dropped; the resolver's and the metadata service's addresses are
    spared, on the router's loopback (traffic with them leaves and enters by output and
    input)."""
    chains: dict[str, list[str]] = {"prerouting": [], "output": []}
    spared = {"ip": f"{{ {resolver_address(vpc)}, {RESOLVER_LINK_LOCAL}, {METADATA_IPV4} }}",
              "ip6": f"{{ {RESOLVER_IPV6}, {METADATA_IPV6} }}"}
    blocks = [("ip", subnet.cidr_block)] if subnet.cidr_block else []
    blocks += [("ip6", a.cidr) for a in subnet.ipv6_associations
               if a.state == "associated"]
    for family, block in blocks:
        outside = f"{family} daddr != {block}"
        chains["prerouting"] += [
            f"{family} saddr {block} {outside} {family} daddr != {spared[family]} drop",
            f"{family} daddr {block} {family} saddr != {block} drop"]
        chains["output"] += [
            f"{family} daddr {block} {family} saddr != {block} "
            f"{family} saddr != {spared[family]} drop",
            f"{family} saddr {block} {outside} drop"]
    return chains


def _lost_addresses(store: Store, lost: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    if lost:
        for eni in store.all(NetworkInterface):
            if eni.subnet_id in lost:
                found[eni.vpc_id] += _addresses(eni)
    return found
