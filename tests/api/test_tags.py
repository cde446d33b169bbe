"""Tags: CreateTags, DeleteTags, DescribeTags on every kind of resource, and TagSpecifications."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def key() -> str:
    """A tag key no other test uses, so DescribeTags sees only this test's tags."""
    return f"k-{uuid.uuid4().hex[:10]}"


def tags_of(ec2, key: str, *filters: tuple[str, list[str]]) -> set[tuple[str, str, str]]:
    found = ec2.describe_tags(Filters=[{"Name": "key", "Values": [key]}] + [
        {"Name": name, "Values": values} for name, values in filters])["Tags"]
    return {(t["ResourceId"], t["ResourceType"], t["Value"]) for t in found}


def test_tags_on_every_kind_of_resource(ec2, key, make_vpc, make_subnet, launch):
    vpc = make_vpc("10.0.0.0/16")
    subnet = make_subnet(vpc, "10.0.1.0/24")
    [instance] = launch(subnet)
    resources = {
        vpc["VpcId"]: "vpc",
        subnet["SubnetId"]: "subnet",
        ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="g",
                                  Description="g")["GroupId"]: "security-group",
        ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]: "route-table",
        instance["InstanceId"]: "instance",
        instance["NetworkInterfaces"][0]["NetworkInterfaceId"]: "network-interface",
    }
    ec2.create_tags(Resources=list(resources), Tags=[{"Key": key, "Value": "v"}])
    assert tags_of(ec2, key) == {(rid, kind, "v") for rid, kind in resources.items()}
    assert tags_of(ec2, key, ("resource-type", ["subnet"])) == {(subnet["SubnetId"], "subnet", "v")}
    assert tags_of(ec2, key, ("resource-id", [vpc["VpcId"]])) == {(vpc["VpcId"], "vpc", "v")}
    [described] = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"]
    assert described["Tags"] == [{"Key": key, "Value": "v"}]


def test_create_tags_overwrites_a_value(ec2, key, make_vpc):
    vpc_id = make_vpc("10.0.0.0/16")["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": key, "Value": "old"}])
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": key, "Value": "new"}])
    assert tags_of(ec2, key) == {(vpc_id, "vpc", "new")}


def test_describe_tags_by_value(ec2, key, make_vpc):
    first, second = make_vpc("10.0.0.0/16")["VpcId"], make_vpc("10.0.0.0/16")["VpcId"]
    ec2.create_tags(Resources=[first], Tags=[{"Key": key, "Value": "red"}])
    ec2.create_tags(Resources=[second], Tags=[{"Key": key, "Value": "blue"}])
    assert tags_of(ec2, key, ("value", ["red"])) == {(first, "vpc", "red")}
    assert tags_of(ec2, key, ("value", ["*e*"])) == {(first, "vpc", "red"), (second, "vpc", "blue")}


def test_delete_tags(ec2, make_vpc):
    vpc_id = make_vpc("10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}]}])["VpcId"]

    def current() -> dict[str, str]:
        [vpc] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        return {t["Key"]: t["Value"] for t in vpc.get("Tags", [])}

    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "a", "Value": "other"}])
    assert current() == {"a": "1", "b": "2", "c": "3"}
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "a", "Value": "1"}])
    assert current() == {"b": "2", "c": "3"}
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "b"}])
    assert current() == {"c": "3"}
    ec2.delete_tags(Resources=[vpc_id])
    assert current() == {}


@pytest.mark.parametrize(("resource", "code"), [
    ("vpc-0123456789abcdef0", "InvalidVpcID.NotFound"),
    ("subnet-0123456789abcdef0", "InvalidSubnetID.NotFound"),
    ("i-0123456789abcdef0", "InvalidInstanceID.NotFound"),
    ("widget-0123456789abcdef0", "InvalidID"),
])
def test_tags_on_a_resource_that_does_not_exist(ec2, resource, code):
    with pytest.raises(ClientError) as err:
        ec2.create_tags(Resources=[resource], Tags=[{"Key": "k", "Value": "v"}])
    assert err.value.response["Error"]["Code"] == code


def test_reserved_tag_keys(ec2, make_vpc):
    vpc_id = make_vpc("10.0.0.0/16")["VpcId"]
    with pytest.raises(ClientError) as err:
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "aws:owner", "Value": "me"}])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_tag_specifications_tag_the_new_resource(ec2, make_vpc, make_subnet):
    vpc = make_vpc("10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}])
    assert vpc["Tags"] == [{"Key": "Name", "Value": "main"}]
    subnet = make_subnet(vpc, "10.0.1.0/24", TagSpecifications=[
        {"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "private"}]}])
    assert subnet["Tags"] == [{"Key": "tier", "Value": "private"}]
    table = ec2.create_route_table(VpcId=vpc["VpcId"], TagSpecifications=[
        {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "rt"}]}])["RouteTable"]
    assert table["Tags"] == [{"Key": "Name", "Value": "rt"}]


@pytest.mark.parametrize("call", ["vpc", "subnet", "security_group", "route_table"])
def test_tag_specification_with_the_wrong_resource_type(ec2, make_vpc, call):
    vpc_id = make_vpc("10.0.0.0/16")["VpcId"]
    wrong = [{"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "v"}]}]
    calls = {
        "vpc": lambda: ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=wrong),
        "subnet": lambda: ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24",
                                            TagSpecifications=wrong),
        "security_group": lambda: ec2.create_security_group(
            VpcId=vpc_id, GroupName="g", Description="g", TagSpecifications=wrong),
        "route_table": lambda: ec2.create_route_table(VpcId=vpc_id, TagSpecifications=wrong),
    }
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]

    def everything() -> tuple[int, ...]:
        return (len(ec2.describe_vpcs()["Vpcs"]), len(ec2.describe_subnets(Filters=in_vpc)["Subnets"]),
                len(ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]),
                len(ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]))

    before = everything()
    with pytest.raises(ClientError) as err:
        calls[call]()
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert everything() == before


def test_more_than_fifty_tags_is_tag_limit_exceeded(ec2, make_vpc):
    vpc_id = make_vpc("10.0.0.0/16")["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(ClientError) as err:
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "one-more", "Value": "v"}])
    assert err.value.response["Error"]["Code"] == "TagLimitExceeded"
    assert len(ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["Tags"]) == 50
