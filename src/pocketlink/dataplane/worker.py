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
    if not targets:
        return None
    key = f"{client[0]}|{client[1]}|{local[0]}|{local[1]}".encode()
    return targets[zlib.crc32(key) % len(targets)]


class _Listening:
    def __init__(self, spec: ListenerSpec, sock: socket.socket) -> None:
        self.spec, self.sock = spec, sock


class Worker:
    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.sockets = NamespaceSockets(UPSTREAM_BATCH)
        self.channel: Channel | None = None
        self.done = asyncio.Event()
        self._listening: dict[Key, _Listening] = {}
        self._connecting: set[asyncio.Task] = set()
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
                client, peer = listening.sock.accept()
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
            client.setblocking(False)
            spec = listening.spec  # bound to one address: the flow's local end is known
            task = asyncio.ensure_future(self._flow(spec.backend, client, peer[:2],
                                                    (spec.address, spec.port)))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    def _resume_accepting(self, key: Key, listening: _Listening) -> None:
        if self._listening.get(key) is listening:
            asyncio.get_running_loop().add_reader(listening.sock.fileno(), self._accept, key)

    async def _connect(self, backend: Backend, target: tuple[str, int]) -> socket.socket:
        sock = await self.sockets.socket(backend.namespace, family(target[0]))
        try:
            sock.setblocking(False)
            # The port is picked at connect, per destination: a node's address is not held
            # to one flow per ephemeral port across every target.
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((backend.source, 0))
            await _connected(sock, target, CONNECT_TIMEOUT)
        except BaseException:
            sock.close()
            raise
        return sock

    async def _flow(self, backend: Backend, client: socket.socket, peer: tuple[str, int],
                    local: tuple[str, int]) -> None:
        target = choose(backend.targets, peer, local)
        if target is None:
            _reset(client)
            return
        try:
            upstream = await self._connect(backend, target)
        except (OSError, TimeoutError) as error:
            log.info("flow %s -> %s: %s", peer, target, error)
            _reset(client)
            return
        except BaseException:  # cancelled (the worker stops): nothing stays open
            _reset(client)
            raise
        try:
            if backend.proxy_protocol:
                await asyncio.get_running_loop().sock_sendall(
                    upstream, ppv2.encode(peer, local, backend.endpoint_id))
        except BaseException as error:
            _reset(client)
            _reset(upstream)
            if isinstance(error, OSError):
                return
            raise
        self._flows.add(Flow(client, upstream, backend.idle_timeout, self._flows.discard,
                             self._pipes))

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
        for task in list(self._connecting):
            task.cancel()
        for flow in list(self._flows):
            flow.reset()
        if flows:
            log.info("data-plane worker %d: %d flows finished, %d reset", os.getpid(),
                     flows - left, left)
        if self._sweeper is not None:
            self._sweeper.cancel()
        await asyncio.sleep(0)  # the cancelled connects close their sockets
        self._pipes.close()
        self.sockets.close()
        if self.channel is not None:
            self.channel.close()
        self.done.set()


async def _connected(sock: socket.socket, address: tuple[str, int], timeout: float) -> None:
    """A non-blocking connect to a numeric address: no resolver on the way (the loop's own
    sock_connect may hand even a numeric address to a thread pool), and a timer rather
    than wait_for (which costs a task per connection)."""
    code = sock.connect_ex(address)
    if code == 0:
        return
    if code != errno.EINPROGRESS:
        raise OSError(code, os.strerror(code))
    loop = asyncio.get_running_loop()
    writable = loop.create_future()
    loop.add_writer(sock.fileno(), _settle, writable, None)
    timer = loop.call_later(timeout, _settle, writable, TimeoutError())
    try:
        await writable
    finally:
        timer.cancel()
        loop.remove_writer(sock.fileno())
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, os.strerror(code))


def _settle(future: asyncio.Future, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


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
