"""AWS::EC2::RouteTable."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import delete_when_free, retag


class RouteTableProvider(Provider):
    type_name = "AWS::EC2::RouteTable"

    async def create(self, api: Api, properties: dict) -> Done:
        table = api.call("ec2", "CreateRouteTable", {
            "VpcId": properties.get("VpcId"),
            "TagSpecifications": ec2_tag_specifications("route-table", properties)})
        table_id = table["RouteTable"]["RouteTableId"]
        return Done(table_id, {"RouteTableId": table_id})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        return Done(physical_id, {"RouteTableId": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await delete_when_free(api, "ec2", "DeleteRouteTable", {"RouteTableId": physical_id})
