"""An instance's boot: its sandbox up, then its UserData once in its life, as cloud-init
runs it at first boot, inside the sandbox, its output in the console log."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import subprocess
import time
from pathlib import Path, PurePosixPath

from pocketlink.instances import sandbox
from pocketlink.network.topology import HostSpec

CONSOLE = "console.log"
RAN = "user-data.ran"
INIT = "sandbox.pid"  # the host's pid of the sandbox's PID 1, for a restarted daemon
SCRIPT = "/var/lib/cloud/instance/scripts/part-001"  # where cloud-init keeps it

log = logging.getLogger("pocketlink.instances")


class Instances:
    """The instances' folders (console log, UserData, the sandbox's own files), and the
    processes this daemon started, kept only so that they are reaped when they exit."""

    def __init__(self, folder: Path, ca_bundle: Path | None = None) -> None:
        self.folder = folder
        self.ca_bundle = ca_bundle  # what the instances trust: the system's roots and ours
        self._children: list[subprocess.Popen] = []
        self._inits: dict[str, int] = {}

    def home(self, instance_id: str) -> Path:
        path = self.folder / instance_id
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def console(self, instance_id: str) -> Path:
        return self.folder / instance_id / CONSOLE

    def path(self, instance_id: str, inside: str) -> Path:
        """Where the host finds the file ``inside`` one of the instance's private folders
        (``/var/log/apache2/access.log``). The instance owns what is there: a link that
        leads out of its folder is refused."""
        target = PurePosixPath(inside)
        if not any(target.is_relative_to(p) for p in sandbox.PRIVATE) or ".." in target.parts:
            raise ValueError(f"{inside} is not in an instance's own folders {sandbox.PRIVATE}")
        fs = (self.folder / instance_id / "fs").resolve()
        path = (fs / str(target).lstrip("/")).resolve()
        if not path.is_relative_to(fs):
            raise ValueError(f"{inside} leads out of {instance_id}")
        return path

    def boot(self, host: HostSpec) -> None:
        """The instance's sandbox, up: the one already running (a daemon restart keeps it),
        or a new one (first boot, or a start after a stop). UserData runs in it once."""
        home = self.home(host.instance_id)
        init = self._sandbox(host, home)
        if (home / RAN).exists():
            return
        (home / RAN).write_text(str(time.time()))
        with (home / CONSOLE).open("ab") as console:
            console.write(f"pocketlink: {host.instance_id} booted in namespace "
                          f"{host.namespace}\n".encode())
            if not host.user_data:
                return
            try:
                script = base64.b64decode(host.user_data)
            except (binascii.Error, ValueError):
                console.write(b"pocketlink: UserData is not base64; not run\n")
                return
            self._install(home, script)
            command = [SCRIPT] if script.startswith(b"#!") else ["/bin/sh", SCRIPT]
            console.flush()
            self._children.append(subprocess.Popen(
                [*sandbox.enter(init), *command], stdin=subprocess.DEVNULL, stdout=console,
                stderr=subprocess.STDOUT, cwd="/", env=sandbox.ENVIRONMENT,
                start_new_session=True))

    def _sandbox(self, host: HostSpec, home: Path) -> int:
        pid_file = home / INIT
        hint = self._inits.get(host.instance_id)
        if hint is None and pid_file.exists():
            hint = int(pid_file.read_text())
        init = sandbox.init_of(host.namespace, hint)
        if init is None:
            name = sandbox.hostname(host.instance_id, host.addresses)
            sandbox.prepare(home, name, host.addresses, self.ca_bundle)
            # The daemon's data folder: the state, and every instance's folder.
            hidden = sandbox.hidden_paths(self.folder.parent)
            with (home / CONSOLE).open("ab") as console:
                process, init = sandbox.start(home, host.namespace, name, hidden,
                                              console.fileno())
            self._children.append(process)
            pid_file.write_text(str(init))
            log.info("instance %s: sandbox up (its PID 1 is %d)", host.instance_id, init)
        self._inits[host.instance_id] = init
        return init

    def _install(self, home: Path, script: bytes) -> None:
        """The UserData where cloud-init keeps it, owned by root inside. The daemon writes
        as the host's root into the instance's /var: a link planted on the way is refused."""
        folder = home / "fs" / "var"
        for part in PurePosixPath(SCRIPT).parent.relative_to("/var").parts:
            folder = folder / part
            if folder.is_symlink():
                raise RuntimeError(f"{folder} is a link: UserData not installed")
            if not folder.exists():
                folder.mkdir()
                os.chown(folder, sandbox.ROOT_INSIDE, sandbox.ROOT_INSIDE)
        fd = os.open(folder / PurePosixPath(SCRIPT).name,
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o700)
        with os.fdopen(fd, "wb") as file:
            file.write(script)
            os.fchmod(fd, 0o700)
            os.fchown(fd, sandbox.ROOT_INSIDE, sandbox.ROOT_INSIDE)

    def reap(self) -> None:
        self._children = [c for c in self._children if c.poll() is None]
