"""AWS::IAM::Role, made in the backend (IAM is moto's): the role, its managed policies
attached and its inline policies put."""

from __future__ import annotations

import json

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, tags_of, unless_gone


def _document(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class RoleProvider(Provider):
    type_name = "AWS::IAM::Role"

    async def create(self, api: Api, properties: dict) -> Done:
        name = properties.get("RoleName") or api.physical_name(64)
        params: dict = {"RoleName": name, "AssumeRolePolicyDocument":
                        _document(properties["AssumeRolePolicyDocument"])}
        for member in ("Path", "Description", "MaxSessionDuration", "PermissionsBoundary"):
            if member in properties:
                params[member] = properties[member]
        if tags_of(properties):
            params["Tags"] = tags_of(properties)
        role = (await api.backend("iam", "CreateRole", params))["Role"]
        await self._policies(api, name, properties, {})
        return Done(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        if properties.get("AssumeRolePolicyDocument") != previous.get("AssumeRolePolicyDocument"):
            await api.backend("iam", "UpdateAssumeRolePolicy", {
                "RoleName": physical_id,
                "PolicyDocument": _document(properties["AssumeRolePolicyDocument"])})
        if properties.get("Description") != previous.get("Description") or \
                properties.get("MaxSessionDuration") != previous.get("MaxSessionDuration"):
            await api.backend("iam", "UpdateRole", {
                "RoleName": physical_id,
                **{k: properties[k] for k in ("Description", "MaxSessionDuration")
                   if k in properties}})
        await self._policies(api, physical_id, properties, previous)
        role = (await api.backend("iam", "GetRole", {"RoleName": physical_id}))["Role"]
        return Done(physical_id, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            await self._policies(api, physical_id, {}, properties)
            await api.backend("iam", "DeleteRole", {"RoleName": physical_id})

    @staticmethod
    async def _policies(api: Api, name: str, properties: dict, previous: dict) -> None:
        new = set(properties.get("ManagedPolicyArns") or [])
        old = set(previous.get("ManagedPolicyArns") or [])
        for arn in sorted(old - new):
            await api.backend("iam", "DetachRolePolicy", {"RoleName": name, "PolicyArn": arn})
        for arn in sorted(new - old):
            await api.backend("iam", "AttachRolePolicy", {"RoleName": name, "PolicyArn": arn})
        inline = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies") or []}
        had = {p["PolicyName"]: p["PolicyDocument"] for p in previous.get("Policies") or []}
        for policy in had:
            if policy not in inline:
                await api.backend("iam", "DeleteRolePolicy", {"RoleName": name,
                                                              "PolicyName": policy})
        for policy, document in inline.items():
            if had.get(policy) != document:
                await api.backend("iam", "PutRolePolicy", {"RoleName": name,
                                                           "PolicyName": policy,
                                                           "PolicyDocument": _document(document)})
