"""The hyperplane: listeners on endpoint ENIs and NLB nodes, and the flows between them.

A flow: accept on an ENI address inside the consumer's VPC, choose a target by a hash of
the flow (a connection sticks to one target), connect from the NLB node's address inside
the provider's VPC, send the PROXY protocol v2 header first when the target group asks,
then carry bytes both ways until both sides are done (half-close kept) or the flow idles
past the listener's idle timeout (both sides then get a reset, as at AWS).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import zlib
from dataclasses import dataclass

from pocketlink.dataplane import ppv2
from pocketlink.dataplane.plan import Backend, ListenerSpec
from pocketlink.dataplane.sockets import NamespaceSockets

log = logging.getLogger("pocketlink.dataplane")

CONNECT_TIMEOUT = 10.0
CHUNK = 256 * 1024
BACKLOG = 4096


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
    server: asyncio.Server


class Hyperplane:
    def __init__(self) -> None:
        self.sockets = NamespaceSockets()
        self._listening: dict[tuple[str, str, int], _Listening] = {}
        self._flows: set[asyncio.Task] = set()

    def ready(self, owner: str, planned: dict[tuple[str, str, int], ListenerSpec]) -> bool:
        """Whether every listener the plan gives ``owner`` is bound."""
        return all(key in self._listening for key, spec in planned.items() if spec.owner == owner)

    async def sync(self, planned: dict[tuple[str, str, int], ListenerSpec]) -> None:
        for key in list(self._listening):
            if key not in planned:
                self._listening.pop(key).server.close()
        for key, spec in planned.items():
            current = self._listening.get(key)
            if current is not None:
                current.spec = spec  # new flows see the new backend; running ones keep theirs
                continue
            try:
                server = await self._listen(spec)
            except OSError as error:
                # An address the network pass has not put in place yet: the next pass binds.
                level = logging.DEBUG if error.errno == errno.EADDRNOTAVAIL else logging.WARNING
                log.log(level, "cannot listen on %s:%d in %s: %s", spec.address, spec.port,
                        spec.namespace, error)
                continue
            self._listening[key] = _Listening(spec, server)
        self.sockets.keep_only({k[0] for k in self._listening} |
                               {s.backend.namespace for s in planned.values()})

    async def _listen(self, spec: ListenerSpec) -> asyncio.Server:
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
        key = spec.key
        return await asyncio.start_server(
            lambda reader, writer: self._accept(key, reader, writer), sock=sock, limit=CHUNK)

    def _accept(self, key: tuple[str, str, int], reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter) -> None:
        listening = self._listening.get(key)
        if listening is None:
            writer.transport.abort()
            return
        task = asyncio.ensure_future(self._flow(listening.spec.backend, reader, writer))
        self._flows.add(task)
        task.add_done_callback(self._flows.discard)

    async def _connect(self, backend: Backend, target: tuple[str, int]
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        sock = await self.sockets.socket(backend.namespace, _family(target[0]))
        try:
            sock.setblocking(False)
            sock.bind((backend.source, 0))
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(loop.sock_connect(sock, target), CONNECT_TIMEOUT)
        except BaseException:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock, limit=CHUNK)

    async def _flow(self, backend: Backend, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> None:
        client = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        target = choose(backend.targets, client, local)
        if target is None:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await self._connect(backend, target)
        except (TimeoutError, OSError) as error:
            log.info("flow %s -> %s: %s", client[:2], target, error)
            writer.transport.abort()
            return
        if backend.proxy_protocol:
            up_writer.write(ppv2.encode(client[:2], local[:2], backend.endpoint_id))
        await _pump(reader, writer, up_reader, up_writer, backend.idle_timeout)

    async def close(self) -> None:
        for listening in self._listening.values():
            listening.server.close()
        self._listening.clear()
        for task in list(self._flows):
            task.cancel()
        self.sockets.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                activity: asyncio.Event) -> None:
    """One direction until EOF, then half-close the other side: the peer may still talk."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            activity.set()
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter,
                idle_timeout: float) -> None:
    activity = asyncio.Event()
    both = asyncio.gather(_copy(reader, up_writer, activity), _copy(up_reader, writer, activity))
    try:
        while not both.done():
            activity.clear()
            waiter = asyncio.ensure_future(activity.wait())
            await asyncio.wait({both, waiter}, timeout=idle_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not both.done() and not activity.is_set():
                # Idle past the timeout: the NLB forgets the flow; both ends get a reset.
                writer.transport.abort()
                up_writer.transport.abort()
                both.cancel()
                break
    finally:
        with contextlib.suppress(BaseException):
            await both
        for side in (writer, up_writer):
            side.close()
