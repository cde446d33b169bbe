"""Network tests: a daemon that builds namespaces (root only), and ways into them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from pocketlink.polling import PATIENCE
from tests.conftest import ipv6_subnet, settled

AMI = "ami-0123456789abcdef0"
WEB_PORT = 8080
# A web server that says who it is, started by UserData as on EC2.
WEB_USER_DATA = f"""#!/bin/sh
mkdir -p /tmp/www-$$ && cd /tmp/www-$$
echo "<h1>Hello World from $(cat /proc/sys/kernel/hostname)</h1>" > index.html
exec python3 -m http.server {WEB_PORT} --bind ::
"""


def pytest_collection_modifyitems(items):
    if os.geteuid() != 0:
        for item in items:
            if "tests/network" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason="network tests need root"))


@pytest.fixture(scope="module")
def network_daemon(make_daemon):
    return make_daemon()


@dataclass(frozen=True)
class PublicSubnet:
    vpc: str
    igw: str
    subnet: str
    table: str  # the subnet's own route table, its default route to the gateway


@pytest.fixture(scope="module")
def public_subnet(network_daemon) -> PublicSubnet:
    """A VPC (10.0.0.0/16) with an attached internet gateway and a public subnet
    (10.0.1.0/24): public IPs on launch, its own route table whose 0.0.0.0/0 goes to the
    gateway. What the internet's tests build on."""
    ec2 = network_daemon.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    return PublicSubnet(vpc, igw, subnet, table)


def run_in(instance_id: str, *command: str, timeout: float = PATIENCE) -> subprocess.CompletedProcess:
    """``pocketlink exec INSTANCE -- COMMAND``: as a person would type it."""
    return subprocess.run([sys.executable, "-m", "pocketlink", "exec", instance_id, "--",
                           *command], capture_output=True, text=True, timeout=timeout)


def curl(instance_id: str, url: str, *options: str) -> subprocess.CompletedProcess:
    return run_in(instance_id, "curl", "-s", "-m", "3", *options, url)


def launch(ec2, subnet_id: str, count: int = 1, **params) -> list[dict]:
    params.setdefault("ImageId", AMI)
    instances = ec2.run_instances(MinCount=count, MaxCount=count, SubnetId=subnet_id,
                                  **params)["Instances"]
    states = settled(ec2, [i["InstanceId"] for i in instances])
    assert set(states.values()) == {"running"}, states
    return instances


def web_group(ec2, vpc_id: str, port: int = WEB_PORT, ipv6: bool = False) -> str:
    """A security group "web" that lets the VPC's 10.0.0.0/16 (and, with ``ipv6``, any IPv6
    peer) reach ``port``: its id."""
    group = ec2.create_security_group(GroupName="web", Description="web",
                                      VpcId=vpc_id)["GroupId"]
    permission = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                  "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
    if ipv6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": "::/0"}]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    return group


def dual_stack_vpc(ec2, cidr: str = "10.0.0.0/16", hostnames: bool = True) -> tuple[dict, str]:
    """A dual-stack VPC with one subnet (x.y.1.0/24 and the first /64)."""
    vpc = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    if hostnames:
        ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    base = cidr.split(".")
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"{base[0]}.{base[1]}.1.0/24",
                               Ipv6CidrBlock=ipv6_subnet(block, 1))["Subnet"]
    return vpc, subnet["SubnetId"]
