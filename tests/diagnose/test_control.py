"""The verdict is the daemon's control's, on its 0600 socket only: what every account's
network looks like is not for the web port (tests/security/test_control.py's rule)."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlencode

import pytest

from pocketlink.gateway import control
from tests.conftest import settled
from tests.security.signed import raw


def _ask(daemon, **query) -> dict:
    record = control.RuntimeRecord.read(daemon.state)
    assert record is not None
    return control.ask(record, "GET", f"/_pocketlink/diagnose?{urlencode(query)}")


def test_diagnose_over_http_is_not_there(daemon) -> None:
    query = urlencode({"from": "i-00000000000000001", "to": "example.com", "port": 80})
    assert raw(daemon.endpoint, "GET", f"/_pocketlink/diagnose?{query}").status == 404


def test_an_instance_that_is_not_there_is_the_first_failure(daemon) -> None:
    found = _ask(daemon, **{"from": "i-00000000000000001", "to": "example.com", "port": 80})
    assert not found["reachable"]
    assert found["failure"]["name"] == "instance"
    assert found["failure"]["detail"] == "no instance i-00000000000000001 here"


def test_a_request_without_a_port_is_refused(daemon) -> None:
    with pytest.raises(OSError, match="answered 400"):
        _ask(daemon, **{"from": "i-00000000000000001", "to": "example.com"})


def test_a_vpc_without_dns_support_resolves_nothing(daemon) -> None:
    # An account of its own: the daemon is shared with tests that count their VPCs.
    ec2 = daemon.client("ec2", "151515151515")
    vpc = ec2.create_vpc(CidrBlock="10.71.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.71.1.0/24")["Subnet"]["SubnetId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": False})
    [instance] = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                   SubnetId=subnet)["Instances"]
    assert settled(ec2, [instance["InstanceId"]]) == {instance["InstanceId"]: "running"}
    found = _ask(daemon, **{"from": instance["InstanceId"], "to": "example.com", "port": 80})
    dns = next(h for h in found["hops"] if h["name"] == "DNS")
    assert dns["verdict"] == "FAIL" and "enableDnsSupport off" in dns["detail"]
    assert dns["fix"] == {"account": "151515151515", "command":
                          f"aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-support "
                          "--region us-east-1"}


def test_the_cli_says_when_it_did_not_probe(daemon) -> None:
    done = subprocess.run([sys.executable, "-m", "pocketlink", "diagnose", "--state",
                           str(daemon.state), "--from", "i-00000000000000001", "--to",
                           "example.com:443", "--no-probe"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "diagnose i-00000000000000001 -> example.com:443 (tcp)",
        "  FAIL  instance             no instance i-00000000000000001 here",
        "verdict: unreachable at 'instance'",
        "probe:   not run (--no-probe)"]
