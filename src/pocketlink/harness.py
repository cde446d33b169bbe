"""A ``pocketlink up`` of one's own, as a subprocess: what the tests and the benchmarks run
against.

It listens on free loopback ports with its own state file, is stopped by its own pid (never by
name), and its network is torn down with ``pocketlink down`` scoped to its state (never
``--all``: other runs on the machine keep their namespaces).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

HOST = "127.0.0.1"
REGION = "us-east-1"
# The account a client acts for unless told otherwise: the seeds' provider.
PROVIDER = "111111111111"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
DOWN_TIMEOUT = 120.0
# Only loopback is spoken to: never let an HTTP(S)_PROXY in the environment take the calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# The instance's python3 is the host's system one (a venv's interpreter may live under a
# home the sandbox hides): it is given this run's boto3.
SITE_PACKAGES = next(p for p in sys.path if p.endswith("site-packages"))
# What every boto3 script run inside an instance starts with: the job (JSON, argv[1]) and
# pocketlink's CA (stdin) read, and the AWS names answered with the endpoints' ENI
# addresses (``job["addresses"]``, by a label of the name: "ssm", "s3") by a patched
# ``getaddrinfo`` (the VPC's resolver is not asked), so that the names the client asks
# for (SNI, Host, the signature) stay AWS's own. It leaves ``job``, ``ca`` (the CA's file)
# and ``session`` (for ``job["account"]`` in ``job["region"]``) to the calls after it.
_BOTO3_PRELUDE = r"""
import json, socket, sys, tempfile
import boto3
from botocore.config import Config

job = json.loads(sys.argv[1])
with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as ca:
    ca.write(sys.stdin.buffer.read())
real = socket.getaddrinfo

def resolve(host, *rest, **named):
    if isinstance(host, str) and host.endswith(".amazonaws.com"):
        labels = host.split(".")
        host = next(a for service, a in job["addresses"].items() if service in labels)
    return real(host, *rest, **named)

socket.getaddrinfo = resolve
session = boto3.session.Session(aws_access_key_id=job["account"],
                                aws_secret_access_key="secret", region_name=job["region"])
"""


def boto3_in_instance(calls: str, job: dict[str, Any]) -> list[str]:
    """The command (for ``pocketlink exec INSTANCE --``) that runs the python ``calls``
    inside an instance with boto3, after the prelude above; give it the CA on stdin."""
    return ["env", f"PYTHONPATH={SITE_PACKAGES}", "/usr/bin/python3", "-c",
            _BOTO3_PRELUDE + calls, json.dumps(job)]


def data_plane_workers(daemon_pid: int) -> list[int]:
    """The daemon's data-plane worker processes (``python -m pocketlink.dataplane.worker``)."""
    return children(daemon_pid, "pocketlink.dataplane.worker")


def children(daemon_pid: int, module: str) -> list[int]:
    """The daemon's child processes running ``python -m MODULE``, found in /proc by their
    parent and command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == daemon_pid and module.encode() in command:
            found.append(int(entry.name))
    return sorted(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Daemon:
    """``pocketlink up`` as our subprocess; ``restart(kill=True)`` SIGKILLs it and starts it
    again (what a crash would do)."""

    state: Path
    log: Path
    args: list[str] = field(default_factory=list)  # more ``pocketlink up`` options
    source: Path | None = None  # a pocketlink source tree to run instead of the installed one
    wrapper: list[str] = field(default_factory=list)  # run under it (setpriv, prlimit ...)
    port: int = field(default_factory=free_port)
    dns_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the daemon is not running")
        return self.process.pid

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.source is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(self.source), *filter(None, [env.get("PYTHONPATH")])])
        return env

    def describe(self) -> str:
        """Which pocketlink the daemon runs: its folder, and the commit when it is a git
        checkout (with 'modified' if its data plane differs from that commit)."""
        found = subprocess.run([sys.executable, "-c", "import pocketlink; print(pocketlink.__file__)"],
                               capture_output=True, text=True, env=self.env, timeout=30)
        folder = Path(found.stdout.strip()).parent
        commit = subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%h %s"],
                                capture_output=True, text=True, timeout=30)
        if commit.returncode != 0:
            return str(folder)
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "dataplane"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return f"{folder} @ {commit.stdout.strip()[:70]}{' (data plane modified)' if dirty else ''}"

    def start(self) -> None:
        command = [*self.wrapper, sys.executable, "-m", "pocketlink", "up", "--host", HOST,
                   "--port", str(self.port), "--public-dns-port", str(self.dns_port),
                   "--state", str(self.state), *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pocketlink up exited early: {self.log.read_text()[-2000:]}")
            try:
                _OPENER.open(f"{self.endpoint}/_pocketlink/health", timeout=2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop(kill=True)  # not left running behind the error
        raise RuntimeError(f"pocketlink up did not answer within {START_TIMEOUT:.0f} s")

    def stop(self, kill: bool = False) -> None:
        """Stop our own subprocess by its pid: SIGTERM (SIGKILL with ``kill``), then SIGKILL
        if it lingers: a daemon that does not stop is killed, not left."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def restart(self, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def status(self) -> dict:
        """What ``pocketlink status`` reads: the daemon's answer on its control socket."""
        from pocketlink.gateway import control

        record = control.RuntimeRecord.read(self.state)
        if record is None:
            raise RuntimeError(f"no daemon serves {self.state}")
        return control.ask(record, "GET", "/_pocketlink/status")

    def client(self, service: str, account: str = PROVIDER, region: str = REGION,
               secret: str = "secret", access_key: str | None = None,
               validate: bool = True) -> Any:
        """A boto3 client for ``account`` (a 12-digit access key id *is* that account), or
        for ``access_key`` when given; ``validate=False`` lets through what botocore would
        stop before sending, so that the daemon's own checks are what answers."""
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=access_key or account, aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}, proxies={}, connect_timeout=5,
                          read_timeout=60, parameter_validation=validate))

    def down(self) -> subprocess.CompletedProcess[str]:
        """``pocketlink down --purge`` for this daemon's state (never --all): it stops the
        daemon of that state, if one runs, and removes what it made."""
        return subprocess.run(
            [sys.executable, "-m", "pocketlink", "down", "--state", str(self.state), "--purge"],
            capture_output=True, text=True, timeout=DOWN_TIMEOUT, stdin=subprocess.DEVNULL,
            env=self.env)

    def tear_down(self) -> None:
        """After a run that did not finish: stop our daemon by its pid, then remove its
        namespaces with ``down`` on its state, which stops no other daemon (whatever took
        our port since)."""
        self.stop()
        try:
            cleanup = self.down()
            if cleanup.returncode != 0:
                print(f"clean-up: pocketlink down failed: {cleanup.stderr.strip()}",
                      file=sys.stderr)
        except subprocess.TimeoutExpired:
            print("clean-up: pocketlink down timed out", file=sys.stderr)
