"""The commands a person types: the AWS CLI against the daemon, and ``pocketlink status``
(which asks the daemon of a state over its control socket)."""

from __future__ import annotations

import json
import subprocess
import sys

from pocketlink.harness import free_port


def aws(cli_env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "awscli", *args, "--output", "json"],
                          env=cli_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_aws_cli_creates_and_describes_a_vpc_and_subnet(cli_env) -> None:
    vpc = aws(cli_env, "ec2", "create-vpc", "--cidr-block", "10.42.0.0/16",
              "--tag-specifications", "ResourceType=vpc,Tags=[{Key=Name,Value=cli}]")["Vpc"]
    subnet = aws(cli_env, "ec2", "create-subnet", "--vpc-id", vpc["VpcId"], "--cidr-block",
                 "10.42.1.0/24", "--availability-zone", "us-east-1b")["Subnet"]
    described = aws(cli_env, "ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=cli")
    assert [v["VpcId"] for v in described["Vpcs"]] == [vpc["VpcId"]]
    subnets = aws(cli_env, "ec2", "describe-subnets", "--subnet-ids", subnet["SubnetId"])
    assert subnets["Subnets"][0]["CidrBlock"] == "10.42.1.0/24"
    assert subnets["Subnets"][0]["AvailabilityZone"] == "us-east-1b"
    assert subnets["Subnets"][0]["AvailableIpAddressCount"] == 251


def test_aws_cli_shows_aws_errors(cli_env) -> None:
    done = subprocess.run([sys.executable, "-m", "awscli", "ec2", "describe-vpcs", "--vpc-ids",
                           "vpc-0000000000000000a"], env=cli_env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "InvalidVpcID.NotFound" in done.stderr


def test_status_reports_what_the_daemon_holds(daemon, ec2) -> None:
    ec2.create_vpc(CidrBlock="10.43.0.0/16")
    done = subprocess.run([sys.executable, "-m", "pocketlink", "status", "--state",
                           str(daemon.state)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert f"running on 127.0.0.1:{daemon.port}" in done.stdout
    assert "111111111111" in done.stdout
    assert "vpc" in done.stdout.splitlines()[1]


def test_status_says_when_nothing_runs(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "pocketlink", "status", "--state",
                           str(tmp_path / "none.db")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "not running" in done.stdout and "pocketlink up" in done.stdout


def test_a_taken_port_is_one_clear_line(daemon, tmp_path) -> None:
    # Its own public DNS port: that one is bound first (the resolvers come back before the
    # API is built), and only the API's port is to be taken here.
    done = subprocess.run([sys.executable, "-m", "pocketlink", "up", "--port", str(daemon.port),
                           "--public-dns-port", str(free_port()),
                           "--state", str(tmp_path / "s.db")], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{daemon.port}" in done.stderr
