"""Security groups, read as the firewall renders them (network/firewall.py): does a group
set let one TCP flow through, and by which rule. Stateful, as AWS's: a flow allowed one
way needs no rule for its replies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from pocketlink.model.aws_services import gateway_prefix_lists
from pocketlink.model.ec2 import SecurityGroup, SecurityGroupRule
from pocketlink.store import Store


def _port_matches(rule: SecurityGroupRule, port: int) -> bool:
    if rule.ip_protocol == "-1":
        return True
    if rule.ip_protocol not in ("tcp", "6"):
        return False
    return rule.from_port is None or rule.from_port <= port <= (rule.to_port or rule.from_port)


def _in(address: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _peer_matches(rule: SecurityGroupRule, address: str, peer_groups: list[str],
                  region: str) -> bool:
    if rule.cidr_ipv4:
        return _in(address, rule.cidr_ipv4)
    if rule.cidr_ipv6:
        return _in(address, rule.cidr_ipv6)
    if rule.prefix_list_id:
        return any(_in(address, c) for p in gateway_prefix_lists(region)
                   if p.prefix_list_id == rule.prefix_list_id for c in p.cidrs)
    return rule.referenced_group_id is not None and rule.referenced_group_id in peer_groups


def allows(store: Store, group_ids: list[str], egress: bool, peer: str, port: int,
           peer_groups: Sequence[str] = ()) -> SecurityGroupRule | None:
    """The first rule of ``group_ids`` that lets TCP to/from ``peer`` (an address whose ENI
    is in ``peer_groups``) on ``port`` out (``egress``) or in; None: the flow is dropped."""
    for group_id in group_ids:
        group = store.get(SecurityGroup, group_id)
        if group is None:
            continue
        for rule in group.rules:
            if rule.egress == egress and _port_matches(rule, port) and \
                    _peer_matches(rule, peer, list(peer_groups), group.region):
                return rule
    return None


def describe(rule: SecurityGroupRule) -> str:
    """A rule as a network engineer reads it: ``sgr-1 tcp/80 from sg-2``."""
    ports = "all" if rule.ip_protocol == "-1" else (
        f"{rule.ip_protocol}/{rule.from_port}" if rule.from_port == rule.to_port
        else f"{rule.ip_protocol}/{rule.from_port}-{rule.to_port}")
    peer = (rule.cidr_ipv4 or rule.cidr_ipv6 or rule.prefix_list_id
            or rule.referenced_group_id or "?")
    return f"{rule.rule_id} {ports} {'to' if rule.egress else 'from'} {peer}"


def rule_group(store: Store, group_ids: list[str], rule: SecurityGroupRule) -> str:
    """The group of ``group_ids`` that holds ``rule``."""
    return next((g for g in group_ids if (group := store.get(SecurityGroup, g)) is not None
                 and any(r.rule_id == rule.rule_id for r in group.rules)), group_ids[0])
