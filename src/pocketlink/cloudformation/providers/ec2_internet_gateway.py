"""AWS::EC2::InternetGateway: Ref is its id. Its delete waits while it is still attached
(a VPCGatewayAttachment of the stack goes first)."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import delete_when_free, retag


class InternetGatewayProvider(Provider):
    type_name = "AWS::EC2::InternetGateway"

    async def create(self, api: Api, properties: dict) -> Done:
        gateway = api.call("ec2", "CreateInternetGateway", {
            "TagSpecifications": ec2_tag_specifications("internet-gateway", properties)})[
            "InternetGateway"]
        return Done(gateway["InternetGatewayId"],
                    {"InternetGatewayId": gateway["InternetGatewayId"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        return Done(physical_id, {"InternetGatewayId": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await delete_when_free(api, "ec2", "DeleteInternetGateway",
                               {"InternetGatewayId": physical_id})
