"""AWS::EC2::Route: its physical id is ``<route table>|<destination>``, as CloudFormation's."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone

DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")
TARGETS = ("GatewayId", "NatGatewayId", "VpcEndpointId", "NetworkInterfaceId", "InstanceId",
           "VpcPeeringConnectionId", "TransitGatewayId", "EgressOnlyInternetGatewayId",
           "CarrierGatewayId", "LocalGatewayId", "CoreNetworkArn")


def _params(properties: dict) -> dict:
    return {k: properties[k] for k in ("RouteTableId", *DESTINATIONS, *TARGETS)
            if k in properties}


def _destination(properties: dict) -> str:
    return next(str(properties[k]) for k in DESTINATIONS if k in properties)


class RouteProvider(Provider):
    type_name = "AWS::EC2::Route"

    async def create(self, api: Api, properties: dict) -> Done:
        api.call("ec2", "CreateRoute", _params(properties))
        return self._done(properties)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        api.call("ec2", "ReplaceRoute", _params(properties))
        return self._done(properties)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        params = {k: properties[k] for k in ("RouteTableId", *DESTINATIONS) if k in properties}
        with unless_gone():
            api.call("ec2", "DeleteRoute", params)

    @staticmethod
    def _done(properties: dict) -> Done:
        destination = _destination(properties)
        return Done(f"{properties['RouteTableId']}|{destination}", {"CidrBlock": destination})
