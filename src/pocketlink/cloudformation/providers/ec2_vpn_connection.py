"""AWS::EC2::VPNConnection: a Site-to-Site VPN connection between a customer gateway and a
virtual private gateway (docs/vpn.md); Ref and ``VpnConnectionId`` are its id. Its create
waits until the connection is ``available`` and its delete until it is ``deleted``, as
CloudFormation waits for them. Moving it to another gateway (ModifyVpnConnection) is not
served: such an update fails naming it."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import (
    Done,
    Provider,
    ec2_tag_specifications,
    settled_state,
    unless_gone,
)
from pocketlink.cloudformation.providers._ec2 import retag
from pocketlink.model.vpn import VpnConnection, VpnState

_OPTIONS = ("StaticRoutesOnly", "LocalIpv4NetworkCidr", "RemoteIpv4NetworkCidr")


class VpnConnectionProvider(Provider):
    type_name = "AWS::EC2::VPNConnection"

    async def create(self, api: Api, properties: dict) -> Done:
        params: dict = {
            "Type": properties["Type"], "CustomerGatewayId": properties["CustomerGatewayId"],
            "Options": {k: properties[k] for k in _OPTIONS if k in properties},
            "TagSpecifications": ec2_tag_specifications("vpn-connection", properties)}
        for key in ("VpnGatewayId", "TransitGatewayId"):
            if properties.get(key):
                params[key] = str(properties[key])
        if "StaticRoutesOnly" in params["Options"]:
            params["Options"]["StaticRoutesOnly"] = str(
                params["Options"]["StaticRoutesOnly"]).lower() == "true"
        connection_id = api.call("ec2", "CreateVpnConnection", params)["VpnConnection"][
            "VpnConnectionId"]
        api.initiated(connection_id)
        state = await settled_state(api, VpnConnection, connection_id, (VpnState.PENDING,),
                                    f"{connection_id} did not become available")
        if state != VpnState.AVAILABLE:
            raise ProviderError(f"{connection_id} is {state}")
        return Done(connection_id, {"VpnConnectionId": connection_id})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        for key in ("CustomerGatewayId", "VpnGatewayId", "TransitGatewayId"):
            if properties.get(key) != previous.get(key):
                raise ProviderError(f"pocketlink does not change a VPN connection's {key} "
                                    "in place (ModifyVpnConnection) yet")
        retag(api, physical_id, properties, previous)
        return Done(physical_id, {"VpnConnectionId": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("ec2", "DeleteVpnConnection", {"VpnConnectionId": physical_id})
        await settled_state(api, VpnConnection, physical_id, (VpnState.DELETING,),
                            f"{physical_id} was not deleted")
