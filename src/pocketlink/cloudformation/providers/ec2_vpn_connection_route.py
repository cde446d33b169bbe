"""AWS::EC2::VPNConnectionRoute: a static route of a VPN connection (docs/vpn.md). Its
physical id is CloudFormation's kind of name for it; both properties are create-only, so
any change replaces it."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone
from pocketlink.model import ids


def _params(properties: dict) -> dict:
    return {"VpnConnectionId": str(properties["VpnConnectionId"]),
            "DestinationCidrBlock": str(properties["DestinationCidrBlock"])}


class VpnConnectionRouteProvider(Provider):
    type_name = "AWS::EC2::VPNConnectionRoute"

    async def create(self, api: Api, properties: dict) -> Done:
        api.call("ec2", "CreateVpnConnectionRoute", _params(properties))
        return Done(ids.new_id("vpnroute"))

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("ec2", "DeleteVpnConnectionRoute", _params(properties))
