"""Seed 000 typed at the AWS CLI: the provider and the consumer are two access keys."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import CONSUMER, PROVIDER
from tests.privatelink.conftest import build_consumer, build_provider, wait_for


def aws(env: dict[str, str], account: str, *args: str, ok: bool = True) -> dict | str:
    """``python -m awscli ARGS`` as ``account``: its JSON output, or its stderr if it failed."""
    done = subprocess.run([sys.executable, "-m", "awscli", *args, "--output", "json"],
                          env={**env, "AWS_ACCESS_KEY_ID": account}, capture_output=True,
                          text=True, timeout=60)
    if not ok:
        assert done.returncode != 0, done.stdout
        return done.stderr
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_seed_000_at_the_cli(cli_env, client):
    provider = build_provider(client, PROVIDER, service=False)
    consumer = build_consumer(client, CONSUMER, [s["AvailabilityZoneId"] for s in provider.subnets],
                              cidr="10.40.0.0/16")

    # [Provider] Create endpoint service, then allow the consumer's account.
    service = aws(cli_env, PROVIDER, "ec2", "create-vpc-endpoint-service-configuration",
                  "--network-load-balancer-arns", provider.balancer_arn,
                  "--acceptance-required")["ServiceConfiguration"]
    name = service["ServiceName"]
    assert service["ServiceState"] == "Available" and service["AcceptanceRequired"] is True
    stderr = aws(cli_env, CONSUMER, "ec2", "describe-vpc-endpoint-services", "--service-names",
                 name, ok=False)
    assert "InvalidServiceName" in stderr
    aws(cli_env, PROVIDER, "ec2", "modify-vpc-endpoint-service-permissions", "--service-id",
        service["ServiceId"], "--add-allowed-principals", f"arn:aws:iam::{CONSUMER}:root")

    # [Consumer] Create the interface endpoint with the copied service name.
    endpoint = aws(cli_env, CONSUMER, "ec2", "create-vpc-endpoint", "--vpc-endpoint-type",
                   "Interface", "--vpc-id", consumer.vpc_id, "--service-name", name,
                   "--subnet-ids", *consumer.subnet_ids)["VpcEndpoint"]
    endpoint_id = endpoint["VpcEndpointId"]
    assert endpoint["State"] == "pendingAcceptance"

    # [Provider] Accept the connection request.
    connections = aws(cli_env, PROVIDER, "ec2", "describe-vpc-endpoint-connections", "--filters",
                      "Name=vpc-endpoint-state,Values=pendingAcceptance")["VpcEndpointConnections"]
    assert [c["VpcEndpointId"] for c in connections] == [endpoint_id]
    accepted = aws(cli_env, PROVIDER, "ec2", "accept-vpc-endpoint-connections", "--service-id",
                   service["ServiceId"], "--vpc-endpoint-ids", endpoint_id)
    assert accepted["Unsuccessful"] == []

    # [Consumer] The endpoint becomes available; its first DNS name is the one to curl.
    def described() -> dict | None:
        [found] = aws(cli_env, CONSUMER, "ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids",
                      endpoint_id)["VpcEndpoints"]
        return found if found["State"] == "available" else None

    found = wait_for(described, timeout=60)
    assert found["DnsEntries"][0]["DnsName"].startswith(endpoint_id + "-")
    assert found["DnsEntries"][0]["DnsName"].endswith(
        f".{service['ServiceId']}.us-east-1.vpce.amazonaws.com")
