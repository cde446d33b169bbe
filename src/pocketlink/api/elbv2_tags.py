"""AddTags, RemoveTags, DescribeTags on load balancers, target groups and listeners."""

from __future__ import annotations

from pocketlink.api.context import RequestContext
from pocketlink.api.elbv2_common import validation
from pocketlink.api.errors import elbv2
from pocketlink.api.handlers import operation
from pocketlink.model.base import Resource
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup

MAX_TAGS = 50
_KINDS = {"loadbalancer": (LoadBalancer, elbv2.LoadBalancerNotFoundException),
          "targetgroup": (TargetGroup, elbv2.TargetGroupNotFoundException),
          "listener": (Listener, elbv2.ListenerNotFoundException)}


def _resource(context: RequestContext, resource_arn: str) -> Resource:
    kind = resource_arn.split(":", 5)[-1].split("/", 1)[0]
    if kind not in _KINDS:
        raise validation(f"'{resource_arn}' is not a valid load balancer, target group or "
                         "listener ARN")
    cls, missing = _KINDS[kind]
    found = context.store.get(cls, resource_arn)
    if found is None or found.account != context.account:
        raise missing(f"'{resource_arn}' not found")
    return found


@operation("elbv2", "AddTags")
def add_tags(context: RequestContext, params: dict) -> dict:
    new = {t["Key"]: t.get("Value", "") for t in params["Tags"]}
    if len(new) != len(params["Tags"]):
        raise elbv2.DuplicateTagKeysException("Tag keys must be unique")
    resources = [_resource(context, a) for a in params["ResourceArns"]]
    with context.store.transaction() as tx:
        for resource in resources:
            mine = tx.edit(type(resource), resource.id)
            mine.tags.update(new)
            if len(mine.tags) > MAX_TAGS:
                raise elbv2.TooManyTagsException("You've reached the limit on the number of "
                                                 "tags for this resource")
    return {}


@operation("elbv2", "RemoveTags")
def remove_tags(context: RequestContext, params: dict) -> dict:
    resources = [_resource(context, a) for a in params["ResourceArns"]]
    with context.store.transaction() as tx:
        for resource in resources:
            mine = tx.edit(type(resource), resource.id)
            for key in params["TagKeys"]:
                mine.tags.pop(key, None)
    return {}


@operation("elbv2", "DescribeTags")
def describe_tags(context: RequestContext, params: dict) -> dict:
    resources = [_resource(context, a) for a in params["ResourceArns"]]
    return {"TagDescriptions": [
        {"ResourceArn": r.id, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]}
        for r in resources]}
