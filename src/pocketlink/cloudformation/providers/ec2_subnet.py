"""AWS::EC2::Subnet."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import delete_when_free, modify_attributes, retag

_ATTRIBUTES = ("MapPublicIpOnLaunch", "AssignIpv6AddressOnCreation")


class SubnetProvider(Provider):
    type_name = "AWS::EC2::Subnet"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in ("VpcId", "CidrBlock", "AvailabilityZone",
                                             "AvailabilityZoneId", "Ipv6CidrBlock")
                  if k in properties}
        params["TagSpecifications"] = ec2_tag_specifications("subnet", properties)
        subnet = api.call("ec2", "CreateSubnet", params)["Subnet"]
        modify_attributes(api, "ModifySubnetAttribute", "SubnetId", subnet["SubnetId"], _ATTRIBUTES,
                          properties, {})
        return self._done(api, subnet["SubnetId"])

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        modify_attributes(api, "ModifySubnetAttribute", "SubnetId", physical_id, _ATTRIBUTES,
                          properties, previous)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await delete_when_free(api, "ec2", "DeleteSubnet", {"SubnetId": physical_id})

    @staticmethod
    def _done(api: Api, subnet_id: str) -> Done:
        subnet = api.call("ec2", "DescribeSubnets", {"SubnetIds": [subnet_id]})["Subnets"][0]
        return Done(subnet_id, {
            "SubnetId": subnet_id, "VpcId": subnet["VpcId"],
            "AvailabilityZone": subnet["AvailabilityZone"],
            "AvailabilityZoneId": subnet.get("AvailabilityZoneId", ""),
            "CidrBlock": subnet["CidrBlock"], "NetworkAclAssociationId": "",
            "Ipv6CidrBlocks": [a["Ipv6CidrBlock"] for a in
                               subnet.get("Ipv6CidrBlockAssociationSet") or []]})
