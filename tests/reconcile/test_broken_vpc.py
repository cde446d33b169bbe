"""One VPC whose network the kernel refuses to build: its endpoint turns ``failed`` with
the kernel's reason and its new instance stays ``pending`` with one, while another VPC in
the same daemon keeps converging; once repaired, both recover by themselves.

The break is real: IPv6 turned off inside the VPC's router namespace behind pocketlink's
back, so that the kernel refuses every IPv6 address pocketlink puts on the router's
links (EACCES)."""

from __future__ import annotations

import os
import subprocess

import pytest

from pocketlink.network import names
from tests.conftest import CONSUMER, settled, wait_for
from tests.network.conftest import AMI, WEB_PORT, curl, launch
from tests.reconcile.web import consumer_vpc, endpoint, endpoint_address, service_of_a_web_server

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="builds namespaces: needs root")


def ipv6(namespace: str, on: bool) -> None:
    value = "0" if on else "1"
    subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-q", "-w",
                    f"net.ipv6.conf.all.disable_ipv6={value}",
                    f"net.ipv6.conf.default.disable_ipv6={value}"], check=True)


def instance(ec2, instance_id: str) -> dict:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def test_a_broken_vpc_shows_why_and_holds_up_no_other(make_daemon) -> None:
    daemon = make_daemon()
    service, zone = service_of_a_web_server(daemon)
    ec2 = daemon.client("ec2", CONSUMER, "us-west-2")
    broken_vpc, broken_subnet = consumer_vpc(ec2, "10.1.0.0/16", zone)
    healthy_vpc, healthy_subnet = consumer_vpc(ec2, "10.2.0.0/16", zone)
    [broken_client] = launch(ec2, broken_subnet)
    router = names.namespace(broken_vpc)
    ipv6(router, on=False)
    try:
        broken = ec2.create_vpc_endpoint(VpcId=broken_vpc, ServiceName=service,
                                         VpcEndpointType="Interface",
                                         SubnetIds=[broken_subnet])["VpcEndpoint"]["VpcEndpointId"]
        [stuck] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                    SubnetId=broken_subnet)["Instances"]

        failed = wait_for(lambda: (e := endpoint(ec2, broken))["State"] == "failed" and e)
        assert failed["LastError"]["Code"] == "InternalError"
        assert broken_vpc in failed["LastError"]["Message"]
        assert "Permission denied" in failed["LastError"]["Message"]
        reason = wait_for(lambda: instance(ec2, stuck["InstanceId"]).get("StateReason"))
        assert reason["Code"] == "Server.InternalError"
        assert "Permission denied" in reason["Message"]
        assert instance(ec2, stuck["InstanceId"])["State"]["Name"] == "pending"
        assert {f["id"] for f in daemon.status()["failures"]} >= {broken, stuck["InstanceId"]}

        # Meanwhile the other VPC converges: a new instance runs, a new endpoint carries bytes.
        [client] = launch(ec2, healthy_subnet)
        healthy = ec2.create_vpc_endpoint(VpcId=healthy_vpc, ServiceName=service,
                                          VpcEndpointType="Interface",
                                          SubnetIds=[healthy_subnet])["VpcEndpoint"]["VpcEndpointId"]
        wait_for(lambda: endpoint(ec2, healthy)["State"] == "available")
        page = curl(client["InstanceId"], f"http://{endpoint_address(ec2, healthy)}:{WEB_PORT}/")
        assert "Hello World" in page.stdout, page
        assert endpoint(ec2, broken)["State"] == "failed"
    finally:
        ipv6(router, on=True)

    # Repaired behind pocketlink's back too: the retries find the kernel willing again.
    wait_for(lambda: endpoint(ec2, broken)["State"] == "available", timeout=60)
    assert "LastError" not in endpoint(ec2, broken)
    assert settled(ec2, [stuck["InstanceId"]], timeout=60) == {stuck["InstanceId"]: "running"}
    assert "StateReason" not in instance(ec2, stuck["InstanceId"])
    page = curl(broken_client["InstanceId"], f"http://{endpoint_address(ec2, broken)}:{WEB_PORT}/")
    assert "Hello World" in page.stdout, page
    assert daemon.status()["failures"] == []
