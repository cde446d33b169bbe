"""The default VPC every AWS account has in every region, made on first use.

What AWS makes (172.31.0.0/16, a /20 default subnet per zone that maps public addresses, its
default security group, main route table with the local route, DNS hostnames on): the VPC
User Guide, "Default VPC components" (docs.aws.amazon.com/vpc/latest/userguide/
default-vpc-components.html) and "DNS attributes for your VPC" (vpc-dns.html: a default VPC
has both attributes true), with an internet gateway attached and the main route table's
0.0.0.0/0 route to it ("Default VPC components": "Create an internet gateway and connect it
to your default VPC", "Add a route to the main route table that points all traffic
(0.0.0.0/0) to the internet gateway"). The errors of CreateDefaultVpc and CreateDefaultSubnet, and the
/20 blocks in zone order, as moto's tests/test_ec2/test_vpcs.py
(test_create_multiple_default_vpcs) and test_subnets.py (test_create_default_subnet) check
them against AWS.
"""

from __future__ import annotations

import secrets

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import AMI

REGION = "eu-west-1"
DEFAULT = [{"Name": "is-default", "Values": ["true"]}]


@pytest.fixture
def fresh(client):
    """An EC2 client of an account no test used before."""
    return client("ec2", f"7{secrets.randbelow(10**11):011d}", REGION)


def default_vpc(ec2) -> dict:
    [vpc] = ec2.describe_vpcs(Filters=DEFAULT)["Vpcs"]
    return vpc


def default_subnets(ec2, vpc_id: str) -> list[dict]:
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                            {"Name": "default-for-az", "Values": ["true"]}])
    return sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])


def attribute(ec2, name: str) -> list[str]:
    [answer] = ec2.describe_account_attributes(AttributeNames=[name])["AccountAttributes"]
    return [v["AttributeValue"] for v in answer["AttributeValues"]]


def error(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return err.value.response["Error"]


def delete_default_vpc(ec2) -> str:
    vpc = default_vpc(ec2)
    for subnet in default_subnets(ec2, vpc["VpcId"]):
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    for gateway in ec2.describe_internet_gateways(Filters=[
            {"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]:
        ec2.detach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"],
                                    VpcId=vpc["VpcId"])
        ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    return vpc["VpcId"]


def test_an_account_has_a_default_vpc_as_aws_makes_it(fresh):
    vpcs = fresh.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    assert (vpc["CidrBlock"], vpc["IsDefault"], vpc["State"]) == ("172.31.0.0/16", True,
                                                                   "available")
    for name in ("enableDnsSupport", "enableDnsHostnames"):
        answer = fresh.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=name)
        assert answer[name[0].upper() + name[1:]]["Value"] is True
    zones = [z["ZoneName"] for z in fresh.describe_availability_zones()["AvailabilityZones"]]
    subnets = default_subnets(fresh, vpc["VpcId"])
    assert [(s["AvailabilityZone"], s["CidrBlock"]) for s in subnets] == list(zip(
        zones, ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"], strict=True))
    assert all(s["DefaultForAz"] and s["MapPublicIpOnLaunch"] for s in subnets)
    assert {s["AvailableIpAddressCount"] for s in subnets} == {4091}
    [group] = fresh.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]
    assert (group["GroupName"], group["Description"]) == ("default", "default VPC security group")
    [table] = fresh.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["RouteTables"]
    assert table["Associations"][0]["Main"] is True
    [gateway] = fresh.describe_internet_gateways()["InternetGateways"]
    assert gateway["Attachments"] == [{"State": "available", "VpcId": vpc["VpcId"]}]
    assert [(r["DestinationCidrBlock"], r["GatewayId"]) for r in table["Routes"]] == [
        ("172.31.0.0/16", "local"), ("0.0.0.0/0", gateway["InternetGatewayId"])]
    assert attribute(fresh, "default-vpc") == [vpc["VpcId"]]
    assert attribute(fresh, "supported-platforms") == ["VPC"]


def test_us_east_1_has_six_default_subnets(client):
    """A default subnet in each of the region's zones: us-east-1 has six (use1-az1..az6),
    the /20s 172.31.0.0 to 172.31.80.0 in zone order, as the VPC guide numbers them."""
    ec2 = client("ec2", f"7{secrets.randbelow(10**11):011d}", "us-east-1")
    subnets = default_subnets(ec2, default_vpc(ec2)["VpcId"])
    assert [(s["AvailabilityZone"], s["CidrBlock"]) for s in subnets] == [
        (f"us-east-1{letter}", f"172.31.{16 * n}.0/20") for n, letter in enumerate("abcdef")]
    assert {s["AvailabilityZoneId"] for s in subnets} == {f"use1-az{n}" for n in range(1, 7)}


def test_each_region_and_account_has_its_own(client):
    account = f"7{secrets.randbelow(10**11):011d}"
    ids = {default_vpc(client("ec2", account, region))["VpcId"]
           for region in ("us-east-1", "us-west-2")}
    ids.add(default_vpc(client("ec2", f"7{secrets.randbelow(10**11):011d}", "us-east-1"))[
        "VpcId"])
    assert len(ids) == 3


def test_run_instances_without_a_subnet_uses_a_default_subnet(fresh):
    vpc = default_vpc(fresh)
    subnets = default_subnets(fresh, vpc["VpcId"])
    [first] = fresh.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"]
    assert (first["VpcId"], first["SubnetId"]) == (vpc["VpcId"], subnets[0]["SubnetId"])
    assert first["PrivateIpAddress"].startswith("172.31.")
    [group] = first["SecurityGroups"]
    assert group["GroupName"] == "default"
    zone = subnets[2]["AvailabilityZone"]
    [placed] = fresh.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                   Placement={"AvailabilityZone": zone})["Instances"]
    assert (placed["SubnetId"], placed["Placement"]["AvailabilityZone"]) == (
        subnets[2]["SubnetId"], zone)


def test_run_instances_without_a_subnet_by_group_name(fresh):
    fresh.create_security_group(GroupName="web", Description="web")
    [instance] = fresh.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                     SecurityGroups=["web"])["Instances"]
    assert [g["GroupName"] for g in instance["SecurityGroups"]] == ["web"]


def test_create_security_group_without_a_vpc_uses_the_default_vpc(fresh):
    group_id = fresh.create_security_group(GroupName="web", Description="web")["GroupId"]
    [group] = fresh.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert group["VpcId"] == default_vpc(fresh)["VpcId"]
    assert error(fresh.create_security_group, GroupName="web", Description="again")["Code"] \
        == "InvalidGroup.Duplicate"


def test_create_default_vpc_while_there_is_one(fresh):
    err = error(fresh.create_default_vpc)
    assert err == {"Code": "DefaultVpcAlreadyExists",
                   "Message": "A Default VPC already exists for this account in this region."}


def test_a_default_vpc_with_subnets_cannot_be_deleted(fresh):
    assert error(fresh.delete_vpc, VpcId=default_vpc(fresh)["VpcId"])["Code"] == \
        "DependencyViolation"


def test_deleted_it_stays_deleted_until_create_default_vpc(fresh):
    gone = delete_default_vpc(fresh)
    assert fresh.describe_vpcs()["Vpcs"] == []
    assert fresh.describe_subnets()["Subnets"] == []
    assert attribute(fresh, "default-vpc") == ["none"]
    for call, params in ((fresh.run_instances, {"ImageId": AMI, "MinCount": 1, "MaxCount": 1}),
                         (fresh.create_security_group, {"GroupName": "g", "Description": "g"})):
        err = error(call, **params)
        assert err == {"Code": "VPCIdNotSpecified", "Message": "No default VPC for this user"}
    err = error(fresh.create_default_subnet, AvailabilityZone=f"{REGION}a")
    assert err == {"Code": "DefaultVpcDoesNotExist",
                   "Message": "No default VPC exists for this account in this region."}
    vpc = fresh.create_default_vpc()["Vpc"]
    assert vpc["VpcId"] != gone and (vpc["CidrBlock"], vpc["IsDefault"]) == ("172.31.0.0/16",
                                                                               True)
    assert default_vpc(fresh)["VpcId"] == vpc["VpcId"]
    assert len(default_subnets(fresh, vpc["VpcId"])) == 3
    assert attribute(fresh, "default-vpc") == [vpc["VpcId"]]


def test_create_default_subnet(fresh):
    vpc = default_vpc(fresh)
    subnets = default_subnets(fresh, vpc["VpcId"])
    zone = subnets[1]["AvailabilityZone"]
    err = error(fresh.create_default_subnet, AvailabilityZone=zone)
    assert err == {"Code": "DefaultSubnetAlreadyExistsInAvailabilityZone",
                   "Message": f"'{subnets[1]['SubnetId']}' is already the default subnet "
                              f"in {zone}."}
    fresh.delete_subnet(SubnetId=subnets[1]["SubnetId"])
    made = fresh.create_default_subnet(AvailabilityZone=zone)["Subnet"]
    assert (made["VpcId"], made["CidrBlock"], made["AvailabilityZone"], made["DefaultForAz"],
            made["MapPublicIpOnLaunch"]) == (vpc["VpcId"], "172.31.16.0/20", zone, True, True)
    assert error(fresh.create_default_subnet, AvailabilityZone=f"{REGION}q")["Code"] == \
        "InvalidParameterValue"
    assert error(fresh.create_default_subnet)["Code"] == "MissingParameter"
    by_id = subnets[2]["AvailabilityZoneId"]
    assert error(fresh.create_default_subnet, AvailabilityZoneId=by_id)["Code"] == \
        "DefaultSubnetAlreadyExistsInAvailabilityZone"


def test_a_subnet_made_in_the_default_vpc_is_no_default_subnet(fresh):
    vpc = default_vpc(fresh)
    made = fresh.create_subnet(VpcId=vpc["VpcId"], CidrBlock="172.31.128.0/24")["Subnet"]
    assert (made["DefaultForAz"], made["MapPublicIpOnLaunch"]) == (False, False)
    assert len(default_subnets(fresh, vpc["VpcId"])) == 3


def test_a_boto3_script_written_for_aws_runs_unchanged(daemon):
    """What a tutorial does on AWS: the resource API, no VPC named anywhere."""
    session = boto3.Session(aws_access_key_id=f"7{secrets.randbelow(10**11):011d}",
                            aws_secret_access_key="x", region_name=REGION)
    ec2 = session.resource("ec2", endpoint_url=daemon.endpoint)
    [vpc] = ec2.vpcs.filter(Filters=DEFAULT)
    group = ec2.create_security_group(GroupName="ssh", Description="ssh from anywhere")
    group.authorize_ingress(IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    [instance] = ec2.create_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                      InstanceType="t3.micro", SecurityGroupIds=[group.id])
    instance.wait_until_running(WaiterConfig={"Delay": 1})
    instance.reload()
    assert instance.vpc_id == vpc.id == group.vpc_id
    assert instance.subnet.default_for_az is True
    assert vpc.is_default is True


def test_group_names_name_groups_of_the_default_vpc(fresh):
    """GroupName and GroupNames are "[Default VPC]" parameters (the DescribeSecurityGroups,
    AuthorizeSecurityGroupIngress and DeleteSecurityGroup references): a group of another
    VPC is named by its id."""
    vpc = default_vpc(fresh)
    [default] = fresh.describe_security_groups(GroupNames=["default"])["SecurityGroups"]
    assert default["VpcId"] == vpc["VpcId"]
    fresh.create_security_group(GroupName="web", Description="web")
    fresh.authorize_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=80,
                                           ToPort=80, CidrIp="0.0.0.0/0")
    [web] = fresh.describe_security_groups(GroupNames=["web"])["SecurityGroups"]
    assert [p["FromPort"] for p in web["IpPermissions"]] == [80]
    other = fresh.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    fresh.create_security_group(GroupName="app", Description="app", VpcId=other["VpcId"])
    err = error(fresh.describe_security_groups, GroupNames=["app"])
    assert err == {"Code": "InvalidGroup.NotFound",
                   "Message": f"The security group 'app' does not exist in default VPC "
                              f"'{vpc['VpcId']}'"}
    fresh.delete_security_group(GroupName="web")
    assert error(fresh.delete_security_group, GroupName="web")["Code"] == "InvalidGroup.NotFound"
