"""Descriptors reserved (issue 14, "limits everywhere"): a daemon started under a low
descriptor limit caps its API connections below it. A client that opens connections past
the cap and leaves them idle gets the ones past it closed unanswered, and the rest of the
daemon keeps working: its control socket answers, the API answers again once some close,
the reconciler builds a VPC's namespace while the API is full, and an instance's requests
through an interface endpoint are all answered."""

from __future__ import annotations

import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest

from pocketlink.gateway.limits import CAP_VARIABLE, ConnectionCap
from pocketlink.harness import Daemon
from pocketlink.network import netns
from tests.conftest import remove_namespaces, wait_for
from tests.security.hostile import build, victim_traffic

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or shutil.which("prlimit") is None,
    reason="needs root (the network), setpriv and prlimit")

LIMIT = 1024  # the daemon's descriptors: its own cap derives from this
PAST = 40  # connections opened past the cap
# The start of a request that never ends: each connection is in a request, not idle.
PARTIAL = b"GET /_pocketlink/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


class Flood:
    """Keeps ``target`` connections open to the daemon, each with a request begun and never
    finished; one the daemon closes is counted and opened again."""

    def __init__(self, port: int, target: int) -> None:
        self.port = port
        self.target = target
        self.closed = 0  # closed by the daemon, unanswered
        self.answered = 0  # closed by the daemon with bytes (there should be none)
        self._open: list[socket.socket] = []
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Flood:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for sock in self._open:
            sock.close()
        self._selector.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            while len(self._open) > self.target:
                self._drop(self._open[-1])
            while len(self._open) < self.target and not self._stop.is_set():
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                sock.sendall(PARTIAL)
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ)
                self._open.append(sock)
            for key, _ in self._selector.select(timeout=0.1):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)  # type: ignore[union-attr]
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if data:
                    self.answered += 1
                else:
                    self.closed += 1
                self._drop(sock)  # type: ignore[arg-type]

    def _drop(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        self._open.remove(sock)
        sock.close()


def _health(daemon: Daemon) -> bool:
    try:
        with urllib.request.urlopen(f"{daemon.endpoint}/_pocketlink/health", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_the_cap_leaves_a_reserve_of_the_descriptors(monkeypatch):
    monkeypatch.delenv(CAP_VARIABLE, raising=False)
    assert ConnectionCap.for_descriptors(262_144).limit == 196_608  # a quarter kept
    assert ConnectionCap.for_descriptors(1024).limit == 512  # at least 512 kept
    assert ConnectionCap.for_descriptors(256).limit == 32  # a few clients, always
    monkeypatch.setenv(CAP_VARIABLE, "100")
    cap = ConnectionCap.for_descriptors(262_144)
    assert cap.limit == 100
    assert all(cap.take() for _ in range(100)) and not cap.take()
    cap.give()
    assert cap.take()


@needs_root
def test_api_connections_past_the_cap_are_closed_and_the_daemon_keeps_working(
        tmp_path_factory):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    folder = tmp_path_factory.mktemp("pocketlink")
    # Without CAP_SYS_RESOURCE, the daemon cannot raise the limit it is started under.
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log",
                    wrapper=["setpriv", "--bounding-set", "-sys_resource",
                             "prlimit", f"--nofile={LIMIT}:{LIMIT}"])
    try:
        daemon.start()
        said = re.search(r"at most (\d+) API connections open at once \(of (\d+) descriptors",
                         daemon.log.read_text())
        assert said is not None, daemon.log.read_text()[-2000:]
        cap, descriptors = int(said[1]), int(said[2])
        assert descriptors == LIMIT  # started under it, and could not raise it
        assert cap < LIMIT  # the rest is kept for the daemon
        ec2 = daemon.client("ec2")
        world = build(daemon)  # a provider's web server, and a consumer's endpoint to it

        with Flood(daemon.port, cap + PAST) as flood:
            # (a) the connections past the cap are closed, unanswered, and said so in the log
            wait_for(lambda: flood.closed >= PAST
                     and "closed an API connection" in daemon.log.read_text())
            assert flood.answered == 0

            # (b) the control socket answers while the API is full
            status = subprocess.run(
                [sys.executable, "-m", "pocketlink", "status", "--state", str(daemon.state)],
                capture_output=True, text=True, timeout=60)
            assert status.returncode == 0, status.stdout + status.stderr
            assert "pocketlink is running" in status.stdout

            # ... and the API, once some of the connections close
            flood.target = cap - 60
            wait_for(lambda: _health(daemon))
            vpc_id = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]

            # (c) full again: the reconciler still builds the VPC, with the descriptors kept
            closed = flood.closed
            flood.target = cap + PAST
            wait_for(lambda: flood.closed >= closed + PAST)
            owner = str(daemon.state.resolve())
            wait_for(lambda: any(vpc_id in name for name in netns.ours(owner)))
            status = subprocess.run(
                [sys.executable, "-m", "pocketlink", "status", "--state", str(daemon.state)],
                capture_output=True, text=True, timeout=60)
            assert status.returncode == 0, status.stdout + status.stderr
            assert flood.answered == 0

            # (d) the data plane: the consumer's requests through its endpoint (a lookup at
            # its VPC's resolver and a new connection each) are all answered
            traffic = victim_traffic(world, 2.0)
            assert traffic["latencies"] and not traffic["failures"], traffic["failures"][:5]

        # Once the flood ends, the API serves as before.
        wait_for(lambda: _health(daemon))
        assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["VpcId"] == vpc_id
        assert "Too many open files" not in daemon.log.read_text()
    finally:
        daemon.stop()
        remove_namespaces(daemon)
