"""Gateway endpoints end to end: S3 and DynamoDB reached from isolated subnets by the AWS
CLI inside instances, with no endpoint URL, through nothing but a route table's
prefix-list route (no NAT, no internet).

Region us-east-1, where S3's legacy global name (``s3.amazonaws.com``) lies in S3's prefix
list beside the regional one, as at AWS. Without the route the packets are dropped and the
CLI's connect times out; with it the front sees the caller's own address and the endpoint.
The endpoint's policy is enforced, and a bucket policy's aws:SourceVpce condition lets in
the endpoint's VPC only: not the host, not another VPC through its own gateway endpoint.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import botocore.exceptions
import pytest

from pocketlink.harness import PROVIDER
from tests.conftest import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")

REGION = "us-east-1"
AMI = "ami-0c55b159cbfafe1f0"
BUCKET, KEY, BODY = "gateway-objects", "hello.txt", "through a gateway endpoint"
TABLE = "gateway-table"
CONNECT_TIMEOUT = 3


@dataclass
class Vpc:
    """One VPC with an isolated subnet, its own route table and an instance in it."""

    vpc: str
    route_table: str
    instance: str
    address: str

    def aws(self, *arguments: str) -> subprocess.CompletedProcess:
        """The AWS CLI inside the instance: no endpoint URL, one attempt per call."""
        return subprocess.run(
            [sys.executable, "-m", "pocketlink", "exec", self.instance, "--", "env",
             f"AWS_ACCESS_KEY_ID={PROVIDER}", "AWS_SECRET_ACCESS_KEY=x",
             f"AWS_DEFAULT_REGION={REGION}", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER=",
             "aws", "--cli-connect-timeout", str(CONNECT_TIMEOUT), *arguments],
            capture_output=True, text=True, timeout=90)

    def cp(self) -> subprocess.CompletedProcess:
        return self.aws("s3", "cp", f"s3://{BUCKET}/{KEY}", "-")


def _vpc(ec2, cidr: str) -> Vpc:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"),
                               AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                   SubnetId=subnet)["Instances"]
    wait_for(lambda: ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
        "Reservations"][0]["Instances"][0]["State"]["Name"] == "running", "instance running")
    return Vpc(vpc, table, instance["InstanceId"], instance["PrivateIpAddress"])


def _gateway(ec2, vpc: Vpc, service: str, route_tables: list[str]) -> str:
    return ec2.create_vpc_endpoint(
        VpcEndpointType="Gateway", VpcId=vpc.vpc, ServiceName=f"com.amazonaws.{REGION}.{service}",
        RouteTableIds=route_tables)["VpcEndpoint"]["VpcEndpointId"]


@dataclass
class World:
    daemon: object
    ec2: object
    s3: object
    one: Vpc
    other: Vpc
    endpoint: str  # the S3 gateway endpoint of ``one``
    other_endpoint: str  # of ``other``, routed from the start


@pytest.fixture(scope="module")
def world(make_daemon) -> World:
    daemon = make_daemon()
    ec2 = daemon.client("ec2", region=REGION)
    s3 = daemon.client("s3", region=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=BODY.encode())
    one, other = _vpc(ec2, "10.1.0.0/16"), _vpc(ec2, "10.2.0.0/16")
    endpoint = _gateway(ec2, one, "s3", [])
    other_endpoint = _gateway(ec2, other, "s3", [other.route_table])
    return World(daemon, ec2, s3, one, other, endpoint, other_endpoint)


def _timed_out(answer: subprocess.CompletedProcess) -> bool:
    return answer.returncode != 0 and "Connect timeout on endpoint URL" in answer.stderr


def _works(vpc: Vpc) -> bool:
    return vpc.cp().stdout.strip() == BODY


def test_the_prefix_list_is_what_the_names_resolve_to(world):
    [listed] = world.ec2.describe_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{REGION}.s3"]}])[
        "PrefixLists"]
    for name in ("s3.amazonaws.com", f"{BUCKET}.s3.amazonaws.com", f"s3.{REGION}.amazonaws.com",
                 f"{BUCKET}.s3.{REGION}.amazonaws.com"):
        answer = subprocess.run([sys.executable, "-m", "pocketlink", "exec", world.one.instance,
                                 "--", "getent", "ahostsv4", name],
                                capture_output=True, text=True, timeout=30)
        address = answer.stdout.split()[0]
        assert any(ipaddress.ip_address(address) in ipaddress.ip_network(c)
                   for c in listed["Cidrs"]), (name, address, listed)


def test_without_the_route_s3_times_out(world):
    assert _timed_out(world.one.cp())


def test_with_the_route_the_cli_reaches_s3_from_its_own_address(world):
    world.ec2.modify_vpc_endpoint(VpcEndpointId=world.endpoint,
                                  AddRouteTableIds=[world.one.route_table])
    wait_for(lambda: _works(world.one), "s3 cp through the gateway endpoint")
    answer = world.one.aws("s3", "cp", "-", f"s3://{BUCKET}/from-the-vpc.txt")
    assert answer.returncode == 0, answer.stderr
    assert world.s3.list_objects_v2(Bucket=BUCKET, Prefix="from-the-vpc")["KeyCount"] == 1
    legacy = world.one.aws("--endpoint-url", "https://s3.amazonaws.com", "s3", "cp",
                           f"s3://{BUCKET}/{KEY}", "-")
    assert legacy.stdout.strip() == BODY, legacy.stderr
    seen = world.daemon.log.read_text()
    assert f"via {world.endpoint} from {world.one.address}" in seen


def test_the_endpoint_policy_is_enforced(world):
    deny = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}
    world.ec2.modify_vpc_endpoint(VpcEndpointId=world.endpoint, PolicyDocument=json.dumps(deny))
    try:
        answer = world.one.cp()
        assert answer.returncode != 0
        assert "AccessDenied" in answer.stderr or "403" in answer.stderr, answer.stderr
        listed = world.one.aws("s3", "ls", f"s3://{BUCKET}/")
        assert listed.returncode == 0 and KEY in listed.stdout, listed.stderr
    finally:
        world.ec2.modify_vpc_endpoint(VpcEndpointId=world.endpoint, ResetPolicy=True)
    assert _works(world.one)


def test_a_bucket_policy_on_source_vpce_lets_in_the_endpoints_vpc_only(world):
    assert _works(world.other)  # through its own gateway endpoint, before the policy
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Access-to-specific-VPCE-only", "Effect": "Deny", "Principal": "*",
        "Action": "s3:*", "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"StringNotEquals": {"aws:SourceVpce": world.endpoint}}}]}
    world.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    try:
        assert _works(world.one)
        denied = world.other.cp()
        assert denied.returncode != 0 and "403" in denied.stderr, denied.stderr
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            world.s3.get_object(Bucket=BUCKET, Key=KEY)
        assert raised.value.response["Error"]["Code"] == "AccessDenied"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        # The bucket owner's root user keeps the bucket policy itself, as at AWS.
        assert json.loads(world.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == policy
    finally:
        world.s3.delete_bucket_policy(Bucket=BUCKET)
    assert world.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == BODY.encode()
    assert _works(world.other)


def test_a_bucket_policy_iams_grammar_refuses_is_refused(world):
    """So that what is stored is what is enforced (AWS's MalformedPolicy; its words differ)."""
    unsigned = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        world.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(unsigned))
    assert raised.value.response["Error"]["Code"] == "MalformedPolicy"
    assert world.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == BODY.encode()


def test_dynamodb_through_its_gateway_endpoint(world):
    dynamodb = world.daemon.client("dynamodb", region=REGION)
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    listing = ("dynamodb", "list-tables", "--query", "TableNames[0]", "--output", "text")
    assert _timed_out(world.one.aws(*listing))
    endpoint = _gateway(world.ec2, world.one, "dynamodb", [world.one.route_table])
    wait_for(lambda: world.one.aws(*listing).stdout.strip() == TABLE,
             "dynamodb through its gateway endpoint")
    assert f"via {endpoint} from {world.one.address}" in world.daemon.log.read_text()


def test_the_route_removed_s3_times_out_again(world):
    world.ec2.modify_vpc_endpoint(VpcEndpointId=world.endpoint,
                                  RemoveRouteTableIds=[world.one.route_table])
    wait_for(lambda: _timed_out(world.one.cp()), "s3 gone with the route")
