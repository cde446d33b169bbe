"""Seed 004 end to end: an instance in an isolated subnet, with an instance profile and
``HttpTokens: required``, calls AWS services with the real AWS CLI and boto3 — no
``--endpoint-url``, no keys, no CA flag: its credentials come from the metadata service,
its names from its VPC's resolver, its trust from the sandbox's CA store.

Without endpoints every call times out; through the seed's interface endpoints (private DNS
on) they succeed, over IPv4 and IPv6; an endpoint policy refuses what it denies; a deleted
endpoint takes the service away and a re-created one brings it back; with private DNS off
only the endpoint's own vpce name reaches the service.
"""

from __future__ import annotations

import json
import os

import pytest

from pocketlink.seeds.seed004 import PARAMETER, PARAMETER_VALUE, REGION, Seed004
from tests.conftest import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")

# Beyond the seed's own endpoints: the services issue 8 names that its task does not use.
MORE_SERVICES = ("sts", "ec2", "kms", "s3")
BUCKET, KEY = "seed004-objects", "hello.txt"


@pytest.fixture(scope="module")
def seed(make_daemon):
    daemon = make_daemon()
    seed = Seed004(daemon.endpoint, say=lambda _: None, dual_stack=True)
    seed.build()
    s3 = seed.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"through an S3 interface endpoint\n")
    seed.daemon = daemon  # type: ignore[attr-defined]
    return seed


def _ok(answer) -> str:
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.strip()


def test_with_no_endpoint_every_call_times_out(seed):
    answers = seed.calls()
    for shown, answer in answers:
        assert answer.returncode != 0, shown
        assert "Connect timeout on endpoint URL" in answer.stderr, (shown, answer.stderr)
    assert f"https://ssm.{REGION}.amazonaws.com/" in answers[0][1].stderr


def test_through_the_seeds_endpoints_the_same_calls_work(seed):
    seed.create_endpoints()
    seed.create_endpoints(MORE_SERVICES, s3_gateway=False)
    [(_, parameter), (_, secret), (_, log)] = seed.calls()
    assert _ok(parameter) == PARAMETER_VALUE
    assert json.loads(_ok(secret))["username"] == "app"
    assert "nextSequenceToken" in _ok(log)
    events = seed.client("logs").get_log_events(logGroupName="/app/web", logStreamName="instance")
    assert [e["message"] for e in events["events"]] == ["started"]


def test_the_instance_role_acts_for_its_account_in_sts_ec2_kms_and_s3(seed):
    instance = seed.ids["instance"]
    arn = _ok(seed.aws("sts", "get-caller-identity", "--query", "Arn", "--output", "text"))
    assert arn == f"arn:aws:sts::{seed.client('sts').get_caller_identity()['Account']}:" \
                  f"assumed-role/app/{instance}"
    described = _ok(seed.aws("ec2", "describe-instances", "--instance-ids", instance, "--query",
                             "Reservations[0].Instances[0].IamInstanceProfile.Arn", "--output",
                             "text"))
    assert described.endswith(":instance-profile/app")
    key = json.loads(_ok(seed.aws("kms", "create-key", "--description", "seed004")))
    assert key["KeyMetadata"]["Enabled"] is True
    assert _ok(seed.aws("s3", "cp", f"s3://{BUCKET}/{KEY}", "-")) == \
        "through an S3 interface endpoint"


def test_boto3_inside_the_instance_over_ipv6(seed):
    """The SDK's default chain (IMDSv2, the CA store), the regional name's AAAA record from
    the VPC's resolver: only IPv6 addresses are tried, and the front sees the instance's."""
    script = ("import socket, boto3\n"
              "real = socket.getaddrinfo\n"
              "socket.getaddrinfo = lambda host, port, family=0, *rest: real(\n"
              "    host, port, socket.AF_INET6 if host.endswith('.amazonaws.com') else family, *rest)\n"
              f"print(boto3.client('ssm').get_parameter(Name={PARAMETER!r})['Parameter']['Value'])")
    assert _ok(seed.run("python3", "-c", script)) == PARAMETER_VALUE
    seen = seed.daemon.log.read_text()
    assert f"from {seed.ids['instance_ipv6']}" in seen


def test_an_endpoint_policy_denies_what_it_names(seed):
    seed.deny_get_parameter()
    try:
        [(_, parameter), (_, secret), _] = seed.calls()
        assert parameter.returncode != 0
        assert "AccessDeniedException" in parameter.stderr
        assert "with an explicit deny in a VPC endpoint policy" in parameter.stderr
        assert json.loads(_ok(secret))["username"] == "app"
    finally:
        seed.client("ec2").modify_vpc_endpoint(VpcEndpointId=seed.endpoints["ssm"],
                                               ResetPolicy=True)


def test_deleted_and_recreated_and_private_dns_off(seed):
    ec2 = seed.client("ec2")
    get = ("ssm", "get-parameter", "--name", PARAMETER, "--query", "Parameter.Value",
           "--output", "text")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[seed.endpoints.pop("ssm")])
    wait_for(lambda: "Connect timeout" in seed.aws(*get).stderr, "ssm gone with its endpoint")

    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=seed.ids["vpc"],
        ServiceName=f"com.amazonaws.{REGION}.ssm", SubnetIds=seed.ids["subnets"].split(","),
        SecurityGroupIds=[seed.ids["endpoint_group"]], PrivateDnsEnabled=False)["VpcEndpoint"]
    seed.endpoints["ssm"] = endpoint["VpcEndpointId"]
    wait_for(lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"] == "available", "the new endpoint available")
    assert "Connect timeout" in seed.aws(*get).stderr  # the regional name is public again
    vpce_name = endpoint["DnsEntries"][0]["DnsName"]
    assert _ok(seed.aws("--endpoint-url", f"https://{vpce_name}", *get)) == PARAMETER_VALUE

    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], PrivateDnsEnabled=True)
    wait_for(lambda: seed.aws(*get).stdout.strip() == PARAMETER_VALUE,
             "the regional name back on the endpoint")

