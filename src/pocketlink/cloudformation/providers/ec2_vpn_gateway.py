"""AWS::EC2::VPNGateway: a virtual private gateway (docs/vpn.md); Ref and
``VPNGatewayId`` are its id. Its delete waits while it is still attached or used (a
VPCGatewayAttachment of the stack goes first)."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import delete_unless_in_use, retag


class VpnGatewayProvider(Provider):
    type_name = "AWS::EC2::VPNGateway"

    async def create(self, api: Api, properties: dict) -> Done:
        params: dict = {"Type": properties["Type"],
                        "TagSpecifications": ec2_tag_specifications("vpn-gateway", properties)}
        if "AmazonSideAsn" in properties:
            params["AmazonSideAsn"] = int(properties["AmazonSideAsn"])
        gateway = api.call("ec2", "CreateVpnGateway", params)["VpnGateway"]
        return Done(gateway["VpnGatewayId"], {"VPNGatewayId": gateway["VpnGatewayId"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        return Done(physical_id, {"VPNGatewayId": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await delete_unless_in_use(api, "DeleteVpnGateway", {"VpnGatewayId": physical_id})
