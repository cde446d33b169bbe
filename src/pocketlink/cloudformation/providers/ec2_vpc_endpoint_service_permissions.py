"""AWS::EC2::VPCEndpointServicePermissions: the service's allowed principals, as the
template lists them; its physical id is the service's id."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone


def _change(api: Api, service_id: str, wanted: list[str], had: list[str]) -> None:
    params: dict = {"ServiceId": service_id}
    if set(wanted) - set(had):
        params["AddAllowedPrincipals"] = sorted(set(wanted) - set(had))
    if set(had) - set(wanted):
        params["RemoveAllowedPrincipals"] = sorted(set(had) - set(wanted))
    if len(params) > 1:
        api.call("ec2", "ModifyVpcEndpointServicePermissions", params)


class VpcEndpointServicePermissionsProvider(Provider):
    type_name = "AWS::EC2::VPCEndpointServicePermissions"

    async def create(self, api: Api, properties: dict) -> Done:
        _change(api, properties["ServiceId"], properties.get("AllowedPrincipals") or [], [])
        return Done(properties["ServiceId"])

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        _change(api, physical_id, properties.get("AllowedPrincipals") or [],
                previous.get("AllowedPrincipals") or [])
        return Done(physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            _change(api, physical_id, [], properties.get("AllowedPrincipals") or [])
