"""Seed 003 end to end, smaller: an instance in a private subnet copies an object from S3
with the real AWS CLI (``aws s3 cp``, no endpoint URL) through a NAT gateway, then through
the S3 gateway endpoint added to its route table while the NAT route stays.

What is checked is what the seed's reader would look at: the source the service front saw
(the NAT's Elastic IP, then the instance's own address and the endpoint), the NAT gateway's
``BytesInFromDestination`` read back from CloudWatch (within 1% of the bytes copied the
first time, not growing the second), and the lines of ``pocketlink cost``.
"""

from __future__ import annotations

import os
import time

import pytest

from pocketlink.network.internet import nat_gateway_traffic
from pocketlink.seeds.seed003 import Seed003
from tests.conftest import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")

MEGABYTES = 20
GIB = 1 << 30


@pytest.fixture(scope="module")
def seed(make_daemon):
    daemon = make_daemon()
    since = int(time.time())
    seed = Seed003(daemon.endpoint, say=lambda _: None, megabytes=MEGABYTES)
    seed.build()
    seed.put_object()
    seed.daemon, seed.since, seed.figures = daemon, since, {}  # type: ignore[attr-defined]
    return seed


def _bill(seed) -> dict[str, dict]:
    """``pocketlink cost``'s lines, by resource: kind, hours, GB and dollars as printed."""
    answer = seed.cost(str(seed.daemon.state), seed.since)
    assert answer.returncode == 0, answer.stderr
    lines = {}
    for line in answer.stdout.splitlines()[1:]:
        words = line.split()
        if words[0] == "total" or not words[0].isdigit():
            continue
        lines[words[1]] = {"kind": f"{words[2]} {words[3]}", "hours": int(words[4]),
                           "gb": float(words[5]), "hourly": float(words[6]),
                           "data": float(words[7]), "total": float(words[8])}
    return lines


def test_through_the_nat_gateway_cloudwatch_counts_the_copy(seed):
    before = seed.settled_nat_metric()
    copy = seed.copy()
    assert copy.bytes == seed.size, copy.answer.stderr
    after = seed.settled_nat_metric()
    seed.figures["through_nat"] = after
    # Bytes in from S3 through the NAT: the object, with HTTP, TLS and TCP/IP headers on top.
    assert seed.size <= after - before <= seed.size * 1.01, (before, after)
    assert seed.settled_nat_metric("BytesOutToDestination") > 0
    # The service front saw the NAT gateway's Elastic IP: the request came from the internet.
    assert f"via the internet from {seed.ids['eip']}" in seed.daemon.log.read_text()


def test_the_bill_charges_the_nat_gateway_for_the_copy(seed):
    bill = _bill(seed)
    nat = bill[seed.ids["nat"]]
    assert nat["kind"] == "NAT gateway"
    assert nat["hours"] >= 1 and nat["hourly"] == pytest.approx(0.045 * nat["hours"])
    # Both ways through the NAT: at least the object, at $0.045 a GB.
    assert nat["gb"] >= seed.size / GIB
    assert nat["data"] == pytest.approx(nat["gb"] * 0.045, abs=2e-6)
    seed.figures["nat_gb"] = nat["gb"]


def test_through_the_gateway_endpoint_the_nat_counts_nothing(seed):
    before = nat_gateway_traffic(seed.ids["nat"])
    seed.add_s3_gateway_endpoint()
    endpoint = seed.ids["s3_gateway"]
    table = seed.client("ec2").describe_route_tables(RouteTableIds=[seed.ids["private_table"]])[
        "RouteTables"][0]
    targets = {route.get("NatGatewayId") or route.get("GatewayId") for route in table["Routes"]}
    assert {seed.ids["nat"], endpoint} <= targets  # the NAT route is still there
    copy = seed.copy()
    assert copy.bytes == seed.size, copy.answer.stderr
    assert f"via {endpoint} from {seed.ids['instance_ip']}" in seed.daemon.log.read_text()
    after = nat_gateway_traffic(seed.ids["nat"])
    assert before is not None and after is not None
    # Nothing of the copy passed the NAT (a stray packet aside: far below the object).
    assert after.bytes_in_from_destination - before.bytes_in_from_destination < 64 << 10
    assert seed.settled_nat_metric() - seed.figures["through_nat"] < 64 << 10


def test_the_bill_shows_the_gateway_endpoint_free_and_the_nat_unchanged(seed):
    wait_for(lambda: seed.ids["s3_gateway"] in _bill(seed), "the endpoint billed")
    bill = _bill(seed)
    gateway = bill[seed.ids["s3_gateway"]]
    assert gateway["kind"] == "gateway endpoint"
    assert gateway["gb"] == gateway["total"] == 0
    assert bill[seed.ids["nat"]]["gb"] == pytest.approx(seed.figures["nat_gb"], abs=1e-4)
