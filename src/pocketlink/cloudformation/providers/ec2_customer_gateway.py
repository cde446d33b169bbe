"""AWS::EC2::CustomerGateway: the on-premises end of a Site-to-Site VPN, as the account
describes it (docs/vpn.md); Ref and ``CustomerGatewayId`` are its id. Its delete waits
while a VPN connection still uses it."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import delete_unless_in_use, retag


class CustomerGatewayProvider(Provider):
    type_name = "AWS::EC2::CustomerGateway"

    async def create(self, api: Api, properties: dict) -> Done:
        params: dict = {
            "Type": properties["Type"], "IpAddress": properties["IpAddress"],
            "TagSpecifications": ec2_tag_specifications("customer-gateway", properties)}
        for key in ("DeviceName", "CertificateArn"):
            if properties.get(key):
                params[key] = str(properties[key])
        for key in ("BgpAsn", "BgpAsnExtended"):
            if key in properties:
                params[key] = int(properties[key])
        gateway = api.call("ec2", "CreateCustomerGateway", params)["CustomerGateway"]
        return Done(gateway["CustomerGatewayId"],
                    {"CustomerGatewayId": gateway["CustomerGatewayId"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        return Done(physical_id, {"CustomerGatewayId": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await delete_unless_in_use(api, "DeleteCustomerGateway",
                                   {"CustomerGatewayId": physical_id})

