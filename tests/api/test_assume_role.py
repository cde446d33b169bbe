"""STS AssumeRole: temporary keys that act for the role's account in every service, seen
by GetCallerIdentity as the assumed role, as at AWS; malformed requests refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config

from tests.conftest import check_aws_error
from tests.privatelink.conftest import aws_error, new_account


def _client(daemon, service: str, credentials: dict):
    made = boto3.client(service, endpoint_url=daemon.endpoint, region_name="us-east-1",
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"],
                        config=Config(retries={"max_attempts": 1}, proxies={}))
    made.meta.events.register("after-call", check_aws_error)
    return made


def test_assumed_role_keys_act_for_the_role_s_account(daemon):
    caller, owner = new_account(), new_account()
    sts = daemon.client("sts", caller)
    role_arn = f"arn:aws:iam::{owner}:role/team/deployer"
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName="cdk-session",
                             DurationSeconds=900)
    credentials = answer["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", credentials["AccessKeyId"])
    assert credentials["Expiration"] - datetime.now(UTC) <= timedelta(seconds=900)
    assumed = answer["AssumedRoleUser"]
    assert assumed["Arn"] == f"arn:aws:sts::{owner}:assumed-role/deployer/cdk-session"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:cdk-session", assumed["AssumedRoleId"])
    identity = _client(daemon, "sts", credentials).get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (
        owner, assumed["Arn"], assumed["AssumedRoleId"])
    vpc = _client(daemon, "ec2", credentials).create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]
    assert vpc["OwnerId"] == owner
    seen = daemon.client("ec2", owner).describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"]
    assert [v["VpcId"] for v in seen] == [vpc["VpcId"]]
    again = sts.assume_role(RoleArn=role_arn, RoleSessionName="other")["AssumedRoleUser"]
    assert again["AssumedRoleId"].split(":")[0] == assumed["AssumedRoleId"].split(":")[0]


@pytest.mark.parametrize(("params", "words"), [
    ({"RoleArn": "arn:aws:iam::111111111111:user/someone", "RoleSessionName": "s1"},
     "at 'roleArn'"),
    ({"RoleArn": "arn:aws:iam::111111111111:role/r", "RoleSessionName": "bad name!"},
     "at 'roleSessionName'"),
    ({"RoleArn": "arn:aws:iam::111111111111:role/r", "RoleSessionName": "s1",
      "DurationSeconds": 60}, "at 'durationSeconds'"),
])
def test_malformed_requests_refused(daemon, params, words):
    sts = daemon.client("sts", new_account(), validate=False)
    sts.meta.events.register("after-call", check_aws_error)
    with aws_error("ValidationError") as caught:
        sts.assume_role(**params)
    assert words in caught.value.response["Error"]["Message"]
