"""DHCP option sets reach the instances: their resolv.conf names the set's DNS servers and
search domains, and follows a new association at once."""

from __future__ import annotations

import pytest

from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import launch, run_in

REGION = "us-west-2"


@pytest.fixture(scope="module")
def world(network_daemon):
    ec2 = network_daemon.client("ec2", PROVIDER, REGION)
    route53 = network_daemon.client("route53", PROVIDER, REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    [instance] = launch(ec2, subnet)
    zone = route53.create_hosted_zone(
        Name="corp.example", CallerReference="dhcp-test",
        VPC={"VPCRegion": REGION, "VPCId": vpc},
        HostedZoneConfig={"PrivateZone": True})["HostedZone"]
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "db.corp.example", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "10.0.1.99"}]}}]})
    return {"ec2": ec2, "vpc": vpc, "instance": instance}


def _resolv_conf(world) -> str:
    return run_in(world["instance"]["InstanceId"], "cat", "/etc/resolv.conf").stdout


def _lookup(world, name: str) -> str:
    return run_in(world["instance"]["InstanceId"], "getent", "hosts", name).stdout.strip()


def test_the_default_set_gives_amazon_dns_and_the_regions_domain(world):
    conf = _resolv_conf(world)
    assert "nameserver 10.0.0.2" in conf
    assert f"search {REGION}.compute.internal" in conf
    short = world["instance"]["PrivateDnsName"].split(".")[0]  # ip-10-0-1-x
    assert _lookup(world, short).split()[0] == world["instance"]["PrivateIpAddress"]


def test_a_new_set_reaches_the_instance_and_its_domain_searches(world):
    ec2 = world["ec2"]
    options = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]},
        {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]}])["DhcpOptions"]
    assert _lookup(world, "db") == ""
    ec2.associate_dhcp_options(DhcpOptionsId=options["DhcpOptionsId"], VpcId=world["vpc"])
    wait_for(lambda: "search corp.example" in _resolv_conf(world))
    assert _lookup(world, "db").split()[0] == "10.0.1.99"


def test_custom_servers_and_no_set_at_all(world):
    ec2 = world["ec2"]
    options = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["a.example b.example"]},
        {"Key": "domain-name-servers", "Values": ["10.0.1.53", "AmazonProvidedDNS"]}])[
        "DhcpOptions"]
    ec2.associate_dhcp_options(DhcpOptionsId=options["DhcpOptionsId"], VpcId=world["vpc"])
    wait_for(lambda: "search a.example b.example" in _resolv_conf(world))
    assert [line for line in _resolv_conf(world).splitlines()
            if line.startswith("nameserver")] == ["nameserver 10.0.1.53", "nameserver 10.0.0.2"]
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=world["vpc"])
    wait_for(lambda: "nameserver" not in _resolv_conf(world))
    assert "search" not in _resolv_conf(world)
