"""AWS::EC2::VPC."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import delete_when_free, modify_attributes, retag
from pocketlink.model.ec2 import SecurityGroup, Vpc

_ATTRIBUTES = ("EnableDnsSupport", "EnableDnsHostnames")


class VpcProvider(Provider):
    type_name = "AWS::EC2::VPC"

    async def create(self, api: Api, properties: dict) -> Done:
        vpc = api.call("ec2", "CreateVpc", {
            "CidrBlock": properties.get("CidrBlock"),
            "InstanceTenancy": properties.get("InstanceTenancy", "default"),
            "TagSpecifications": ec2_tag_specifications("vpc", properties)})["Vpc"]
        modify_attributes(api, "ModifyVpcAttribute", "VpcId", vpc["VpcId"], _ATTRIBUTES,
                          properties, {})
        return self._done(api, vpc["VpcId"])

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        modify_attributes(api, "ModifyVpcAttribute", "VpcId", physical_id, _ATTRIBUTES,
                          properties, previous)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await delete_when_free(api, "ec2", "DeleteVpc", {"VpcId": physical_id})

    @staticmethod
    def _done(api: Api, vpc_id: str) -> Done:
        vpc = api.context.store.get(Vpc, vpc_id)
        assert vpc is not None
        default_group = next((g.id for g in api.context.store.all(SecurityGroup)
                              if g.vpc_id == vpc_id and g.group_name == "default"), "")
        return Done(vpc_id, {
            "VpcId": vpc_id, "CidrBlock": vpc.cidr_block,
            "CidrBlockAssociations": [a.association_id for a in vpc.cidr_associations],
            "DefaultSecurityGroup": default_group, "DefaultNetworkAcl": "",
            "Ipv6CidrBlocks": [a.cidr for a in vpc.ipv6_associations]})
