"""Each instance's processes, its sandbox's, its UserData's and those ``pocketlink exec``
starts, are in a CPU cgroup of their own with its weight; the group goes with the
instance."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pocketlink.instances import cpu
from pocketlink.instances.processes import pids_in
from pocketlink.network import names
from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import dual_stack_vpc, launch, run_in

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="instances need root"),
    pytest.mark.skipif(cpu.hierarchy() is None,
                       reason="no writable cgroup cpu controller here (v1 /sys/fs/cgroup/cpu, "
                              "or v2 with cpu enabled at its root): instances run unweighted"),
]


def group_of(pid: int) -> str | None:
    """The cgroup path of ``pid`` in the hierarchy instances' groups are in (None: gone)."""
    where = cpu.hierarchy()
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if (where.root == cpu.V1 and "cpu" in controllers.split(",")) or \
                (where.root != cpu.V1 and controllers == ""):
            return path
    raise AssertionError(f"pid {pid} is in no cpu cgroup")


def test_an_instances_processes_are_in_its_weighted_group(make_daemon):
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    _, subnet = dual_stack_vpc(ec2)
    [instance] = launch(ec2, subnet, UserData="#!/bin/sh\nexec sleep 600\n")
    instance_id = instance["InstanceId"]
    namespace = names.namespace(instance_id)
    where = cpu.hierarchy()
    group = where.group(namespace)
    assert (group / where.knob).read_text().strip() == str(where.value)
    # The sandbox (bwrap, its init) and UserData's sleep, and a process exec starts.
    held = run_in(instance_id, "sh", "-c", "sleep 600 >/dev/null 2>&1 & echo started")
    assert held.stdout.strip() == "started", held.stderr
    wait_for(lambda: sum(_command(p) == "sleep 600" for p in pids_in(namespace)) >= 2)
    pids = pids_in(namespace)
    assert pids
    for pid in pids:
        assert group_of(pid) in (f"/{group.name}", None), (pid, _command(pid))
    assert set(pids) <= {int(p) for p in (group / "cgroup.procs").read_text().split()}
    # The pocketlink daemon itself is not weighted down.
    assert group_of(daemon.pid) != f"/{group.name}"
    ec2.terminate_instances(InstanceIds=[instance_id])
    wait_for(lambda: not group.exists(), timeout=60)


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""
