"""Network namespaces: create, list, remove, and run a function inside one.

Entering a namespace happens on a short-lived helper thread (``setns`` changes only the
calling thread), or, for the data plane's listeners and flows, on the loop's own thread
for one synchronous batch and straight back (dataplane/sockets.py ``Stock``). A socket
made there stays in that namespace
wherever it is used afterwards: that is how the daemon listens inside VPCs.

pyroute2 is imported by the functions that make, list and remove namespaces, not by the
module: the data-plane workers enter namespaces (``run_in``) and nothing more, and a
worker's start-up (a tenth of a second of pyroute2's imports each) is part of how soon a
restarted daemon carries traffic again.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pocketlink.network.names import NAMESPACE_PREFIX

T = TypeVar("T")
NETNS_DIR = Path("/run/netns")
ETC_NETNS = Path("/etc/netns")
# Which daemon made a namespace (its state file): several daemons may share one machine
# (tests do), and each sweeps away only its own.
OWNERS = Path("/run/pocketlink/namespaces")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def ours(owner: str | None = None) -> set[str]:
    """Every pocketlink namespace that exists, or those that ``owner`` made."""
    from pyroute2 import netns as _netns

    found = {n for n in _netns.listnetns() if n.startswith(NAMESPACE_PREFIX)}
    if owner is None:
        return found
    return {n for n in found if owner_of(n) == owner}


def owner_of(name: str) -> str | None:
    """The state file of the daemon that made namespace ``name``, if any says so."""
    try:
        return (OWNERS / name).read_text()
    except FileNotFoundError:
        return None


def create(name: str, owner: str) -> bool:
    """A new namespace bound at /run/netns/<name>, as ``ip netns add`` makes it.

    pyroute2's own ``netns.create`` forks a helper and kills it with SIGTERM; in a daemon
    whose event loop listens for SIGTERM through a wakeup fd that the fork shares, that
    signal would stop the daemon. So the namespace is made on a helper thread instead:
    ``unshare`` moves only that thread, whose namespace is then bind-mounted.

    The owner file is written first: between the namespace's birth and its claim, another
    daemon's ``pocketlink down`` (which sweeps namespaces nobody claims) could take it.

    Whether it was made now (a new namespace holds nothing yet: no need to look)."""
    from pyroute2 import netns as _netns

    if owner_of(name) != owner:
        OWNERS.mkdir(parents=True, exist_ok=True)
        (OWNERS / name).write_text(owner)
    made = name not in _netns.listnetns()
    if made:
        def make() -> None:
            if _libc.unshare(CLONE_NEWNET) != 0:
                error = ctypes.get_errno()
                raise OSError(error, f"unshare for {name}: {os.strerror(error)}")
            _netns._create(name, pid=f"self/task/{threading.get_native_id()}")
        _on_thread(make)
    return made


def remove(name: str) -> None:
    from pyroute2 import netns as _netns

    if name in _netns.listnetns():
        _netns.remove(name)
    (OWNERS / name).unlink(missing_ok=True)
    config = ETC_NETNS / name
    if config.is_dir():
        for child in config.iterdir():
            child.unlink()
        config.rmdir()


def inode(name: str) -> int | None:
    try:
        return os.stat(NETNS_DIR / name).st_ino
    except FileNotFoundError:
        return None


def _on_thread(fn: Callable[[], T]) -> T:
    """``fn()`` on a fresh thread, whose namespace changes die with it."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as error:  # handed to the caller below
            result["error"] = error

    thread = threading.Thread(target=target, name="pocketlink-netns")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]


def run_in(name: str, fn: Callable[[], T]) -> T:
    """``fn()`` with the calling thread inside namespace ``name``."""
    def entered() -> T:
        fd = os.open(NETNS_DIR / name, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                error = ctypes.get_errno()
                raise OSError(error, f"setns into {name}: {os.strerror(error)}")
        finally:
            os.close(fd)
        return fn()
    return _on_thread(entered)


def sysctl(key: str, value: str) -> None:
    """A sysctl such as ``net/ipv4/ip_forward``, in the namespace of the calling thread:
    call it inside ``run_in`` (per-namespace sysctls follow the opener's namespace)."""
    path = Path("/proc/sys") / key
    if path.read_text().strip() != value:
        path.write_text(value)


def write_resolv_conf(name: str, text: str) -> None:
    """``/etc/netns/<ns>/resolv.conf``, which ``ip netns exec`` shows as /etc/resolv.conf."""
    folder = ETC_NETNS / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "resolv.conf"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
