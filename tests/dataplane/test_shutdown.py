"""A daemon stop is bounded, as uvicorn's: the data plane stops accepting, lets open flows
finish for its grace period, resets what is left, and every process exits."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from pocketlink.dataplane.hyperplane import DRAIN_GRACE
from pocketlink.harness import data_plane_workers
from pocketlink.polling import PATIENCE, wait_for
from tests.dataplane.holding import hold, how_they_ended
from tests.dataplane.test_haproxy import build_world

# A correctness bound, not a speed figure: past it, something waited for what never ends.
BOUND = DRAIN_GRACE + PATIENCE
FLOWS = 1000


@pytest.fixture
def world(make_daemon):
    """A world of its own: the test stops its daemon."""
    return build_world(make_daemon())


def test_a_stop_with_open_flows_ends_within_the_grace_period(world):
    daemon = world["daemon"]
    pids = data_plane_workers(daemon.process.pid)
    client = hold(world["instance"]["InstanceId"], world["name"], FLOWS, seconds=2 * BOUND)
    started = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    try:
        code = daemon.process.wait(timeout=BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the daemon did not exit within {BOUND} s of SIGTERM")
    took = time.monotonic() - started
    daemon.process = None
    assert code == 0
    ended = how_they_ended(client, timeout=BOUND)
    assert ended == {"eof": 0, "reset": FLOWS, "open": 0}, ended
    assert not [pid for pid in pids if _alive(pid)]
    print(f"stopped with {FLOWS} open flows in {took:.1f} s (grace {DRAIN_GRACE} s)")


def test_workers_outlive_a_killed_daemon_only_for_the_grace_period(world):
    """SIGKILL gives the daemon no say: its workers hear it gone, stop accepting, give
    their flows the grace period, reset them and exit. No orphan stays."""
    daemon = world["daemon"]
    pids = data_plane_workers(daemon.process.pid)
    client = hold(world["instance"]["InstanceId"], world["name"], 100, seconds=2 * BOUND)
    daemon.stop(kill=True)
    ended = how_they_ended(client, timeout=BOUND)
    assert ended == {"eof": 0, "reset": 100, "open": 0}, ended
    deadline = time.monotonic() + BOUND
    while [pid for pid in pids if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)]


def test_a_second_signal_ends_the_stop_at_once(world):
    """As uvicorn's: the first SIGTERM starts the bounded stop (open flows get their grace
    period); a second one, sent while the flows still have it, ends the daemon without
    waiting (exit status 1, one line saying so). Its workers, hearing it gone, still give
    their flows the grace period, reset them and exit."""
    daemon = world["daemon"]
    pids = data_plane_workers(daemon.process.pid)
    client = hold(world["instance"]["InstanceId"], world["name"], 100, seconds=2 * BOUND)
    offset = daemon.log.stat().st_size
    daemon.process.send_signal(signal.SIGTERM)
    # Sent once the stop is under way: the flows hold it for DRAIN_GRACE seconds from then.
    wait_for(lambda: b"pocketlink is stopping" in daemon.log.read_bytes()[offset:])
    daemon.process.send_signal(signal.SIGTERM)
    try:
        code = daemon.process.wait(timeout=BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the daemon did not exit within {BOUND} s of a second SIGTERM")
    daemon.process = None
    log = daemon.log.read_bytes()[offset:].decode(errors="replace")
    assert code == 1, log[-2000:]
    assert log.count("pocketlink forced to stop") == 1, log[-2000:]
    ended = how_they_ended(client, timeout=BOUND)
    assert ended == {"eof": 0, "reset": 100, "open": 0}, ended
    wait_for(lambda: not [pid for pid in pids if _alive(pid)], "the workers to exit",
             timeout=BOUND)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
