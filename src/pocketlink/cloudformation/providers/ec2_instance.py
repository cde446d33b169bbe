"""AWS::EC2::Instance, the simple kind: one instance in a subnet, done once ``running``
(its sandbox up and UserData started), as AWS's handler waits. What cannot change in
place (anything but its tags) fails the update, saying so."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications, settled_state
from pocketlink.cloudformation.providers._ec2 import retag
from pocketlink.model.ec2 import Instance

MEMBERS = ("ImageId", "InstanceType", "SubnetId", "SecurityGroupIds", "UserData",
           "PrivateIpAddress", "MetadataOptions", "KeyName", "Ipv6AddressCount",
           "Ipv6Addresses")


class InstanceProvider(Provider):
    type_name = "AWS::EC2::Instance"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in MEMBERS if k in properties}
        params.update(MinCount=1, MaxCount=1,
                      TagSpecifications=ec2_tag_specifications("instance", properties))
        if properties.get("AvailabilityZone"):
            params["Placement"] = {"AvailabilityZone": properties["AvailabilityZone"]}
        profile = properties.get("IamInstanceProfile")
        if profile:
            if api.context.instance_profiles is not None:  # IAM is asked before the handler
                await api.context.instance_profiles.fetch(api.account, profile)
            params["IamInstanceProfile"] = {"Arn" if profile.startswith("arn:") else "Name":
                                            profile}
        reservation = api.call("ec2", "RunInstances", params)
        instance_id = reservation["Instances"][0]["InstanceId"]
        api.initiated(instance_id)
        return await self._running(api, instance_id)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        changed = sorted(k for k in set(properties) | set(previous)
                         if k != "Tags" and properties.get(k) != previous.get(k))
        if changed:
            raise ProviderError(f"pocketlink cannot change an instance's {', '.join(changed)} "
                                "in place")
        retag(api, physical_id, properties, previous)
        return await self._running(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        store = api.context.store
        if store.get(Instance, physical_id) is None:
            return
        api.call("ec2", "TerminateInstances", {"InstanceIds": [physical_id]})

        def ended() -> bool:
            instance = store.get(Instance, physical_id)
            return instance is None or instance.state == "terminated"
        await api.until(ended, f"Instance {physical_id} did not terminate")

    @staticmethod
    async def _running(api: Api, instance_id: str) -> Done:
        final = await settled_state(api, Instance, instance_id, ("pending",),
                                    f"Instance {instance_id} did not start", gone="terminated")
        if final != "running":
            raise ProviderError(f"Instance {instance_id} is {final}")
        described = api.call("ec2", "DescribeInstances", {"InstanceIds": [instance_id]})
        instance = described["Reservations"][0]["Instances"][0]
        return Done(instance_id, {
            "InstanceId": instance_id, "VpcId": instance.get("VpcId", ""),
            "AvailabilityZone": instance["Placement"]["AvailabilityZone"],
            "PrivateIp": instance.get("PrivateIpAddress", ""),
            "PrivateDnsName": instance.get("PrivateDnsName", ""),
            "PublicIp": instance.get("PublicIpAddress", ""),
            "PublicDnsName": instance.get("PublicDnsName", ""),
            "State": instance["State"]["Name"]})
