"""checkip.amazonaws.com, as AWS serves it: plain HTTP on port 80, any request answered with
the caller's public address and a newline. It lives in the internet namespace (served by
the daemon on a socket made there), so what it answers is the address a packet from a VPC
arrived with: an instance's public IP through an internet gateway, a NAT gateway's Elastic
IP through the NAT. The one way to see, from inside an instance, what the internet sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from pocketlink.dataplane.sockets import NamespaceSockets
from pocketlink.model.aws_services import CHECKIP_IPV4

log = logging.getLogger("pocketlink.checkip")

PORT = 80
HEAD_TIMEOUT = 10.0
MAX_HEAD = 16 * 1024


class CheckIp:
    def __init__(self, sockets: NamespaceSockets) -> None:
        self.sockets = sockets
        self.namespace: str | None = None
        self._server: asyncio.Server | None = None

    async def sync(self, namespace: str | None) -> None:
        """Serve in ``namespace`` (None: nowhere); a bind that fails (the namespace is not
        built yet) is tried again at the next call."""
        if namespace == self.namespace:
            return
        await self.close()
        if namespace is None:
            return
        sock = await self.sockets.socket(namespace, socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((CHECKIP_IPV4, PORT))
            sock.listen(128)
            sock.setblocking(False)
        except OSError as error:
            sock.close()
            log.debug("checkip cannot listen in %s yet: %s", namespace, error)
            return
        self._server = await asyncio.start_server(self._answer, sock=sock)
        self.namespace = namespace

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
            body = f"{writer.get_extra_info('peername')[0]}\n".encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=UTF-8\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.namespace = None
