"""An authoritative DNS server on asyncio, over UDP and TCP, answering from a ZoneSet.

The zone data is asked for per query through ``zones()``, so that whoever owns the data
(the store) decides when it is rebuilt; the server keeps no copy of its own.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable

import dns.flags
import dns.message
import dns.opcode
import dns.rcode

from pocketlink.dns.zones import ZoneSet

log = logging.getLogger("pocketlink.dns")


def answer(zones: ZoneSet, wire: bytes, tcp: bool = False, recursive: bool = False
           ) -> bytes | None:
    """The response to one query in wire format, or None when it is not worth one. Over
    UDP an answer larger than the client takes is truncated (TC), so it asks again by TCP.

    A ``recursive`` server is a VPC resolver: it answers for everything (RA), and a name in
    no zone it knows does not exist, since there is no internet behind it."""
    try:
        query = dns.message.from_wire(wire)
    except Exception:
        return None
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.RA
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        response.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY
                           else dns.rcode.FORMERR)
        return response.to_wire()
    question = query.question[0]
    result = zones.lookup(question.name, question.rdtype)
    if recursive:
        response.flags |= dns.flags.RA
        response.set_rcode(dns.rcode.NXDOMAIN if result.rcode == dns.rcode.REFUSED
                           else result.rcode)
    else:
        response.set_rcode(result.rcode)
        if result.authoritative:
            response.flags |= dns.flags.AA
    response.answer = result.answer
    response.authority = result.authority
    wire = response.to_wire()
    limit = 65535 if tcp else (max(512, query.payload) if query.edns >= 0 else 512)
    if len(wire) > limit:
        response.answer, response.authority = [], []
        response.flags |= dns.flags.TC
        wire = response.to_wire()
    return wire


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, zones: Callable[[], ZoneSet], recursive: bool) -> None:
        self.zones = zones
        self.recursive = recursive
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr) -> None:
        reply = answer(self.zones(), data, recursive=self.recursive)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _tcp(zones: Callable[[], ZoneSet], recursive: bool, reader: asyncio.StreamReader,
               writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            query = await reader.readexactly(length)
            reply = answer(zones(), query, tcp=True, recursive=recursive)
            if reply is None:
                break
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


class DnsServer:
    """UDP and TCP listeners answering from one ZoneSet, on an address it binds itself or on
    sockets made elsewhere (inside a VPC's namespace)."""

    def __init__(self, zones: Callable[[], ZoneSet], recursive: bool = False) -> None:
        self.zones = zones
        self.recursive = recursive
        self._udp: list[asyncio.DatagramTransport] = []
        self._tcp: list[asyncio.Server] = []

    async def start(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            udp.bind((host, port))
            tcp.bind((host, port))
        except OSError:
            udp.close()
            tcp.close()
            raise
        await self.start_sockets([(udp, tcp)])

    async def start_sockets(self, pairs: list[tuple[socket.socket, socket.socket]]) -> None:
        """Serve on bound (UDP, TCP) socket pairs; this server owns them from now on."""
        loop = asyncio.get_running_loop()
        for udp, tcp in pairs:
            udp.setblocking(False)
            tcp.setblocking(False)
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self.zones, self.recursive), sock=udp)
            self._udp.append(transport)
            self._tcp.append(await asyncio.start_server(
                lambda r, w: _tcp(self.zones, self.recursive, r, w), sock=tcp))

    async def stop(self) -> None:
        for transport in self._udp:
            transport.close()
        for server in self._tcp:
            server.close()
            await server.wait_closed()
        self._udp, self._tcp = [], []
