"""DryRun: a request that would succeed answers DryRunOperation with HTTP 412 and changes nothing."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def dry_run(call, **params) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(DryRun=True, **params)
    assert err.value.response["Error"]["Code"] == "DryRunOperation"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    return err.value


def test_dry_run_create_vpc_makes_no_vpc(ec2):
    key = f"dry-{uuid.uuid4().hex[:8]}"
    dry_run(ec2.create_vpc, CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": key, "Value": "x"}]}])
    assert ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": [key]}])["Vpcs"] == []


def test_dry_run_describe(ec2):
    dry_run(ec2.describe_vpcs)
    dry_run(ec2.describe_instances)


def test_dry_run_run_instances_launches_nothing(ec2, make_vpc, make_subnet):
    subnet = make_subnet(make_vpc("10.0.0.0/16"), "10.0.1.0/24")
    dry_run(ec2.run_instances, ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
            SubnetId=subnet["SubnetId"])
    found = ec2.describe_instances(Filters=[{"Name": "subnet-id", "Values": [subnet["SubnetId"]]}])
    assert found["Reservations"] == []


def test_dry_run_delete_vpc_keeps_it(ec2, make_vpc):
    vpc_id = make_vpc("10.0.0.0/16")["VpcId"]
    dry_run(ec2.delete_vpc, VpcId=vpc_id)
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]] == [vpc_id]


def test_dry_run_authorize_adds_no_rule(ec2, make_vpc):
    vpc = make_vpc("10.0.0.0/16")
    group = ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="g",
                                      Description="g")["GroupId"]
    dry_run(ec2.authorize_security_group_ingress, GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    [described] = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    assert described["IpPermissions"] == []
