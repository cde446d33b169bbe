"""The control channel between the daemon and a data-plane worker: one unix SOCK_SEQPACKET
socketpair, one JSON message per packet, listening sockets passed along as descriptors
(SCM_RIGHTS).

A seqpacket socket keeps each message whole and in order, so "listen", "update" and
"close" for one listener arrive as they were sent, and a descriptor travels in the same
packet as the spec that says what it is for. End of file is the other side gone.

Messages, daemon to worker: ``listen`` (a ListenerSpec and its socket), ``update`` (a
ListenerSpec whose backend changed), ``close`` (a listener key), ``drain`` (stop accepting,
let flows finish for ``grace`` seconds, reset the rest, exit). Worker to daemon:
``listening`` (a listener key, once the worker accepts on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from pocketlink.dataplane.spec import Backend, ListenerSpec, TlsTermination

MAX_MESSAGE = 1 << 16
MAX_FDS = 4

Message = dict[str, Any]


def spec_message(spec: ListenerSpec) -> Message:
    backend = spec.backend
    return {"namespace": spec.namespace, "address": spec.address, "port": spec.port,
            "owner": spec.owner,
            "backend": {"namespace": backend.namespace, "source": backend.source,
                        "targets": [list(t) for t in backend.targets],
                        "proxy_protocol": backend.proxy_protocol,
                        "endpoint_id": backend.endpoint_id,
                        "idle_timeout": backend.idle_timeout,
                        "gateway_routes": [list(r) for r in backend.gateway_routes]},
            "tls": None if spec.tls is None else {
                "certificates": [list(c) for c in spec.tls.certificates],
                "ssl_policy": spec.tls.ssl_policy, "alpn": list(spec.tls.alpn),
                "reencrypt": spec.tls.reencrypt}}


def spec_from(message: Message) -> ListenerSpec:
    backend = message["backend"]
    tls = message.get("tls")
    return ListenerSpec(
        namespace=message["namespace"], address=message["address"], port=message["port"],
        owner=message["owner"],
        backend=Backend(namespace=backend["namespace"], source=backend["source"],
                        targets=tuple((a, p) for a, p in backend["targets"]),
                        proxy_protocol=backend["proxy_protocol"],
                        endpoint_id=backend["endpoint_id"],
                        idle_timeout=backend["idle_timeout"],
                        gateway_routes=tuple((c, e) for c, e in backend["gateway_routes"])),
        tls=None if tls is None else TlsTermination(
            certificates=tuple((chain, key) for chain, key in tls["certificates"]),
            ssl_policy=tls["ssl_policy"], alpn=tuple(tls["alpn"]),
            reencrypt=tls["reencrypt"]))


def pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class Channel:
    """One end, on the running loop: ``send`` queues (the descriptors are duplicated, so the
    caller may close its own at once); ``on_message(message, fds)`` hears each packet, the
    received descriptors then being the callee's; ``on_close`` hears end of file, once."""

    def __init__(self, sock: socket.socket, on_message: Callable[[Message, list[int]], None],
                 on_close: Callable[[], None]) -> None:
        self.sock = sock
        sock.setblocking(False)
        self.loop = asyncio.get_running_loop()
        self.on_message, self.on_close = on_message, on_close
        self._out: deque[tuple[bytes, list[int]]] = deque()
        self._writing = False
        self._drained: list[asyncio.Future] = []  # ``drained``'s callers
        self.closed = False
        self.loop.add_reader(sock.fileno(), self._readable)

    def send(self, message: Message, fds: list[int] | tuple[int, ...] = ()) -> None:
        if self.closed:
            return
        self._out.append((json.dumps(message).encode(), [os.dup(fd) for fd in fds]))
        self._flush()

    def _flush(self) -> None:
        while self._out:
            data, fds = self._out[0]
            try:
                socket.send_fds(self.sock, [data], fds)
            except BlockingIOError:
                if not self._writing:
                    self.loop.add_writer(self.sock.fileno(), self._flush)
                    self._writing = True
                return
            except OSError:
                self.close()  # the peer is gone: the reader hears it too
                return
            self._out.popleft()
            for fd in fds:
                os.close(fd)
        if self._writing:
            self.loop.remove_writer(self.sock.fileno())
            self._writing = False
        self._wake_drained()

    async def drained(self) -> None:
        """Returns once everything sent is in the kernel's queue to the peer (or the channel
        closed): what is still in ``_out`` moves only while this loop runs, which a caller
        about to block it (an import) must not leave behind."""
        if self._out and not self.closed:
            waiter = self.loop.create_future()
            self._drained.append(waiter)
            await waiter

    def _wake_drained(self) -> None:
        for waiter in self._drained:
            if not waiter.done():
                waiter.set_result(None)
        self._drained.clear()

    def _readable(self) -> None:
        while not self.closed:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, MAX_FDS)
            except BlockingIOError:
                return
            except OSError:
                data, fds = b"", []
            if not data:
                self.close()
                return
            self.on_message(json.loads(data), fds)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.sock.fileno())
        if self._writing:
            self.loop.remove_writer(self.sock.fileno())
        for _, fds in self._out:
            for fd in fds:
                os.close(fd)
        self._out.clear()
        self._wake_drained()
        with contextlib.suppress(OSError):
            self.sock.close()
        self.on_close()
