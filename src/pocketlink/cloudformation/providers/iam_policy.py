"""AWS::IAM::Policy: one inline policy put on each of its roles, users and groups, in the
backend's IAM; its physical id is made, as CloudFormation makes it."""

from __future__ import annotations

import json

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone

HOLDERS = (("Roles", "Role"), ("Users", "User"), ("Groups", "Group"))


def _document(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def _put(api: Api, properties: dict) -> None:
    for member, kind in HOLDERS:
        for holder in properties.get(member) or []:
            await api.backend("iam", f"Put{kind}Policy", {
                f"{kind}Name": holder, "PolicyName": properties["PolicyName"],
                "PolicyDocument": _document(properties["PolicyDocument"])})


async def _remove(api: Api, properties: dict, keep: dict) -> None:
    for member, kind in HOLDERS:
        kept = set(keep.get(member) or []) if keep.get("PolicyName") == \
            properties.get("PolicyName") else set()
        for holder in properties.get(member) or []:
            if holder in kept:
                continue
            with unless_gone():
                await api.backend("iam", f"Delete{kind}Policy", {
                    f"{kind}Name": holder, "PolicyName": properties["PolicyName"]})


class PolicyProvider(Provider):
    type_name = "AWS::IAM::Policy"

    async def create(self, api: Api, properties: dict) -> Done:
        await _put(api, properties)
        physical = api.physical_name(64)
        return Done(physical, {"Id": physical})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        await _remove(api, previous, properties)
        await _put(api, properties)
        return Done(physical_id, {"Id": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await _remove(api, properties, {})
