"""The daemon's control, off the web: status, diagnose, the bill, metrics and shutdown over a
unix socket.

A daemon serves its control (``/_pocketlink/status``, ``/_pocketlink/diagnose``,
``/_pocketlink/shutdown``, the bill of ``/_pocketlink/cost?since=EPOCH``, the Prometheus
page ``/_pocketlink/metrics``, ``pocketlink fault``'s ``/_pocketlink/faults``) on a unix
socket that only its own user may open (0600, in a 0700 folder), never on its TCP port:
no web page and no other user can stop it or read what every account holds. Beside the
socket lies the daemon's ``RuntimeRecord`` (pid, port, state file, socket; 0600), named
after its state file, which is how ``pocketlink status`` and ``pocketlink down`` find the
daemon of the state they are given, and only that one.

A daemon claims its state before anything else (``Claim``): an flock on a file beside the
record, which the kernel lets go of however the process ends, and the record itself marked
``starting`` until the port and the socket are served. A second ``pocketlink up`` on the
state is refused from the first instant, and ``pocketlink down`` stops a daemon still
starting by its pid: the lock's holder, read from /proc/locks (looking takes no lock, and
a pid whose holder is gone is never signalled).

Where: /run/pocketlink/daemons for root, else $XDG_RUNTIME_DIR/pocketlink/daemons, else a
0700 folder of the user's in the temporary directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.client
import json
import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from pocketlink.gateway.paths import NetworkPath
from pocketlink.model.states import failures
from pocketlink.private_files import replace_private
from pocketlink.services.backend import Backend
from pocketlink.store import Store
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest, HttpResponse
from pocketlink.wire.numbers import integer

if TYPE_CHECKING:
    from pocketlink.metrics.store import MetricStore
    from pocketlink.services.ecr_registry import Registry
    from pocketlink.services.front import ServiceFront

ROOT_RUNTIME_DIR = Path("/run/pocketlink/daemons")


def runtime_dir() -> Path:
    if os.geteuid() == 0:
        return ROOT_RUNTIME_DIR
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "pocketlink" / "daemons"
    return Path(tempfile.gettempdir()) / f"pocketlink-{os.geteuid()}" / "daemons"


def _private_dir(path: Path) -> Path:
    """``path``, made 0700 and checked to be this user's own (a folder someone else made
    in a shared place could hand them the socket)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = path.lstat()
    if info.st_uid != os.geteuid() or not path.is_dir() or path.is_symlink():
        raise PermissionError(f"{path} is not a folder of this user's own")
    if info.st_mode & 0o077:
        path.chmod(0o700)
    return path


@dataclass(frozen=True)
class RuntimeRecord:
    """A running daemon: how to reach it, and which state it serves."""

    pid: int
    host: str
    port: int
    state: str
    socket: str
    starting: bool = False  # claimed: the port and the control socket are not served yet

    @staticmethod
    def key(state: Path) -> str:
        return hashlib.sha256(str(state.resolve()).encode()).hexdigest()[:16]

    @classmethod
    def path_for(cls, state: Path) -> Path:
        return runtime_dir() / f"{cls.key(state)}.json"

    @classmethod
    def socket_for(cls, state: Path) -> Path:
        return runtime_dir() / f"{cls.key(state)}.sock"

    @classmethod
    def lock_for(cls, state: Path) -> Path:
        return runtime_dir() / f"{cls.key(state)}.lock"

    @classmethod
    def read(cls, state: Path) -> RuntimeRecord | None:
        try:
            return cls(**json.loads(cls.path_for(state).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def write(self) -> None:
        path = self.path_for(Path(self.state))
        _private_dir(path.parent)
        # Replaced whole: a reader (``down``) sees the old record or the new, never none.
        replace_private(path, json.dumps(asdict(self)).encode())

    def remove(self) -> None:
        self.path_for(Path(self.state)).unlink(missing_ok=True)
        Path(self.socket).unlink(missing_ok=True)


class Taken(Exception):
    """Another daemon holds the state: its pid (None if it let go while we looked)."""

    def __init__(self, state: Path, pid: int | None) -> None:
        super().__init__(f"a daemon (pid {pid}) already serves {state}; stop it with "
                         f"'pocketlink down --state {state}', or give another --state.")
        self.pid = pid


class Claim:
    """A daemon's hold on its state, from its first step to its exit."""

    def __init__(self, state: Path, host: str, port: int) -> None:
        path = RuntimeRecord.lock_for(state)
        _private_dir(path.parent)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise Taken(state, holder(state)) from None
        self.record = RuntimeRecord(os.getpid(), host, port, str(state.resolve()),
                                    str(RuntimeRecord.socket_for(state)), starting=True)
        self.record.write()

    def release(self) -> None:
        """The record, if the start never got as far as serving (the stop removes its own),
        and the lock."""
        if RuntimeRecord.read(Path(self.record.state)) == self.record:
            self.record.remove()
        os.close(self._fd)


def holder(state: Path) -> int | None:
    """The pid of the daemon that holds ``state`` (starting or up), or None."""
    try:
        info = os.stat(RuntimeRecord.lock_for(state))
        locks = Path("/proc/locks").read_text()
    except FileNotFoundError:
        return None
    file = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in locks.splitlines():  # "7: FLOCK  ADVISORY  WRITE 4242 00:19:1234 0 EOF"
        fields = line.split()
        if fields[1:2] == ["FLOCK"] and fields[5:6] == [file]:
            return int(fields[4])
    return None


def private_socket_path(state: Path) -> Path:
    """Where the daemon of ``state`` will listen for control, its folder made private."""
    path = RuntimeRecord.socket_for(state)
    _private_dir(path.parent)
    return path


class Control:
    """The control front: what ``pocketlink status`` and ``pocketlink down`` ask."""

    MAX_BODY = 4096

    def __init__(self, store: Store, record: RuntimeRecord, stop: Callable[[], None],
                 backend: Backend | None = None, front: ServiceFront | None = None,
                 registry: Registry | None = None,
                 metrics: MetricStore | None = None,
                 prometheus: Callable[[], bytes] | None = None,
                 api: Callable[[], dict] | None = None) -> None:
        self.store = store
        self.api = api  # the API's thread and its connections (gateway/api_thread.py)
        self.metrics = metrics
        self.prometheus = prometheus
        self.record = record
        self.stop = stop
        self.backend = backend
        self.front = front
        self.registry = registry

    def handle(self, request: HttpRequest, peer: str, path: NetworkPath | None = None
               ) -> HttpResponse:
        if request.path == "/_pocketlink/status" and request.method == "GET":
            body = {"status": "running", **asdict(self.record),
                    "resources": self.store.summary(), "failures": failures(self.store)}
            if self.backend is not None:
                body["backend"] = self.backend.status()
            if self.front is not None:
                body["front"] = self.front.status()
            if self.registry is not None:
                body["registry"] = self.registry.status()
            if self.api is not None:
                body["api"] = self.api()
            return _json(200, body)
        if request.path == "/_pocketlink/cost" and request.method == "GET" and \
                self.metrics is not None:
            return self._cost(request)
        if request.path == "/_pocketlink/metrics" and request.method == "GET" and \
                self.prometheus is not None:
            return HttpResponse(200, self.prometheus(),
                                {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
        if request.path == "/_pocketlink/diagnose" and request.method == "GET":
            return _diagnose(self.store, request.form)
        if request.path.startswith("/_pocketlink/faults"):
            return _faults(self.store, request)
        if request.path == "/_pocketlink/shutdown" and request.method == "POST":
            self.stop()
            return _json(200, {"status": "stopping"})
        return _json(404, {"error": "not found"})

    def _cost(self, request: HttpRequest) -> HttpResponse:
        from pocketlink.metrics import cost

        since = parse_qs(request.query).get("since", [""])[0]
        if since and not (since.isascii() and since.isdigit()):
            return _json(400, {"error": "BadRequest", "message": "since: seconds since the epoch"})
        assert self.metrics is not None
        lines = cost.bill(self.metrics, self.store, int(since) if since else None)
        return _json(200, {"since": int(since) if since else self.metrics.first_point(),
                           "prices": cost.prices(), "lines": cost.as_json(lines)})

    def refuse(self, request: HttpRequest | None, error: ServiceError) -> HttpResponse:
        return _json(error.status, {"error": error.code, "message": error.message})

    def body_limit(self, request: HttpRequest) -> int:
        return self.MAX_BODY

    def forwarding(self, request: HttpRequest, peer: str, path: NetworkPath | None = None
                   ) -> None:
        """The control answers everything itself."""
        return None


def _diagnose(store: Store, form: dict[str, str]) -> HttpResponse:
    """``pocketlink diagnose``'s verdict: ``from`` (an instance), ``to`` (a name or an
    address), ``port``."""
    from pocketlink.diagnose import diagnose, listening

    port = integer(form.get("port"))
    if not form.get("from") or not form.get("to") or port is None:
        return _json(400, {"error": "name from, to and port"})
    found = listening.observe(diagnose(store, form["from"], form["to"], port))
    return _json(200, {**asdict(found), "failure": found.failure and asdict(found.failure),
                       "reachable": found.reachable})


def _faults(store: Store, request: HttpRequest) -> HttpResponse:
    """``pocketlink fault``: GET lists the stored faults, POST adds one (``action`` and
    what it names), POST ``/clear`` ends one (``id``) or all."""
    from pocketlink.faults import requests

    try:
        if request.path == "/_pocketlink/faults" and request.method == "GET":
            found = store.all(requests.Fault)
            return _json(200, {"faults": [requests.as_json(f) for f in found]})
        if request.path == "/_pocketlink/faults" and request.method == "POST":
            return _json(200, {"fault": requests.as_json(requests.add(store, request.form))})
        if request.path == "/_pocketlink/faults/clear" and request.method == "POST":
            cleared = requests.clear(store, request.form.get("id") or None)
            return _json(200, {"cleared": [requests.as_json(f) for f in cleared]})
    except requests.FaultError as error:
        return _json(400, {"error": "InvalidFault", "message": str(error)})
    return _json(404, {"error": "not found"})


def _json(status: int, body: dict) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Refused(OSError):
    """The daemon answered, and refused the request: ``reason`` says why."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def not_running(state: Path) -> str:
    """What a CLI command says when no runtime record names a daemon of ``state``."""
    return f"pocketlink is not running on {state}: start it with 'pocketlink up'."


def unanswered(command: str, state: Path, error: OSError) -> str:
    """What ``pocketlink <command>`` says when ``ask`` failed: the control socket is its
    daemon's user's alone (a PermissionError for anyone else), or nothing answered on it."""
    if isinstance(error, PermissionError):
        return (f"pocketlink {command}: only the user who started the daemon of {state} may "
                "ask it (run as that user, e.g. with sudo).")
    return f"pocketlink {command}: the daemon of {state} did not answer: {error}"


def ask(record: RuntimeRecord, method: str, path: str, timeout: float = 5) -> dict:
    """The daemon's answer on its control socket; OSError when it does not answer."""
    connection = _UnixConnection(record.socket, timeout)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = response.read()
    except http.client.HTTPException as error:
        raise OSError(f"no answer on {record.socket}: {error}") from None
    finally:
        connection.close()
    if response.status != 200:
        message = f"{path} answered {response.status}: {body[:200]!r}"
        if response.status == 400:
            raise Refused(message, json.loads(body).get("message", ""))
        raise OSError(message)
    return json.loads(body)
