"""AttachNetworkInterface / DetachNetworkInterface through boto3, with EC2's errors; an
attached ENI in DescribeInstances and at termination. Its interface in the instance:
tests/network/test_interface_addresses_network.py."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import AMI, settled


def _error(call, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]


@pytest.fixture
def world(ec2, make_vpc, make_subnet, launch) -> dict:
    vpc = make_vpc("10.0.0.0/16")
    subnet = make_subnet(vpc, "10.0.1.0/24", AvailabilityZone="us-east-1a")
    [instance] = launch(subnet)
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    return {"vpc": vpc, "subnet": subnet, "instance": instance, "eni": eni}


def _eni(ec2, eni_id: str) -> dict:
    return ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]


def test_attach_shows_and_detach_frees(ec2, world):
    eni_id, instance_id = world["eni"]["NetworkInterfaceId"], world["instance"]["InstanceId"]
    attached = ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id,
                                            DeviceIndex=1)
    assert attached["AttachmentId"].startswith("eni-attach-")
    shown = _eni(ec2, eni_id)
    assert shown["Status"] == "in-use"
    assert (shown["Attachment"]["InstanceId"], shown["Attachment"]["DeviceIndex"],
            shown["Attachment"]["DeleteOnTermination"]) == (instance_id, 1, False)
    interfaces = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
        "Instances"][0]["NetworkInterfaces"]
    assert [i["Attachment"]["DeviceIndex"] for i in interfaces] == [0, 1]
    assert interfaces[1]["NetworkInterfaceId"] == eni_id
    _error(lambda: ec2.delete_network_interface(NetworkInterfaceId=eni_id),
           "InvalidParameterValue")
    ec2.detach_network_interface(AttachmentId=attached["AttachmentId"])
    assert _eni(ec2, eni_id)["Status"] == "available"
    assert "Attachment" not in _eni(ec2, eni_id)


def test_attach_refusals(ec2, world, make_subnet, make_vpc):
    eni_id, instance_id = world["eni"]["NetworkInterfaceId"], world["instance"]["InstanceId"]
    primary = world["instance"]["NetworkInterfaces"][0]
    _error(lambda: ec2.attach_network_interface(NetworkInterfaceId=eni_id,
                                                InstanceId=instance_id, DeviceIndex=0),
           "InvalidParameterValue")
    _error(lambda: ec2.attach_network_interface(
        NetworkInterfaceId=primary["NetworkInterfaceId"], InstanceId=instance_id,
        DeviceIndex=2), "InvalidNetworkInterface.InUse")
    _error(lambda: ec2.detach_network_interface(
        AttachmentId=primary["Attachment"]["AttachmentId"]), "OperationNotPermitted")
    _error(lambda: ec2.detach_network_interface(AttachmentId="eni-attach-0123456789abcdef0"),
           "InvalidAttachmentID.NotFound")
    elsewhere = make_subnet(world["vpc"], "10.0.2.0/24", AvailabilityZone="us-east-1b")
    far = ec2.create_network_interface(SubnetId=elsewhere["SubnetId"])["NetworkInterface"]
    _error(lambda: ec2.attach_network_interface(NetworkInterfaceId=far["NetworkInterfaceId"],
                                                InstanceId=instance_id, DeviceIndex=1),
           "InvalidParameterValue")
    other = make_subnet(make_vpc("10.1.0.0/16"), "10.1.1.0/24", AvailabilityZone="us-east-1a")
    stranger = ec2.create_network_interface(SubnetId=other["SubnetId"])["NetworkInterface"]
    _error(lambda: ec2.attach_network_interface(
        NetworkInterfaceId=stranger["NetworkInterfaceId"], InstanceId=instance_id,
        DeviceIndex=1), "InvalidParameterValue")
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id,
                                 DeviceIndex=1)
    second = ec2.create_network_interface(SubnetId=world["subnet"]["SubnetId"])[
        "NetworkInterface"]
    _error(lambda: ec2.attach_network_interface(
        NetworkInterfaceId=second["NetworkInterfaceId"], InstanceId=instance_id,
        DeviceIndex=1), "InvalidParameterValue")


def test_termination_detaches_or_deletes(ec2, world):
    eni_id, instance_id = world["eni"]["NetworkInterfaceId"], world["instance"]["InstanceId"]
    doomed = ec2.create_network_interface(SubnetId=world["subnet"]["SubnetId"])[
        "NetworkInterface"]["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id,
                                 DeviceIndex=1)
    attachment = ec2.attach_network_interface(NetworkInterfaceId=doomed,
                                              InstanceId=instance_id,
                                              DeviceIndex=2)["AttachmentId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=doomed, Attachment={
        "AttachmentId": attachment, "DeleteOnTermination": True})
    ec2.terminate_instances(InstanceIds=[instance_id])
    assert _eni(ec2, eni_id)["Status"] == "available"
    _error(lambda: _eni(ec2, doomed), "InvalidNetworkInterfaceID.NotFound")


@pytest.mark.parametrize("delete", [True, False])
def test_launch_interface_kept_or_deleted_at_termination(ec2, world, delete):
    """RunInstances' NetworkInterfaces DeleteOnTermination: the launch ENI outlives its
    instance when it is false. moto's test_create_instance__termination_deletes_eni
    (test_elastic_network_interfaces.py), marked aws_verified: run against AWS itself."""
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, NetworkInterfaces=[{
        "DeviceIndex": 0, "SubnetId": world["subnet"]["SubnetId"],
        "DeleteOnTermination": delete}])["Instances"]
    settled(ec2, [instance["InstanceId"]])
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert _eni(ec2, eni_id)["Attachment"]["DeleteOnTermination"] is delete
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    if delete:
        _error(lambda: _eni(ec2, eni_id), "InvalidNetworkInterfaceID.NotFound")
        return
    kept = _eni(ec2, eni_id)
    assert kept["Status"] == "available" and "Attachment" not in kept
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
