"""Security groups and their rules.

AWS stores one rule per (protocol, port range, peer) and shows them two ways: as
``SecurityGroupRules`` with ids, and grouped into ``IpPermissions``. pocketlink stores the
rules and derives the grouping. The network issue turns them into nftables rulesets.
"""

from __future__ import annotations

import ipaddress

from pocketlink.api import ec2_defaults as defaults
from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_managed_prefix_lists import find_list
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.model import ids
from pocketlink.model.ec2 import Instance, NetworkInterface, SecurityGroup, SecurityGroupRule, Vpc
from pocketlink.model.peering import PeeringState, VpcPeeringConnection
from pocketlink.store import Store
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.numbers import integer

MAX_RULES_PER_DIRECTION = 60
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}


def group_arn(group: SecurityGroup) -> str:
    return f"arn:aws:ec2:{group.region}:{group.account}:security-group/{group.id}"


def rule_arn(group: SecurityGroup, rule: SecurityGroupRule) -> str:
    return f"arn:aws:ec2:{group.region}:{group.account}:security-group-rule/{rule.rule_id}"


def peer_vpc_info(store: Store, group: SecurityGroup, rule: SecurityGroupRule) -> dict:
    """For a rule naming a group of a peered VPC, what AWS shows beside it: that VPC, the
    peering and its status (``deleted`` once the peering is: a stale reference)."""
    peer = store.get(SecurityGroup, rule.referenced_group_id or "")
    if peer is None or peer.vpc_id == group.vpc_id:
        return {}
    peering = next((p for p in store.all(VpcPeeringConnection)
                    if p.side_of(group.vpc_id) and p.side_of(peer.vpc_id)), None)
    if peering is None:
        return {"VpcId": peer.vpc_id}
    return {"VpcId": peer.vpc_id, "VpcPeeringConnectionId": peering.id,
            "PeeringStatus": peering.status}


def _permissions(store: Store, group: SecurityGroup, egress: bool) -> list[dict]:
    grouped: dict[tuple, dict] = {}
    for rule in group.rules:
        if rule.egress != egress:
            continue
        key = (rule.ip_protocol, rule.from_port, rule.to_port)
        permission = grouped.get(key)
        if permission is None:
            permission = grouped[key] = {"IpProtocol": rule.ip_protocol, "IpRanges": [],
                                         "Ipv6Ranges": [], "PrefixListIds": [],
                                         "UserIdGroupPairs": []}
            if rule.from_port is not None:
                permission["FromPort"] = rule.from_port
                permission["ToPort"] = rule.to_port
        described = {"Description": rule.description} if rule.description else {}
        if rule.cidr_ipv4:
            permission["IpRanges"].append({"CidrIp": rule.cidr_ipv4, **described})
        elif rule.cidr_ipv6:
            permission["Ipv6Ranges"].append({"CidrIpv6": rule.cidr_ipv6, **described})
        elif rule.prefix_list_id:
            permission["PrefixListIds"].append({"PrefixListId": rule.prefix_list_id, **described})
        elif rule.referenced_group_id:
            permission["UserIdGroupPairs"].append({"GroupId": rule.referenced_group_id,
                                                   "UserId": rule.referenced_user_id, **described,
                                                   **peer_vpc_info(store, group, rule)})
    return list(grouped.values())


def describe_group(store: Store, group: SecurityGroup) -> dict:
    item = {
        "GroupId": group.id,
        "GroupName": group.group_name,
        "Description": group.description,
        "VpcId": group.vpc_id,
        "OwnerId": group.account,
        "SecurityGroupArn": group_arn(group),
        "IpPermissions": _permissions(store, group, egress=False),
        "IpPermissionsEgress": _permissions(store, group, egress=True),
    }
    if group.tags:
        item["Tags"] = tags.tag_set(group.tags)
    return item


def describe_rule(store: Store, group: SecurityGroup, rule: SecurityGroupRule) -> dict:
    item: dict = {
        "SecurityGroupRuleId": rule.rule_id,
        "GroupId": group.id,
        "GroupOwnerId": group.account,
        "IsEgress": rule.egress,
        "IpProtocol": rule.ip_protocol,
        "FromPort": -1 if rule.from_port is None else rule.from_port,
        "ToPort": -1 if rule.to_port is None else rule.to_port,
        "SecurityGroupRuleArn": rule_arn(group, rule),
    }
    for key, value in (("CidrIpv4", rule.cidr_ipv4), ("CidrIpv6", rule.cidr_ipv6),
                       ("PrefixListId", rule.prefix_list_id), ("Description", rule.description)):
        if value:
            item[key] = value
    if rule.referenced_group_id:
        item["ReferencedGroupInfo"] = {"GroupId": rule.referenced_group_id,
                                       "UserId": rule.referenced_user_id,
                                       **peer_vpc_info(store, group, rule)}
    if rule.tags:
        item["Tags"] = tags.tag_set(rule.tags)
    return item


GROUP_FILTERS: dict[str, filters.Field] = {
    "group-id": lambda g: g.id,
    "group-name": lambda g: g.group_name,
    "vpc-id": lambda g: g.vpc_id,
    "description": lambda g: g.description,
    "owner-id": lambda g: g.account,
    "ip-permission.protocol": lambda g: [r.ip_protocol for r in g.rules if not r.egress],
    "ip-permission.from-port": lambda g: [r.from_port for r in g.rules if not r.egress],
    "ip-permission.to-port": lambda g: [r.to_port for r in g.rules if not r.egress],
    "ip-permission.cidr": lambda g: [r.cidr_ipv4 for r in g.rules if not r.egress],
    "ip-permission.ipv6-cidr": lambda g: [r.cidr_ipv6 for r in g.rules if not r.egress],
    "ip-permission.group-id": lambda g: [r.referenced_group_id for r in g.rules if not r.egress],
    "ip-permission.prefix-list-id": lambda g: [r.prefix_list_id for r in g.rules if not r.egress],
    "egress.ip-permission.protocol": lambda g: [r.ip_protocol for r in g.rules if r.egress],
    "egress.ip-permission.cidr": lambda g: [r.cidr_ipv4 for r in g.rules if r.egress],
    "egress.ip-permission.ipv6-cidr": lambda g: [r.cidr_ipv6 for r in g.rules if r.egress],
    "egress.ip-permission.group-id": lambda g: [r.referenced_group_id for r in g.rules if r.egress],
}


@operation("ec2", "CreateSecurityGroup")
def create_security_group(context: RequestContext, params: dict) -> dict:
    name, description = params["GroupName"], params["Description"]
    if params.get("VpcId"):
        vpc = require(context, Vpc, params["VpcId"])
    else:
        default = defaults.ensure(context)
        if default is None:
            raise ec2.VPCIdNotSpecified("No default VPC for this user")
        vpc = default
    if not name or len(name) > 255:
        raise ec2.InvalidParameterValue("Value for parameter GroupName is invalid: length must be 1 to 255.")
    if name.lower().startswith("sg-"):
        raise ec2.InvalidParameterValue("Group names may not be in the format sg-*.")
    if not description:  # AWS's words, quoted in getmoto/moto#112
        raise ec2.MissingParameter("GroupDescription")
    if len(description) > 255:
        raise ec2.InvalidParameterValue(
            "Value for parameter GroupDescription is invalid: length must be 1 to 255.")
    if any(g.vpc_id == vpc.id and g.group_name == name for g in owned(context, SecurityGroup)):
        raise ec2.InvalidGroupDuplicate(name, vpc.id)
    group = SecurityGroup(
        id=ids.new_id("sg"), account=context.account, region=context.region, vpc_id=vpc.id,
        group_name=name, description=description,
        tags=tags.from_specifications(params, "security-group"),
        rules=defaults.default_egress(vpc),
    )
    with context.store.transaction() as tx:
        tx.put(group)
    result = {"GroupId": group.id, "SecurityGroupArn": group_arn(group)}
    if group.tags:
        result["Tags"] = tags.tag_set(group.tags)
    return result


def _by_name(context: RequestContext, name: str) -> SecurityGroup:
    """A group by its name, as the API references say of GroupName(s): "[Default VPC]", a
    group of the default VPC; a group of another VPC is named by its id."""
    vpc = defaults.ensure(context)
    found = next((g for g in owned(context, SecurityGroup)
                  if vpc is not None and g.vpc_id == vpc.id and g.group_name == name), None)
    if found is None and vpc is not None:
        raise ServiceError(f"The security group '{name}' does not exist in default VPC "
                           f"'{vpc.id}'", code="InvalidGroup.NotFound")
    if found is None:
        raise ec2.InvalidGroupNotFound(name)
    return found


@operation("ec2", "DescribeSecurityGroups")
def describe_security_groups(context: RequestContext, params: dict) -> dict:
    defaults.ensure(context)
    groups = select(context, SecurityGroup, params.get("GroupIds"))
    if params.get("GroupNames"):
        named = {_by_name(context, n).id for n in params["GroupNames"]}
        groups = [g for g in groups if g.id in named]
    groups = filters.apply(groups, params.get("Filters"), GROUP_FILTERS)
    chunk, more = pages.page(groups, params, ids_param="GroupIds")
    return {"SecurityGroups": [describe_group(context.store, g) for g in chunk], **more}


def _target(context: RequestContext, params: dict) -> SecurityGroup:
    if params.get("GroupId"):
        return require(context, SecurityGroup, params["GroupId"])
    if params.get("GroupName"):
        return _by_name(context, params["GroupName"])
    raise ec2.MissingParameter("GroupId")


@operation("ec2", "DeleteSecurityGroup")
def delete_security_group(context: RequestContext, params: dict) -> dict:
    group = _target(context, params)
    vpc = context.store.get(Vpc, group.vpc_id)
    if vpc is not None and vpc.default_security_group_id == group.id:
        raise ec2.CannotDelete(f'the specified group: "{group.id}" name: "default" '
                               "cannot be deleted by a user")
    in_use = any(group.id in e.group_ids for e in context.store.all(NetworkInterface)) or any(
        group.id in i.group_ids for i in context.store.all(Instance) if i.state != "terminated")
    referenced = any(r.referenced_group_id == group.id for g in context.store.all(SecurityGroup)
                     if g.id != group.id for r in g.rules)
    if in_use or referenced:
        raise ec2.DependencyViolation(f"resource {group.id} has a dependent object")
    with context.store.transaction() as tx:
        tx.delete(group)
    return {"Return": True, "GroupId": group.id}


def _protocol(value: str) -> str:
    protocol = str(value).lower()
    protocol = _PROTOCOL_NAMES.get(protocol, protocol)
    if protocol in ("tcp", "udp", "icmp", "icmpv6", "-1"):
        return protocol
    number = integer(protocol)
    if number is not None and number <= 255:
        return protocol
    raise ec2.InvalidParameterValue(f"Invalid value '{value}' for IP protocol. Unknown protocol.")


def _ports(protocol: str, permission: dict) -> tuple[int | None, int | None]:
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if protocol in ("tcp", "udp"):
        if low is None or high is None:
            raise ec2.InvalidParameterValue(
                "Invalid value for portRange. Must specify both from and to ports "
                "with TCP/UDP.")
        if not (0 <= low <= 65535 and 0 <= high <= 65535) or low > high:
            raise ec2.InvalidParameterValue(
                f"Invalid value for portRange. Must be between 0 and 65535 "
                f"({low}-{high}).")
        return low, high
    if protocol in ("icmp", "icmpv6"):
        low, high = (-1 if low is None else low), (-1 if high is None else high)
        if not (-1 <= low <= 255 and -1 <= high <= 255):
            raise ec2.InvalidParameterValue(
                f"Invalid value for portRange. ICMP type and code must be between "
                f"-1 and 255 ({low}, {high}).")
        return low, high
    return None, None


def _rules_of(context: RequestContext, group: SecurityGroup, permissions: list[dict],
              egress: bool) -> list[SecurityGroupRule]:
    rules = []
    for permission in permissions:
        if "IpProtocol" not in permission:
            raise ec2.MissingParameter("IpPermissions.N.IpProtocol")
        protocol = _protocol(permission["IpProtocol"])
        low, high = _ports(protocol, permission)

        def rule(protocol: str = protocol, low: int | None = low, high: int | None = high,
                 **peer: str | None) -> SecurityGroupRule:
            return SecurityGroupRule(rule_id=ids.new_id("sgr"), egress=egress,
                                     ip_protocol=protocol, from_port=low, to_port=high, **peer)

        for ranges, key, network, field in (
                ("IpRanges", "CidrIp", ipaddress.IPv4Network, "cidr_ipv4"),
                ("Ipv6Ranges", "CidrIpv6", ipaddress.IPv6Network, "cidr_ipv6")):
            for entry in permission.get(ranges) or []:
                cidr = entry.get(key, "")
                try:
                    # host bits are cleared, as AWS does (hashicorp/terraform#9237); a bare
                    # address is no CIDR block (the words: aws/aws-cli#2428; ansible's
                    # ec2_group adds the /32 itself, ansible/ansible#21956)
                    if "/" not in cidr:
                        raise ValueError(cidr)
                    cidr = str(network(cidr, strict=False))
                except ValueError:
                    raise ec2.InvalidParameterValue(f"CIDR block {cidr} is malformed") from None
                rules.append(rule(**{field: cidr}, description=entry.get("Description")))
        for entry in permission.get("PrefixListIds") or []:
            prefix_list = entry.get("PrefixListId", "")
            if not prefix_list.startswith("pl-"):
                raise ec2.InvalidParameterValue(f"The prefix list ID '{prefix_list}' is malformed")
            find_list(context, prefix_list)
            rules.append(rule(prefix_list_id=prefix_list, description=entry.get("Description")))
        for entry in permission.get("UserIdGroupPairs") or []:
            if entry.get("GroupId"):
                if not ids.looks_like("sg", entry["GroupId"]):
                    raise ec2.InvalidGroupIdMalformed(entry["GroupId"])
                peer = context.store.get(SecurityGroup, entry["GroupId"])
                if peer is None or peer.account != entry.get("UserId", context.account):
                    raise ec2.InvalidGroupNotFound(entry["GroupId"])
            elif entry.get("GroupName"):
                peer = _by_name(context, entry["GroupName"])
            else:
                raise ec2.MissingParameter("UserIdGroupPairs.N.GroupId")
            if peer.vpc_id != group.vpc_id and not peered(context, group.vpc_id, peer.vpc_id):
                # AWS's words for a group of a VPC that no active peering joins to this one.
                raise ServiceError("You have specified two resources that belong to different "
                                   "networks.", code="InvalidGroup.NotFound")
            rules.append(rule(referenced_group_id=peer.id, referenced_user_id=peer.account,
                              description=entry.get("Description")))
    return rules


def peered(context: RequestContext, vpc_id: str, other_vpc_id: str) -> bool:
    """Whether an active peering joins the two VPCs: a rule may then name a group of the
    other (in the same region, as AWS allows)."""
    return any(p.status == PeeringState.ACTIVE and p.side_of(vpc_id) and p.side_of(other_vpc_id)
               for p in context.store.all(VpcPeeringConnection))


def _legacy_permissions(params: dict) -> list[dict]:
    """The flat CidrIp/FromPort/... form that older callers use instead of IpPermissions."""
    if params.get("IpPermissions"):
        return params["IpPermissions"]
    permission: dict = {}
    if "IpProtocol" in params:
        permission["IpProtocol"] = params["IpProtocol"]
    for key in ("FromPort", "ToPort"):
        if key in params:
            permission[key] = params[key]
    if params.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": params["CidrIp"]}]
    if params.get("SourceSecurityGroupName") or params.get("SourceSecurityGroupOwnerId"):
        raise ec2.InvalidParameterCombination(
            "Use IpPermissions with UserIdGroupPairs to reference another group.")
    if not permission:
        raise ec2.MissingParameter("IpPermissions")
    permission.setdefault("IpProtocol", "-1")
    if not permission.get("IpRanges"):
        raise ec2.MissingParameter("CidrIp")
    return [permission]


def _same(a: SecurityGroupRule, b: SecurityGroupRule) -> bool:
    return (a.egress, a.ip_protocol, a.from_port, a.to_port, a.cidr_ipv4, a.cidr_ipv6,
            a.prefix_list_id, a.referenced_group_id) == (
        b.egress, b.ip_protocol, b.from_port, b.to_port, b.cidr_ipv4, b.cidr_ipv6,
        b.prefix_list_id, b.referenced_group_id)


def _describe_peer(rule: SecurityGroupRule) -> str:
    peer = rule.cidr_ipv4 or rule.cidr_ipv6 or rule.prefix_list_id or rule.referenced_group_id
    protocol = "ALL" if rule.ip_protocol == "-1" else rule.ip_protocol.upper()
    ports = "" if rule.from_port is None else \
        f", from port: {rule.from_port}, to port: {rule.to_port}"
    return f"peer: {peer}, {protocol}{ports}, ALLOW"


def _authorize(context: RequestContext, params: dict, egress: bool) -> dict:
    group = _target(context, params)
    new_rules = _rules_of(context, group, _legacy_permissions(params), egress)
    rule_tags = tags.from_specifications(params, "security-group-rule")
    for index, rule in enumerate(new_rules):
        if any(_same(rule, existing) for existing in group.rules + new_rules[:index]):
            raise ec2.InvalidPermissionDuplicate(_describe_peer(rule))
    if sum(1 for r in group.rules if r.egress == egress) + len(new_rules) > \
            MAX_RULES_PER_DIRECTION:
        raise ec2.RulesPerSecurityGroupLimitExceeded()
    for rule in new_rules:
        rule.tags = dict(rule_tags)
    with context.store.transaction() as tx:
        mine = tx.edit(SecurityGroup, group.id)
        mine.rules.extend(new_rules)
    return {"Return": True, "SecurityGroupRules": [describe_rule(context.store, group, r)
                                                   for r in new_rules]}


def _revoke(context: RequestContext, params: dict, egress: bool) -> dict:
    group = _target(context, params)
    if params.get("SecurityGroupRuleIds"):
        wanted = set(params["SecurityGroupRuleIds"])
        doomed = [r for r in group.rules if r.rule_id in wanted and r.egress == egress]
        missing = wanted - {r.rule_id for r in doomed}
        if missing:
            raise ec2.InvalidSecurityGroupRuleIdNotFound(sorted(missing)[0])
        unknown: list[dict] = []
    else:
        doomed, unknown = [], []
        permissions = _legacy_permissions(params)
        for permission in permissions:
            for candidate in _rules_of(context, group, [permission], egress):
                match = next((r for r in group.rules if _same(r, candidate)), None)
                if match is None:
                    unknown.append(permission)
                elif match not in doomed:
                    doomed.append(match)
        if not doomed:
            raise ec2.InvalidPermissionNotFound()
    gone = {r.rule_id for r in doomed}
    with context.store.transaction() as tx:
        mine = tx.edit(SecurityGroup, group.id)
        mine.rules = [r for r in mine.rules if r.rule_id not in gone]
    result: dict = {"Return": True, "RevokedSecurityGroupRules": [
        {"SecurityGroupRuleId": r.rule_id, "GroupId": group.id, "IsEgress": r.egress,
         "IpProtocol": r.ip_protocol, "FromPort": -1 if r.from_port is None else r.from_port,
         "ToPort": -1 if r.to_port is None else r.to_port,
         **({"CidrIpv4": r.cidr_ipv4} if r.cidr_ipv4 else {}),
         **({"CidrIpv6": r.cidr_ipv6} if r.cidr_ipv6 else {}),
         **({"PrefixListId": r.prefix_list_id} if r.prefix_list_id else {}),
         **({"ReferencedGroupId": r.referenced_group_id}
            if r.referenced_group_id else {})}
        for r in doomed]}
    if unknown:
        result["UnknownIpPermissions"] = unknown
    return result


@operation("ec2", "AuthorizeSecurityGroupIngress")
def authorize_ingress(context: RequestContext, params: dict) -> dict:
    return _authorize(context, params, egress=False)


@operation("ec2", "AuthorizeSecurityGroupEgress")
def authorize_egress(context: RequestContext, params: dict) -> dict:
    return _authorize(context, params, egress=True)


@operation("ec2", "RevokeSecurityGroupIngress")
def revoke_ingress(context: RequestContext, params: dict) -> dict:
    return _revoke(context, params, egress=False)


@operation("ec2", "RevokeSecurityGroupEgress")
def revoke_egress(context: RequestContext, params: dict) -> dict:
    return _revoke(context, params, egress=True)


class RuleRow:
    """One rule with its group: a row of DescribeSecurityGroupRules, filterable and taggable
    like a resource (its tags are the rule's)."""

    def __init__(self, group: SecurityGroup, rule: SecurityGroupRule) -> None:
        self.group, self.rule, self.tags = group, rule, rule.tags


def rule_rows(context: RequestContext) -> list[RuleRow]:
    return [RuleRow(g, r) for g in owned(context, SecurityGroup) for r in g.rules]


RULE_FILTERS: dict[str, filters.Field] = {
    "group-id": lambda row: row.group.id,
    "security-group-rule-id": lambda row: row.rule.rule_id,
}


@operation("ec2", "DescribeSecurityGroupRules")
def describe_security_group_rules(context: RequestContext, params: dict) -> dict:
    rows = rule_rows(context)
    wanted = params.get("SecurityGroupRuleIds")
    if wanted:
        rows = [r for r in rows if r.rule.rule_id in wanted]
        missing = [w for w in wanted if w not in {r.rule.rule_id for r in rows}]
        if missing:
            raise ec2.InvalidSecurityGroupRuleIdNotFound(missing[0])
    for flt in params.get("Filters") or []:
        if flt.get("Name") != "group-id":
            continue
        # AWS checks a group id's shape here (moto's aws_verified
        # test_invalid_security_group_id_in_rules_search); an unknown one matches nothing.
        for value in flt.get("Values") or []:
            if not ids.looks_like("sg", value) and not set(value) & set("*?"):
                raise ServiceError(f"The security group ID '{value}' is malformed",
                                   code="InvalidGroupId.Malformed")
    rows = filters.apply(rows, params.get("Filters"), RULE_FILTERS)  # type: ignore[arg-type]
    chunk, more = pages.page(rows, params)
    return {"SecurityGroupRules": [describe_rule(context.store, r.group, r.rule)
                                   for r in chunk], **more}


def _as_permission(request: dict) -> dict:
    """A ``SecurityGroupRuleRequest`` (ModifySecurityGroupRules) as the IpPermissions entry
    of the one rule it describes. The refusals' words are AWS's, as moto's
    test_modify_security_group_rules (marked aws_verified: run against AWS) quotes them."""
    if "IpProtocol" not in request:
        raise ec2.InvalidParameterValue("Invalid value 'null' for protocol. VPC security group "
                                        "rules must specify protocols explicitly.")
    permission: dict = {key: request[key] for key in ("IpProtocol", "FromPort", "ToPort")
                        if key in request}
    described = {"Description": request["Description"]} if "Description" in request else {}
    peers = [(field, entry) for field, entry in (
        ("IpRanges", {"CidrIp": request.get("CidrIpv4")}),
        ("Ipv6Ranges", {"CidrIpv6": request.get("CidrIpv6")}),
        ("PrefixListIds", {"PrefixListId": request.get("PrefixListId")}),
        ("UserIdGroupPairs", {"GroupId": request.get("ReferencedGroupId")}))
        if next(iter(entry.values()))]
    if not peers:
        raise ServiceError("The request must contain exactly one of: cidrIp, cidrIpv6, "
                           "prefixListId, or referencedGroupId", code="MissingParameter")
    if len(peers) > 1:
        raise ec2.InvalidParameterCombination(
            "Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified")
    field, entry = peers[0]
    permission[field] = [{**entry, **described}]
    return permission


@operation("ec2", "ModifySecurityGroupRules")
def modify_security_group_rules(context: RequestContext, params: dict) -> dict:
    group = require(context, SecurityGroup, params["GroupId"])
    changes: dict[str, SecurityGroupRule] = {}
    for change in params["SecurityGroupRules"]:
        rule_id = change.get("SecurityGroupRuleId", "")
        current = next((r for r in group.rules if r.rule_id == rule_id), None)
        if current is None:
            raise ec2.InvalidSecurityGroupRuleIdNotFound(rule_id)
        if "SecurityGroupRule" not in change:
            raise ec2.MissingParameter("SecurityGroupRule")
        [rule] = _rules_of(context, group, [_as_permission(change["SecurityGroupRule"])],
                           current.egress)
        rule.rule_id, rule.tags = current.rule_id, current.tags
        changes[rule_id] = rule
    kept = [changes.get(r.rule_id, r) for r in group.rules]
    for index, rule in enumerate(kept):
        if any(_same(rule, other) for other in kept[:index]):
            raise ec2.InvalidPermissionDuplicate(_describe_peer(rule))
    with context.store.transaction() as tx:
        tx.edit(SecurityGroup, group.id).rules = kept
    return {"Return": True}


def _update_descriptions(context: RequestContext, params: dict, egress: bool) -> dict:
    group = _target(context, params)
    described: dict[str, str | None] = {}
    for entry in params.get("SecurityGroupRuleDescriptions") or []:
        rule_id = entry.get("SecurityGroupRuleId", "")
        if not any(r.rule_id == rule_id and r.egress == egress for r in group.rules):
            raise ec2.InvalidSecurityGroupRuleIdNotFound(rule_id)
        described[rule_id] = entry.get("Description")
    for candidate in _rules_of(context, group, params.get("IpPermissions") or [], egress):
        match = next((r for r in group.rules if _same(r, candidate)), None)
        if match is None:
            raise ec2.InvalidPermissionNotFound()
        described[match.rule_id] = candidate.description
    if not described:
        raise ec2.MissingParameter("IpPermissions or SecurityGroupRuleDescriptions")
    with context.store.transaction() as tx:
        for rule in tx.edit(SecurityGroup, group.id).rules:
            if rule.rule_id in described:
                rule.description = described[rule.rule_id] or None
    return {"Return": True}


@operation("ec2", "UpdateSecurityGroupRuleDescriptionsIngress")
def update_descriptions_ingress(context: RequestContext, params: dict) -> dict:
    return _update_descriptions(context, params, egress=False)


@operation("ec2", "UpdateSecurityGroupRuleDescriptionsEgress")
def update_descriptions_egress(context: RequestContext, params: dict) -> dict:
    return _update_descriptions(context, params, egress=True)
