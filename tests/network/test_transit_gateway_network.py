"""A transit gateway with traffic: three VPCs attached, A and B associated with one route
table that both propagate into, C with a table of its own that knows only C. A's instance
reaches B's web server by its private address through the gateway's router; it does not
reach C's; a blackhole route in the table stops A->B, and so does deleting B's attachment.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, curl, launch

REGION = "us-west-2"


def _vpc(ec2, cidr: str) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = ".".join(cidr.split(".")[:2])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.1.0/24")["Subnet"]["SubnetId"]
    return vpc, subnet


def _web_group(ec2, vpc: str) -> str:
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    return group


def _main_table(ec2, vpc: str) -> str:
    return ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}])[
        "RouteTables"][0]["RouteTableId"]


def _state(ec2, attachment_id: str) -> str:
    return ec2.describe_transit_gateway_vpc_attachments(
        TransitGatewayAttachmentIds=[attachment_id])["TransitGatewayVpcAttachments"][0]["State"]


@pytest.fixture(scope="module")
def world(network_daemon):
    ec2 = network_daemon.client("ec2", PROVIDER, REGION)
    vpcs = {name: _vpc(ec2, cidr) for name, cidr in
            (("a", "10.70.0.0/16"), ("b", "10.71.0.0/16"), ("c", "10.72.0.0/16"))}
    gateway = ec2.create_transit_gateway(Options={
        "DefaultRouteTableAssociation": "disable", "DefaultRouteTablePropagation": "disable"}
        )["TransitGateway"]["TransitGatewayId"]
    wait_for(lambda: ec2.describe_transit_gateways(TransitGatewayIds=[gateway])[
        "TransitGateways"][0]["State"] == "available")
    shared, alone = (ec2.create_transit_gateway_route_table(TransitGatewayId=gateway)[
        "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"] for _ in range(2))
    attachments = {}
    for name, (vpc, subnet) in vpcs.items():
        attachments[name] = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=gateway, VpcId=vpc, SubnetIds=[subnet])[
            "TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    for name, attachment in attachments.items():
        wait_for(lambda a=attachment: _state(ec2, a) == "available")
        table = alone if name == "c" else shared
        ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=table,
                                                  TransitGatewayAttachmentId=attachment)
        ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=attachment)
        ec2.create_route(RouteTableId=_main_table(ec2, vpcs[name][0]),
                         DestinationCidrBlock="10.0.0.0/8", TransitGatewayId=gateway)
    [web_b] = launch(ec2, vpcs["b"][1], SecurityGroupIds=[_web_group(ec2, vpcs["b"][0])],
                     UserData=WEB_USER_DATA)
    [web_c] = launch(ec2, vpcs["c"][1], SecurityGroupIds=[_web_group(ec2, vpcs["c"][0])],
                     UserData=WEB_USER_DATA)
    [client] = launch(ec2, vpcs["a"][1])
    return {"ec2": ec2, "gateway": gateway, "shared": shared, "attachments": attachments,
            "client": client["InstanceId"],
            "b": f"http://{web_b['PrivateIpAddress']}:{WEB_PORT}/",
            "c": f"http://{web_c['PrivateIpAddress']}:{WEB_PORT}/"}


def test_a_reaches_b_through_the_gateway_but_not_c(world):
    # The gateway is a router namespace of its own, between the VPCs' routers.
    assert os.path.exists(f"/run/netns/pl-{world['gateway']}")
    wait_for(lambda: "Hello World" in curl(world["client"], world["b"]).stdout)
    # C's attachment is associated with a table that has no route to A, and A's table has
    # none to C: the gateway drops A's packets (no answer, no ICMP).
    assert curl(world["client"], world["c"]).returncode == 28


def test_a_blackhole_route_in_the_table_stops_a_to_b(world):
    ec2, table = world["ec2"], world["shared"]
    wait_for(lambda: "Hello World" in curl(world["client"], world["b"]).stdout)
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.71.0.0/16", Blackhole=True)
    wait_for(lambda: curl(world["client"], world["b"]).returncode == 28)
    ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.71.0.0/16")
    wait_for(lambda: "Hello World" in curl(world["client"], world["b"]).stdout)


def test_the_path_comes_back_after_a_restart(network_daemon, world):
    network_daemon.restart()
    wait_for(lambda: "Hello World" in curl(world["client"], world["b"]).stdout)


def test_deleting_b_attachment_stops_a_to_b(world):
    ec2, attachment = world["ec2"], world["attachments"]["b"]
    wait_for(lambda: "Hello World" in curl(world["client"], world["b"]).stdout)
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment)
    wait_for(lambda: _state(ec2, attachment) == "deleted")
    assert curl(world["client"], world["b"]).returncode == 28
