"""A small world in an in-memory store, for the pure planners: no daemon, no root."""

from __future__ import annotations

import pytest

from pocketlink.daemon import KINDS
from pocketlink.model.ec2 import Instance, NetworkInterface, RouteTable, Subnet, Vpc
from pocketlink.model.elbv2 import Listener, LoadBalancer, LoadBalancerNode, TargetGroup
from pocketlink.model.privatelink import EndpointService, VpcEndpoint
from pocketlink.store import Store

ACCOUNT = "111111111111"
REGION = "us-west-2"
VPC = "vpc-00000000000000001"
PROVIDER_VPC = "vpc-00000000000000002"
SUBNET = "subnet-00000000000000001"
PROVIDER_SUBNET = "subnet-00000000000000002"
BALANCER = "arn:aws:elasticloadbalancing:us-west-2:111111111111:loadbalancer/net/web/0123456789abcdef"
GROUP = "arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/web/0123456789abcdef"
SERVICE = "vpce-svc-00000000000000001"


def common(**fields) -> dict:
    return {"account": ACCOUNT, "region": REGION, **fields}


def world(store: Store) -> None:
    """A consumer VPC and a provider VPC with an NLB behind an endpoint service."""
    with store.transaction() as tx:
        for vpc, subnet, cidr in ((VPC, SUBNET, "10.0"), (PROVIDER_VPC, PROVIDER_SUBNET, "10.1")):
            table = "rtb-" + vpc[4:]
            tx.put(Vpc(**common(id=vpc, cidr_block=f"{cidr}.0.0/16", main_route_table_id=table)))
            tx.put(RouteTable(**common(id=table, vpc_id=vpc)))
            tx.put(Subnet(**common(id=subnet, vpc_id=vpc, cidr_block=f"{cidr}.1.0/24",
                                   availability_zone="us-west-2a",
                                   availability_zone_id="usw2-az1")))
        tx.put(NetworkInterface(**common(
            id="eni-00000000000000009", vpc_id=PROVIDER_VPC, subnet_id=PROVIDER_SUBNET,
            availability_zone="us-west-2a", private_ip_address="10.1.1.9",
            interface_type="network_load_balancer")))
        tx.put(LoadBalancer(**common(
            id=BALANCER, name="web", load_balancer_id="0123456789abcdef", scheme="internal",
            vpc_id=PROVIDER_VPC, ip_address_type="ipv4", dns_name="web.elb", state="active",
            nodes=[LoadBalancerNode(subnet_id=PROVIDER_SUBNET, availability_zone="us-west-2a",
                                    network_interface_id="eni-00000000000000009",
                                    private_ipv4_address="10.1.1.9")])))
        tx.put(TargetGroup(**common(id=GROUP, name="web", protocol="TCP", port=80,
                                    vpc_id=PROVIDER_VPC, target_type="ip")))
        tx.put(Listener(**common(id=BALANCER + "/listener", load_balancer_arn=BALANCER,
                                 protocol="TCP", port=80, target_group_arn=GROUP)))
        tx.put(EndpointService(**common(id=SERVICE, service_name="com.amazonaws.vpce.x",
                                        network_load_balancer_arns=[BALANCER])))


def add_endpoint(store: Store, number: int, state: str) -> VpcEndpoint:
    eni = f"eni-1{number:016d}"
    endpoint = VpcEndpoint(**common(
        id=f"vpce-{number:017d}", vpc_id=VPC, service_name="com.amazonaws.vpce.x",
        service_id=SERVICE, service_owner=ACCOUNT, endpoint_type="Interface", state=state,
        subnet_ids=[SUBNET], network_interface_ids=[eni]))
    with store.transaction() as tx:
        tx.put(NetworkInterface(**common(id=eni, vpc_id=VPC, subnet_id=SUBNET,
                                         availability_zone="us-west-2a",
                                         private_ip_address=f"10.0.1.{100 + number}",
                                         interface_type="vpc_endpoint")))
        tx.put(endpoint)
    return endpoint


def add_instance(store: Store, number: int, state: str) -> Instance:
    eni = f"eni-2{number:016d}"
    instance = Instance(**common(
        id=f"i-{number:017d}", reservation_id="r-0", image_id="ami-0", instance_type="t3.micro",
        subnet_id=SUBNET, vpc_id=VPC, availability_zone="us-west-2a", network_interface_id=eni,
        private_ip_address=f"10.0.1.{10 + number}", state=state))
    with store.transaction() as tx:
        tx.put(NetworkInterface(**common(id=eni, vpc_id=VPC, subnet_id=SUBNET,
                                         availability_zone="us-west-2a",
                                         private_ip_address=f"10.0.1.{10 + number}",
                                         mac_address="02:00:00:00:00:01")))
        tx.put(instance)
    return instance


@pytest.fixture
def store():
    memory = Store(":memory:", KINDS)
    world(memory)
    yield memory
    memory.close()
