"""AWS::EC2::SubnetRouteTableAssociation."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone


class SubnetRouteTableAssociationProvider(Provider):
    type_name = "AWS::EC2::SubnetRouteTableAssociation"

    async def create(self, api: Api, properties: dict) -> Done:
        association = api.call("ec2", "AssociateRouteTable", {
            "SubnetId": properties["SubnetId"], "RouteTableId": properties["RouteTableId"]})
        return Done(association["AssociationId"], {"Id": association["AssociationId"]})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("ec2", "DisassociateRouteTable", {"AssociationId": physical_id})
