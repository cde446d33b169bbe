"""CreateTags, DeleteTags, DescribeTags: tags on any EC2 resource, found by its id (a
security group rule's, ``sgr-...``, included)."""

from __future__ import annotations

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import LOOKUPS, owned, require
from pocketlink.model.base import Resource
from pocketlink.model.dhcp import DhcpOptions
from pocketlink.model.ec2 import Instance, NetworkInterface, RouteTable, SecurityGroup, Subnet, Vpc
from pocketlink.model.flow_logs import FlowLog
from pocketlink.model.internet import (
    Address,
    EgressOnlyInternetGateway,
    InternetGateway,
    NatGateway,
)
from pocketlink.model.network_insights import NetworkInsightsAnalysis, NetworkInsightsPath
from pocketlink.model.peering import VpcPeeringConnection
from pocketlink.model.prefix_lists import ManagedPrefixList
from pocketlink.model.vpn import CustomerGateway, VpnConnection, VpnGateway

# The kinds CreateTags takes, with the ResourceType DescribeTags gives them.
RESOURCE_TYPES: dict[type[Resource], str] = {
    Vpc: "vpc", Subnet: "subnet", SecurityGroup: "security-group", RouteTable: "route-table",
    NetworkInterface: "network-interface", Instance: "instance",
    InternetGateway: "internet-gateway", Address: "elastic-ip", NatGateway: "natgateway",
    EgressOnlyInternetGateway: "egress-only-internet-gateway",
    VpcPeeringConnection: "vpc-peering-connection", DhcpOptions: "dhcp-options",
    ManagedPrefixList: "prefix-list", NetworkInsightsPath: "network-insights-path",
    NetworkInsightsAnalysis: "network-insights-analysis", FlowLog: "vpc-flow-log",
    VpnGateway: "vpn-gateway", CustomerGateway: "customer-gateway",
    VpnConnection: "vpn-connection",
}
_BY_PREFIX = {LOOKUPS[cls].prefix: cls for cls in RESOURCE_TYPES}


def _resource(context: RequestContext, resource_id: str) -> Resource:
    if resource_id.startswith("sgr-"):
        return _group_of_rule(context, resource_id)
    cls = _BY_PREFIX.get(resource_id.rsplit("-", 1)[0])
    if cls is None:
        raise ec2.InvalidID(resource_id)
    return require(context, cls, resource_id)


def _group_of_rule(context: RequestContext, rule_id: str) -> SecurityGroup:
    """A security group rule is tagged by its own id (sgr-...), and kept in its group."""
    for group in owned(context, SecurityGroup):
        if any(r.rule_id == rule_id for r in group.rules):
            return group
    raise ec2.InvalidSecurityGroupRuleIdNotFound(rule_id)


def _tags_of(holder: Resource, resource_id: str) -> dict[str, str]:
    """The tags ``resource_id`` names in ``holder``: its own, or one of its rules'."""
    if isinstance(holder, SecurityGroup) and resource_id != holder.id:
        return next(r.tags for r in holder.rules if r.rule_id == resource_id)
    return holder.tags


def _resource_type(resource: Resource) -> str:
    return RESOURCE_TYPES[type(resource)]


@operation("ec2", "CreateTags")
def create_tags(context: RequestContext, params: dict) -> dict:
    new = {t.get("Key", ""): t.get("Value", "") for t in params["Tags"]}
    targets = [(r, _resource(context, r)) for r in dict.fromkeys(params["Resources"])]
    for resource_id, holder in targets:
        tags.validate({**_tags_of(holder, resource_id), **new})
    with context.store.transaction() as tx:
        for resource_id, holder in targets:
            _tags_of(tx.edit(type(holder), holder.id), resource_id).update(new)
    return {}


@operation("ec2", "DeleteTags")
def delete_tags(context: RequestContext, params: dict) -> dict:
    targets = [(r, _resource(context, r)) for r in dict.fromkeys(params["Resources"])]
    doomed = params.get("Tags")
    with context.store.transaction() as tx:
        for resource_id, holder in targets:
            mine = _tags_of(tx.edit(type(holder), holder.id), resource_id)
            if doomed is None:
                mine.clear()
                continue
            for tag in doomed:
                key = tag.get("Key")
                # A value given must match; no value removes the key whatever its value.
                if key in mine and ("Value" not in tag or mine[key] == tag["Value"]):
                    del mine[key]
    return {}


class _Tag:
    """One (resource, key, value) row of DescribeTags, filterable like a resource."""

    def __init__(self, resource_id: str, resource_type: str, key: str, value: str) -> None:
        self.resource_id, self.resource_type = resource_id, resource_type
        self.key, self.value = key, value
        self.tags: dict[str, str] = {}


TAG_FILTERS: dict[str, filters.Field] = {
    "resource-id": lambda t: t.resource_id,
    "resource-type": lambda t: t.resource_type,
    "key": lambda t: t.key,
    "value": lambda t: t.value,
}


def _rows(context: RequestContext) -> list[_Tag]:
    rows = [_Tag(resource.id, _resource_type(resource), key, value)
            for cls in RESOURCE_TYPES for resource in owned(context, cls)
            for key, value in resource.tags.items()]
    rows += [_Tag(rule.rule_id, "security-group-rule", key, value)
             for group in owned(context, SecurityGroup) for rule in group.rules
             for key, value in rule.tags.items()]
    return rows


@operation("ec2", "DescribeTags")
def describe_tags(context: RequestContext, params: dict) -> dict:
    rows = filters.apply(_rows(context), params.get("Filters"),  # type: ignore[arg-type]
                         TAG_FILTERS)
    chunk, more = pages.page(rows, params)
    return {"Tags": [{"ResourceId": t.resource_id, "ResourceType": t.resource_type,
                      "Key": t.key, "Value": t.value} for t in chunk], **more}
