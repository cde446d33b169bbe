"""CreateTags, DeleteTags, DescribeTags: tags on any EC2 resource, found by its id."""

from __future__ import annotations

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import LOOKUPS, owned, require
from pocketlink.model.base import Resource
from pocketlink.model.ec2 import Instance, NetworkInterface, RouteTable, SecurityGroup, Subnet, Vpc

# The kinds CreateTags takes, with the ResourceType DescribeTags gives them.
RESOURCE_TYPES: dict[type[Resource], str] = {
    Vpc: "vpc", Subnet: "subnet", SecurityGroup: "security-group", RouteTable: "route-table",
    NetworkInterface: "network-interface", Instance: "instance",
}
_BY_PREFIX = {LOOKUPS[cls].prefix: cls for cls in RESOURCE_TYPES}


def _resource(context: RequestContext, resource_id: str) -> Resource:
    cls = _BY_PREFIX.get(resource_id.rsplit("-", 1)[0])
    if cls is None:
        raise ec2.InvalidID(resource_id)
    return require(context, cls, resource_id)


def _resource_type(resource: Resource) -> str:
    return RESOURCE_TYPES[type(resource)]


@operation("ec2", "CreateTags")
def create_tags(context: RequestContext, params: dict) -> dict:
    new = {t.get("Key", ""): t.get("Value", "") for t in params["Tags"]}
    resources = [_resource(context, r) for r in dict.fromkeys(params["Resources"])]
    for resource in resources:
        tags.validate({**resource.tags, **new})
    with context.store.transaction() as tx:
        for resource in resources:
            mine = tx.edit(type(resource), resource.id)
            mine.tags.update(new)
    return {}


@operation("ec2", "DeleteTags")
def delete_tags(context: RequestContext, params: dict) -> dict:
    resources = [_resource(context, r) for r in dict.fromkeys(params["Resources"])]
    doomed = params.get("Tags")
    with context.store.transaction() as tx:
        for resource in resources:
            mine = tx.edit(type(resource), resource.id)
            if doomed is None:
                mine.tags.clear()
                continue
            for tag in doomed:
                key = tag.get("Key")
                # A value given must match; no value removes the key whatever its value.
                if key in mine.tags and ("Value" not in tag or mine.tags[key] == tag["Value"]):
                    del mine.tags[key]
    return {}


class _Tag:
    """One (resource, key, value) row of DescribeTags, filterable like a resource."""

    def __init__(self, resource: Resource, key: str, value: str) -> None:
        self.resource, self.key, self.value = resource, key, value
        self.tags: dict[str, str] = {}


TAG_FILTERS: dict[str, filters.Field] = {
    "resource-id": lambda t: t.resource.id,
    "resource-type": lambda t: _resource_type(t.resource),
    "key": lambda t: t.key,
    "value": lambda t: t.value,
}


@operation("ec2", "DescribeTags")
def describe_tags(context: RequestContext, params: dict) -> dict:
    rows = [_Tag(resource, key, value)
            for cls in RESOURCE_TYPES for resource in owned(context, cls)
            for key, value in resource.tags.items()]
    rows = filters.apply(rows, params.get("Filters"), TAG_FILTERS)  # type: ignore[arg-type]
    chunk, more = pages.page(rows, params)
    return {"Tags": [{"ResourceId": t.resource.id, "ResourceType":
                      _resource_type(t.resource), "Key": t.key, "Value": t.value}
                     for t in chunk], **more}
