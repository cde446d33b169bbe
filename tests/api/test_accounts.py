"""Accounts: an access key of 12 digits is its account; accounts (and regions) see only their own."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

PROVIDER, CONSUMER = "111111111111", "222222222222"


@pytest.fixture
def world(ec2, make_vpc, make_subnet, launch) -> dict[str, str]:
    """One of each resource, made by the provider account in us-east-1."""
    vpc = make_vpc("10.0.0.0/16")
    subnet = make_subnet(vpc, "10.0.1.0/24")
    [instance] = launch(subnet)
    return {
        "vpc": vpc["VpcId"],
        "subnet": subnet["SubnetId"],
        "group": ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="g",
                                           Description="g")["GroupId"],
        "table": ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"],
        "instance": instance["InstanceId"],
        "eni": instance["NetworkInterfaces"][0]["NetworkInterfaceId"],
    }


def everything(ec2) -> set[str]:
    """Every id an account can list in the region of ``ec2``."""
    found = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    found |= {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    found |= {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    found |= {t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]}
    found |= {i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
              for i in r["Instances"]}
    found |= {e["NetworkInterfaceId"]
              for e in ec2.describe_network_interfaces()["NetworkInterfaces"]}
    return found


def test_accounts_do_not_list_each_others_resources(ec2, consumer_ec2, world, make_vpc):
    mine = make_vpc("10.0.0.0/16", client=consumer_ec2)["VpcId"]
    assert set(world.values()) <= everything(ec2)
    assert not set(world.values()) & everything(consumer_ec2)
    assert mine in everything(consumer_ec2)
    assert mine not in everything(ec2)
    assert all(v["OwnerId"] == CONSUMER for v in consumer_ec2.describe_vpcs()["Vpcs"])


@pytest.mark.parametrize(("kind", "call", "code"), [
    ("vpc", lambda c, i: c.describe_vpcs(VpcIds=[i]), "InvalidVpcID.NotFound"),
    ("vpc", lambda c, i: c.delete_vpc(VpcId=i), "InvalidVpcID.NotFound"),
    ("vpc", lambda c, i: c.create_subnet(VpcId=i, CidrBlock="10.0.9.0/24"), "InvalidVpcID.NotFound"),
    ("subnet", lambda c, i: c.describe_subnets(SubnetIds=[i]), "InvalidSubnetID.NotFound"),
    ("subnet", lambda c, i: c.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1,
                                            MaxCount=1, SubnetId=i), "InvalidSubnetID.NotFound"),
    ("group", lambda c, i: c.describe_security_groups(GroupIds=[i]), "InvalidGroup.NotFound"),
    ("group", lambda c, i: c.delete_security_group(GroupId=i), "InvalidGroup.NotFound"),
    ("group", lambda c, i: c.authorize_security_group_ingress(GroupId=i, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]), "InvalidGroup.NotFound"),
    ("table", lambda c, i: c.describe_route_tables(RouteTableIds=[i]),
     "InvalidRouteTableID.NotFound"),
    ("instance", lambda c, i: c.terminate_instances(InstanceIds=[i]), "InvalidInstanceID.NotFound"),
    ("eni", lambda c, i: c.delete_network_interface(NetworkInterfaceId=i),
     "InvalidNetworkInterfaceID.NotFound"),
    ("vpc", lambda c, i: c.create_tags(Resources=[i], Tags=[{"Key": "k", "Value": "v"}]),
     "InvalidVpcID.NotFound"),
])
def test_another_accounts_ids_are_not_found(consumer_ec2, world, kind, call, code):
    with pytest.raises(ClientError) as err:
        call(consumer_ec2, world[kind])
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_another_accounts_resources_stay_untouched(ec2, consumer_ec2, world):
    with pytest.raises(ClientError):
        consumer_ec2.terminate_instances(InstanceIds=[world["instance"]])
    [reservation] = ec2.describe_instances(InstanceIds=[world["instance"]])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] == "running"


def test_regions_are_separate_too(client, world):
    elsewhere = client("ec2", PROVIDER, "eu-west-1")
    assert not set(world.values()) & everything(elsewhere)
    with pytest.raises(ClientError) as err:
        elsewhere.describe_vpcs(VpcIds=[world["vpc"]])
    assert err.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"


@pytest.mark.parametrize(("access_key", "account"), [
    (PROVIDER, PROVIDER), (CONSUMER, CONSUMER), ("333333333333", "333333333333"),
    ("AKIAIOSFODNN7EXAMPLE", "000000000000"), ("12345", "000000000000"),
    ("1234567890123", "000000000000")])
def test_caller_identity_comes_from_the_access_key(client, access_key, account):
    identity = client("sts", access_key=access_key).get_caller_identity()
    assert identity["Account"] == account
    assert identity["Arn"] == f"arn:aws:iam::{account}:root"
    assert identity["UserId"] == account


def test_an_unknown_key_acts_for_the_default_account(client, make_vpc):
    stranger = client("ec2", access_key="AKIAIOSFODNN7EXAMPLE")
    vpc = make_vpc("10.0.0.0/16", client=stranger)
    assert vpc["OwnerId"] == "000000000000"
