"""AWS::EC2::VPNGatewayRoutePropagation: a virtual private gateway's routes propagated
into route tables (EnableVgwRoutePropagation per table). The gateway must be attached to
the tables' VPC: a template makes the resource depend on the VPCGatewayAttachment, as
AWS's documentation asks. Its physical id is a name of CloudFormation's kind
(``<stack resource>-<random>``); pocketlink uses the gateway and tables."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone
from pocketlink.model import ids


def _tables(properties: dict) -> list[str]:
    return [str(t) for t in properties.get("RouteTableIds") or []]


def _disable(api: Api, gateway: str, tables: list[str]) -> None:
    for table in tables:
        with unless_gone("NotAttached"):
            api.call("ec2", "DisableVgwRoutePropagation",
                     {"GatewayId": gateway, "RouteTableId": table})


class VpnGatewayRoutePropagationProvider(Provider):
    type_name = "AWS::EC2::VPNGatewayRoutePropagation"

    async def create(self, api: Api, properties: dict) -> Done:
        gateway = str(properties["VpnGatewayId"])
        for table in _tables(properties):
            api.call("ec2", "EnableVgwRoutePropagation",
                     {"GatewayId": gateway, "RouteTableId": table})
        physical_id = ids.new_id("vgwprop")
        return Done(physical_id, {"Id": physical_id})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        gateway, before = str(properties["VpnGatewayId"]), str(previous["VpnGatewayId"])
        wanted, held = _tables(properties), _tables(previous)
        _disable(api, before, [t for t in held if gateway != before or t not in wanted])
        for table in wanted:
            if gateway != before or table not in held:
                api.call("ec2", "EnableVgwRoutePropagation",
                         {"GatewayId": gateway, "RouteTableId": table})
        return Done(physical_id, {"Id": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        _disable(api, str(properties["VpnGatewayId"]), _tables(properties))
