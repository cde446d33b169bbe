"""A data-plane worker: one process, its own event loop and its own descriptor limit, that
carries the flows of every listener the daemon hands it.

The daemon binds each listener inside its namespace and passes the worker its socket over
the control channel (control.py); the worker accepts on it, chooses a target by a hash of
the flow (a connection sticks to one target), starts a non-blocking connect from the NLB
node's address inside the provider's VPC (a socket from the worker's stock, made ahead a
batch at a time inside that namespace, sockets.py) and hands both sockets to the pump
(pump.py) at once: the PROXY protocol v2 header, when the target group asks for it, and
the client's first bytes wait there for the connect. The pump carries bytes both ways
until both sides are done (half-close kept), the connect fails or times out (the client
gets a reset), or the flow idles past the listener's idle timeout (both sides then get a
reset, as at AWS).

A new connection is what bounds a Python data plane (bench/dataplane_connections.py), so
the path from accept to the last close is kept to the system calls any proxy pays (accept,
bind, connect, a read and a send each way, the half-close, two closes, two epoll adds)
and few Python calls: flows are callbacks on the pump's own epoll set, no task, future,
timer or loop reader of their own; connect timeouts and idle flows are found by one sweep
a second. A TLS listener's connections take another path, picked once per listener
(tls.py), so the TCP path's stays as it is.

Stopping is bounded (as uvicorn's): on ``drain``, on end of file from the daemon or on a
first SIGINT/SIGTERM the worker closes its listeners, lets its flows finish for the grace
period, resets what is left and exits; another signal, or the daemon gone, meanwhile ends
the wait at once (a second Ctrl-C reaches the workers too: they share its process group).

Run by the daemon as ``python -m pocketlink.dataplane.worker FD --grace S``.
"""

from __future__ import annotations

import _socket
import argparse
import asyncio
import contextlib
import errno
import functools
import gc
import ipaddress
import logging
import os
import resource
import signal
import socket
import ssl
import struct
import time
import zlib

from pocketlink.dataplane import ppv2
from pocketlink.dataplane.control import Channel, Message, spec_from
from pocketlink.dataplane.priority import no_wakeup_preemption
from pocketlink.dataplane.pump import LISTENING, Flow, Pump, Tally
from pocketlink.dataplane.sockets import Stock
from pocketlink.dataplane.spec import Backend, ListenerSpec
from pocketlink.dataplane.tls import TlsListener

log = logging.getLogger("pocketlink.dataplane")

CONNECT_TIMEOUT = 10.0
ACCEPT_BATCH = 64
ACCEPT_PAUSE = 0.5
ONE_CONNECTION_ERRORS = (errno.ECONNABORTED, errno.EPROTO, errno.EPERM)
SWEEP_EVERY = 1.0
TALLIES_A_MESSAGE = 256  # well within a control message (MAX_MESSAGE)
DRAIN_POLL = 0.05
# Sockets made ahead per provider namespace and family, on the loop's own time: a batch of
# 64 held up the connection that asked for it 0.6-0.8 ms (the p99 of new connections'
# latency doubled); 16 keeps that near 0.15 ms for a system call in four flows more.
UPSTREAM_BATCH = 16
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux 4.2+
UPSTREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK
# What the worker's own sockets send with, whatever the host's default: every hop here is a
# veth inside one kernel, with no bottleneck queue for pacing to spare. A pacing congestion
# control (BBR, some hosts' default) arms a timer per burst of a bulk flow: 12% of a worker's
# CPU in a throughput run, in its timer's softirq (bench/README.md).
CONGESTION = b"cubic"
STREAM, TCP = socket.SOCK_STREAM, socket.IPPROTO_TCP

Key = tuple[str, str, int]


def family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def choose(targets: tuple[tuple[str, int], ...], client: tuple, local: tuple
           ) -> tuple[str, int] | None:
    """The flow's target: a hash of the 4-tuple, so a flow always lands on the same one."""
    if len(targets) < 2:
        return targets[0] if targets else None
    key = f"{client[0]}|{client[1]}|{local[0]}|{local[1]}".encode()
    return targets[zlib.crc32(key) % len(targets)]


class _Listening:
    def __init__(self, spec: ListenerSpec, sock: socket.socket) -> None:
        self.spec, self.sock = spec, sock
        self.family = int(sock.family)  # once: socket.accept() converts it to an enum a call
        self.local = (spec.address, spec.port)  # bound to one address: every flow's local end
        self.tally = Tally()
        self.tls = TlsListener(spec.tls) if spec.tls is not None else None  # tls.py
        # A wildcard (the internet namespace's) learns each flow's local end from its socket.
        self.wildcard = spec.address in ("0.0.0.0", "::")

    def update(self, spec: ListenerSpec) -> None:
        if spec.tls != self.spec.tls:
            self.tls = TlsListener(spec.tls) if spec.tls is not None else None
        self.spec = spec


class Worker:
    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.sockets = Stock(UPSTREAM_BATCH, _upstream_options)
        self.channel: Channel | None = None
        self.done = asyncio.Event()
        self._listening: dict[Key, _Listening] = {}
        # Every listener's figures, kept past its close while its flows still count.
        self._tallies: dict[Key, Tally] = {}
        self._flows: set[Flow] = set()
        self._forget = self._flows.discard  # every flow's on_end: one method object, not one a flow
        self._pump: Pump | None = None
        self._sweeper: asyncio.Task | None = None
        self._draining: asyncio.Task | None = None
        self._forced = asyncio.Event()

    def start(self, control: socket.socket) -> None:
        self._pump = Pump()
        self.channel = Channel(control, self._on_message, self._on_daemon_gone)
        self._sweeper = asyncio.ensure_future(self._sweep())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._signalled)

    # --- orders from the daemon ------------------------------------------------------
    def _on_message(self, message: Message, fds: list[int]) -> None:
        op = message["op"]
        if op == "listen":
            self._listen(spec_from(message["spec"]), fds[0])
        elif op == "update":
            spec = spec_from(message["spec"])
            current = self._listening.get(spec.key)
            if current is not None:
                plain = current.tls is None
                try:  # new flows see the new backend; running ones keep theirs
                    current.update(spec)
                except (OSError, ssl.SSLError, ValueError) as error:
                    log.warning("TLS listener %s:%d keeps its certificates: %s", spec.address,
                                spec.port, error)
                if (current.tls is None) != plain:  # TCP <-> TLS on the same port
                    assert self._pump is not None
                    self._pump.unwatch(current.sock.fileno())
                    self._watch(current)
                self._keep_namespaces()
        elif op == "close":
            listening = self._listening.pop(tuple(message["key"]), None)
            if listening is not None:
                self._stop_listening(listening)
                self._keep_namespaces()
        elif op == "drain":
            self.drain(message["grace"])
        for fd in fds[1 if op == "listen" else 0:]:
            os.close(fd)

    def _listen(self, spec: ListenerSpec, fd: int) -> None:
        sock = socket.socket(fileno=fd)
        if self._draining is not None:
            sock.close()
            return
        sock.setblocking(False)
        # Accepted sockets inherit these: the flow's bytes go on as they come, not held
        # back for an acknowledgement of the last ones, and unpaced.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _no_pacing(sock)
        previous = self._listening.pop(spec.key, None)
        if previous is not None:
            self._stop_listening(previous)
        try:
            listening = _Listening(spec, sock)
        except (OSError, ssl.SSLError, ValueError) as error:  # a TLS listener's certificates
            log.warning("cannot listen on %s:%d: %s", spec.address, spec.port, error)
            sock.close()
            return
        self._listening[spec.key] = listening
        listening.tally = self._tallies.setdefault(spec.key, listening.tally)
        self._watch(listening)
        self._keep_namespaces()
        assert self.channel is not None
        self.channel.send({"op": "listening", "key": list(spec.key)})

    def _keep_namespaces(self) -> None:
        self.sockets.keep_only({listening.spec.backend.namespace
                                for listening in self._listening.values()})

    def _on_daemon_gone(self) -> None:
        """The daemon died (flows get the grace period), or exited while this worker
        drained: then no one waits for it any more, and it stops now."""
        if self._draining is None:
            log.warning("data-plane worker %d: the daemon is gone; draining", os.getpid())
            self.drain(self.grace)
        else:
            self._forced.set()

    def _signalled(self) -> None:
        if self._draining is None:
            self.drain(self.grace)
        else:
            self._forced.set()

    # --- flows -----------------------------------------------------------------------
    def _watch(self, listening: _Listening) -> None:
        assert self._pump is not None
        accept = self._accept if listening.tls is None else self._accept_tls
        self._pump.watch(listening.sock.fileno(), functools.partial(accept, listening),
                         LISTENING)

    def _stop_listening(self, listening: _Listening) -> None:
        assert self._pump is not None
        self._pump.unwatch(listening.sock.fileno())
        listening.sock.close()

    def _accept(self, listening: _Listening, _mask: int) -> None:
        accept, make, kind = listening.sock._accept, _socket.socket, listening.family
        for _ in range(ACCEPT_BATCH):
            try:
                fd, peer = accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in ONE_CONNECTION_ERRORS:
                    continue  # that client gave up before we took it: take the next
                # Out of descriptors, say: the backlog keeps the rest. Stop listening a
                # moment, or the loop would spin on a socket that stays readable.
                spec = listening.spec
                log.warning("accept on %s:%d: %s; pausing it %.1f s", spec.address, spec.port,
                            error, ACCEPT_PAUSE)
                assert self._pump is not None
                self._pump.unwatch(listening.sock.fileno())
                asyncio.get_running_loop().call_later(ACCEPT_PAUSE, self._resume_accepting,
                                                      listening)
                return
            # The C socket type under socket.socket: no Python-level __init__ and close, a
            # tenth of a short flow's Python calls. Left blocking: the copy path says
            # MSG_DONTWAIT, a flow that turns to splice makes it non-blocking then (one
            # system call fewer for every short flow).
            client = make(kind, STREAM, TCP, fd)
            backend, local = listening.spec.backend, listening.local
            if listening.wildcard:
                local = client.getsockname()[:2]
            targets = backend.targets
            target = targets[0] if len(targets) == 1 else choose(targets, peer, local)
            if target is None:
                listening.tally.elb_resets += 1
                _reset(client)
                continue
            try:
                upstream = self.sockets.take(backend.namespace, family(target[0]), UPSTREAM)
            except OSError as error:  # the provider's namespace is gone, or not made yet
                log.info("flow %s -> %s: %s", peer, target, error)
                listening.tally.elb_resets += 1
                _reset(client)
                continue
            self._connect(backend, client, peer[:2], local, target, upstream, listening.tally)

    def _accept_tls(self, listening: _Listening, _mask: int) -> None:
        assert listening.tls is not None
        listening.tls.accept(listening.sock, listening.spec.backend, listening.local, choose,
                             lambda namespace, kind: self.sockets.take(namespace, kind, UPSTREAM),
                             self._flows)  # type: ignore[arg-type]

    def _connect(self, backend: Backend, client: socket.socket, peer: tuple[str, int],
                 local: tuple[str, int], target: tuple[str, int], upstream: socket.socket,
                 tally: Tally) -> None:
        """A non-blocking connect to a numeric address (no resolver on the way: the loop's
        own sock_connect may hand even a numeric address to a thread pool), and the flow
        starts at once: its bytes for the target wait for the connect's edge, a refusal
        fails it at its first read, the sweep times it out."""
        endpoint_id = backend.endpoint_id
        if backend.gateway_routes:
            endpoint_id = routed_endpoint(backend.gateway_routes, peer[0])
            if endpoint_id is None:  # not a subnet that routes here (any more)
                _reset(client)
                _reset(upstream)
                return
        try:
            upstream.bind((backend.source, 0))
            code = upstream.connect_ex(target)
        except OSError as error:
            code = error.errno or errno.EINVAL
        if code not in (0, errno.EINPROGRESS):
            log.info("flow %s -> %s: %s", peer, target, os.strerror(code))
            tally.elb_resets += 1
            _reset(client)
            _reset(upstream)
            return
        assert self._pump is not None
        header = ppv2.encode(peer, local, endpoint_id) if backend.proxy_protocol else b""
        self._flows.add(Flow(self._pump, client, upstream, target, backend.idle_timeout,
                             self._forget, header, tally))

    def _resume_accepting(self, listening: _Listening) -> None:
        if self._listening.get(listening.spec.key) is listening:
            self._watch(listening)

    async def _sweep(self) -> None:
        """Flows idle past their listener's idle timeout are forgotten, as an NLB does;
        connects that have not been answered in CONNECT_TIMEOUT fail. Then the daemon
        hears what every listener carried since the last sweep (``tally``)."""
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            now = time.monotonic()
            for flow in list(self._flows):
                if now - flow.started > CONNECT_TIMEOUT and not flow.check_connected():
                    flow.fail(TimeoutError(errno.ETIMEDOUT, "connect timed out"))
                elif flow.idle(now):
                    flow.reset()
                else:
                    flow.count()
            self._report()

    def _report(self) -> None:
        """``tally``: per listener key, [new, bytes in, bytes out, ELB resets, target
        resets, client resets, active], the counts since the last report; ``targets``:
        per listener key and target, [address, port, flows ended, bytes]."""
        told, targets = [], []
        for key, tally in list(self._tallies.items()):
            counts = tally.take()
            if counts is not None:
                told.append([*key, *counts])
            if tally.targets:
                targets += [[*key, *row] for row in tally.take_targets()]
            if tally.active == 0 and key not in self._listening:
                del self._tallies[key]
        if self.channel is not None:
            for start in range(0, max(len(told), len(targets)), TALLIES_A_MESSAGE):
                self.channel.send({"op": "tally",
                                   "listeners": told[start:start + TALLIES_A_MESSAGE],
                                   "targets": targets[start:start + TALLIES_A_MESSAGE]})

    # --- stopping --------------------------------------------------------------------
    def drain(self, grace: float) -> None:
        if self._draining is None:
            self._draining = asyncio.ensure_future(self._drain(grace))

    async def _drain(self, grace: float) -> None:
        for listening in self._listening.values():
            self._stop_listening(listening)
        self._listening.clear()
        flows = len(self._flows)
        deadline = time.monotonic() + grace
        while self._flows and time.monotonic() < deadline and not self._forced.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._forced.wait(), DRAIN_POLL)
        left = len(self._flows)
        for flow in list(self._flows):
            flow.reset()
        if flows:
            log.info("data-plane worker %d: %d flows finished, %d reset", os.getpid(),
                     flows - left, left)
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._pump is not None:
            self._pump.close()
        self.sockets.close()
        if self.channel is not None:
            self.channel.close()
        self.done.set()


@functools.lru_cache(maxsize=256)
def _subnets(routes: tuple[tuple[str, str], ...]
             ) -> tuple[tuple[ipaddress.IPv4Network, str], ...]:
    return tuple((ipaddress.IPv4Network(cidr), endpoint) for cidr, endpoint in routes)


def routed_endpoint(routes: tuple[tuple[str, str], ...], caller: str) -> str | None:
    """The gateway endpoint the caller's subnet routes the service through."""
    address = ipaddress.IPv4Address(caller)
    return next((endpoint for subnet, endpoint in _subnets(routes) if address in subnet), None)


def _upstream_options(sock: socket.socket) -> None:
    """Set in the provider namespace's thread as the socket is made (made non-blocking by
    its type, ``UPSTREAM``). The port is picked at connect, per destination: a node's
    address is not held to one flow per ephemeral port across every target."""
    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _no_pacing(sock)


def _no_pacing(sock: socket.socket) -> None:
    """``CONGESTION`` for the socket (a listener's accepted sockets inherit it); a kernel
    without it, or a daemon not allowed to choose it, keeps the default."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, CONGESTION)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


async def serve(control_fd: int, grace: float) -> None:
    worker = Worker(grace)
    worker.start(socket.socket(fileno=control_fd))
    # What start-up made (modules, classes, the loop) lives as long as the process: out of
    # the collector's sight, its full passes walk only what flows made since.
    gc.freeze()
    await worker.done.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pocketlink.dataplane.worker")
    parser.add_argument("control_fd", type=int)
    parser.add_argument("--grace", type=float, required=True)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # two descriptors a flow: every one this process may have
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    no_wakeup_preemption()
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(serve(args.control_fd, args.grace))


if __name__ == "__main__":
    main()
