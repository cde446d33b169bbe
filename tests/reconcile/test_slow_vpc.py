"""One slow VPC holds up no other (issue 12, item 1): a VPC whose stopped instances hold
processes that will not stop (each costs its network run the 3 s of SIGTERM's grace, then a
SIGKILL) keeps its own worker busy, while another VPC's new endpoint carries bytes.

An order, not a time: the other VPC's first answer through its endpoint comes while the
slow VPC's run is still ending its stubborn processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pocketlink.polling import PATIENCE
from tests.conftest import CONSUMER, settled, wait_for
from tests.daemon.test_restart import FIRST_ANSWER
from tests.network.conftest import WEB_PORT, launch
from tests.reconcile.web import consumer_vpc, endpoint_address, service_of_a_web_server

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="builds namespaces: needs root")

STUBBORN = 6  # stopped instances, each holding one: the slow run lasts about 6 x 3 s


def test_a_slow_vpc_holds_up_no_other(make_daemon, tmp_path) -> None:
    daemon = make_daemon()
    service, zone = service_of_a_web_server(daemon)
    ec2 = daemon.client("ec2", CONSUMER, "us-west-2")
    slow_vpc, slow_subnet = consumer_vpc(ec2, "10.1.0.0/16", zone)
    other_vpc, other_subnet = consumer_vpc(ec2, "10.2.0.0/16", zone)
    [client] = launch(ec2, other_subnet)
    stopped = [i["InstanceId"] for i in launch(ec2, slow_subnet, count=STUBBORN)]
    assert set(settled(ec2, [*stopped, client["InstanceId"]]).values()) == {"running"}
    ec2.stop_instances(InstanceIds=stopped)
    assert set(settled(ec2, stopped).values()) == {"stopped"}

    # Each survives SIGTERM and says it got one: the slow VPC's run has begun ending them.
    # Each says it is ready once its trap is set: on a loaded machine a shell that had not
    # set it yet would die of the SIGTERM and never leave its mark.
    marks = [tmp_path / f"termed-{i}" for i in stopped]
    ready = [tmp_path / f"ready-{i}" for i in stopped]
    stubborn = [subprocess.Popen(["ip", "netns", "exec", f"pl-{i}", "sh", "-c",
                                  f"trap 'touch {mark}' TERM; touch {up}; "
                                  "while :; do sleep 1; done"])
                for i, mark, up in zip(stopped, marks, ready, strict=True)]
    witness = None
    try:
        wait_for(lambda: all(up.exists() for up in ready), "the stubborn processes' traps")
        # A change of the slow VPC's inputs: its worker runs, and meets the stopped hosts.
        ec2.create_subnet(VpcId=slow_vpc, CidrBlock="10.1.2.0/24", AvailabilityZoneId=zone)
        wait_for(lambda: any(mark.exists() for mark in marks), "the slow VPC's run to begin")
        endpoint_id = ec2.create_vpc_endpoint(
            VpcId=other_vpc, ServiceName=service, VpcEndpointType="Interface",
            SubnetIds=[other_subnet])["VpcEndpoint"]["VpcEndpointId"]
        url = f"http://{endpoint_address(ec2, endpoint_id)}:{WEB_PORT}/"
        witness = subprocess.Popen(["ip", "netns", "exec", f"pl-{client['InstanceId']}",
                                    sys.executable, "-c", FIRST_ANSWER, url,
                                    *(str(p.pid) for p in stubborn)],
                                   stdout=subprocess.PIPE, text=True)
        alive, _ = witness.communicate(timeout=PATIENCE)
        assert int(alive) > 0  # the slow VPC's run was still under way
        for process in stubborn:
            process.wait(timeout=PATIENCE)  # and it ended them all: SIGKILL after the grace
        assert all(mark.exists() for mark in marks)
    finally:
        for process in [*stubborn, *([witness] if witness else [])]:
            if process.poll() is None:
                process.kill()
                process.wait()
