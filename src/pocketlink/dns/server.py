"""An authoritative DNS server on asyncio, over UDP and TCP, answering from a ZoneSet.

The zone data is asked for per query through ``zones()``, so that whoever owns the data
(the store) decides when it is rebuilt; the server keeps no copy of its own.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable

import dns.flags
import dns.message
import dns.opcode
import dns.rcode

from pocketlink.dns.zones import ZoneSet

log = logging.getLogger("pocketlink.dns")


def answer(zones: ZoneSet, wire: bytes, tcp: bool = False) -> bytes | None:
    """The response to one query in wire format, or None when it is not worth one. Over
    UDP an answer larger than the client takes is truncated (TC), so it asks again by TCP."""
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
    def __init__(self, zones: Callable[[], ZoneSet]) -> None:
        self.zones = zones
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr) -> None:
        reply = answer(self.zones(), data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _tcp(zones: Callable[[], ZoneSet], reader: asyncio.StreamReader,
               writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            query = await reader.readexactly(length)
            reply = answer(zones(), query, tcp=True)
            if reply is None:
                break
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


class DnsServer:
    """One UDP and one TCP listener on the same address and port."""

    def __init__(self, zones: Callable[[], ZoneSet]) -> None:
        self.zones = zones
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(self.zones), local_addr=(host, port))
        self._tcp = await asyncio.start_server(
            lambda r, w: _tcp(self.zones, r, w), host, port, reuse_address=True)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
