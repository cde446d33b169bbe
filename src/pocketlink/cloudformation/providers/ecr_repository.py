"""AWS::ECR::Repository, made in the backend's ECR; its physical id is its name, and
``RepositoryUri`` is AWS's ``ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME``."""

from __future__ import annotations

import json

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, tags_of, unless_gone


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class RepositoryProvider(Provider):
    type_name = "AWS::ECR::Repository"

    async def create(self, api: Api, properties: dict) -> Done:
        name = properties.get("RepositoryName") or api.physical_name(256, lower=True)
        params: dict = {"repositoryName": name}
        if "ImageTagMutability" in properties:
            params["imageTagMutability"] = properties["ImageTagMutability"]
        scanning = properties.get("ImageScanningConfiguration")
        if scanning:
            params["imageScanningConfiguration"] = {"scanOnPush": scanning.get("ScanOnPush",
                                                                               False)}
        if tags_of(properties):
            params["tags"] = tags_of(properties)
        repository = (await api.backend("ecr", "CreateRepository", params))["repository"]
        await self._policies(api, name, properties, {})
        return Done(name, {"Arn": repository["repositoryArn"],
                           "RepositoryUri": repository["repositoryUri"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        if properties.get("ImageTagMutability") != previous.get("ImageTagMutability") and \
                properties.get("ImageTagMutability"):
            await api.backend("ecr", "PutImageTagMutability", {
                "repositoryName": physical_id,
                "imageTagMutability": properties["ImageTagMutability"]})
        await self._policies(api, physical_id, properties, previous)
        found = (await api.backend("ecr", "DescribeRepositories",
                                   {"repositoryNames": [physical_id]}))["repositories"][0]
        return Done(physical_id, {"Arn": found["repositoryArn"],
                                  "RepositoryUri": found["repositoryUri"]})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            await api.backend("ecr", "DeleteRepository", {
                "repositoryName": physical_id, "force": bool(properties.get("EmptyOnDelete"))})

    @staticmethod
    async def _policies(api: Api, name: str, properties: dict, previous: dict) -> None:
        policy = properties.get("RepositoryPolicyText")
        if policy is not None and policy != previous.get("RepositoryPolicyText"):
            await api.backend("ecr", "SetRepositoryPolicy", {"repositoryName": name,
                                                             "policyText": _text(policy)})
        lifecycle = (properties.get("LifecyclePolicy") or {}).get("LifecyclePolicyText")
        if lifecycle is not None and properties.get("LifecyclePolicy") != \
                previous.get("LifecyclePolicy"):
            await api.backend("ecr", "PutLifecyclePolicy", {"repositoryName": name,
                                                            "lifecyclePolicyText": lifecycle})
