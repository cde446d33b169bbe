"""AWS::EC2::LaunchTemplate: Ref is its id; LatestVersionNumber and DefaultVersionNumber
are strings, as CloudFormation gives them. A changed LaunchTemplateData makes a new
version and the default, as CloudFormation's update does (the old versions stay)."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone
from pocketlink.cloudformation.providers._ec2 import retag

NAME_LENGTH = 128


def _template_tags(properties: dict) -> list[dict]:
    return [{"ResourceType": spec.get("ResourceType", "launch-template"),
             "Tags": [{"Key": t["Key"], "Value": str(t.get("Value", ""))}
                      for t in spec.get("Tags") or []]}
            for spec in properties.get("TagSpecifications") or []]


class LaunchTemplateProvider(Provider):
    type_name = "AWS::EC2::LaunchTemplate"

    async def create(self, api: Api, properties: dict) -> Done:
        params: dict = {"LaunchTemplateName": properties.get("LaunchTemplateName") or
                        api.physical_name(NAME_LENGTH),
                        "LaunchTemplateData": properties.get("LaunchTemplateData") or {}}
        if properties.get("VersionDescription"):
            params["VersionDescription"] = properties["VersionDescription"]
        if _template_tags(properties):
            params["TagSpecifications"] = _template_tags(properties)
        template = api.call("ec2", "CreateLaunchTemplate", params)["LaunchTemplate"]
        return self._done(template)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        if properties.get("LaunchTemplateData") != previous.get("LaunchTemplateData") or \
                properties.get("VersionDescription") != previous.get("VersionDescription"):
            params: dict = {"LaunchTemplateId": physical_id,
                            "LaunchTemplateData": properties.get("LaunchTemplateData") or {}}
            if properties.get("VersionDescription"):
                params["VersionDescription"] = properties["VersionDescription"]
            version = api.call("ec2", "CreateLaunchTemplateVersion",
                               params)["LaunchTemplateVersion"]
            api.call("ec2", "ModifyLaunchTemplate", {
                "LaunchTemplateId": physical_id,
                "DefaultVersion": str(version["VersionNumber"])})
        new = {"Tags": [t for s in _template_tags(properties) for t in s["Tags"]]}
        old = {"Tags": [t for s in _template_tags(previous) for t in s["Tags"]]}
        retag(api, physical_id, new, old)
        (template,) = api.call("ec2", "DescribeLaunchTemplates",
                               {"LaunchTemplateIds": [physical_id]})["LaunchTemplates"]
        return self._done(template)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("ec2", "DeleteLaunchTemplate", {"LaunchTemplateId": physical_id})

    @staticmethod
    def _done(template: dict) -> Done:
        return Done(template["LaunchTemplateId"], {
            "LaunchTemplateId": template["LaunchTemplateId"],
            "LatestVersionNumber": str(template["LatestVersionNumber"]),
            "DefaultVersionNumber": str(template["DefaultVersionNumber"])})
