"""What the ELBv2 providers share: attributes and tags changed in place."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import tags_of


def attributes(api: Api, operation: str, key: str, arn: str, wanted: list[dict],
               had: list[dict]) -> None:
    new = {a["Key"]: str(a["Value"]).lower() if isinstance(a["Value"], bool) else str(a["Value"])
           for a in wanted}
    old = {a["Key"]: str(a["Value"]) for a in had}
    changed = [{"Key": k, "Value": v} for k, v in new.items() if old.get(k) != v]
    if changed:
        api.call("elbv2", operation, {key: arn, "Attributes": changed})


def retag(api: Api, arn: str, properties: dict, previous: dict) -> None:
    new = {t["Key"]: t["Value"] for t in tags_of(properties)}
    old = {t["Key"]: t["Value"] for t in tags_of(previous)}
    dropped = [k for k in old if k not in new]
    if dropped:
        api.call("elbv2", "RemoveTags", {"ResourceArns": [arn], "TagKeys": dropped})
    changed = [{"Key": k, "Value": v} for k, v in new.items() if old.get(k) != v]
    if changed:
        api.call("elbv2", "AddTags", {"ResourceArns": [arn], "Tags": changed})
