"""DHCP option sets through boto3: the default set, create, associate, delete, describe,
and EC2's errors. Their effect on the instances: tests/network/test_dhcp_options_network.py.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _error(call, code: str) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]
    return raised.value.response["Error"]["Message"]


def _configurations(options: dict) -> dict[str, list[str]]:
    return {c["Key"]: [v["Value"] for v in c["Values"]] for c in options["DhcpConfigurations"]}


def test_every_vpc_starts_with_the_accounts_default_set(client, make_vpc):
    ec2 = client("ec2", "444444444401", "us-west-2")
    vpc = make_vpc("10.0.0.0/16", client=ec2)
    [options] = ec2.describe_dhcp_options(DhcpOptionsIds=[vpc["DhcpOptionsId"]])["DhcpOptions"]
    assert _configurations(options) == {"domain-name": ["us-west-2.compute.internal"],
                                        "domain-name-servers": ["AmazonProvidedDNS"]}
    assert options["OwnerId"] == "444444444401"
    east = client("ec2", "444444444401", "us-east-1")
    [found] = east.describe_dhcp_options()["DhcpOptions"]
    assert _configurations(found)["domain-name"] == ["ec2.internal"]


def test_create_associate_describe_and_delete(ec2, make_vpc):
    vpc = make_vpc("10.0.0.0/16")
    options = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]},
        {"Key": "domain-name-servers", "Values": ["10.0.0.53", "AmazonProvidedDNS"]},
        {"Key": "ntp-servers", "Values": ["169.254.169.123"]},
        {"Key": "netbios-node-type", "Values": ["2"]}],
        TagSpecifications=[{"ResourceType": "dhcp-options",
                            "Tags": [{"Key": "Name", "Value": "corp"}]}])["DhcpOptions"]
    options_id = options["DhcpOptionsId"]
    assert options_id.startswith("dopt-")
    assert _configurations(options)["domain-name-servers"] == ["10.0.0.53", "AmazonProvidedDNS"]
    assert options["Tags"] == [{"Key": "Name", "Value": "corp"}]
    ec2.associate_dhcp_options(DhcpOptionsId=options_id, VpcId=vpc["VpcId"])
    assert ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["DhcpOptionsId"] == options_id
    found = ec2.describe_dhcp_options(Filters=[
        {"Name": "key", "Values": ["ntp-servers"]},
        {"Name": "value", "Values": ["corp.example"]}])["DhcpOptions"]
    assert [o["DhcpOptionsId"] for o in found] == [options_id]
    message = _error(lambda: ec2.delete_dhcp_options(DhcpOptionsId=options_id),
                     "DependencyViolation")
    assert options_id in message
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc["VpcId"])
    assert ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["DhcpOptionsId"] == "default"
    ec2.delete_dhcp_options(DhcpOptionsId=options_id)
    _error(lambda: ec2.describe_dhcp_options(DhcpOptionsIds=[options_id]),
           "InvalidDhcpOptionID.NotFound")


def test_the_default_set_deleted_stays_deleted(client, make_vpc):
    ec2 = client("ec2", "444444444402", "us-west-2")
    vpc = make_vpc("10.0.0.0/16", client=ec2)
    default = vpc["DhcpOptionsId"]
    _error(lambda: ec2.delete_dhcp_options(DhcpOptionsId=default), "DependencyViolation")
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    for other in ec2.describe_vpcs()["Vpcs"]:  # the default VPC holds it too
        ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=other["VpcId"])
    ec2.delete_dhcp_options(DhcpOptionsId=default)
    assert ec2.describe_dhcp_options()["DhcpOptions"] == []


@pytest.mark.parametrize(("configurations", "code"), [
    ([{"Key": "domain-naem", "Values": ["x"]}], "InvalidParameterValue"),
    ([{"Key": "domain-name-servers", "Values": ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4",
                                                "9.9.9.9"]}], "InvalidParameterValue"),
    ([{"Key": "domain-name-servers", "Values": ["dns.example"]}], "InvalidParameterValue"),
    ([{"Key": "netbios-node-type", "Values": ["3"]}], "InvalidParameterValue"),
    ([], "MissingParameter"),
])
def test_bad_configurations_are_refused(ec2, configurations, code):
    _error(lambda: ec2.create_dhcp_options(DhcpConfigurations=configurations), code)


def test_errors_of_the_ids(ec2, make_vpc):
    vpc = make_vpc("10.0.0.0/16")
    _error(lambda: ec2.describe_dhcp_options(DhcpOptionsIds=["dopt-nope"]),
           "InvalidDhcpOptionsId.Malformed")
    _error(lambda: ec2.associate_dhcp_options(DhcpOptionsId="dopt-0123456789abcdef0",
                                              VpcId=vpc["VpcId"]),
           "InvalidDhcpOptionID.NotFound")
    _error(lambda: ec2.associate_dhcp_options(DhcpOptionsId="default",
                                              VpcId="vpc-0123456789abcdef0"),
           "InvalidVpcID.NotFound")
    _error(lambda: ec2.delete_dhcp_options(DhcpOptionsId="dopt-0123456789abcdef0"),
           "InvalidDhcpOptionID.NotFound")
