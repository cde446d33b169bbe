"""Network interfaces: instances' ENIs, standalone ENIs, and the one address allocator."""

from __future__ import annotations

import ipaddress
import re

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16")


@pytest.fixture
def subnet(make_subnet, vpc) -> dict:
    return make_subnet(vpc, "10.0.1.0/24")


def describe(ec2, eni_id: str) -> dict:
    [found] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    return found


def test_an_instance_shows_its_interface(ec2, vpc, subnet, launch):
    [instance] = launch(subnet)
    [eni] = ec2.describe_network_interfaces(Filters=[
        {"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}])["NetworkInterfaces"]
    assert eni["NetworkInterfaceId"] == instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert (eni["InterfaceType"], eni["Description"], eni["Status"]) == ("interface", "", "in-use")
    assert (eni["SubnetId"], eni["VpcId"], eni["OwnerId"]) == \
        (subnet["SubnetId"], vpc["VpcId"], "111111111111")
    assert eni["AvailabilityZone"] == subnet["AvailabilityZone"]
    assert eni["RequesterManaged"] is False
    assert re.fullmatch(r"02(:[0-9a-f]{2}){5}", eni["MacAddress"])
    assert eni["PrivateIpAddress"] == instance["PrivateIpAddress"]
    assert eni["PrivateIpAddresses"] == [{
        "Primary": True, "PrivateIpAddress": instance["PrivateIpAddress"],
        "PrivateDnsName": instance["PrivateDnsName"]}]
    attachment = eni["Attachment"]
    assert (attachment["InstanceId"], attachment["DeviceIndex"], attachment["Status"],
            attachment["DeleteOnTermination"]) == (instance["InstanceId"], 0, "attached", True)
    assert attachment["AttachmentId"].startswith("eni-attach-")
    assert [g["GroupName"] for g in eni["Groups"]] == ["default"]


def test_create_and_delete_a_network_interface(ec2, vpc, subnet):
    group = ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="eni",
                                      Description="eni")["GroupId"]
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"], Description="spare",
                                       PrivateIpAddress="10.0.1.40",
                                       Groups=[group])["NetworkInterface"]
    assert re.fullmatch(r"eni-[0-9a-f]{17}", eni["NetworkInterfaceId"])
    assert (eni["Description"], eni["Status"], eni["PrivateIpAddress"]) == \
        ("spare", "available", "10.0.1.40")
    assert eni["PrivateDnsName"] == "ip-10-0-1-40.ec2.internal"
    assert [g["GroupId"] for g in eni["Groups"]] == [group]
    assert "Attachment" not in eni
    assert describe(ec2, eni["NetworkInterfaceId"]) == eni
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    with pytest.raises(ClientError) as err:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])
    assert err.value.response["Error"]["Code"] == "InvalidNetworkInterfaceID.NotFound"


def test_an_attached_interface_cannot_be_deleted(ec2, subnet, launch):
    [instance] = launch(subnet)
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    with pytest.raises(ClientError) as err:
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert describe(ec2, eni_id)["Status"] == "in-use"


def test_an_interface_in_an_ipv6_only_subnet(ec2, make_vpc, make_subnet, ipv6_blocks):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipv6_blocks(vpc)[2]
    subnet = make_subnet(vpc, None, Ipv6Native=True, Ipv6CidrBlock=block)
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    assert "PrivateIpAddress" not in eni
    assert eni["Ipv6Native"] is True
    [address] = eni["Ipv6Addresses"]
    assert ipaddress.IPv6Address(address["Ipv6Address"]) in ipaddress.IPv6Network(block)


def test_describe_network_interfaces_filters(ec2, subnet, launch):
    [instance] = launch(subnet)
    spare = ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                         Description="spare")["NetworkInterface"]

    def ids(name: str, values: list[str]) -> set[str]:
        filters = [{"Name": "subnet-id", "Values": [subnet["SubnetId"]]},
                   {"Name": name, "Values": values}]
        return {e["NetworkInterfaceId"]
                for e in ec2.describe_network_interfaces(Filters=filters)["NetworkInterfaces"]}

    attached = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert ids("subnet-id", [subnet["SubnetId"]]) == {attached, spare["NetworkInterfaceId"]}
    assert ids("status", ["available"]) == {spare["NetworkInterfaceId"]}
    assert ids("description", ["spare"]) == {spare["NetworkInterfaceId"]}
    assert ids("private-ip-address", [instance["PrivateIpAddress"]]) == {attached}
    assert ids("interface-type", ["interface"]) == {attached, spare["NetworkInterfaceId"]}


def test_addresses_are_never_handed_out_twice(ec2, make_vpc, make_subnet, launch):
    # A /26 holds 64 - 5 = 59 addresses; instances and standalone ENIs share them.
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.3.0/26")
    addresses = [i["PrivateIpAddress"] for i in launch(subnet, 25)]
    addresses += [ec2.create_network_interface(SubnetId=subnet["SubnetId"])[
        "NetworkInterface"]["PrivateIpAddress"] for _ in range(9)]
    addresses += [i["PrivateIpAddress"] for i in launch(subnet, 25)]
    assert len(addresses) == len(set(addresses)) == 59
    usable = list(ipaddress.IPv4Network("10.0.3.0/26"))[4:-1]
    assert sorted(map(ipaddress.IPv4Address, addresses)) == usable
    [full] = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"]
    assert full["AvailableIpAddressCount"] == 0
    with pytest.raises(ClientError) as err:
        launch(subnet)
    assert err.value.response["Error"]["Code"] == "InsufficientFreeAddressesInSubnet"
    with pytest.raises(ClientError) as err:
        ec2.create_network_interface(SubnetId=subnet["SubnetId"])
    assert err.value.response["Error"]["Code"] == "InsufficientFreeAddressesInSubnet"


def test_a_freed_address_goes_back_to_the_pool(ec2, make_vpc, make_subnet, launch):
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.4.0/28")
    instances = launch(subnet, 11)
    freed = instances[3]
    ec2.terminate_instances(InstanceIds=[freed["InstanceId"]])
    [replacement] = launch(subnet)
    assert replacement["PrivateIpAddress"] == freed["PrivateIpAddress"]


@pytest.mark.parametrize(("eni_id", "code"), [
    ("eni-0123456789abcdef0", "InvalidNetworkInterfaceID.NotFound"),
    ("eni-nope", "InvalidNetworkInterfaceID.Malformed")])
def test_unknown_and_malformed_interface_ids(ec2, eni_id, code):
    with pytest.raises(ClientError) as err:
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    assert err.value.response["Error"]["Code"] == code


def test_an_ipv6_address_is_handed_out_once(ec2, make_vpc, make_subnet, ipv6_blocks, launch):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipaddress.IPv6Network(ipv6_blocks(vpc)[0])
    subnet = make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=str(block))
    wanted = str(block.network_address + 100)
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                       Ipv6Addresses=[{"Ipv6Address": wanted}])["NetworkInterface"]
    assert [a["Ipv6Address"] for a in eni["Ipv6Addresses"]] == [wanted]
    with pytest.raises(ClientError) as err:
        ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                     Ipv6Addresses=[{"Ipv6Address": wanted}])
    assert err.value.response["Error"]["Code"] == "InvalidIPAddress.InUse"
    with pytest.raises(ClientError) as err:
        launch(subnet, Ipv6Addresses=[{"Ipv6Address": wanted}])
    assert err.value.response["Error"]["Code"] == "InvalidIPAddress.InUse"
    with pytest.raises(ClientError) as err:
        launch(subnet, 2, Ipv6Addresses=[{"Ipv6Address": str(block.network_address + 101)}])
    assert err.value.response["Error"]["Code"] == "InvalidParameterCombination"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    [instance] = launch(subnet, Ipv6Addresses=[{"Ipv6Address": wanted}])
    assert instance["NetworkInterfaces"][0]["Ipv6Addresses"][0]["Ipv6Address"] == wanted


@pytest.mark.parametrize("which", ["outside", "malformed", "reserved"])
def test_an_ipv6_address_the_subnet_cannot_give(ec2, make_vpc, make_subnet, ipv6_blocks, which):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipaddress.IPv6Network(ipv6_blocks(vpc)[0])
    subnet = make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=str(block))
    address = {"outside": "2001:db8::1", "malformed": "fd00::g",
               "reserved": str(block.network_address + 1)}[which]
    with pytest.raises(ClientError) as err:
        ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                     Ipv6Addresses=[{"Ipv6Address": address}])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def _private(eni: dict) -> list[tuple[str, bool]]:
    return [(a["PrivateIpAddress"], a["Primary"]) for a in eni["PrivateIpAddresses"]]


def test_secondary_private_addresses_given_and_counted(ec2, subnet):
    """CreateNetworkInterface's PrivateIpAddresses (one Primary) and
    SecondaryPrivateIpAddressCount, as the API reference describes them; moto's
    test_elastic_network_interfaces.py reads them back from PrivateIpAddresses the same way."""
    eni = ec2.create_network_interface(
        SubnetId=subnet["SubnetId"],
        PrivateIpAddresses=[{"PrivateIpAddress": "10.0.1.10", "Primary": True},
                            {"PrivateIpAddress": "10.0.1.11", "Primary": False}])[
        "NetworkInterface"]
    assert eni["PrivateIpAddress"] == "10.0.1.10"
    assert _private(eni) == [("10.0.1.10", True), ("10.0.1.11", False)]
    assert _private(describe(ec2, eni["NetworkInterfaceId"])) == _private(eni)
    counted = ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                           SecondaryPrivateIpAddressCount=3)["NetworkInterface"]
    addresses = [ip for ip, _ in _private(counted)]
    assert [primary for _, primary in _private(counted)] == [True, False, False, False]
    assert len(set(addresses)) == 4 and not {"10.0.1.10", "10.0.1.11"} & set(addresses)
    assert all(ipaddress.IPv4Address(ip) in ipaddress.IPv4Network("10.0.1.0/24")
               for ip in addresses)
    by_secondary = ec2.describe_network_interfaces(Filters=[
        {"Name": "subnet-id", "Values": [subnet["SubnetId"]]},
        {"Name": "addresses.private-ip-address", "Values": ["10.0.1.11"]}])["NetworkInterfaces"]
    assert [e["NetworkInterfaceId"] for e in by_secondary] == [eni["NetworkInterfaceId"]]
    # a secondary address is taken: no other interface gets it
    with pytest.raises(ClientError) as err:
        ec2.create_network_interface(SubnetId=subnet["SubnetId"], PrivateIpAddress="10.0.1.11")
    assert err.value.response["Error"]["Code"] == "InvalidIPAddress.InUse"
    free = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]
    assert free["AvailableIpAddressCount"] == 251 - 6


def test_listed_addresses_without_a_primary(ec2, subnet):
    """With no address marked Primary, a listed one is the primary and no other is taken
    (hashicorp/terraform#6750: AWS returned one of the private_ips sent without Primary
    as the primary, and no extra address; moto's test_subnets.py counts on it too)."""
    eni = ec2.create_network_interface(
        SubnetId=subnet["SubnetId"],
        PrivateIpAddresses=[{"PrivateIpAddress": "10.0.1.30"},
                            {"PrivateIpAddress": "10.0.1.31"}])["NetworkInterface"]
    assert _private(eni) == [("10.0.1.30", True), ("10.0.1.31", False)]
    free = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]
    assert free["AvailableIpAddressCount"] == 251 - 2


@pytest.mark.parametrize(("params", "code"), [
    ({"SecondaryPrivateIpAddressCount": 1,
      "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.20", "Primary": True},
                             {"PrivateIpAddress": "10.0.1.21"}]},
     "InvalidParameterCombination"),
    ({"PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.20", "Primary": True},
                             {"PrivateIpAddress": "10.0.1.21", "Primary": True}]},
     "InvalidParameterValue"),
    ({"PrivateIpAddress": "10.0.1.22",
      "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.20", "Primary": True}]},
     "InvalidParameterValue"),
    ({"PrivateIpAddresses": [{"PrivateIpAddress": "10.0.2.20"}]}, "InvalidParameterValue"),
    ({"SecondaryPrivateIpAddressCount": 0}, "InvalidParameterValue"),
])
def test_secondary_private_addresses_refused(ec2, subnet, params, code):
    with pytest.raises(ClientError) as err:
        ec2.create_network_interface(SubnetId=subnet["SubnetId"], **params)
    assert err.value.response["Error"]["Code"] == code
