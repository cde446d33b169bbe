"""Security groups as nftables: one ``inet pocketlink`` table per ENI's namespace.

Stateful like AWS's: replies of an allowed flow pass both ways (conntrack), what no rule
allows is dropped silently. Traffic to the VPC resolver and to the instance metadata
service is never filtered, as at AWS. A
group reference becomes the set of that group's ENI addresses at the time of rendering;
the reconciler renders again whenever the store changes, so the set follows membership.

The VPC router holds the ENIs of interface endpoints and of NLB nodes (``router_ruleset``).
An NLB's security groups filter its nodes' inbound traffic there and their outbound
traffic (to targets, health checks included); a target's rule naming the NLB's group
admits the nodes' addresses, since the nodes' ENIs are the group's members. PrivateLink
traffic never reaches a node (the data plane connects from the node's address straight to
a target), so an endpoint whose NLB enforces its inbound rules on PrivateLink traffic
carries those rules in the consumer's router, after the endpoint's own: a flow needs both,
and the NLB's rules see the client's own address, as AWS says they do. A group reference
there stands for the members a client of that router can be (ENIs of the consumer's VPC
and of the VPCs peered with it), not every member: a provider's VPC may share the
consumer's CIDR, and its members' addresses would match consumers that are none of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from pocketlink.model.aws_services import gateway_prefix_lists
from pocketlink.model.ec2 import NetworkInterface, SecurityGroup, SecurityGroupRule, Vpc
from pocketlink.model.elbv2 import LoadBalancer
from pocketlink.model.prefix_lists import customer_cidrs
from pocketlink.model.privatelink import EndpointService, VpcEndpoint
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


def _peers(store: Store, rule: SecurityGroupRule, region: str,
           interfaces: Iterable[NetworkInterface] | None = None) -> tuple[list[str], list[str]]:
    """The rule's peer addresses, IPv4 and IPv6; a group reference's members among
    ``interfaces`` (every ENI when None)."""
    if rule.cidr_ipv4:
        return [rule.cidr_ipv4], []
    if rule.cidr_ipv6:
        return [], [rule.cidr_ipv6]
    if rule.prefix_list_id:
        cidrs = [c for p in gateway_prefix_lists(region) if p.prefix_list_id == rule.prefix_list_id
                 for c in p.cidrs] + customer_cidrs(store, rule.prefix_list_id)
        return [c for c in cidrs if ":" not in c], [c for c in cidrs if ":" in c]
    members = [e for e in (store.all(NetworkInterface) if interfaces is None else interfaces)
               if rule.referenced_group_id in e.group_ids]
    return ([a for e in members for a in (e.private_ip_address,
                                          *e.secondary_private_ip_addresses) if a],
            [a for e in members for a in e.ipv6_addresses])


def _lines(store: Store, groups: list[SecurityGroup], egress: bool, region: str,
           verdict: str = "accept",
           interfaces: Sequence[NetworkInterface] | None = None) -> list[str]:
    field = "daddr" if egress else "saddr"
    lines = []
    for group in groups:
        for rule in group.rules:
            if rule.egress != egress:
                continue
            v4, v6 = _peers(store, rule, region, interfaces)
            match = _protocol_match(rule)
            if v4 and rule.ip_protocol != "icmpv6":
                lines.append(f"ip {field} {{ {', '.join(sorted(set(v4)))} }} {match} {verdict}")
            if v6 and rule.ip_protocol != "icmp":
                lines.append(f"ip6 {field} {{ {', '.join(sorted(set(v6)))} }} {match} {verdict}")
    return [" ".join(line.split()) for line in lines]


def _groups(store: Store, eni: NetworkInterface) -> list[SecurityGroup]:
    return [g for g in (store.get(SecurityGroup, i) for i in eni.group_ids) if g]


def enforcing_balancers(store: Store, endpoint: VpcEndpoint) -> list[LoadBalancer]:
    """The NLBs behind an endpoint that evaluate their inbound rules on PrivateLink
    traffic: those with security groups and enforcement on."""
    service = store.get(EndpointService, endpoint.service_id or "")
    found = [store.get(LoadBalancer, arn) for arn in
             (service.network_load_balancer_arns if service is not None else [])]
    return [b for b in found if b is not None and b.security_group_ids
            and b.enforce_inbound_rules_on_privatelink == "on"]


def _privatelink_groups(store: Store, hosted: list[NetworkInterface],
                        endpoints: Iterable[VpcEndpoint]) -> dict[str, list[SecurityGroup]]:
    """Each hosted endpoint ENI whose NLB enforces its inbound rules on PrivateLink
    traffic, with that NLB's groups: from the VPC's own ``endpoints`` (their ENIs are the
    ones its router holds), not from every endpoint of the store."""
    enis = {e.id for e in hosted if e.interface_type == "vpc_endpoint"}
    found: dict[str, list[SecurityGroup]] = {}
    for endpoint in endpoints:
        mine = enis.intersection(endpoint.network_interface_ids)
        if not mine:
            continue
        groups = [g for b in enforcing_balancers(store, endpoint)
                  for g in (store.get(SecurityGroup, i) for i in b.security_group_ids) if g]
        if groups:
            found.update(dict.fromkeys(mine, groups))
    return found


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
                   open_enis: set[str], endpoints: Sequence[VpcEndpoint] = (),
                   clients: Sequence[NetworkInterface] = ()) -> str:
    """The VPC router's table: the ENIs the router itself holds (interface endpoints, load
    balancer nodes) filtered by their security groups. An endpoint ENI that may not carry
    traffic yet (pendingAcceptance, rejected, ...) drops everything, so that a client hangs
    as it does at AWS instead of being refused. What an endpoint's rules admit goes on to
    its NLB's inbound rules when that NLB enforces them on PrivateLink traffic (the VPC's
    ``endpoints``; a group reference there matches ``clients``, the ENIs whose flows can
    reach the router: the VPC's own and its peers'); an NLB node's own flows out (to its
    targets, health checks) pass its groups' outbound rules."""
    dispatch, outbound, chains = [], [], []
    behind = _privatelink_groups(store, hosted, endpoints)
    for eni in hosted:
        chain = "eni_" + eni.id.removeprefix("eni-")
        guarded = eni.id not in open_enis or bool(eni.group_ids)
        if not guarded:
            continue
        addresses = [a for a in (eni.private_ip_address, *eni.ipv6_addresses) if a]
        dispatch += [f"    {'ip6' if ':' in a else 'ip'} daddr {a} jump {chain}"
                     for a in addresses]
        groups = _groups(store, eni)
        verdict = f"goto nlb_{chain}" if eni.id in behind else "accept"
        rules = _lines(store, groups, False, vpc.region, verdict) if eni.id in open_enis else []
        chains += [f"  chain {chain} {{", "    ct state established,related accept",
                   *(f"    {line}" for line in rules),
                   *(f"    {line}" for line in _RECORD_REJECTED), "    drop", "  }"]
        if eni.id in behind:
            chains += [f"  chain nlb_{chain} {{",
                       *(f"    {line}" for line in
                         _lines(store, behind[eni.id], False, vpc.region,
                                interfaces=clients)),
                       *(f"    {line}" for line in _RECORD_REJECTED), "    drop", "  }"]
        if eni.interface_type == "network_load_balancer":
            outbound += [f"    {'ip6' if ':' in a else 'ip'} saddr {a} jump out_{chain}"
                         for a in addresses]
            chains += [f"  chain out_{chain} {{", f"    {_ND}",
                       *(f"    {line}" for line in _lines(store, groups, True, vpc.region)),
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
        *(["  chain output {", "    type filter hook output priority 0; policy accept;",
           "    ct state established,related accept", *outbound, "  }"] if outbound else []),
        *chains,
    ])
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f'table inet {TABLE} {{\n  comment "{digest}"\n{body}\n}}\n'


def digest_of(text: str) -> str:
    """The digest a rendered ruleset carries in its comment."""
    return text.split('comment "', 1)[1].split('"', 1)[0]
