"""Fixtures of the boto3 API tests: clients that check every error's wire form, resource makers.

Every client made here refuses an error that is not a proper AWS error: each one must carry
a code other than ``InternalError`` and come with HTTP 400 (412 for ``DryRunOperation``).
The makers create fresh resources for one test; the daemon is shared by the whole session.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from tests.conftest import check_aws_error, settled

AMI = "ami-0123456789abcdef0"


@pytest.fixture
def client(daemon) -> Callable:
    """``client(service, account, region, **kw)``: a boto3 client whose errors are checked."""

    def make(service: str = "ec2", account: str = "111111111111", region: str = "us-east-1",
             **kwargs):
        made = daemon.client(service, account, region, **kwargs)
        made.meta.events.register("after-call", check_aws_error)
        return made

    return make


@pytest.fixture
def ec2(client):
    return client("ec2", "111111111111")


@pytest.fixture
def consumer_ec2(client):
    return client("ec2", "222222222222")


@pytest.fixture
def make_vpc(ec2) -> Callable[..., dict]:
    """``make_vpc(cidr, client=..., **CreateVpc params)``: the new VPC as CreateVpc describes it."""

    def make(cidr: str = "10.0.0.0/16", *, client=None, **params) -> dict:
        return (client or ec2).create_vpc(CidrBlock=cidr, **params)["Vpc"]

    return make


@pytest.fixture
def make_subnet(ec2) -> Callable[..., dict]:
    """``make_subnet(vpc, cidr, client=..., **CreateSubnet params)``; ``cidr=None`` for IPv6-only."""

    def make(vpc: dict, cidr: str | None = "10.0.1.0/24", *, client=None, **params) -> dict:
        if cidr is not None:
            params["CidrBlock"] = cidr
        return (client or ec2).create_subnet(VpcId=vpc["VpcId"], **params)["Subnet"]

    return make


@pytest.fixture
def launch(ec2) -> Callable[..., list[dict]]:
    """``launch(subnet, count, client=..., **RunInstances params)``: the instances RunInstances gives."""

    def run(subnet: dict, count: int = 1, *, client=None, **params) -> list[dict]:
        params.setdefault("ImageId", AMI)
        instances = (client or ec2).run_instances(MinCount=count, MaxCount=count,
                                                  SubnetId=subnet["SubnetId"], **params)["Instances"]
        settled(client or ec2, [i["InstanceId"] for i in instances])
        return instances

    return run


def ipv6_subnets(vpc: dict) -> list[str]:
    """The first few /64s of a VPC's IPv6 /56, for dual-stack and IPv6-only subnets."""
    block = ipaddress.IPv6Network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    return [str(net) for net, _ in zip(block.subnets(new_prefix=64), range(4), strict=False)]


@pytest.fixture
def ipv6_blocks() -> Callable[[dict], list[str]]:
    return ipv6_subnets
