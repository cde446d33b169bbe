"""AWS::Route53::HealthCheck: its HealthCheckConfig and HealthCheckTags. A config changes
in place through UpdateHealthCheck, except its Type, MeasureLatency and RequestInterval,
which Route 53 cannot change (the engine replaces the check)."""

from __future__ import annotations

import uuid

from pocketlink.api.route53_health_checks import UPDATABLE
from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone

# What UpdateHealthCheck's ResetElements can return to its default: a member the new
# config leaves out is reset only if it is one of these (Route 53's HealthCheckElement).
_RESETTABLE = ("FullyQualifiedDomainName", "Regions", "ResourcePath", "ChildHealthChecks")
# The defaults of the other updatable members a template may drop, sent back explicitly
# (Route 53 keeps a member an update leaves out). Port and EnableSNI's depend on the Type:
# a dropped one stays as it was.
_DEFAULTS = {"FailureThreshold": 3, "Inverted": False, "Disabled": False}


def _tags(api: Api, check_id: str, properties: dict, previous: dict) -> None:
    new = {t["Key"]: str(t.get("Value", "")) for t in properties.get("HealthCheckTags") or []}
    old = {t["Key"]: str(t.get("Value", "")) for t in previous.get("HealthCheckTags") or []}
    params: dict = {"ResourceType": "healthcheck", "ResourceId": check_id}
    removed = [k for k in old if k not in new]
    if removed:
        params["RemoveTagKeys"] = removed
    added = [{"Key": k, "Value": v} for k, v in new.items() if old.get(k) != v]
    if added:
        params["AddTags"] = added
    if removed or added:
        api.call("route53", "ChangeTagsForResource", params)


class HealthCheckProvider(Provider):
    type_name = "AWS::Route53::HealthCheck"

    async def create(self, api: Api, properties: dict) -> Done:
        made = api.call("route53", "CreateHealthCheck", {
            "CallerReference": str(uuid.uuid4()),
            "HealthCheckConfig": properties["HealthCheckConfig"]})["HealthCheck"]
        api.initiated(made["Id"])
        _tags(api, made["Id"], properties, {})
        return Done(made["Id"], {"HealthCheckId": made["Id"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        new = properties["HealthCheckConfig"]
        old = previous.get("HealthCheckConfig") or {}
        params: dict = {k: new[k] for k in UPDATABLE if k in new and new[k] != old.get(k)}
        reset = [k for k in _RESETTABLE if k in old and k not in new]
        params |= {k: v for k, v in _DEFAULTS.items() if k in old and k not in new}
        if reset:
            params["ResetElements"] = reset
        if params:
            api.call("route53", "UpdateHealthCheck", {"HealthCheckId": physical_id, **params})
        _tags(api, physical_id, properties, previous)
        return Done(physical_id, {"HealthCheckId": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("route53", "DeleteHealthCheck", {"HealthCheckId": physical_id})
