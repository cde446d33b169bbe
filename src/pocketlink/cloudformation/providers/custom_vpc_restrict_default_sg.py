"""Custom::VpcRestrictDefaultSG, the custom resource ``new ec2.Vpc`` adds (CDK's feature flag
``@aws-cdk/aws-ec2:restrictDefaultSecurityGroup``), done here rather than by its Lambda:
pocketlink runs no Lambda (lambda_function.py records the function; its ServiceToken is
never invoked). What it does is the handler's own (aws-cdk-lib's
``restrict-default-security-group-handler``): on create, revoke the default security
group's two default rules, egress all to 0.0.0.0/0 and ingress all from the group itself,
either already gone being fine; on delete, authorize them again; on an update that names
another group, give the old group its rules back and take the new one's away. The physical
id is a request id, as CDK's custom resource entrypoint makes it when its handler names
none."""

from __future__ import annotations

import uuid

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider


def _ingress(group_id: str, account: str) -> dict:
    return {"GroupId": group_id, "IpPermissions": [{
        "IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id, "UserId": account}]}]}


def _egress(group_id: str) -> dict:
    return {"GroupId": group_id, "IpPermissions": [{
        "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}


def _restrict(api: Api, group_id: str, account: str) -> None:
    for verb, params in (("Egress", _egress(group_id)), ("Ingress", _ingress(group_id, account))):
        try:
            api.call("ec2", f"RevokeSecurityGroup{verb}", params)
        except ProviderError as error:
            if "InvalidPermission.NotFound" not in str(error):
                raise


def _restore(api: Api, group_id: str, account: str) -> None:
    api.call("ec2", "AuthorizeSecurityGroupIngress", _ingress(group_id, account))
    api.call("ec2", "AuthorizeSecurityGroupEgress", _egress(group_id))


class RestrictDefaultSecurityGroupProvider(Provider):
    type_name = "Custom::VpcRestrictDefaultSG"

    async def create(self, api: Api, properties: dict) -> Done:
        if not properties.get("ServiceToken"):
            raise ProviderError("Property ServiceToken cannot be empty")
        _restrict(api, properties["DefaultSecurityGroupId"], _account(api, properties))
        return Done(str(uuid.uuid4()))

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        old, new = previous["DefaultSecurityGroupId"], properties["DefaultSecurityGroupId"]
        if old != new:
            _restore(api, old, _account(api, properties))
            _restrict(api, new, _account(api, properties))
        return Done(physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        try:
            _restore(api, properties["DefaultSecurityGroupId"], _account(api, properties))
        except ProviderError as error:
            if "InvalidGroup.NotFound" not in str(error):
                raise


def _account(api: Api, properties: dict) -> str:
    return str(properties.get("Account") or api.account)
