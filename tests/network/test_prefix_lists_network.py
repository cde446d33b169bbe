"""Customer managed prefix lists in force: a route to a list is a route to each of its
blocks, a security group rule naming a list admits its blocks, and both follow the list's
versions."""

from __future__ import annotations

import pytest

from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, curl, launch

REGION = "us-west-2"


def _vpc(ec2, cidr: str) -> tuple[str, str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = ".".join(cidr.split(".")[:2])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    return vpc, subnet, table


@pytest.fixture(scope="module")
def world(network_daemon):
    """VPC A (10.0.0.0/16, a client) and VPC B (10.1.0.0/16, a web server) of one account,
    peered; A routes to B through a list, B's web group admits a list."""
    ec2 = network_daemon.client("ec2", PROVIDER, REGION)
    vpc_a, subnet_a, table_a = _vpc(ec2, "10.0.0.0/16")
    vpc_b, subnet_b, table_b = _vpc(ec2, "10.1.0.0/16")
    peering = ec2.create_vpc_peering_connection(VpcId=vpc_a, PeerVpcId=vpc_b)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    wait_for(lambda: ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering])[
        "VpcPeeringConnections"][0]["Status"]["Code"] == "pending-acceptance")
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    destinations = ec2.create_managed_prefix_list(
        PrefixListName="peer-b", AddressFamily="IPv4", MaxEntries=5,
        Entries=[{"Cidr": "10.1.1.0/24"}])["PrefixList"]["PrefixListId"]
    callers = ec2.create_managed_prefix_list(
        PrefixListName="callers", AddressFamily="IPv4", MaxEntries=5,
        Entries=[{"Cidr": "192.0.2.0/24", "Description": "nobody here"}])["PrefixList"][
        "PrefixListId"]
    group = ec2.create_security_group(GroupName="web", Description="web",
                                      VpcId=vpc_b)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
         "PrefixListIds": [{"PrefixListId": callers}]}])
    [web] = launch(ec2, subnet_b, SecurityGroupIds=[group], UserData=WEB_USER_DATA)
    [client] = launch(ec2, subnet_a)
    wait_for(lambda: ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering])[
        "VpcPeeringConnections"][0]["Status"]["Code"] == "active")
    ec2.create_route(RouteTableId=table_a, DestinationPrefixListId=destinations,
                     VpcPeeringConnectionId=peering)
    ec2.create_route(RouteTableId=table_b, DestinationCidrBlock="10.0.0.0/16",
                     VpcPeeringConnectionId=peering)
    return {"ec2": ec2, "destinations": destinations, "callers": callers, "web": web,
            "client": client["InstanceId"],
            "url": f"http://{web['PrivateIpAddress']}:{WEB_PORT}/"}


def _version(ec2, prefix_list_id: str) -> int:
    return ec2.describe_managed_prefix_lists(PrefixListIds=[prefix_list_id])[
        "PrefixLists"][0]["Version"]


def test_a_rule_naming_a_list_admits_its_blocks_and_follows_its_versions(world):
    ec2 = world["ec2"]
    assert curl(world["client"], world["url"]).returncode == 28  # 10.0.x is not listed
    ec2.modify_managed_prefix_list(PrefixListId=world["callers"],
                                   CurrentVersion=_version(ec2, world["callers"]),
                                   AddEntries=[{"Cidr": "10.0.0.0/16"}])
    wait_for(lambda: "Hello World" in curl(world["client"], world["url"]).stdout)
    ec2.modify_managed_prefix_list(PrefixListId=world["callers"],
                                   CurrentVersion=_version(ec2, world["callers"]),
                                   RemoveEntries=[{"Cidr": "10.0.0.0/16"}])
    wait_for(lambda: curl(world["client"], world["url"]).returncode == 28)


def test_a_route_to_a_list_routes_each_of_its_blocks(world):
    ec2 = world["ec2"]
    ec2.modify_managed_prefix_list(PrefixListId=world["callers"],
                                   CurrentVersion=_version(ec2, world["callers"]),
                                   AddEntries=[{"Cidr": "10.0.0.0/16"}])
    wait_for(lambda: "Hello World" in curl(world["client"], world["url"]).stdout)
    # The list's block taken away: A has no route to B's subnet any more.
    ec2.modify_managed_prefix_list(PrefixListId=world["destinations"],
                                   CurrentVersion=_version(ec2, world["destinations"]),
                                   RemoveEntries=[{"Cidr": "10.1.1.0/24"}],
                                   AddEntries=[{"Cidr": "10.1.2.0/24"}])
    wait_for(lambda: curl(world["client"], world["url"]).returncode == 28)
    associations = ec2.get_managed_prefix_list_associations(
        PrefixListId=world["destinations"])["PrefixListAssociations"]
    assert len(associations) == 1 and associations[0]["ResourceId"].startswith("rtb-")
