"""Route tables: local routes, subnet associations, routes to instances and interfaces."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.conftest import settled


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)


@pytest.fixture
def subnet(make_subnet, vpc) -> dict:
    return make_subnet(vpc, "10.0.1.0/24")


@pytest.fixture
def table(ec2, vpc) -> dict:
    return ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]


def describe(ec2, table_id: str) -> dict:
    [found] = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
    return found


def main_table(ec2, vpc: dict) -> dict:
    [found] = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    return found


def route_to(table: dict, destination: str) -> dict:
    [route] = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == destination]
    return route


def test_a_new_table_has_the_local_routes_and_no_associations(table, vpc):
    assert re.fullmatch(r"rtb-[0-9a-f]{17}", table["RouteTableId"])
    assert table["VpcId"] == vpc["VpcId"]
    assert table["Associations"] == []
    ipv6 = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    assert sorted((r.get("DestinationCidrBlock") or r["DestinationIpv6CidrBlock"], r["GatewayId"],
                   r["Origin"], r["State"]) for r in table["Routes"]) == sorted([
        ("10.0.0.0/16", "local", "CreateRouteTable", "active"),
        (ipv6, "local", "CreateRouteTable", "active")])


def test_associate_and_disassociate_a_subnet(ec2, table, subnet):
    answer = ec2.associate_route_table(RouteTableId=table["RouteTableId"],
                                       SubnetId=subnet["SubnetId"])
    association_id = answer["AssociationId"]
    assert association_id.startswith("rtbassoc-")
    assert answer["AssociationState"]["State"] == "associated"
    [association] = describe(ec2, table["RouteTableId"])["Associations"]
    assert (association["RouteTableAssociationId"], association["SubnetId"],
            association["Main"]) == (association_id, subnet["SubnetId"], False)
    found = ec2.describe_route_tables(Filters=[
        {"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [table["RouteTableId"]]
    ec2.disassociate_route_table(AssociationId=association_id)
    assert describe(ec2, table["RouteTableId"])["Associations"] == []
    with pytest.raises(ClientError) as err:
        ec2.disassociate_route_table(AssociationId=association_id)
    assert err.value.response["Error"]["Code"] == "InvalidAssociationID.NotFound"


def test_a_subnet_has_one_explicit_association(ec2, vpc, table, subnet):
    ec2.associate_route_table(RouteTableId=table["RouteTableId"], SubnetId=subnet["SubnetId"])
    other = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]
    with pytest.raises(ClientError) as err:
        ec2.associate_route_table(RouteTableId=other["RouteTableId"], SubnetId=subnet["SubnetId"])
    assert err.value.response["Error"]["Code"] == "Resource.AlreadyAssociated"


def test_a_second_association_with_the_same_table_is_refused(ec2, table, subnet):
    """AWS refuses it as it refuses another table (moto gives back the association it has):
    pulumi/pulumi-aws#3911 met "the association already existed" when it associated a subnet
    with the table it had been moved to; the words are AWS's from
    hashicorp/terraform-provider-aws#38960."""
    ec2.associate_route_table(RouteTableId=table["RouteTableId"], SubnetId=subnet["SubnetId"])
    with pytest.raises(ClientError) as err:
        ec2.associate_route_table(RouteTableId=table["RouteTableId"], SubnetId=subnet["SubnetId"])
    assert err.value.response["Error"]["Code"] == "Resource.AlreadyAssociated"
    assert err.value.response["Error"]["Message"] == (
        f"the specified association for route table {table['RouteTableId']} conflicts with "
        "an existing association")


def test_replace_a_subnet_association(ec2, vpc, table, subnet):
    old = ec2.associate_route_table(RouteTableId=table["RouteTableId"],
                                    SubnetId=subnet["SubnetId"])["AssociationId"]
    other = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]
    new = ec2.replace_route_table_association(AssociationId=old,
                                              RouteTableId=other["RouteTableId"])
    assert new["NewAssociationId"] != old
    assert describe(ec2, table["RouteTableId"])["Associations"] == []
    [association] = describe(ec2, other["RouteTableId"])["Associations"]
    assert (association["RouteTableAssociationId"], association["SubnetId"]) == \
        (new["NewAssociationId"], subnet["SubnetId"])


def test_replace_the_main_association(ec2, vpc, table):
    original = main_table(ec2, vpc)
    [main] = original["Associations"]
    ec2.replace_route_table_association(AssociationId=main["RouteTableAssociationId"],
                                        RouteTableId=table["RouteTableId"])
    assert main_table(ec2, vpc)["RouteTableId"] == table["RouteTableId"]
    assert describe(ec2, original["RouteTableId"])["Associations"] == []


def test_delete_route_table(ec2, vpc, table, subnet):
    association = ec2.associate_route_table(RouteTableId=table["RouteTableId"],
                                            SubnetId=subnet["SubnetId"])["AssociationId"]
    with pytest.raises(ClientError) as err:
        ec2.delete_route_table(RouteTableId=table["RouteTableId"])
    assert err.value.response["Error"]["Code"] == "DependencyViolation"
    with pytest.raises(ClientError) as err:
        ec2.delete_route_table(RouteTableId=main_table(ec2, vpc)["RouteTableId"])
    assert err.value.response["Error"]["Code"] == "DependencyViolation"
    ec2.disassociate_route_table(AssociationId=association)
    ec2.delete_route_table(RouteTableId=table["RouteTableId"])
    with pytest.raises(ClientError) as err:
        ec2.describe_route_tables(RouteTableIds=[table["RouteTableId"]])
    assert err.value.response["Error"]["Code"] == "InvalidRouteTableID.NotFound"


def test_route_to_an_instance(ec2, table, subnet, launch):
    [instance] = launch(subnet)
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="192.168.0.0/16",
                     InstanceId=instance["InstanceId"])
    route = route_to(describe(ec2, table["RouteTableId"]), "192.168.0.0/16")
    assert route["InstanceId"] == instance["InstanceId"]
    assert route["InstanceOwnerId"] == "111111111111"
    assert route["NetworkInterfaceId"] == instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert (route["Origin"], route["State"]) == ("CreateRoute", "active")
    # route.instance-id, one of DescribeRouteTables' filters in the API reference (with
    # route.nat-gateway-id and route.egress-only-internet-gateway-id)
    found = ec2.describe_route_tables(Filters=[
        {"Name": "route.instance-id", "Values": [instance["InstanceId"]]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [table["RouteTableId"]]
    assert ec2.describe_route_tables(Filters=[
        {"Name": "route.nat-gateway-id", "Values": ["nat-0123456789abcdef0"]}])[
        "RouteTables"] == []


def test_route_to_an_instance_interface_names_the_instance(ec2, table, subnet, launch):
    [instance] = launch(subnet)
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="192.168.0.0/16",
                     NetworkInterfaceId=eni_id)
    route = route_to(describe(ec2, table["RouteTableId"]), "192.168.0.0/16")
    assert (route["NetworkInterfaceId"], route["InstanceId"]) == (eni_id, instance["InstanceId"])


def test_a_route_whose_target_is_gone_is_a_blackhole(ec2, table, subnet, launch):
    [instance] = launch(subnet)
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="192.168.0.0/16",
                     InstanceId=instance["InstanceId"])
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="172.16.0.0/12",
                     NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    settled(ec2, [instance["InstanceId"]])
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    current = describe(ec2, table["RouteTableId"])
    assert route_to(current, "192.168.0.0/16")["State"] == "blackhole"
    assert route_to(current, "172.16.0.0/12")["State"] == "blackhole"
    assert route_to(current, "10.0.0.0/16")["State"] == "active"
    found = ec2.describe_route_tables(Filters=[
        {"Name": "route.state", "Values": ["blackhole"]}])["RouteTables"]
    assert table["RouteTableId"] in {t["RouteTableId"] for t in found}
    [replacement] = launch(subnet)
    ec2.replace_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="192.168.0.0/16",
                      InstanceId=replacement["InstanceId"])
    assert route_to(describe(ec2, table["RouteTableId"]), "192.168.0.0/16")["State"] == "active"


def test_delete_subnet_ends_its_association(ec2, table, subnet):
    ec2.associate_route_table(RouteTableId=table["RouteTableId"], SubnetId=subnet["SubnetId"])
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    assert describe(ec2, table["RouteTableId"])["Associations"] == []


def test_route_to_a_network_interface_and_replace_it(ec2, table, subnet, launch):
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0",
                     NetworkInterfaceId=eni["NetworkInterfaceId"])
    route = route_to(describe(ec2, table["RouteTableId"]), "0.0.0.0/0")
    assert route["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
    assert "InstanceId" not in route
    [instance] = launch(subnet)
    ec2.replace_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0",
                      InstanceId=instance["InstanceId"])
    route = route_to(describe(ec2, table["RouteTableId"]), "0.0.0.0/0")
    assert route["InstanceId"] == instance["InstanceId"]
    assert route["NetworkInterfaceId"] == instance["NetworkInterfaces"][0]["NetworkInterfaceId"]


def test_route_to_an_ipv6_destination(ec2, table, subnet):
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationIpv6CidrBlock="::/0",
                     NetworkInterfaceId=eni["NetworkInterfaceId"])
    [route] = [r for r in describe(ec2, table["RouteTableId"])["Routes"]
               if r.get("DestinationIpv6CidrBlock") == "::/0"]
    assert route["NetworkInterfaceId"] == eni["NetworkInterfaceId"]


def test_delete_route(ec2, table, subnet):
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="172.16.0.0/12",
                     NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="172.16.0.0/12")
    routes = describe(ec2, table["RouteTableId"])["Routes"]
    assert all(r.get("DestinationCidrBlock") != "172.16.0.0/12" for r in routes)
    with pytest.raises(ClientError) as err:
        ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="172.16.0.0/12")
    assert err.value.response["Error"]["Code"] == "InvalidRoute.NotFound"


def test_the_same_destination_twice(ec2, table, subnet):
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    route = {"RouteTableId": table["RouteTableId"], "DestinationCidrBlock": "192.168.0.0/16",
             "NetworkInterfaceId": eni["NetworkInterfaceId"]}
    ec2.create_route(**route)
    with pytest.raises(ClientError) as err:
        ec2.create_route(**route)
    assert err.value.response["Error"]["Code"] == "RouteAlreadyExists"


def test_the_local_route_cannot_be_deleted(ec2, table):
    with pytest.raises(ClientError) as err:
        ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="10.0.0.0/16")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert route_to(describe(ec2, table["RouteTableId"]), "10.0.0.0/16")["GatewayId"] == "local"


@pytest.mark.parametrize(("target", "code"), [
    ({"InstanceId": "i-0123456789abcdef0"}, "InvalidInstanceID.NotFound"),
    ({"NetworkInterfaceId": "eni-0123456789abcdef0"}, "InvalidNetworkInterfaceID.NotFound"),
    ({"GatewayId": "igw-0123456789abcdef0"}, "InvalidGatewayID.NotFound"),
])
def test_route_to_a_target_that_does_not_exist(ec2, table, target, code):
    with pytest.raises(ClientError) as err:
        ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0",
                         **target)
    assert err.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(("table_id", "code"), [("rtb-0123456789abcdef0", "InvalidRouteTableID.NotFound"),
                                                ("rtb-zz", "InvalidRouteTableID.Malformed")])
def test_unknown_and_malformed_route_table_ids(ec2, table_id, code):
    with pytest.raises(ClientError) as err:
        ec2.describe_route_tables(RouteTableIds=[table_id])
    assert err.value.response["Error"]["Code"] == code


def test_a_gateway_route_table(ec2, vpc, table, subnet, make_vpc):
    """An edge association with an internet gateway attached to the table's VPC
    ("The gateway and route table must be in the same VPC": the reference of
    AWS::EC2::GatewayRouteTableAssociation); one table per gateway; only local routes and
    routes to a network interface in it."""
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    with pytest.raises(ClientError) as caught:  # not attached to the table's VPC
        ec2.associate_route_table(RouteTableId=table["RouteTableId"], GatewayId=igw)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    association = ec2.associate_route_table(RouteTableId=table["RouteTableId"],
                                            GatewayId=igw)
    assert association["AssociationState"] == {"State": "associated"}
    [found] = ec2.describe_route_tables(Filters=[
        {"Name": "association.gateway-id", "Values": [igw]}])["RouteTables"]
    [edge] = found["Associations"]
    assert (edge["GatewayId"], edge["Main"], "SubnetId" in edge,
            edge["RouteTableAssociationId"]) == (igw, False, False,
                                                 association["AssociationId"])
    other = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    with pytest.raises(ClientError) as caught:
        ec2.associate_route_table(RouteTableId=other, GatewayId=igw)
    assert caught.value.response["Error"]["Code"] == "Resource.AlreadyAssociated"
    with pytest.raises(ClientError) as caught:
        ec2.associate_route_table(RouteTableId=other, GatewayId="igw-0123456789abcdef0")
    assert caught.value.response["Error"]["Code"] == "InvalidGatewayID.NotFound"
    ec2.disassociate_route_table(AssociationId=association["AssociationId"])
    assert describe(ec2, table["RouteTableId"])["Associations"] == []
    ec2.create_route(RouteTableId=other, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    with pytest.raises(ClientError) as caught:  # a route to the gateway itself
        ec2.associate_route_table(RouteTableId=other, GatewayId=igw)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_the_main_association_cannot_be_disassociated(ec2, vpc):
    """In AWS's words, as ansible/ansible#25521 quotes them."""
    [main] = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    association_id = main["Associations"][0]["RouteTableAssociationId"]
    with pytest.raises(ClientError) as caught:
        ec2.disassociate_route_table(AssociationId=association_id)
    assert caught.value.response["Error"] == {
        "Code": "InvalidParameterValue",
        "Message": f"cannot disassociate the main route table association {association_id}"}
