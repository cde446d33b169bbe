"""Applying a ``FaultPlan``: nftables tables, netem qdiscs, stopped processes.

The injector compares the plan with what it applied last and touches only what changed;
every so often it applies the whole plan again (each step is idempotent), so a namespace
the reconciler made afresh, or a daemon that restarted with faults stored, gets its faults
back. What it cannot apply yet (a namespace not made) it tries again on the next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from functools import cache
from pathlib import Path

from pocketlink.faults.plan import TABLE, FaultPlan, plan
from pocketlink.instances import processes
from pocketlink.network import names, netns
from pocketlink.store import Store

log = logging.getLogger("pocketlink.faults")

LOOK_EVERY = 0.2  # seconds between looks at the plan
REAPPLY_EVERY = 10.0
RESUME_ROUNDS = 20


def _in(namespace: str, *command: str, text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["nsenter", f"--net={netns.NETNS_DIR / namespace}", *command],
                          input=text, capture_output=True, text=True, check=False)


def _present(namespace: str) -> bool:
    return (netns.NETNS_DIR / namespace).exists()


def _load(namespace: str, table: str | None) -> bool:
    script = f"table inet {TABLE}\ndelete table inet {TABLE}\n{table or ''}"
    done = _in(namespace, "nft", "-f", "-", text=script)
    if done.returncode != 0:
        log.warning("fault table in %s: %s", namespace, done.stderr.strip())
    return done.returncode == 0


def _netem(namespace: str, link: str, args: tuple[str, ...] | None) -> bool:
    if args is None:
        _in(namespace, "tc", "qdisc", "del", "dev", link, "root")  # none there: nothing to do
        return True
    done = _in(namespace, "tc", "qdisc", "replace", "dev", link, "root", "netem", *args)
    if done.returncode != 0:
        log.warning("netem on %s in %s: %s", link, namespace, done.stderr.strip())
    return done.returncode == 0


@cache
def netem_missing() -> str | None:
    """Why this kernel cannot delay packets, or None when it can: the probe adds a netem
    qdisc in a namespace of its own, gone with the probe."""
    done = subprocess.run(["unshare", "--net", "tc", "qdisc", "add", "dev", "lo", "root",
                           "netem", "delay", "1ms"], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    return f"this kernel cannot delay packets (tc netem: {done.stderr.strip()})"


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
    except (OSError, IndexError):
        return False


def _signal(instance_id: str, sig: signal.Signals) -> bool:
    """SIGSTOP every process of the instance, or SIGCONT them until none stays stopped: a
    parent that waits with WUNTRACED (nsenter, between the sandbox and its processes)
    stops itself again when it sees its child stopped, so one round is not enough."""
    namespace = names.namespace(instance_id)
    if not _present(namespace):
        return False
    for _ in range(RESUME_ROUNDS if sig == signal.SIGCONT else 1):
        pids = processes.pids_in(namespace)
        if sig == signal.SIGCONT:
            pids = [pid for pid in pids if _stopped(pid)]
            if not pids:
                break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(0.05)
    return True


def _keep(applied: dict, key: object, value: object) -> None:
    if value is None:
        applied.pop(key, None)
    else:
        applied[key] = value


class FaultInjector:
    """Keeps the kernel at the stored faults."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.applied = FaultPlan()

    def converge(self, wanted: FaultPlan, again: bool = False) -> None:
        """Brings the kernel from what was applied last to ``wanted`` (the whole of it
        ``again``); runs off the event loop, as it waits for nft and tc."""
        had = self.applied
        tables = dict(had.tables)
        for namespace in set(had.tables) | set(wanted.tables):
            table = wanted.tables.get(namespace)
            if not (again or table != had.tables.get(namespace)):
                continue
            if not _present(namespace):  # not made yet, or gone with its faults
                tables.pop(namespace, None)
            elif _load(namespace, table):
                _keep(tables, namespace, table)
        netem = dict(had.netem)
        for key in set(had.netem) | set(wanted.netem):
            args = wanted.netem.get(key)
            if not (again or args != had.netem.get(key)):
                continue
            if not _present(key[0]):
                netem.pop(key, None)
            elif _netem(*key, args):
                _keep(netem, key, args)
        hung = set(had.hung)
        for instance_id in wanted.hung if again else wanted.hung - had.hung:
            if _signal(instance_id, signal.SIGSTOP):
                hung.add(instance_id)
        for instance_id in had.hung - wanted.hung:
            _signal(instance_id, signal.SIGCONT)
            hung.discard(instance_id)
        self.applied = FaultPlan(tables, netem, frozenset(hung))

    async def run(self, stop: asyncio.Event) -> None:
        """Looks at the plan every ``LOOK_EVERY`` seconds (the plan itself, not the store's
        change count, which a commit raises before its resources show) and applies it
        when it changed, and all of it every ``REAPPLY_EVERY``."""
        last, reapplied = None, time.monotonic()
        while not stop.is_set():
            again = time.monotonic() - reapplied >= REAPPLY_EVERY
            wanted = plan(self.store)  # read here, on the loop, where the store is written
            if wanted != last or again:
                last = wanted
                try:
                    await asyncio.to_thread(self.converge, wanted, again)
                except Exception:  # a fault the kernel refuses must not stop the daemon
                    log.exception("applying faults")
                if again:
                    reapplied = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LOOK_EVERY)
