"""A daemon stop is bounded, as uvicorn's: the data plane stops accepting, lets open flows
finish for its grace period, resets what is left, and every process exits; a second
signal ends the wait at once."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from pocketlink.dataplane.hyperplane import DRAIN_GRACE
from tests.dataplane.holding import hold, how_they_ended, workers
from tests.dataplane.test_haproxy import build_world

# A correctness bound, not a speed figure: past it, something waited for what never ends.
BOUND = DRAIN_GRACE + 10


@pytest.fixture
def world(make_daemon):
    return build_world(make_daemon())


@pytest.mark.parametrize("flows,signals", [(1000, 1), (200, 2)])
def test_a_stop_with_open_flows_ends_within_the_grace_period(world, flows, signals):
    daemon = world["daemon"]
    pids = workers(daemon.process.pid)
    client = hold(world["instance"]["InstanceId"], world["name"], flows, seconds=60)
    started = time.monotonic()
    for _ in range(signals):
        daemon.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
    try:
        code = daemon.process.wait(timeout=BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the daemon did not exit within {BOUND} s of SIGTERM")
    took = time.monotonic() - started
    daemon.process = None
    assert code == 0
    ended = how_they_ended(client, timeout=BOUND)
    assert ended == {"eof": 0, "reset": flows, "open": 0}, ended
    assert not [pid for pid in pids if _alive(pid)]
    print(f"stopped with {flows} open flows after {signals} signal(s) in {took:.1f} s "
          f"(grace {DRAIN_GRACE} s)")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
