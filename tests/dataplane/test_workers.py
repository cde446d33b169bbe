"""Flows live in data-plane worker processes, not on the daemon's event loop (which also
serves the API): the workers hold the flows' sockets, and a worker that dies is started
again with the listeners it had."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess

from pocketlink.dataplane.priority import NICE
from pocketlink.dataplane.worker import CONGESTION
from pocketlink.harness import data_plane_workers
from pocketlink.network import names
from tests.conftest import CONSUMER, PROVIDER, wait_for
from tests.dataplane.holding import hold, how_they_ended, sockets_of
from tests.dataplane.test_concurrency import CLIENT
from tests.dataplane.test_haproxy import world  # noqa: F401  (the fixture: an endpoint to HAProxy)
from tests.network.conftest import run_in

HELD = 100


def test_one_worker_per_core_holds_the_flows(world):  # noqa: F811
    daemon = world["daemon"].process.pid
    pids = data_plane_workers(daemon)
    assert len(pids) == len(os.sched_getaffinity(0))
    before = {pid: sockets_of(pid) for pid in [daemon, *pids]}
    client = hold(world["instance"]["InstanceId"], world["name"], HELD, seconds=20)
    try:
        # Two sockets a flow (the consumer's and the one to the target), all in the workers.
        carried = wait_for(lambda: sum(sockets_of(p) - before[p] for p in pids) >= 2 * HELD)
        assert carried
        assert sockets_of(daemon) - before[daemon] < HELD // 10
    finally:
        client.kill()
        client.wait()


def test_workers_keep_their_weight_but_do_not_preempt_on_every_wake_up(world):  # noqa: F811
    for pid in data_plane_workers(world["daemon"].process.pid):
        assert os.sched_getscheduler(pid) == os.SCHED_BATCH
        assert os.getpriority(os.PRIO_PROCESS, pid) == NICE


def _congestion_controls(pids: list[int], namespaces: list[str]) -> list[str]:
    """The congestion control of every established TCP socket these processes hold in these
    namespaces (``ss`` finds a socket's process by its descriptors)."""
    found = []
    for name in namespaces:
        listing = subprocess.run(["ip", "netns", "exec", name, "ss", "-tinpH", "state",
                                  "established"], capture_output=True, text=True).stdout
        # a socket's line, then its details (the congestion control first) on the next one
        for line, details in itertools.pairwise(listing.splitlines()):
            if any(f"pid={pid}," in line for pid in pids):
                found.append(details.split()[0])
    return found


def test_the_workers_own_sockets_send_unpaced_on_both_legs(world):  # noqa: F811
    """Whatever the host's default (BBR, which paces, on some): the accepted sockets (from
    the listener) and the ones to the targets send with ``CONGESTION``."""
    daemon = world["daemon"]
    pids = data_plane_workers(daemon.process.pid)
    namespaces = [names.namespace(vpc["VpcId"]) for account in (PROVIDER, CONSUMER)
                  for vpc in daemon.client("ec2", account, "us-west-2").describe_vpcs()["Vpcs"]]
    client = hold(world["instance"]["InstanceId"], world["name"], 4, seconds=60)
    try:
        wait_for(lambda: len(_congestion_controls(pids, namespaces)) >= 8)
        assert set(_congestion_controls(pids, namespaces)) == {CONGESTION.decode()}
    finally:
        client.kill()
        client.wait()


def test_a_worker_that_dies_is_started_again_with_its_listeners(world):  # noqa: F811
    daemon = world["daemon"].process.pid
    first = data_plane_workers(daemon)
    client = hold(world["instance"]["InstanceId"], world["name"], HELD, seconds=20)
    os.kill(first[0], signal.SIGKILL)
    ended = how_they_ended(client, timeout=60)
    assert ended["eof"] + ended["reset"] > 0, ended  # the dead worker's flows went with it
    def replaced() -> bool:
        now = data_plane_workers(daemon)
        return len(now) == len(first) and first[0] not in now
    wait_for(replaced)
    done = run_in(world["instance"]["InstanceId"], "python3", "-c", CLIENT, world["name"],
                  "100", timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {"ok": 100, "count": 100}
    assert "exited with -9; starting another" in world["daemon"].log.read_text()
