"""Each instance's share of the CPU: a cgroup of its own, weighted below pocketlink's
own processes.

EC2 gives each instance vCPUs of its own; here every instance shares the host's cores
with the daemon, its DNS process and its data-plane workers. Without a limit, a tenant's
instances (a flood, a dozen booting) take the cores the neighbours' lookups and flows
need. So each instance's sandbox, with everything started in it (its UserData, ``pocketlink
exec``), lives in a cgroup of its own, ``pocketlink.<namespace>`` at the top of the
hierarchy: a busy instance, whatever number of processes it runs, weighs what one
process does (v1 ``SHARES``), below pocketlink's DNS process and data-plane workers (which
run at a higher priority, ``pocketlink.dataplane.priority``), and instances compete with
each other as equals. Each group is at the top, not below one group of all instances: an
idle instance that wakes (a victim's request) is scheduled at once, not after the busy
instances' group's turn comes. (A quarter of that, 256, was measured too: the attacked
victim's p99 fell as far, but its quiet figures rose fourfold on a loaded host, its own
instance and its provider's web server being instances too.) Under v2 the top level holds
whole slices (system.slice, user.slice: 100 each), so an instance weighs a quarter of one.

The ``cpu`` controller of cgroup v1 (``/sys/fs/cgroup/cpu``) when it is mounted and
writable, else cgroup v2's where ``cpu`` is enabled at its root; neither (a container, a
read-only /sys): instances run without a limit, said once in the log.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("pocketlink.instances")

V1 = Path("/sys/fs/cgroup/cpu")
SHARES = 1024  # v1 cpu.shares: what one nice-0 process weighs
WEIGHT = 25  # v2 cpu.weight: a top-level slice's default is 100
PREFIX = "pocketlink."


@dataclass(frozen=True)
class Hierarchy:
    root: Path
    knob: str  # the weight's file
    value: int

    def group(self, namespace: str) -> Path:
        return self.root / f"{PREFIX}{namespace}"


@functools.cache
def hierarchy() -> Hierarchy | None:
    """Where instances' groups go on this host, or None (logged once) when nowhere."""
    if (V1 / "cpu.shares").exists() and os.access(V1, os.W_OK):
        return Hierarchy(V1, "cpu.shares", SHARES)
    v2 = _cgroup2_mount()
    if v2 is not None and os.access(v2, os.W_OK):
        try:
            if "cpu" in (v2 / "cgroup.controllers").read_text().split():
                (v2 / "cgroup.subtree_control").write_text("+cpu")
                return Hierarchy(v2, "cpu.weight", WEIGHT)
        except OSError:
            pass
    log.warning("no writable cgroup cpu controller (v1 %s, or v2 with cpu enabled): "
                "instances' processes share the CPU with pocketlink's unweighted", V1)
    return None


def _cgroup2_mount() -> Path | None:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


def make(namespace: str) -> Path | None:
    """The instance's group, made (or found: a restarted daemon's instance) with its
    weight: the file a process writes its pid into to join it, or None without cgroups."""
    where = hierarchy()
    if where is None:
        return None
    group = where.group(namespace)
    try:
        group.mkdir(exist_ok=True)
        (group / where.knob).write_text(str(where.value))
    except OSError as error:
        log.warning("instance namespace %s: no cgroup of its own (%s)", namespace, error)
        return None
    return group / "cgroup.procs"


def of(pid: int) -> Path | None:
    """The ``cgroup.procs`` of the instance's group that ``pid`` (its sandbox's PID 1) is
    in, or None when it is in none of ours."""
    where = hierarchy()
    if where is None:
        return None
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        wanted = "cpu" in controllers.split(",") if where.root == V1 else controllers == ""
        name = path.rsplit("/", 1)[-1]
        if wanted and name.startswith(PREFIX) and path.count("/") == 1:
            return where.root / name / "cgroup.procs"
    return None


def joining(procs: Path | None) -> list[str]:
    """The command prefix that puts the command (and all it starts) into the group whose
    ``cgroup.procs`` is ``procs``: the host's root joins it before entering the sandbox."""
    if procs is None:
        return []
    return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(procs)]


def remove(namespace: str) -> None:
    """The instance's group, once its processes are gone (an empty group only)."""
    where = hierarchy()
    if where is not None:
        try:
            where.group(namespace).rmdir()
        except FileNotFoundError:
            pass
        except OSError as error:
            log.warning("instance namespace %s: its cgroup stays (%s)", namespace, error)
