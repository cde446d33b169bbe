"""Seed 004's CDK app (cdk/seed004) with the real CDK CLI, unwrapped: ``cdk synth`` offline,
then ``AWS_ENDPOINT_URL=... cdk bootstrap``, ``cdk deploy`` and ``cdk destroy`` against the
daemon. What the stack made is looked at as it is: the endpoints available with their
namespaces and private DNS answering in the VPC, the S3 gateway in both route tables, the
default security group's rules gone (Custom::VpcRestrictDefaultSG), the custom resource's
Lambda function recorded; after ``cdk destroy``, none of it.

Marked ``cdk``: they need node and the app's node_modules (``scripts/setup`` runs ``npm ci``
there), and skip with the reason when either is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pocketlink.network import names, netns
from tests.cloudformation.conftest import new_account

APP = Path(__file__).resolve().parents[2] / "cdk" / "seed004"
CDK = APP / "node_modules" / ".bin" / "cdk"
REGION = "ap-northeast-1"
INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "ssmmessages")
STACK = "Seed004"

pytestmark = [
    pytest.mark.cdk,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed "
                       "(scripts/setup installs Debian's nodejs)"),
    pytest.mark.skipif(not CDK.exists(), reason=f"{CDK} is missing: run scripts/setup "
                       "(npm ci in cdk/seed004)"),
]


def cdk_env(home: Path, account: str, endpoint: str) -> dict[str, str]:
    """The CLI's environment as a user's would be: keys, region and the endpoint, nothing
    else of pocketlink's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update({"HOME": str(home), "AWS_ACCESS_KEY_ID": account,
                "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": endpoint,
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "CDK_DISABLE_CLI_TELEMETRY": "true"})
    return env


def cdk(env: dict[str, str], output: Path, *args: str) -> str:
    done = subprocess.run([str(CDK), *args, "--output", str(output), "--no-notices"],
                          cwd=APP, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"cdk {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_synth_is_offline(tmp_path):
    """Nothing answers at the endpoint: synthesis must not need it."""
    env = cdk_env(tmp_path, "123456789012", "http://127.0.0.1:9")
    cdk(env, tmp_path / "out", "synth", "--quiet")
    template = json.loads((tmp_path / "out" / f"{STACK}.template.json").read_text())
    types = [r["Type"] for r in template["Resources"].values()]
    assert types.count("AWS::EC2::VPCEndpoint") == 7
    assert "Custom::VpcRestrictDefaultSG" in types


def test_bootstrap_deploy_destroy(cfn_daemon, tmp_path):
    account = new_account()
    env = cdk_env(tmp_path, account, cfn_daemon.endpoint)
    ec2 = cfn_daemon.client("ec2", account, region=REGION)
    cfn = cfn_daemon.client("cloudformation", account, region=REGION)
    lam = cfn_daemon.client("lambda", account, region=REGION)
    iam = cfn_daemon.client("iam", account, region=REGION)

    said = cdk(env, tmp_path / "out", "bootstrap")
    assert f"aws://{account}/{REGION} bootstrapped" in said
    toolkit = cfn.describe_stacks(StackName="CDKToolkit")["Stacks"][0]
    assert toolkit["StackStatus"] == "CREATE_COMPLETE"

    cdk(env, tmp_path / "out", "deploy", "--require-approval", "never")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    vpc = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["VpcId"]
    assert names.namespace(vpc) in netns.ours()

    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    interfaces = {e["ServiceName"]: e for e in endpoints if e["VpcEndpointType"] == "Interface"}
    assert sorted(interfaces) == sorted(f"com.amazonaws.{REGION}.{s}"
                                        for s in INTERFACE_SERVICES)
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
    assert sorted(s["AvailabilityZone"] for s in subnets.values()) == [f"{REGION}a",
                                                                       f"{REGION}c"]
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets.values())
    for endpoint in interfaces.values():
        assert endpoint["State"] == "available"
        assert endpoint["PrivateDnsEnabled"] is True
        assert sorted(endpoint["SubnetIds"]) == sorted(subnets)
    gateway, = [e for e in endpoints if e["VpcEndpointType"] == "Gateway"]
    assert gateway["ServiceName"] == f"com.amazonaws.{REGION}.s3"
    assert gateway["State"] == "available"
    tables = ec2.describe_route_tables(RouteTableIds=gateway["RouteTableIds"])["RouteTables"]
    assert len(tables) == 2
    for table in tables:
        assert any(r.get("GatewayId") == gateway["VpcEndpointId"] for r in table["Routes"])

    # Private DNS answers in the VPC with the endpoint's own addresses.
    ssm = interfaces[f"com.amazonaws.{REGION}.ssm"]
    addresses = {i["PrivateIpAddress"] for i in ec2.describe_network_interfaces(
        NetworkInterfaceIds=ssm["NetworkInterfaceIds"])["NetworkInterfaces"]}
    resolver = str(ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlock"]).split("/")[0]
    resolver = resolver.rsplit(".", 1)[0] + ".2"
    answer = subprocess.run(["ip", "netns", "exec", names.namespace(vpc), "dig", "+short",
                             f"@{resolver}", f"ssm.{REGION}.amazonaws.com"],
                            capture_output=True, text=True, timeout=30)
    assert set(answer.stdout.split()) == addresses, answer

    # Custom::VpcRestrictDefaultSG: the default group keeps no rule.
    default = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"][0]
    assert default["IpPermissions"] == [] and default["IpPermissionsEgress"] == []
    functions = lam.list_functions()["Functions"]
    assert len(functions) == 1 and functions[0]["Runtime"].startswith("nodejs")

    said = cdk(env, tmp_path / "out", "destroy", "--force")
    assert f"{STACK}: destroyed" in said
    assert cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0][
        "StackStatus"] == "DELETE_COMPLETE"
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"] == []
    left = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "VpcEndpoints"]  # deleted ones stay listed a while, as at AWS
    assert {e["State"] for e in left} <= {"deleted"}
    assert names.namespace(vpc) not in netns.ours()
    assert lam.list_functions()["Functions"] == []
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith(STACK)]
