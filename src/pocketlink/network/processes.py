"""What runs inside an instance: its UserData at first boot, and the end of it all.

Processes are found by the network namespace they live in (``/proc/<pid>/ns/net``), never
by name: exactly the processes of that instance, whoever started them (UserData, or a
person with ``pocketlink exec``).
"""

from __future__ import annotations

import base64
import binascii
import os
import signal
import subprocess
import time
from pathlib import Path

from pocketlink.network import netns

CONSOLE = "console.log"
RAN = "user-data.ran"
ENVIRONMENT = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": "/root", "LANG": "C.UTF-8"}


def pids_in(namespace: str) -> list[int]:
    inode = netns.inode(namespace)
    if inode is None:
        return []
    wanted = f"net:[{inode}]"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "net") == wanted:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def stop_all(namespace: str, grace: float = 3.0) -> None:
    """SIGTERM every process of the namespace, then SIGKILL what is left after ``grace``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = pids_in(namespace)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = [p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)]
        if not pids:
            return


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


class Instances:
    """The instances' folders (console log, UserData) and the UserData processes started
    by this daemon, kept only so that they are reaped when they exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._children: list[subprocess.Popen] = []

    def home(self, instance_id: str) -> Path:
        path = self.folder / instance_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def console(self, instance_id: str) -> Path:
        return self.folder / instance_id / CONSOLE

    def boot(self, instance_id: str, namespace: str, user_data: str | None) -> None:
        """Run the UserData once in the instance's life, as cloud-init does at first boot."""
        home = self.home(instance_id)
        if (home / RAN).exists():
            return
        (home / RAN).write_text(str(time.time()))
        with (home / CONSOLE).open("ab") as console:
            console.write(f"pocketlink: {instance_id} booted in namespace {namespace}\n".encode())
            if not user_data:
                return
            try:
                script = base64.b64decode(user_data)
            except (binascii.Error, ValueError):
                console.write(b"pocketlink: UserData is not base64; not run\n")
                return
            path = home / "user-data"
            path.write_bytes(script)
            path.chmod(0o700)
            command = [str(path)] if script.startswith(b"#!") else ["/bin/sh", str(path)]
            console.flush()
            self._children.append(subprocess.Popen(
                ["ip", "netns", "exec", namespace, *command], stdin=subprocess.DEVNULL,
                stdout=console, stderr=subprocess.STDOUT, cwd="/", env=ENVIRONMENT,
                start_new_session=True))

    def reap(self) -> None:
        self._children = [c for c in self._children if c.poll() is None]
