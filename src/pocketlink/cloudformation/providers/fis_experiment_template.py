"""AWS::FIS::ExperimentTemplate: the template's properties are FIS's API members with
their first letter capitalized (``Targets`` for ``targets``), except the names the user
gives (targets', actions', parameters', tags' keys), which stay as written. Everything
changes in place (UpdateExperimentTemplate, TagResource, UntagResource) but
ExperimentOptions.AccountTargeting, which replaces the template."""

from __future__ import annotations

import uuid
from typing import Any

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone

# The properties whose values are maps keyed by the user's own names.
_MAPS = frozenset({"Targets", "Actions", "Parameters", "ResourceTags", "Tags"})
# What UpdateExperimentTemplate takes (Tags go through TagResource).
_UPDATED = ("Description", "StopConditions", "Targets", "Actions", "RoleArn",
            "ExperimentOptions", "LogConfiguration", "ExperimentReportConfiguration")


def _api_shaped(value: Any, keyed_by_user: bool = False) -> Any:
    """A template's value as FIS's API members name it."""
    if isinstance(value, list):
        return [_api_shaped(v) for v in value]
    if not isinstance(value, dict):
        return value
    if keyed_by_user:
        return {k: _api_shaped(v) for k, v in value.items()}
    return {k[:1].lower() + k[1:]: _api_shaped(v, k in _MAPS) for k, v in value.items()}


class ExperimentTemplateProvider(Provider):
    type_name = "AWS::FIS::ExperimentTemplate"

    async def create(self, api: Api, properties: dict) -> Done:
        params = _api_shaped(properties)
        made = api.call("fis", "CreateExperimentTemplate", {
            **params, "clientToken": str(uuid.uuid4())})["experimentTemplate"]
        return Done(made["id"], {"Id": made["id"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        params = _api_shaped({k: properties[k] for k in _UPDATED if k in properties})
        options = params.get("experimentOptions")
        if options:  # create-only: an unchanged AccountTargeting is not sent again
            options.pop("accountTargeting", None)
        updated = api.call("fis", "UpdateExperimentTemplate", {"id": physical_id, **params})
        arn = updated["experimentTemplate"]["arn"]
        new, old = properties.get("Tags") or {}, previous.get("Tags") or {}
        dropped = [k for k in old if k not in new]
        if dropped:
            api.call("fis", "UntagResource", {"resourceArn": arn, "tagKeys": dropped})
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if changed:
            api.call("fis", "TagResource", {"resourceArn": arn, "tags": changed})
        return Done(physical_id, {"Id": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("fis", "DeleteExperimentTemplate", {"id": physical_id})
