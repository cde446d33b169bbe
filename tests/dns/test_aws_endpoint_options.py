"""S3's interface endpoint names and private DNS options, through the API (no root): AWS's
``*.vpce-...s3.<region>.vpce.amazonaws.com`` DnsEntries, private DNS off by default, and
``PrivateDnsOnlyForInboundResolverEndpoint`` with its gateway endpoint condition."""

from __future__ import annotations

import re

import pytest

from pocketlink.polling import wait_for
from tests.privatelink.conftest import aws_error, new_account

REGION = "us-west-2"
S3 = f"com.amazonaws.{REGION}.s3"
SSM = f"com.amazonaws.{REGION}.ssm"
NEEDS_GATEWAY = ("To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC must have a "
                 "Gateway endpoint for the service.")


@pytest.fixture
def vpc(daemon):
    ec2 = daemon.client("ec2", new_account(), REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24",
                               AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    return ec2, vpc_id, subnet


def interface(vpc, service: str = S3, **params) -> dict:
    ec2, vpc_id, subnet = vpc
    return ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=service, SubnetIds=[subnet],
                                   VpcEndpointType="Interface", **params)["VpcEndpoint"]


def test_s3_dns_entries_are_wildcards(vpc):
    endpoint = interface(vpc)
    names = [e["DnsName"] for e in endpoint["DnsEntries"]]
    label = rf"{endpoint['VpcEndpointId']}-[a-z0-9]{{8}}"
    assert re.fullmatch(rf"\*\.{label}\.s3\.{REGION}\.vpce\.amazonaws\.com", names[0])
    assert re.fullmatch(rf"\*\.{label}-{REGION}a\.s3\.{REGION}\.vpce\.amazonaws\.com", names[1])
    assert len(names) == 2  # private DNS is off unless asked for
    assert (endpoint["PrivateDnsEnabled"], endpoint["DnsOptions"][
        "PrivateDnsOnlyForInboundResolverEndpoint"]) == (False, False)


def test_s3_private_dns_needs_the_gateway_endpoint_unless_for_every_resolver(vpc):
    ec2, vpc_id, _ = vpc
    with aws_error("InvalidParameter", NEEDS_GATEWAY):
        interface(vpc, PrivateDnsEnabled=True)
    everyone = interface(vpc, PrivateDnsEnabled=True,
                         DnsOptions={"PrivateDnsOnlyForInboundResolverEndpoint": False})
    assert [e["DnsName"] for e in everyone["DnsEntries"][2:]] == [
        f"s3.{REGION}.amazonaws.com", f"*.s3.{REGION}.amazonaws.com"]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[everyone["VpcEndpointId"]])
    wait_for(lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[everyone["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"] == "deleted", "deleted")  # until then it owns the names
    ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=S3, VpcEndpointType="Gateway")
    endpoint = interface(vpc, PrivateDnsEnabled=True)
    assert endpoint["DnsOptions"]["PrivateDnsOnlyForInboundResolverEndpoint"] is True
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], PrivateDnsEnabled=False)
    [found] = ec2.describe_vpc_endpoints(
        VpcEndpointIds=[endpoint["VpcEndpointId"]])["VpcEndpoints"]
    assert (found["PrivateDnsEnabled"], found["DnsOptions"][
        "PrivateDnsOnlyForInboundResolverEndpoint"]) == (False, False)


def test_the_inbound_resolver_option_is_for_gateway_services_only(vpc):
    with aws_error("InvalidParameter"):
        interface(vpc, SSM, DnsOptions={"PrivateDnsOnlyForInboundResolverEndpoint": True})
