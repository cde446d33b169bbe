"""ECR's registry: a real Docker Registry v2 server (Debian's ``docker-registry``, the
CNCF distribution) as the daemon's supervised child.

It starts with the first registry request, serves HTTP on a unix socket beside the
daemon's control socket (in its private folder: no other user, and no instance, can reach
it around the door in ecr_access.py, which checks tokens and keeps accounts apart) and
keeps its blobs and manifests under FOLDER (the state dir's ``registry/``), so images
outlive restarts. Its configuration is pocketlink's, written at each start: the filesystem
driver with redirects off (the door makes S3 redirects of its own), relative upload URLs
(the door rewrites their repository names), deletes allowed, access log off.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
from pathlib import Path

import httptools

from pocketlink.gateway.control import RuntimeRecord
from pocketlink.private_files import write_private
from pocketlink.services.backend import READ_SIZE, exchange
from pocketlink.supervisor import ChildSupervisor
from pocketlink.wire.message import HttpRequest, HttpResponse

log = logging.getLogger("pocketlink.registry")

PROGRAM = "docker-registry"
STARTUP = 30.0
READY_WAIT = 30.0  # seconds a request waits for a (re)starting registry
PROBE_EVERY = 0.05  # the registry says nothing when it listens: its socket is tried


def registry_socket_path(state: Path) -> Path:
    """Beside the daemon's control socket, in its private folder."""
    control = RuntimeRecord.socket_for(state)
    return control.with_name(f"{control.stem}.registry.sock")


class RegistryUnavailable(Exception):
    pass


class Registry(ChildSupervisor):
    name = "registry (docker-registry)"
    log = log
    startup = STARTUP

    def __init__(self, folder: Path, socket_path: Path) -> None:
        super().__init__()
        self.folder = folder
        self.socket_path = socket_path
        self._ready = asyncio.Event()
        self._said: asyncio.Future | None = None  # the task reading its log

    @property
    def storage(self) -> Path:
        """The filesystem driver's root: ``docker/registry/v2/blobs/sha256/ab/abcd.../data``."""
        return self.folder / "storage"

    def blob_path(self, digest: str) -> Path | None:
        """Where the registry keeps the blob ``digest``, by the driver's documented layout;
        None for a digest that is not one."""
        algorithm, _, hexa = digest.partition(":")
        if algorithm != "sha256" or len(hexa) != 64 or \
                any(c not in "0123456789abcdef" for c in hexa):
            return None
        return self.storage / "docker/registry/v2/blobs/sha256" / hexa[:2] / hexa / "data"

    def status(self) -> dict:
        return {"pid": self.pid, "socket": str(self.socket_path), "restarts": self.restarts,
                "data": str(self.folder)}

    async def exchange(self, request: HttpRequest) -> HttpResponse:
        """``request`` answered by the registry (started if it is not running)."""
        if self.stopping:
            raise RegistryUnavailable("the registry is stopping")
        self.supervise()
        try:
            await asyncio.wait_for(self._ready.wait(), READY_WAIT)
            reader, writer = await asyncio.open_unix_connection(str(self.socket_path),
                                                                limit=READ_SIZE)
        except (OSError, TimeoutError) as error:
            raise RegistryUnavailable(str(error) or "it is starting or stopping") from None
        try:
            return await exchange(reader, writer, request, {})
        except (OSError, ConnectionError, httptools.HttpParserError) as error:
            raise RegistryUnavailable(str(error) or type(error).__name__) from None

    async def stop(self) -> None:
        """The child, then its socket (the registry leaves it behind)."""
        await super().stop()
        self.socket_path.unlink(missing_ok=True)

    # --- the child -----------------------------------------------------------------------
    async def spawn(self) -> asyncio.subprocess.Process:
        program = shutil.which(PROGRAM)
        if program is None:
            raise FileNotFoundError(f"'{PROGRAM}' is not installed (Debian: docker-registry; "
                                    "scripts/setup installs it)")
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = self.folder / "config.yml"
        write_private(config, self._config().encode())
        self.socket_path.unlink(missing_ok=True)
        # setpriv --pdeathsig: the registry ends with the daemon, even a SIGKILLed one.
        process = await asyncio.create_subprocess_exec(
            "setpriv", "--pdeathsig", "TERM", program, "serve", str(config),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        self._said = asyncio.ensure_future(_relay_log(process))
        return process

    async def ready(self, process: asyncio.subprocess.Process) -> None:
        while process.returncode is None:
            try:
                _, writer = await asyncio.open_unix_connection(str(self.socket_path))
            except OSError:
                await asyncio.sleep(PROBE_EVERY)
                continue
            writer.close()
            self._ready.set()
            return
        raise EOFError("the registry ended before it listened")

    def announce(self, exited: str | None) -> None:
        assert self.process is not None
        if exited is None:
            log.info("registry is up on %s (pid %d), its data in %s", self.socket_path,
                     self.process.pid, self.folder)
        else:
            log.warning("registry exited with %s; restarted (pid %d)", exited,
                        self.process.pid)

    def ended(self) -> None:
        self._ready.clear()

    def _config(self) -> str:
        """The registry's configuration (YAML; JSON is YAML). ``http.secret`` signs its
        upload state: kept in the folder, so uploads under way survive a restart."""
        secret_file = self.folder / "http.secret"
        if not secret_file.exists():
            write_private(secret_file, secrets.token_hex(32).encode())
        return (
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {self.storage}\n"
            "  delete:\n    enabled: true\n"
            "  redirect:\n    disable: true\n"
            "http:\n  net: unix\n"
            f"  addr: {self.socket_path}\n"
            f"  secret: {secret_file.read_text().strip()}\n"
            "  relativeurls: true\n"
        )


async def _relay_log(process: asyncio.subprocess.Process) -> None:
    """The registry's log lines, into the daemon's: each answer it gives with an error
    status (a 404 for a tag not pushed yet) is a line at level=error, which the door's own
    request line already tells, so those go to debug; anything else (a configuration it
    refuses, a panic) is a warning."""
    assert process.stderr is not None
    while line := await process.stderr.readline():
        text = line.decode("utf-8", "replace").rstrip()
        quiet = "response completed with error" in text
        log.log(logging.DEBUG if quiet else logging.WARNING, "registry: %s", text)
