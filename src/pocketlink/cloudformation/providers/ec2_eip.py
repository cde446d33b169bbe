"""AWS::EC2::EIP: an Elastic IP address of the VPC domain. Ref is its public address, as
CloudFormation's; AllocationId and PublicIp are its attributes. InstanceId associates it
(and changes in place); its release waits while a NAT gateway still holds it."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications, gone
from pocketlink.cloudformation.providers._ec2 import delete_when_free, retag


def _allocation(api: Api, public_ip: str) -> str:
    (address,) = api.call("ec2", "DescribeAddresses", {"PublicIps": [public_ip]})["Addresses"]
    return address["AllocationId"]


def _associate(api: Api, allocation: str, properties: dict, previous: dict) -> None:
    instance, before = properties.get("InstanceId"), previous.get("InstanceId")
    if instance == before:
        return
    if before:
        (address,) = api.call("ec2", "DescribeAddresses",
                              {"AllocationIds": [allocation]})["Addresses"]
        if address.get("AssociationId"):
            api.call("ec2", "DisassociateAddress", {"AssociationId": address["AssociationId"]})
    if instance:
        api.call("ec2", "AssociateAddress", {"AllocationId": allocation,
                                             "InstanceId": instance})


class EipProvider(Provider):
    type_name = "AWS::EC2::EIP"

    async def create(self, api: Api, properties: dict) -> Done:
        if properties.get("Domain", "vpc") != "vpc":
            raise ProviderError("pocketlink allocates addresses of the vpc Domain only")
        params = {k: properties[k] for k in ("PublicIpv4Pool", "NetworkBorderGroup")
                  if k in properties}
        params["Domain"] = "vpc"
        params["TagSpecifications"] = ec2_tag_specifications("elastic-ip", properties)
        address = api.call("ec2", "AllocateAddress", params)
        api.initiated(address["PublicIp"])
        _associate(api, address["AllocationId"], properties, {})
        return self._done(address["PublicIp"], address["AllocationId"])

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        allocation = _allocation(api, physical_id)
        _associate(api, allocation, properties, previous)
        retag(api, allocation, properties, previous)
        return self._done(physical_id, allocation)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        try:
            allocation = _allocation(api, physical_id)
        except ProviderError as error:
            if gone(error) or "not found" in str(error).lower():
                return
            raise
        if properties.get("InstanceId"):
            _associate(api, allocation, {}, properties)
        await delete_when_free(api, "ec2", "ReleaseAddress", {"AllocationId": allocation})

    @staticmethod
    def _done(public_ip: str, allocation: str) -> Done:
        return Done(public_ip, {"PublicIp": public_ip, "AllocationId": allocation})
