"""The hyperplane: listeners on endpoint ENIs and NLB nodes, and the flows between them.

A flow: accept on an ENI address inside the consumer's VPC, choose a target by a hash of
the flow (a connection sticks to one target), connect from the NLB node's address inside
the provider's VPC, send the PROXY protocol v2 header first when the target group asks,
then hand both sockets to the splice pump (pump.py), which carries bytes both ways until
both sides are done (half-close kept) or the flow idles past the listener's idle timeout
(both sides then get a reset, as at AWS).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import struct
import time
import zlib
from dataclasses import dataclass

from pocketlink.dataplane import ppv2
from pocketlink.dataplane.plan import Backend, ListenerSpec
from pocketlink.dataplane.pump import Flow, Pipes
from pocketlink.dataplane.sockets import NamespaceSockets

log = logging.getLogger("pocketlink.dataplane")

CONNECT_TIMEOUT = 10.0
BACKLOG = 4096
ACCEPT_BATCH = 64
ACCEPT_PAUSE = 0.5
ONE_CONNECTION_ERRORS = (errno.ECONNABORTED, errno.EPROTO, errno.EPERM)
SWEEP_EVERY = 1.0


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def choose(targets: tuple[tuple[str, int], ...], client: tuple, local: tuple
           ) -> tuple[str, int] | None:
    """The flow's target: a hash of the 4-tuple, so a flow always lands on the same one."""
    if not targets:
        return None
    key = f"{client[0]}|{client[1]}|{local[0]}|{local[1]}".encode()
    return targets[zlib.crc32(key) % len(targets)]


@dataclass
class _Listening:
    spec: ListenerSpec
    sock: socket.socket


class Hyperplane:
    def __init__(self) -> None:
        self.sockets = NamespaceSockets()
        self._listening: dict[tuple[str, str, int], _Listening] = {}
        self._connecting: set[asyncio.Task] = set()
        self._flows: set[Flow] = set()
        self._pipes = Pipes()
        self._sweeper: asyncio.Task | None = None

    def ready(self, owner: str, planned: dict[tuple[str, str, int], ListenerSpec]) -> bool:
        """Whether every listener the plan gives ``owner`` is bound."""
        return all(key in self._listening for key, spec in planned.items() if spec.owner == owner)

    async def sync(self, planned: dict[tuple[str, str, int], ListenerSpec],
                   also_used: frozenset[str] | set[str] = frozenset()) -> None:
        """Listeners as planned; ``also_used``: namespaces others make sockets in (health
        checks), whose workers must stay."""
        loop = asyncio.get_running_loop()
        if self._sweeper is None:
            self._sweeper = asyncio.ensure_future(self._sweep())
        for key in list(self._listening):
            if key not in planned:
                self._stop_listening(loop, self._listening.pop(key))
        for key, spec in planned.items():
            current = self._listening.get(key)
            if current is not None:
                current.spec = spec  # new flows see the new backend; running ones keep theirs
                continue
            try:
                sock = await self._listen(spec)
            except OSError as error:
                # An address the network pass has not put in place yet: the next pass binds.
                level = logging.DEBUG if error.errno == errno.EADDRNOTAVAIL else logging.WARNING
                log.log(level, "cannot listen on %s:%d in %s: %s", spec.address, spec.port,
                        spec.namespace, error)
                continue
            self._listening[key] = _Listening(spec, sock)
            loop.add_reader(sock.fileno(), self._accept, key)
        self.sockets.keep_only(set(also_used) | {k[0] for k in self._listening} |
                               {s.backend.namespace for s in planned.values()})

    @staticmethod
    def _stop_listening(loop: asyncio.AbstractEventLoop, listening: _Listening) -> None:
        loop.remove_reader(listening.sock.fileno())
        listening.sock.close()

    async def _listen(self, spec: ListenerSpec) -> socket.socket:
        sock = await self.sockets.socket(spec.namespace, _family(spec.address))
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if sock.family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((spec.address, spec.port))
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

    def _accept(self, key: tuple[str, str, int]) -> None:
        listening = self._listening.get(key)
        if listening is None:
            return
        for _ in range(ACCEPT_BATCH):
            try:
                client, _ = listening.sock.accept()
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
            task = asyncio.ensure_future(self._flow(listening.spec.backend, client))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    def _resume_accepting(self, key: tuple[str, str, int], listening: _Listening) -> None:
        if self._listening.get(key) is listening:
            asyncio.get_running_loop().add_reader(listening.sock.fileno(), self._accept, key)

    async def _connect(self, backend: Backend, target: tuple[str, int]) -> socket.socket:
        sock = await self.sockets.socket(backend.namespace, _family(target[0]))
        try:
            sock.setblocking(False)
            sock.bind((backend.source, 0))
            await asyncio.wait_for(_connected(sock, target), CONNECT_TIMEOUT)
        except BaseException:
            sock.close()
            raise
        return sock

    async def _flow(self, backend: Backend, client: socket.socket) -> None:
        try:
            peer, local = client.getpeername(), client.getsockname()
        except OSError:
            client.close()
            return
        target = choose(backend.targets, peer, local)
        if target is None:
            _reset(client)
            return
        try:
            upstream = await self._connect(backend, target)
        except (OSError, TimeoutError) as error:
            log.info("flow %s -> %s: %s", peer[:2], target, error)
            _reset(client)
            return
        except BaseException:  # cancelled (the daemon stops): nothing stays open
            client.close()
            raise
        try:
            if backend.proxy_protocol:
                await asyncio.get_running_loop().sock_sendall(
                    upstream, ppv2.encode(peer[:2], local[:2], backend.endpoint_id))
        except BaseException as error:
            _reset(client)
            upstream.close()
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

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for listening in self._listening.values():
            self._stop_listening(loop, listening)
        self._listening.clear()
        for task in list(self._connecting):
            task.cancel()
        for flow in list(self._flows):
            flow.reset()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._pipes.close()
        self.sockets.close()


async def _connected(sock: socket.socket, address: tuple[str, int]) -> None:
    """A non-blocking connect to a numeric address: no resolver on the way (the loop's own
    sock_connect may hand even a numeric address to a thread pool)."""
    code = sock.connect_ex(address)
    if code == 0:
        return
    if code != errno.EINPROGRESS:
        raise OSError(code, os.strerror(code))
    loop = asyncio.get_running_loop()
    writable = loop.create_future()
    loop.add_writer(sock.fileno(), lambda: writable.done() or writable.set_result(None))
    try:
        await writable
    finally:
        loop.remove_writer(sock.fileno())
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, os.strerror(code))


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
