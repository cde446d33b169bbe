"""Gateway endpoints (S3, DynamoDB): prefix-list routes, policies, and the prefix lists."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from tests.privatelink.conftest import REGION, aws_error, new_account, wait_for

S3 = f"com.amazonaws.{REGION}.s3"
DYNAMODB = f"com.amazonaws.{REGION}.dynamodb"
DEFAULT_POLICY = ('{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
                  '"Action":"*","Resource":"*"}]}')
BENCHMARK = ipaddress.ip_network("198.18.0.0/15")


@pytest.fixture
def ec2(client):
    return client("ec2", new_account())


@pytest.fixture
def vpc(ec2) -> dict:
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]


@pytest.fixture
def tables(ec2, vpc) -> list[str]:
    return [ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
            for _ in range(2)]


def gateway(ec2, vpc: dict, service: str = S3, **params) -> dict:
    return ec2.create_vpc_endpoint(VpcId=vpc["VpcId"], ServiceName=service,
                                   VpcEndpointType="Gateway", **params)["VpcEndpoint"]


def describe(ec2, endpoint_id: str) -> dict:
    [found] = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    return found


def endpoint_routes(ec2, table_id: str) -> list[dict]:
    [table] = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
    return [r for r in table["Routes"] if "DestinationPrefixListId" in r]


def prefix_list_id(ec2, service: str) -> str:
    [found] = ec2.describe_prefix_lists(Filters=[
        {"Name": "prefix-list-name", "Values": [service]}])["PrefixLists"]
    return found["PrefixListId"]


@pytest.mark.parametrize("service", [S3, DYNAMODB])
def test_a_gateway_endpoint_routes_its_prefix_list(ec2, vpc, tables, service):
    endpoint = gateway(ec2, vpc, service, RouteTableIds=tables)
    assert (endpoint["State"], endpoint["VpcEndpointType"], endpoint["DnsEntries"],
            endpoint["PrivateDnsEnabled"], endpoint["SubnetIds"]) == (
        "available", "Gateway", [], False, [])
    assert sorted(endpoint["RouteTableIds"]) == sorted(tables)
    prefix_list = prefix_list_id(ec2, service)
    assert re.fullmatch(r"pl-[0-9a-f]{8}", prefix_list)
    for table in tables:
        assert endpoint_routes(ec2, table) == [{
            "DestinationPrefixListId": prefix_list, "GatewayId": endpoint["VpcEndpointId"],
            "Origin": "CreateRoute", "State": "active"}]


def test_the_endpoint_route_belongs_to_the_endpoint(ec2, vpc, tables):
    endpoint = gateway(ec2, vpc, RouteTableIds=tables[:1])
    prefix_list = prefix_list_id(ec2, S3)
    with aws_error("InvalidParameterValue"):
        ec2.delete_route(RouteTableId=tables[0], DestinationPrefixListId=prefix_list)
    with aws_error("InvalidParameterValue"):
        ec2.replace_route(RouteTableId=tables[0], DestinationPrefixListId=prefix_list,
                          GatewayId="local")
    assert [r["GatewayId"] for r in endpoint_routes(ec2, tables[0])] == [endpoint["VpcEndpointId"]]


def test_one_route_per_service_and_table(ec2, vpc, tables):
    gateway(ec2, vpc, RouteTableIds=tables[:1])
    with aws_error("RouteAlreadyExists"):
        gateway(ec2, vpc, RouteTableIds=tables[:1])
    gateway(ec2, vpc, DYNAMODB, RouteTableIds=tables[:1])  # another service: another route
    assert len(endpoint_routes(ec2, tables[0])) == 2


def test_modify_route_tables(ec2, vpc, tables):
    first, second = tables
    endpoint_id = gateway(ec2, vpc, RouteTableIds=[first])["VpcEndpointId"]
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddRouteTableIds=[second],
                            RemoveRouteTableIds=[first])
    assert describe(ec2, endpoint_id)["RouteTableIds"] == [second]
    assert endpoint_routes(ec2, first) == []
    assert [r["GatewayId"] for r in endpoint_routes(ec2, second)] == [endpoint_id]


def test_delete_removes_the_routes(ec2, vpc, tables):
    endpoint_id = gateway(ec2, vpc, RouteTableIds=tables)["VpcEndpointId"]
    assert ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])["Unsuccessful"] == []
    for table in tables:
        assert endpoint_routes(ec2, table) == []


def test_route_tables_must_exist_in_the_vpc(ec2, vpc):
    with aws_error("InvalidRouteTableID.NotFound"):
        gateway(ec2, vpc, RouteTableIds=["rtb-0123456789abcdef0"])
    with aws_error("InvalidRouteTableID.Malformed"):
        gateway(ec2, vpc, RouteTableIds=["table-1"])
    other = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]
    table = ec2.create_route_table(VpcId=other["VpcId"])["RouteTable"]["RouteTableId"]
    with aws_error("InvalidParameter"):
        gateway(ec2, vpc, RouteTableIds=[table])


def test_subnets_are_for_interface_endpoints(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    message = ("Subnet IDs are only supported for Interface and GatewayLoadBalancer type VPC "
               "Endpoints.")
    with aws_error("InvalidParameter", message):
        gateway(ec2, vpc, SubnetIds=[subnet])
    endpoint_id = gateway(ec2, vpc)["VpcEndpointId"]
    with aws_error("InvalidParameter", message):
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddSubnetIds=[subnet])


def test_the_default_policy_a_custom_one_and_reset(ec2, vpc):
    endpoint = gateway(ec2, vpc)
    assert endpoint["PolicyDocument"] == DEFAULT_POLICY
    custom = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::bucket/*"}]})
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], PolicyDocument=custom)
    assert describe(ec2, endpoint["VpcEndpointId"])["PolicyDocument"] == custom
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], ResetPolicy=True)
    assert describe(ec2, endpoint["VpcEndpointId"])["PolicyDocument"] == DEFAULT_POLICY
    created = gateway(ec2, vpc, DYNAMODB, PolicyDocument=custom)
    assert created["PolicyDocument"] == custom


def test_bad_policies_are_refused(ec2, vpc):
    with aws_error("InvalidPolicyDocument"):
        gateway(ec2, vpc, PolicyDocument="{not json")
    endpoint_id = gateway(ec2, vpc)["VpcEndpointId"]
    with aws_error("InvalidParameterCombination"):
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, ResetPolicy=True,
                                PolicyDocument=DEFAULT_POLICY)


def test_custom_services_do_not_support_policies(provider, consumer):
    [detail] = consumer.ec2.describe_vpc_endpoint_services(
        ServiceNames=[provider.service_name])["ServiceDetails"]
    assert detail["VpcEndpointPolicySupported"] is False
    [s3] = [d for d in consumer.ec2.describe_vpc_endpoint_services(ServiceNames=[S3])[
        "ServiceDetails"] if d["ServiceType"] == [{"ServiceType": "Gateway"}]]
    assert (s3["VpcEndpointPolicySupported"], s3["Owner"], s3["BaseEndpointDnsNames"]) == (
        True, "amazon", [])


def test_twenty_gateway_endpoints_per_region(ec2, vpc, client):
    made = [gateway(ec2, vpc)["VpcEndpointId"] for _ in range(20)]
    with aws_error("VpcEndpointLimitExceeded"):
        gateway(ec2, vpc)
    west = client("ec2", vpc["OwnerId"], "us-west-2")
    west_vpc = west.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    west.create_vpc_endpoint(VpcId=west_vpc["VpcId"], ServiceName="com.amazonaws.us-west-2.s3",
                             VpcEndpointType="Gateway")  # the quota is per region
    ec2.delete_vpc_endpoints(VpcEndpointIds=made[:1])
    wait_for(lambda: describe(ec2, made[0])["State"] == "deleted")
    gateway(ec2, vpc)


# Prefix lists

def test_describe_prefix_lists(ec2):
    lists = {p["PrefixListName"]: p for p in ec2.describe_prefix_lists()["PrefixLists"]}
    assert sorted(lists) == [DYNAMODB, S3]
    for found in lists.values():
        assert re.fullmatch(r"pl-[0-9a-f]{8}", found["PrefixListId"])
        assert found["Cidrs"]
        assert all(ipaddress.ip_network(c).subnet_of(BENCHMARK) for c in found["Cidrs"])
    only = ec2.describe_prefix_lists(PrefixListIds=[lists[S3]["PrefixListId"]])["PrefixLists"]
    assert only == [lists[S3]]
    with aws_error("InvalidPrefixListId.NotFound"):
        ec2.describe_prefix_lists(PrefixListIds=["pl-00000000"])


def test_managed_prefix_lists_and_their_entries(ec2):
    lists = {p["PrefixListName"]: p for p in ec2.describe_prefix_lists()["PrefixLists"]}
    managed = {p["PrefixListName"]: p for p in ec2.describe_managed_prefix_lists()["PrefixLists"]}
    assert sorted(managed) == [DYNAMODB, S3]
    for name, found in managed.items():
        assert (found["PrefixListId"], found["AddressFamily"], found["OwnerId"],
                found["State"]) == (lists[name]["PrefixListId"], "IPv4", "AWS", "create-complete")
        assert found["PrefixListArn"] == f"arn:aws:ec2:{REGION}:aws:prefix-list/{found['PrefixListId']}"
        entries = ec2.get_managed_prefix_list_entries(PrefixListId=found["PrefixListId"])["Entries"]
        assert [e["Cidr"] for e in entries] == lists[name]["Cidrs"]
    with aws_error("InvalidPrefixListId.NotFound"):
        ec2.get_managed_prefix_list_entries(PrefixListId="pl-00000000")


def test_prefix_lists_are_per_region(client):
    account = new_account()
    east = client("ec2", account)
    west = client("ec2", account, "us-west-2")
    east_ids = {p["PrefixListId"] for p in east.describe_prefix_lists()["PrefixLists"]}
    west_lists = west.describe_prefix_lists()["PrefixLists"]
    assert sorted(p["PrefixListName"] for p in west_lists) == [
        "com.amazonaws.us-west-2.dynamodb", "com.amazonaws.us-west-2.s3"]
    assert east_ids.isdisjoint(p["PrefixListId"] for p in west_lists)
