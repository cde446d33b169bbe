"""An ENI's addresses and attributes after creation, through boto3: Assign/Unassign private
IPv4 and IPv6 addresses, Describe/Modify/ResetNetworkInterfaceAttribute, with EC2's errors.
The addresses on the instance: tests/network/test_interface_addresses_network.py."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ipv6_subnets


def _error(call, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)


@pytest.fixture
def subnet(make_subnet, vpc) -> dict:
    return make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=ipv6_subnets(vpc)[1])


@pytest.fixture
def eni(ec2, subnet) -> dict:
    return ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]


def _describe(ec2, eni_id: str) -> dict:
    return ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]


def _secondaries(ec2, eni_id: str) -> list[str]:
    return [a["PrivateIpAddress"] for a in _describe(ec2, eni_id)["PrivateIpAddresses"]
            if not a["Primary"]]


def test_secondary_ipv4_addresses_come_and_go(ec2, eni):
    eni_id = eni["NetworkInterfaceId"]
    named = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id,
                                            PrivateIpAddresses=["10.0.1.50"])
    assert named["AssignedPrivateIpAddresses"] == [{"PrivateIpAddress": "10.0.1.50"}]
    counted = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id,
                                              SecondaryPrivateIpAddressCount=2)
    picked = [a["PrivateIpAddress"] for a in counted["AssignedPrivateIpAddresses"]]
    assert len(set(picked) - {"10.0.1.50"}) == 2
    assert _secondaries(ec2, eni_id) == ["10.0.1.50", *picked]
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=picked)
    assert _secondaries(ec2, eni_id) == ["10.0.1.50"]


def test_assigning_an_address_in_use_needs_reassignment(ec2, subnet, eni):
    other = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    ec2.assign_private_ip_addresses(NetworkInterfaceId=other["NetworkInterfaceId"],
                                    PrivateIpAddresses=["10.0.1.60"])
    _error(lambda: ec2.assign_private_ip_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                                   PrivateIpAddresses=["10.0.1.60"]),
           "InvalidIPAddress.InUse")
    ec2.assign_private_ip_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                    PrivateIpAddresses=["10.0.1.60"], AllowReassignment=True)
    assert _secondaries(ec2, eni["NetworkInterfaceId"]) == ["10.0.1.60"]
    assert _secondaries(ec2, other["NetworkInterfaceId"]) == []


def test_ipv4_refusals(ec2, eni):
    eni_id = eni["NetworkInterfaceId"]
    for call, code in (
            (lambda: ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id),
             "MissingParameter"),
            (lambda: ec2.assign_private_ip_addresses(
                NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.0.1.70"],
                SecondaryPrivateIpAddressCount=1), "InvalidParameterCombination"),
            (lambda: ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id,
                                                     PrivateIpAddresses=["10.9.9.9"]),
             "InvalidParameterValue"),
            (lambda: ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id,
                                                     PrivateIpAddresses=["10.0.1.1"]),
             "InvalidParameterValue"),
            (lambda: ec2.unassign_private_ip_addresses(
                NetworkInterfaceId=eni_id, PrivateIpAddresses=[eni["PrivateIpAddress"]]),
             "InvalidParameterValue"),
            (lambda: ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni_id,
                                                       PrivateIpAddresses=["10.0.1.99"]),
             "InvalidParameterValue"),
            (lambda: ec2.assign_private_ip_addresses(NetworkInterfaceId="eni-0123456789abcdef0",
                                                     SecondaryPrivateIpAddressCount=1),
             "InvalidNetworkInterfaceID.NotFound")):
        _error(call, code)


def test_ipv6_addresses_come_and_go_and_the_instance_shows_them(ec2, subnet, launch):
    [instance] = launch(subnet)
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assigned = ec2.assign_ipv6_addresses(NetworkInterfaceId=eni_id,
                                         Ipv6AddressCount=2)["AssignedIpv6Addresses"]
    assert len(assigned) == 2
    assert [a["Ipv6Address"] for a in _describe(ec2, eni_id)["Ipv6Addresses"]] == assigned
    shown = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0][
        "Instances"][0]
    assert shown["Ipv6Address"] == assigned[0]
    gone = ec2.unassign_ipv6_addresses(NetworkInterfaceId=eni_id, Ipv6Addresses=assigned[:1])
    assert gone["UnassignedIpv6Addresses"] == assigned[:1]
    _error(lambda: ec2.unassign_ipv6_addresses(NetworkInterfaceId=eni_id,
                                               Ipv6Addresses=assigned[:1]),
           "InvalidParameterValue")


def test_ipv6_needs_a_block(ec2, make_vpc, make_subnet):
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.1.0/24")
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    _error(lambda: ec2.assign_ipv6_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                             Ipv6AddressCount=1), "InvalidParameterValue")


def test_attributes(ec2, vpc, eni):
    eni_id = eni["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id,
                                           Description={"Value": "db"})
    assert ec2.describe_network_interface_attribute(
        NetworkInterfaceId=eni_id, Attribute="description")["Description"] == {"Value": "db"}
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id,
                                           SourceDestCheck={"Value": False})
    assert ec2.describe_network_interface_attribute(
        NetworkInterfaceId=eni_id, Attribute="sourceDestCheck")["SourceDestCheck"] == \
        {"Value": False}
    ec2.reset_network_interface_attribute(NetworkInterfaceId=eni_id,
                                          SourceDestCheck="sourceDestCheck")
    assert _describe(ec2, eni_id)["SourceDestCheck"] is True
    group = ec2.create_security_group(GroupName="db", Description="db",
                                      VpcId=vpc["VpcId"])["GroupId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[group])
    assert ec2.describe_network_interface_attribute(
        NetworkInterfaceId=eni_id, Attribute="groupSet")["Groups"] == \
        [{"GroupId": group, "GroupName": "db"}]
    _error(lambda: ec2.modify_network_interface_attribute(
        NetworkInterfaceId=eni_id, Description={"Value": "x"}, SourceDestCheck={"Value": True}),
        "InvalidParameterCombination")
    _error(lambda: ec2.modify_network_interface_attribute(
        NetworkInterfaceId=eni_id, Groups=["sg-0123456789abcdef0"]), "InvalidGroup.NotFound")
    _error(lambda: ec2.modify_network_interface_attribute(
        NetworkInterfaceId=eni_id, Attachment={"AttachmentId": "eni-attach-0123456789abcdef0",
                                               "DeleteOnTermination": False}),
        "InvalidAttachmentID.NotFound")
    _error(lambda: ec2.describe_network_interface_attribute(NetworkInterfaceId=eni_id,
                                                            Attribute="bogus"),
           "InvalidParameterValue")


def test_an_instances_groups_follow_its_interface(ec2, vpc, subnet, launch):
    [instance] = launch(subnet)
    group = ec2.create_security_group(GroupName="app", Description="app",
                                      VpcId=vpc["VpcId"])["GroupId"]
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[group])
    shown = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0][
        "Instances"][0]
    assert [g["GroupId"] for g in shown["SecurityGroups"]] == [group]
    attachment = ec2.describe_network_interface_attribute(
        NetworkInterfaceId=eni_id, Attribute="attachment")["Attachment"]
    assert attachment["InstanceId"] == instance["InstanceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Attachment={
        "AttachmentId": attachment["AttachmentId"], "DeleteOnTermination": False})
    assert _describe(ec2, eni_id)["Attachment"]["DeleteOnTermination"] is False
