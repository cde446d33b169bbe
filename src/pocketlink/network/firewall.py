"""Security groups as nftables: one ``inet pocketlink`` table per ENI's namespace.

Stateful like AWS's: replies of an allowed flow pass both ways (conntrack), what no rule
allows is dropped silently. Traffic to the VPC resolver and to the instance metadata
service is never filtered, as at AWS. A
group reference becomes the set of that group's ENI addresses at the time of rendering;
the reconciler renders again whenever the store changes, so the set follows membership.
"""

from __future__ import annotations

import hashlib

from pocketlink.model.aws_services import gateway_prefix_lists
from pocketlink.model.ec2 import NetworkInterface, SecurityGroup, SecurityGroupRule, Vpc
from pocketlink.model.prefix_lists import customer_cidrs
from pocketlink.network.addresses import (
    METADATA_IPV4,
    METADATA_IPV6,
    RESOLVER_IPV6,
    RESOLVER_LINK_LOCAL,
    resolver_address,
)
from pocketlink.store import Store

TABLE = "pocketlink"
# What a security group dropped, flow by flow with its packets and bytes, for flow logs'
# REJECT records (pocketlink.flowlogs reads them): each table keeps them in two sets,
# updated by the last rule of a chain, just before its drop.
REJECTED_SETS = ("rejected4", "rejected6")
_REJECTED_DECLARED = [
    f"  set {name} {{ type {kind} . {kind} . inet_proto . inet_service . inet_service; "
    "flags dynamic,timeout; timeout 10m; size 65536; }"
    for name, kind in zip(REJECTED_SETS, ("ipv4_addr", "ipv6_addr"), strict=True)]
_RECORD_REJECTED = [
    f"meta nfproto {family} update @{name} {{ {ip} saddr . {ip} daddr . meta l4proto . "
    f"th sport . th dport counter }}"
    for name, family, ip in zip(REJECTED_SETS, ("ipv4", "ipv6"), ("ip", "ip6"), strict=True)]
# Neighbour discovery must pass or IPv6 does not work at all; AWS does not filter it either.
_ND = ("icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
       "nd-router-advert } accept")


def _protocol_match(rule: SecurityGroupRule) -> str:
    protocol = rule.ip_protocol
    if protocol == "-1":
        return ""
    if protocol in ("tcp", "udp"):
        low, high = rule.from_port, rule.to_port
        return f"{protocol} dport {low if low == high else f'{low}-{high}'}"
    if protocol in ("icmp", "icmpv6"):
        if rule.from_port in (None, -1):
            return f"meta l4proto {'icmp' if protocol == 'icmp' else 'ipv6-icmp'}"
        code = f" {protocol} code {rule.to_port}" if rule.to_port not in (None, -1) else ""
        return f"{protocol} type {rule.from_port}{code}"
    return f"meta l4proto {protocol}"


def _peers(store: Store, rule: SecurityGroupRule, region: str) -> tuple[list[str], list[str]]:
    """The rule's peer addresses, IPv4 and IPv6."""
    if rule.cidr_ipv4:
        return [rule.cidr_ipv4], []
    if rule.cidr_ipv6:
        return [], [rule.cidr_ipv6]
    if rule.prefix_list_id:
        cidrs = [c for p in gateway_prefix_lists(region) if p.prefix_list_id == rule.prefix_list_id
                 for c in p.cidrs] + customer_cidrs(store, rule.prefix_list_id)
        return [c for c in cidrs if ":" not in c], [c for c in cidrs if ":" in c]
    members = [e for e in store.all(NetworkInterface)
               if rule.referenced_group_id in e.group_ids]
    return ([a for e in members for a in (e.private_ip_address,
                                          *e.secondary_private_ip_addresses) if a],
            [a for e in members for a in e.ipv6_addresses])


def _lines(store: Store, groups: list[SecurityGroup], egress: bool, region: str) -> list[str]:
    field = "daddr" if egress else "saddr"
    lines = []
    for group in groups:
        for rule in group.rules:
            if rule.egress != egress:
                continue
            v4, v6 = _peers(store, rule, region)
            match = _protocol_match(rule)
            if v4 and rule.ip_protocol != "icmpv6":
                lines.append(f"ip {field} {{ {', '.join(sorted(set(v4)))} }} {match} accept")
            if v6 and rule.ip_protocol != "icmp":
                lines.append(f"ip6 {field} {{ {', '.join(sorted(set(v6)))} }} {match} accept")
    return [" ".join(line.split()) for line in lines]


def _groups(store: Store, eni: NetworkInterface) -> list[SecurityGroup]:
    return [g for g in (store.get(SecurityGroup, i) for i in eni.group_ids) if g]


def _per_interface(store: Store, enis: list[tuple[str, NetworkInterface]], egress: bool,
                   region: str) -> list[str]:
    """An instance's rules: its primary ENI's groups alone, or, with ENIs attached beside
    it, each ENI's groups on its own interface (``iifname``/``oifname``)."""
    if len(enis) == 1:
        return _lines(store, _groups(store, enis[0][1]), egress, region)
    match = "oifname" if egress else "iifname"
    return [f'{match} "{name}" {line}' for name, eni in enis
            for line in _lines(store, _groups(store, eni), egress, region)]


def ruleset(store: Store, eni: NetworkInterface, vpc: Vpc,
            attached: tuple[tuple[str, NetworkInterface], ...] = ()) -> str:
    """The whole table of an instance (its primary ENI and the ENIs ``attached`` beside
    it, by interface name), with a comment naming its digest (how the reconciler sees
    whether the kernel already holds it)."""
    enis = [("eth0", eni), *attached]
    resolvers4 = f"{{ {resolver_address(vpc)}, {RESOLVER_LINK_LOCAL} }}"
    body = "\n".join([
        *_REJECTED_DECLARED,
        "  chain input {",
        "    type filter hook input priority 0; policy drop;",
        "    ct state established,related accept",
        "    ct state invalid drop",
        "    iif lo accept",
        f"    {_ND}",
        *(f"    {line}" for line in _per_interface(store, enis, False, vpc.region)),
        *(f"    {line}" for line in _RECORD_REJECTED),
        "  }",
        "  chain output {",
        "    type filter hook output priority 0; policy drop;",
        "    ct state established,related accept",
        "    oif lo accept",
        f"    {_ND}",
        f"    ip daddr {resolvers4} meta l4proto {{ tcp, udp }} th dport 53 accept",
        f"    ip6 daddr {RESOLVER_IPV6} meta l4proto {{ tcp, udp }} th dport 53 accept",
        f"    ip daddr {METADATA_IPV4} tcp dport 80 accept",
        f"    ip6 daddr {METADATA_IPV6} tcp dport 80 accept",
        *(f"    {line}" for line in _per_interface(store, enis, True, vpc.region)),
        *(f"    {line}" for line in _RECORD_REJECTED),
        "  }",
    ])
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f'table inet {TABLE} {{\n  comment "{digest}"\n{body}\n}}\n'


def router_ruleset(store: Store, vpc: Vpc, hosted: list[NetworkInterface],
                   open_enis: set[str]) -> str:
    """The VPC router's table: the ENIs the router itself holds (interface endpoints, load
    balancer nodes) filtered by their security groups. An endpoint ENI that may not carry
    traffic yet (pendingAcceptance, rejected, ...) drops everything, so that a client hangs
    as it does at AWS instead of being refused."""
    dispatch, chains = [], []
    for eni in hosted:
        chain = "eni_" + eni.id.removeprefix("eni-")
        guarded = eni.id not in open_enis or bool(eni.group_ids)
        if not guarded:
            continue
        if eni.private_ip_address:
            dispatch.append(f"    ip daddr {eni.private_ip_address} jump {chain}")
        dispatch += [f"    ip6 daddr {address} jump {chain}" for address in eni.ipv6_addresses]
        groups = [g for g in (store.get(SecurityGroup, i) for i in eni.group_ids) if g]
        rules = _lines(store, groups, False, vpc.region) if eni.id in open_enis else []
        chains += [f"  chain {chain} {{", "    ct state established,related accept",
                   *(f"    {line}" for line in rules),
                   *(f"    {line}" for line in _RECORD_REJECTED), "    drop", "  }"]
    body = "\n".join([
        *_REJECTED_DECLARED,
        "  chain input {",
        "    type filter hook input priority 0; policy accept;",
        # Naming conntrack turns it on in this namespace even with no guarded ENI: the NLB
        # nodes' flows to their targets are counted too (flow logs' ACCEPT records).
        "    ct state established,related accept",
        *dispatch,
        "  }",
        *chains,
    ])
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f'table inet {TABLE} {{\n  comment "{digest}"\n{body}\n}}\n'


def digest_of(text: str) -> str:
    """The digest a rendered ruleset carries in its comment."""
    return text.split('comment "', 1)[1].split('"', 1)[0]
