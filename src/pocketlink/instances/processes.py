"""Finding and ending what runs inside an instance.

Processes are found by the network namespace they live in (``/proc/<pid>/ns/net``), never
by name: exactly the processes of that instance, whoever started them (its sandbox,
UserData, or a person with ``pocketlink exec``). Nothing in the sandbox can leave that
namespace (no capability over it, no nested user namespace to win one), so this finds
everything.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from pocketlink.instances import cpu
from pocketlink.network import netns


def pids_in(namespace: str) -> list[int]:
    inode = netns.inode(namespace)
    if inode is None:
        return []
    wanted = f"net:[{inode}]"
    found = []
    for name in os.listdir("/proc"):  # plain strings: this runs once per namespace torn down
        if not name.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{name}/ns/net") == wanted:
                found.append(int(name))
        except OSError:
            continue
    return found


def stop_all(namespace: str, grace: float = 3.0) -> None:
    """SIGTERM every process of the namespace, then SIGKILL what is left after ``grace``;
    then its CPU group (an instance's) goes."""
    _signal_all(namespace, grace)
    cpu.remove(namespace)


def _signal_all(namespace: str, grace: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = pids_in(namespace)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + grace
        while True:  # most are gone at once: look before waiting, and wait briefly
            pids = [p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)]
            if not pids:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True
