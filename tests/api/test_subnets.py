"""Subnets: IPv4, dual-stack and IPv6-only; zones by name and id; free address counts; errors."""

from __future__ import annotations

import ipaddress
import re

import pytest
from botocore.exceptions import ClientError

from tests.conftest import settled


def describe(ec2, subnet: dict) -> dict:
    [found] = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"]
    return found


def test_ipv4_subnet(ec2, make_vpc, make_subnet):
    vpc = make_vpc("10.0.0.0/16")
    subnet = make_subnet(vpc, "10.0.1.0/24")
    assert re.fullmatch(r"subnet-[0-9a-f]{17}", subnet["SubnetId"])
    assert subnet["VpcId"] == vpc["VpcId"]
    assert subnet["CidrBlock"] == "10.0.1.0/24"
    assert subnet["State"] == "available"
    assert subnet["OwnerId"] == "111111111111"
    assert subnet["SubnetArn"] == f"arn:aws:ec2:us-east-1:111111111111:subnet/{subnet['SubnetId']}"
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert subnet["AvailabilityZone"] in {z["ZoneName"] for z in zones}
    assert subnet["Ipv6Native"] is False
    assert subnet["AssignIpv6AddressOnCreation"] is False
    assert subnet["Ipv6CidrBlockAssociationSet"] == []
    assert describe(ec2, subnet) == subnet


def test_dual_stack_subnet(ec2, make_vpc, make_subnet, ipv6_blocks):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipv6_blocks(vpc)[1]
    subnet = make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=block)
    assert subnet["CidrBlock"] == "10.0.1.0/24"
    [association] = subnet["Ipv6CidrBlockAssociationSet"]
    assert association["Ipv6CidrBlock"] == block
    assert association["Ipv6CidrBlockState"]["State"] == "associated"
    assert subnet["Ipv6Native"] is False
    assert describe(ec2, subnet)["Ipv6CidrBlockAssociationSet"] == [association]


def test_ipv6_only_subnet(ec2, make_vpc, make_subnet, ipv6_blocks):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipv6_blocks(vpc)[0]
    subnet = make_subnet(vpc, None, Ipv6Native=True, Ipv6CidrBlock=block)
    assert subnet["Ipv6Native"] is True
    assert "CidrBlock" not in subnet
    assert subnet["AssignIpv6AddressOnCreation"] is True
    assert [a["Ipv6CidrBlock"] for a in subnet["Ipv6CidrBlockAssociationSet"]] == [block]
    assert describe(ec2, subnet)["Ipv6Native"] is True


def test_ipv6_block_must_lie_in_the_vpc_block(ec2, make_vpc):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    with pytest.raises(ClientError) as err:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                          Ipv6CidrBlock="2001:db8::/64")
    assert err.value.response["Error"]["Code"] == "InvalidSubnet.Range"


@pytest.mark.parametrize("prefix", [56, 60, 64])
def test_ipv6_blocks_of_56_to_64(ec2, make_vpc, make_subnet, launch, prefix):
    """CreateSubnet's reference allows an IPv6 subnet between /44 and /64; moto's
    aws_verified test_create_ipv6native_subnet (tests/test_ec2/test_subnets.py) makes one of
    the VPC's whole /56."""
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipaddress.IPv6Network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    wanted = str(next(block.subnets(new_prefix=prefix)))
    subnet = make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=wanted)
    assert [a["Ipv6CidrBlock"] for a in subnet["Ipv6CidrBlockAssociationSet"]] == [wanted]
    [instance] = launch(subnet, Ipv6AddressCount=1)
    assert ipaddress.IPv6Address(instance["Ipv6Address"]) in ipaddress.IPv6Network(wanted)


@pytest.mark.parametrize("prefix", [65, 80])
def test_ipv6_blocks_smaller_than_64_are_refused(ec2, make_vpc, prefix):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipaddress.IPv6Network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    with pytest.raises(ClientError) as err:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                          Ipv6CidrBlock=str(next(block.subnets(new_prefix=prefix))))
    assert err.value.response["Error"]["Code"] == "InvalidSubnet.Range"


@pytest.mark.parametrize(("params", "code", "message"), [
    ({}, "MissingParameter", "Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided."),
    ({"CidrBlock": "10.0.0.0/24"}, "MissingParameter",
     "Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided."),
    ({"CidrBlock": "10.0.0.0/24", "Ipv6CidrBlock": "BLOCK"}, "InvalidParameterCombination",
     "When specifying ipv4 parameters, cidrBlock or ipv4IpamPoolId, you cannot set "
     "ipv6Native to true."),
])
def test_ipv6_native_refusals_as_aws_words_them(ec2, make_vpc, ipv6_blocks, params, code,
                                                message):
    """moto's aws_verified test_create_ipv6native_subnet_without_cidr, _with_ipv4_cidr and
    _with_ipv4_and_ipv6_cidr (tests/test_ec2/test_subnets.py)."""
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    if params.get("Ipv6CidrBlock"):
        params = {**params, "Ipv6CidrBlock": ipv6_blocks(vpc)[0]}
    with pytest.raises(ClientError) as err:
        ec2.create_subnet(VpcId=vpc["VpcId"], Ipv6Native=True, **params)
    assert err.value.response["Error"] == {"Code": code, "Message": message}


def test_subnet_in_zone_by_name_and_by_id(ec2, make_vpc, make_subnet):
    vpc = make_vpc("10.0.0.0/16")
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    for index, zone in enumerate(zones):
        by_name = make_subnet(vpc, f"10.0.{2 * index}.0/24", AvailabilityZone=zone["ZoneName"])
        assert (by_name["AvailabilityZone"], by_name["AvailabilityZoneId"]) == \
            (zone["ZoneName"], zone["ZoneId"])
        by_id = make_subnet(vpc, f"10.0.{2 * index + 1}.0/24", AvailabilityZoneId=zone["ZoneId"])
        assert (by_id["AvailabilityZone"], by_id["AvailabilityZoneId"]) == \
            (zone["ZoneName"], zone["ZoneId"])


@pytest.mark.parametrize("zone", [{"AvailabilityZone": "us-east-1z"},
                                  {"AvailabilityZone": "eu-west-1a"},
                                  {"AvailabilityZoneId": "use1-az9"}])
def test_subnet_in_an_unknown_zone(ec2, make_vpc, zone):
    vpc = make_vpc("10.0.0.0/16")
    with pytest.raises(ClientError) as err:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24", **zone)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_available_addresses_are_size_minus_five_and_follow_instances(ec2, make_vpc, make_subnet,
                                                                      launch):
    vpc = make_vpc("10.0.0.0/16")
    small = make_subnet(vpc, "10.0.1.0/28")
    large = make_subnet(vpc, "10.0.16.0/20")
    assert small["AvailableIpAddressCount"] == 16 - 5
    assert large["AvailableIpAddressCount"] == 4096 - 5
    [instance] = launch(small)
    assert describe(ec2, small)["AvailableIpAddressCount"] == 10
    launch(small, 2)
    assert describe(ec2, small)["AvailableIpAddressCount"] == 8
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    assert describe(ec2, small)["AvailableIpAddressCount"] == 9
    assert describe(ec2, large)["AvailableIpAddressCount"] == 4096 - 5


@pytest.mark.parametrize("cidr", ["10.1.0.0/24", "10.0.0.0/15", "10.0.1.0/29", "9.255.255.0/24"])
def test_subnet_block_outside_the_vpc_or_too_small(ec2, make_vpc, cidr):
    vpc = make_vpc("10.0.0.0/16")
    with pytest.raises(ClientError) as err:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr)
    assert err.value.response["Error"]["Code"] == "InvalidSubnet.Range"


@pytest.mark.parametrize("cidr", ["10.0.1.0/24", "10.0.1.128/25", "10.0.0.0/23"])
def test_overlapping_subnets_conflict(ec2, make_vpc, make_subnet, cidr):
    vpc = make_vpc("10.0.0.0/16")
    make_subnet(vpc, "10.0.1.0/24")
    with pytest.raises(ClientError) as err:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr)
    assert err.value.response["Error"]["Code"] == "InvalidSubnet.Conflict"


def test_same_block_in_two_vpcs_is_fine(make_vpc, make_subnet):
    first, second = make_vpc("10.0.0.0/16"), make_vpc("10.0.0.0/16")
    assert make_subnet(first, "10.0.1.0/24")["CidrBlock"] == \
        make_subnet(second, "10.0.1.0/24")["CidrBlock"]


def test_delete_subnet_is_refused_while_an_instance_has_an_interface_in_it(ec2, make_vpc,
                                                                           make_subnet, launch):
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.1.0/24")
    [instance] = launch(subnet)
    with pytest.raises(ClientError) as err:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    assert err.value.response["Error"]["Code"] == "DependencyViolation"
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    settled(ec2, [instance["InstanceId"]])
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    with pytest.raises(ClientError) as err:
        ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])
    assert err.value.response["Error"]["Code"] == "InvalidSubnetID.NotFound"


def test_delete_subnet_is_refused_while_a_network_interface_is_in_it(ec2, make_vpc, make_subnet):
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.1.0/24")
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    with pytest.raises(ClientError) as err:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    assert err.value.response["Error"]["Code"] == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])


def test_modify_subnet_attribute(ec2, make_vpc, make_subnet, launch, ipv6_blocks):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    block = ipv6_blocks(vpc)[0]
    subnet = make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=block)
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    assert describe(ec2, subnet)["MapPublicIpOnLaunch"] is True
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"],
                                AssignIpv6AddressOnCreation={"Value": True})
    assert describe(ec2, subnet)["AssignIpv6AddressOnCreation"] is True
    [instance] = launch(subnet)
    [address] = instance["NetworkInterfaces"][0]["Ipv6Addresses"]
    assert ipaddress.IPv6Address(address["Ipv6Address"]) in ipaddress.IPv6Network(block)
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": False})
    assert describe(ec2, subnet)["MapPublicIpOnLaunch"] is False


def test_an_attribute_pocketlink_cannot_apply_is_refused_not_ignored(ec2, make_vpc, make_subnet):
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.1.0/24")
    with pytest.raises(ClientError) as err:
        ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], EnableDns64={"Value": True})
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert describe(ec2, subnet)["EnableDns64"] is False


def test_associate_an_ipv6_block_with_an_ipv4_subnet(ec2, make_vpc, make_subnet, ipv6_blocks):
    vpc = make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    first, second = ipv6_blocks(vpc)[:2]
    taken = make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=first)
    subnet = make_subnet(vpc, "10.0.2.0/24")
    with pytest.raises(ClientError) as err:
        ec2.associate_subnet_cidr_block(SubnetId=subnet["SubnetId"], Ipv6CidrBlock=first)
    assert err.value.response["Error"]["Code"] == "InvalidSubnet.Conflict"
    answer = ec2.associate_subnet_cidr_block(SubnetId=subnet["SubnetId"], Ipv6CidrBlock=second)
    assert answer["SubnetId"] == subnet["SubnetId"]
    association = answer["Ipv6CidrBlockAssociation"]
    assert association["Ipv6CidrBlock"] == second
    assert association["Ipv6CidrBlockState"]["State"] == "associated"
    assert describe(ec2, subnet)["Ipv6CidrBlockAssociationSet"] == [association]
    assert describe(ec2, taken)["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"] == first


def test_describe_subnets_filters(ec2, make_vpc, make_subnet):
    vpc = make_vpc("10.0.0.0/16")
    first = make_subnet(vpc, "10.0.1.0/24", AvailabilityZone="us-east-1a")
    second = make_subnet(vpc, "10.0.2.0/24", AvailabilityZone="us-east-1b")

    def ids(name: str, values: list[str]) -> set[str]:
        filters = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}, {"Name": name, "Values": values}]
        return {s["SubnetId"] for s in ec2.describe_subnets(Filters=filters)["Subnets"]}

    assert ids("vpc-id", [vpc["VpcId"]]) == {first["SubnetId"], second["SubnetId"]}
    assert ids("cidr-block", ["10.0.2.0/24"]) == {second["SubnetId"]}
    assert ids("availability-zone", ["us-east-1a"]) == {first["SubnetId"]}
    assert ids("subnet-id", [first["SubnetId"]]) == {first["SubnetId"]}
    assert ids("state", ["available"]) == {first["SubnetId"], second["SubnetId"]}


def test_unknown_and_malformed_subnet_ids(ec2):
    with pytest.raises(ClientError) as err:
        ec2.describe_subnets(SubnetIds=["subnet-0123456789abcdef0"])
    assert err.value.response["Error"]["Code"] == "InvalidSubnetID.NotFound"
    with pytest.raises(ClientError) as err:
        ec2.delete_subnet(SubnetId="subnet-nope")
    assert err.value.response["Error"]["Code"] == "InvalidSubnetID.Malformed"


def test_subnet_in_an_unknown_vpc(ec2):
    with pytest.raises(ClientError) as err:
        ec2.create_subnet(VpcId="vpc-0123456789abcdef0", CidrBlock="10.0.1.0/24")
    assert err.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"


def test_resource_name_records_on_launch(ec2, make_vpc, make_subnet, launch):
    """ModifySubnetAttribute EnableResourceNameDnsARecordOnLaunch (API reference; moto's
    test_private_dns_name_options): the subnet shows it and an instance launched there
    carries it in PrivateDnsNameOptions (its name in the resolver: tests/dns)."""
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.1.0/24")
    options = describe(ec2, subnet)["PrivateDnsNameOptionsOnLaunch"]
    assert options == {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                       "EnableResourceNameDnsAAAARecord": False}
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"],
                                EnableResourceNameDnsARecordOnLaunch={"Value": True})
    options = describe(ec2, subnet)["PrivateDnsNameOptionsOnLaunch"]
    assert options["EnableResourceNameDnsARecord"] is True
    assert options["EnableResourceNameDnsAAAARecord"] is False
    [instance] = launch(subnet)
    assert instance["PrivateDnsNameOptions"]["EnableResourceNameDnsARecord"] is True
