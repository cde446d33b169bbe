"""Tests start the real daemon: ``pocketlink up`` in a subprocess on a free loopback port
(``pocketlink.harness.Daemon``), and poll with ``pocketlink.polling.wait_for``."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Iterator

import pytest

from pocketlink.harness import PROVIDER, Daemon
from pocketlink.polling import PATIENCE
from pocketlink.polling import wait_for as wait_for  # the tests import it from here

CONSUMER = "222222222222"


def check_aws_error(http_response, parsed, model, **_) -> None:
    """botocore's ``after-call`` hook: an error must be a well-formed AWS client error."""
    status = http_response.status_code
    if status < 300:
        return
    error = parsed.get("Error") or {}
    code = error.get("Code")
    assert code and code != "InternalError", f"{model.name} failed with HTTP {status}: {error}"
    assert "Message" in error, f"{model.name}: error {code} has no message"
    assert status == expected_status(model.service_model, code), \
        f"{model.name}: {code} came with HTTP {status}"


def expected_status(service_model, code: str) -> int:
    """The status the model gives ``code`` (Route 53's NoSuchHostedZone: 404), else 400."""
    if code == "DryRunOperation":
        return 412
    for shape in service_model.error_shapes:
        error = shape.metadata.get("error") or {}
        if error.get("code", shape.name) == code:
            return error.get("httpStatusCode", 400)
    return 400


def ipv6_subnet(block: str, index: int) -> str:
    """The ``index``-th /64 of a VPC's /56 (string surgery on the block breaks when a group
    of it is zero and the address is written compressed)."""
    return str(list(ipaddress.IPv6Network(block).subnets(new_prefix=64))[index])


TRANSITIONAL = ("pending", "stopping", "shutting-down")


def settled(ec2, instance_ids: list[str], timeout: float = PATIENCE) -> dict[str, str]:
    """Waits until none of the instances is between states (the reconciler finishes every
    move), and gives their states."""
    deadline = time.monotonic() + timeout
    while True:
        states = {i["InstanceId"]: i["State"]["Name"]
                  for r in ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
                  for i in r["Instances"]}
        if not any(s in TRANSITIONAL for s in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(0.05)


@pytest.fixture(scope="session")
def make_daemon(tmp_path_factory) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def make(*args: str) -> Daemon:
        folder = tmp_path_factory.mktemp("pocketlink")
        daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log", args=list(args))
        started.append(daemon)  # first: a start that fails still has its namespaces removed
        daemon.start()
        return daemon

    yield make
    for daemon in started:
        daemon.stop()
        remove_namespaces(daemon)


def remove_namespaces(daemon: Daemon) -> None:
    """The namespaces a test daemon made outlive it by design (a restart keeps them);
    the test run removes them, and what runs inside them."""
    if os.geteuid() != 0:
        return
    from pocketlink.instances import processes
    from pocketlink.network import netns

    for namespace in netns.ours(str(daemon.state.resolve())):
        processes.stop_all(namespace)
        netns.remove(namespace)


@pytest.fixture(scope="session")
def daemon(make_daemon) -> Daemon:
    """One API-only daemon shared by the API tests (no namespaces: they test the API);
    each test makes its own resources. Network tests make their own daemons. The fuzz and
    round-trip tests call faster than any client should: no rate limit here."""
    return make_daemon("--no-network", "--max-request-rate", "1000000")


@pytest.fixture
def ec2(daemon):
    return daemon.client("ec2", PROVIDER)


@pytest.fixture
def consumer_ec2(daemon):
    return daemon.client("ec2", CONSUMER)


@pytest.fixture
def cli_env(daemon) -> dict[str, str]:
    """Environment for the AWS CLI against the daemon, as the provider account."""
    return {**os.environ, "AWS_ACCESS_KEY_ID": PROVIDER, "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": daemon.endpoint,
            "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
