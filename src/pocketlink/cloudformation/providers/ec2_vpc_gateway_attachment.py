"""AWS::EC2::VPCGatewayAttachment: an internet gateway attached to a VPC. Its physical id
is CloudFormation's, ``IGW|<vpc id>``. Virtual private gateways (VpnGatewayId) are not
served by pocketlink: the resource fails naming it."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, unless_gone
from pocketlink.cloudformation.providers._ec2 import delete_when_free


def _gateway(properties: dict) -> str:
    if properties.get("VpnGatewayId"):
        raise ProviderError("pocketlink has no virtual private gateways (VpnGatewayId given)")
    if not properties.get("InternetGatewayId"):
        raise ProviderError("Property InternetGatewayId is required")
    return str(properties["InternetGatewayId"])


async def _detach(api: Api, gateway: str, vpc: str) -> None:
    """Detached, once what the VPC maps to public addresses lets it go; already gone or
    not attached is done."""
    with unless_gone("NotAttached"):
        await delete_when_free(api, "ec2", "DetachInternetGateway",
                               {"InternetGatewayId": gateway, "VpcId": vpc})


class VpcGatewayAttachmentProvider(Provider):
    type_name = "AWS::EC2::VPCGatewayAttachment"

    async def create(self, api: Api, properties: dict) -> Done:
        vpc = str(properties["VpcId"])
        api.call("ec2", "AttachInternetGateway", {"InternetGatewayId": _gateway(properties),
                                                  "VpcId": vpc})
        return Done(f"IGW|{vpc}", {"AttachmentType": "igw"})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        vpc = str(properties["VpcId"])
        if _gateway(properties) != _gateway(previous):
            await _detach(api, _gateway(previous), vpc)
            api.call("ec2", "AttachInternetGateway",
                     {"InternetGatewayId": _gateway(properties), "VpcId": vpc})
        return Done(physical_id, {"AttachmentType": "igw"})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await _detach(api, _gateway(properties), str(properties["VpcId"]))
