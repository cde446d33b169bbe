"""Auto Scaling's tags: CreateOrUpdateTags, DeleteTags, DescribeTags. A group's tags are
its ``tags``; those with PropagateAtLaunch are given to the instances it launches next."""

from __future__ import annotations

from pocketlink.api.autoscaling_common import records, require_group, validation
from pocketlink.api.autoscaling_groups import tag_row
from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned
from pocketlink.model.autoscaling import AutoScalingGroup

MAX_TAGS = 50
FILTERS = {"auto-scaling-group": lambda row: row["ResourceId"],
           "key": lambda row: row["Key"], "value": lambda row: row["Value"],
           "propagate-at-launch": lambda row: str(row["PropagateAtLaunch"]).lower()}


def _by_group(context: RequestContext, tags: list[dict]) -> dict[str, list[dict]]:
    """The tags of a call, by the group they name (which must be the caller's)."""
    found: dict[str, list[dict]] = {}
    for tag in tags:
        if tag.get("ResourceType", "auto-scaling-group") != "auto-scaling-group":
            raise validation(f"Invalid resource type: {tag.get('ResourceType')}")
        if not tag.get("ResourceId"):
            raise validation("ResourceId is required for a tag")
        found.setdefault(require_group(context, tag["ResourceId"]).id, []).append(tag)
    return found


@operation("autoscaling", "CreateOrUpdateTags")
def create_or_update_tags(context: RequestContext, params: dict) -> dict:
    with context.store.transaction() as tx:
        for group_id, tags in _by_group(context, params["Tags"]).items():
            mine = tx.edit(AutoScalingGroup, group_id)
            for tag in tags:
                mine.tags[tag["Key"]] = tag.get("Value", "")
                mine.propagate = [k for k in mine.propagate if k != tag["Key"]] + \
                    ([tag["Key"]] if tag.get("PropagateAtLaunch") else [])
            if len(mine.tags) > MAX_TAGS:
                raise validation(f"Tag limit of {MAX_TAGS} exceeded for the AutoScalingGroup")
    return {}


@operation("autoscaling", "DeleteTags")
def delete_tags(context: RequestContext, params: dict) -> dict:
    with context.store.transaction() as tx:
        for group_id, tags in _by_group(context, params["Tags"]).items():
            mine = tx.edit(AutoScalingGroup, group_id)
            for tag in tags:
                mine.tags.pop(tag["Key"], None)
                mine.propagate = [k for k in mine.propagate if k != tag["Key"]]
    return {}


@operation("autoscaling", "DescribeTags")
def describe_tags(context: RequestContext, params: dict) -> dict:
    rows = [tag_row(g, key) for g in owned(context, AutoScalingGroup) for key in g.tags]
    for flt in params.get("Filters") or []:
        name = flt.get("Name", "")
        if name not in FILTERS:
            raise validation(f"Filter type {name} is not correct. Allowed Filter types are: "
                             "auto-scaling-group key value propagate-at-launch")
        values = set(flt.get("Values") or [])
        rows = [r for r in rows if FILTERS[name](r) in values]
    chunk, more = records(rows, params, high=100)
    return {"Tags": chunk, **more}
