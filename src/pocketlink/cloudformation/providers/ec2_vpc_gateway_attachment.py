"""AWS::EC2::VPCGatewayAttachment: an internet gateway (``InternetGatewayId``, physical id
``IGW|<vpc id>``, AttachmentType ``igw``) or a virtual private gateway (``VpnGatewayId``,
``VGW|<vpc id>``, ``vgw``) attached to a VPC. A virtual private gateway's create waits
until the attachment is ``attached``, as CloudFormation waits for it to stabilize."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, unless_gone
from pocketlink.cloudformation.providers._ec2 import delete_when_free
from pocketlink.model.vpn import VpnGateway


def _gateway(properties: dict) -> tuple[str, str]:
    """(the attachment's type, ``igw`` or ``vgw``, and the gateway's id)."""
    internet, vpn = properties.get("InternetGatewayId"), properties.get("VpnGatewayId")
    if bool(internet) == bool(vpn):
        raise ProviderError("Exactly one of InternetGatewayId or VpnGatewayId is required")
    return ("igw", str(internet)) if internet else ("vgw", str(vpn))


async def _attach(api: Api, properties: dict) -> str:
    kind, gateway = _gateway(properties)
    vpc = str(properties["VpcId"])
    if kind == "igw":
        api.call("ec2", "AttachInternetGateway", {"InternetGatewayId": gateway, "VpcId": vpc})
        return kind

    def attached() -> bool:
        found = api.context.store.get(VpnGateway, gateway)
        return found is None or any(a.vpc_id == vpc and a.state == "attached"
                                    for a in found.attachments)

    api.call("ec2", "AttachVpnGateway", {"VpnGatewayId": gateway, "VpcId": vpc})
    await api.until(attached, f"{gateway} did not become attached to {vpc}")
    return kind


async def _detach(api: Api, properties: dict) -> None:
    """Detached, once what the VPC maps to public addresses lets an internet gateway go;
    already gone or not attached is done."""
    kind, gateway = _gateway(properties)
    vpc = str(properties["VpcId"])
    with unless_gone("NotAttached"):
        if kind == "igw":
            await delete_when_free(api, "ec2", "DetachInternetGateway",
                                   {"InternetGatewayId": gateway, "VpcId": vpc})
        else:
            api.call("ec2", "DetachVpnGateway", {"VpnGatewayId": gateway, "VpcId": vpc})


class VpcGatewayAttachmentProvider(Provider):
    type_name = "AWS::EC2::VPCGatewayAttachment"

    async def create(self, api: Api, properties: dict) -> Done:
        kind = await _attach(api, properties)
        return Done(f"{kind.upper()}|{properties['VpcId']}", {"AttachmentType": kind})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        if _gateway(properties) != _gateway(previous):
            await _detach(api, previous)
            await _attach(api, properties)
        return Done(physical_id, {"AttachmentType": _gateway(properties)[0]})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await _detach(api, properties)
