"""A data-plane worker: one process, its own event loop and its own descriptor limit, that
carries the flows of every listener the daemon hands it.

The daemon binds each listener inside its namespace and passes the worker its socket over
the control channel (control.py); the worker accepts on it, chooses a target by a hash of
the flow (a connection sticks to one target), connects from the NLB node's address inside
the provider's VPC (its own per-namespace socket threads, sockets.py), sends the PROXY
protocol v2 header first when the target group asks, then hands both sockets to the
splice pump (pump.py), which carries bytes both ways until both sides are done (half-close
kept) or the flow idles past the listener's idle timeout (both sides then get a reset, as
at AWS).

Stopping is bounded (as uvicorn's): on ``drain``, on end of file from the daemon or on a
first SIGINT/SIGTERM the worker closes its listeners, lets its flows finish for the grace
period, resets what is left and exits; another signal, or the daemon gone, meanwhile ends
the wait at once (a second Ctrl-C reaches the workers too: they share its process group).

Run by the daemon as ``python -m pocketlink.dataplane.worker FD --grace S``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import resource
import signal
import socket
import struct
import time
import zlib

from pocketlink.dataplane import ppv2
from pocketlink.dataplane.control import Channel, Message, spec_from
from pocketlink.dataplane.plan import Backend, ListenerSpec
from pocketlink.dataplane.pump import Flow, Pipes
from pocketlink.dataplane.sockets import NamespaceSockets

log = logging.getLogger("pocketlink.dataplane")

CONNECT_TIMEOUT = 10.0
ACCEPT_BATCH = 64
ACCEPT_PAUSE = 0.5
ONE_CONNECTION_ERRORS = (errno.ECONNABORTED, errno.EPROTO, errno.EPERM)
SWEEP_EVERY = 1.0
DRAIN_POLL = 0.05
UPSTREAM_BATCH = 64  # sockets made ahead per provider namespace and family
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux 4.2+

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


class Worker:
    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.sockets = NamespaceSockets(UPSTREAM_BATCH, _upstream_options)
        self.channel: Channel | None = None
        self.done = asyncio.Event()
        self._listening: dict[Key, _Listening] = {}
        self._connecting: set[_Connecting] = set()
        self._flows: set[Flow] = set()
        self._pipes = Pipes()
        self._sweeper: asyncio.Task | None = None
        self._draining: asyncio.Task | None = None
        self._forced = asyncio.Event()

    def start(self, control: socket.socket) -> None:
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
                current.spec = spec  # new flows see the new backend; running ones keep theirs
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
        previous = self._listening.pop(spec.key, None)
        if previous is not None:
            self._stop_listening(previous)
        self._listening[spec.key] = _Listening(spec, sock)
        asyncio.get_running_loop().add_reader(sock.fileno(), self._accept, spec.key)
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
    @staticmethod
    def _stop_listening(listening: _Listening) -> None:
        asyncio.get_running_loop().remove_reader(listening.sock.fileno())
        listening.sock.close()

    def _accept(self, key: Key) -> None:
        listening = self._listening.get(key)
        if listening is None:
            return
        for _ in range(ACCEPT_BATCH):
            try:
                fd, peer = listening.sock._accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in ONE_CONNECTION_ERRORS:
                    continue  # that client gave up before we took it: take the next
                # Out of descriptors, say: the backlog keeps the rest. Stop listening a
                # moment, or the loop would spin on a socket that stays readable.
                log.warning("accept on %s:%d: %s; pausing it %.1f s", key[1], key[2], error,
                            ACCEPT_PAUSE)
                loop = asyncio.get_running_loop()
                loop.remove_reader(listening.sock.fileno())
                loop.call_later(ACCEPT_PAUSE, self._resume_accepting, key, listening)
                return
            client = socket.socket(listening.family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fd)
            client.setblocking(False)
            spec = listening.spec  # bound to one address: the flow's local end is known
            backend = spec.backend
            target = choose(backend.targets, peer, (spec.address, spec.port))
            if target is None:
                _reset(client)
                continue
            connecting = _Connecting(self, backend, client, peer[:2], (spec.address, spec.port),
                                     target)
            self._connecting.add(connecting)
            upstream = self.sockets.take(backend.namespace, family(target[0]))
            if upstream is not None:
                connecting.start(upstream)
            else:
                connecting.wait(self.sockets.socket(backend.namespace, family(target[0])))

    def _resume_accepting(self, key: Key, listening: _Listening) -> None:
        if self._listening.get(key) is listening:
            asyncio.get_running_loop().add_reader(listening.sock.fileno(), self._accept, key)

    async def _sweep(self) -> None:
        """Flows idle past their listener's idle timeout are forgotten, as an NLB does."""
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            now = time.monotonic()
            for flow in [f for f in self._flows if f.idle(now)]:
                flow.reset()

    # --- stopping --------------------------------------------------------------------
    def drain(self, grace: float) -> None:
        if self._draining is None:
            self._draining = asyncio.ensure_future(self._drain(grace))

    async def _drain(self, grace: float) -> None:
        for listening in self._listening.values():
            self._stop_listening(listening)
        self._listening.clear()
        flows = len(self._flows) + len(self._connecting)
        deadline = time.monotonic() + grace
        while (self._flows or self._connecting) and time.monotonic() < deadline \
                and not self._forced.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._forced.wait(), DRAIN_POLL)
        left = len(self._flows) + len(self._connecting)
        for connecting in list(self._connecting):
            connecting.end(None)
        for flow in list(self._flows):
            flow.reset()
        if flows:
            log.info("data-plane worker %d: %d flows finished, %d reset", os.getpid(),
                     flows - left, left)
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._pipes.close()
        self.sockets.close()
        if self.channel is not None:
            self.channel.close()
        self.done.set()


class _Connecting:
    """A flow from its accept to its target's answer, as a chain of callbacks (a writer
    callback for the connect, a timer for its timeout): no task or future of its own."""

    __slots__ = ("backend", "client", "ended", "local", "peer", "target", "timer", "upstream",
                 "waiter", "worker")

    def __init__(self, worker: Worker, backend: Backend, client: socket.socket,
                 peer: tuple[str, int], local: tuple[str, int], target: tuple[str, int]
                 ) -> None:
        self.worker, self.backend, self.client = worker, backend, client
        self.peer, self.local, self.target = peer, local, target
        self.upstream: socket.socket | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.waiter: asyncio.Future | None = None
        self.ended = False

    def wait(self, waiter: asyncio.Future) -> None:
        """No socket ready in the provider's namespace: start once the pool has one."""
        self.waiter = waiter
        waiter.add_done_callback(self._got)

    def _got(self, waiter: asyncio.Future) -> None:
        self.waiter = None
        if waiter.cancelled():
            return
        if waiter.exception() is not None:
            self.end(waiter.exception())
        elif self.ended:
            waiter.result().close()
        else:
            self.start(waiter.result())

    def start(self, upstream: socket.socket) -> None:
        """A non-blocking connect to a numeric address: no resolver on the way (the loop's
        own sock_connect may hand even a numeric address to a thread pool). The socket is
        non-blocking and picks its port at connect already (``_upstream_options``)."""
        self.upstream = upstream
        try:
            upstream.bind((self.backend.source, 0))
            code = upstream.connect_ex(self.target)
        except OSError as error:
            self.end(error)
            return
        if code == 0:
            self._connected()
        elif code != errno.EINPROGRESS:
            self.end(OSError(code, os.strerror(code)))
        else:
            loop = asyncio.get_running_loop()
            loop.add_writer(upstream.fileno(), self._writable)
            self.timer = loop.call_later(CONNECT_TIMEOUT, self.end, TimeoutError())

    def _writable(self) -> None:
        assert self.upstream is not None and self.timer is not None
        asyncio.get_running_loop().remove_writer(self.upstream.fileno())
        self.timer.cancel()
        self.timer = None
        code = self.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.end(OSError(code, os.strerror(code)))
        else:
            self._connected()

    def _connected(self) -> None:
        assert self.upstream is not None
        backend = self.backend
        if backend.proxy_protocol:
            header = ppv2.encode(self.peer, self.local, backend.endpoint_id)
            try:
                # A socket that has just connected has its whole send buffer free.
                sent = self.upstream.send(header)
            except OSError as error:
                self.end(error)
                return
            if sent != len(header):
                self.end(OSError(errno.EAGAIN, "the PROXY header did not fit"))
                return
        self.ended = True
        worker = self.worker
        worker._connecting.discard(self)
        worker._flows.add(Flow(self.client, self.upstream, backend.idle_timeout,
                               worker._flows.discard, worker._pipes))

    def end(self, error: BaseException | None) -> None:
        """The connect failed (``error``), or the worker stops (None): both sides reset."""
        if self.ended:
            return
        self.ended = True
        self.worker._connecting.discard(self)
        if error is not None:
            log.info("flow %s -> %s: %s", self.peer, self.target,
                     error if str(error) else type(error).__name__)
        if self.waiter is not None:
            self.waiter.cancel()
        if self.timer is not None:
            self.timer.cancel()
        _reset(self.client)
        if self.upstream is not None:
            with contextlib.suppress(ValueError, OSError):  # a writer while connecting
                asyncio.get_running_loop().remove_writer(self.upstream.fileno())
            _reset(self.upstream)


def _upstream_options(sock: socket.socket) -> None:
    """Set in the provider namespace's thread as the socket is made. The port is picked at
    connect, per destination: a node's address is not held to one flow per ephemeral port
    across every target."""
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


async def serve(control_fd: int, grace: float) -> None:
    worker = Worker(grace)
    worker.start(socket.socket(fileno=control_fd))
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
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(serve(args.control_fd, args.grace))


if __name__ == "__main__":
    main()
