"""An authoritative DNS server on asyncio, over UDP and TCP, answering from a ZoneSet.

The zone data is asked for per query through ``zones()``, so that whoever owns the data
(the DNS process, which the daemon ships zones to) swaps it whole when it changes.

Its clients are tenants, so nothing they send may cost more than its answer:

- A datagram that is not a query (garbage, or a response: QR set) is dropped, with at most
  one debug line a minute (``Quiet``), never a traceback.
- TCP connections are held to ``TcpLimits``: an idle timeout (BIND's tcp-idle-timeout is
  30 s; 10 s here, as a stub resolver asks at once), at most ``per_client`` connections
  from one address and ``total`` in all. A connection over a cap is closed at once, so one
  tenant holding thousands of idle connections cannot take the DNS process's descriptors.
  The VPC resolvers share one ``TcpLimits``: the cap is on the process, not per VPC.
- UDP queries from one address are answered up to ``UDP_RATE`` a second (AWS's Route 53
  Resolver takes 1,024 packets per second per network interface and drops the rest); the
  rest are dropped unread, so that a flood costs the DNS process a receive and a count,
  not an answer.
- A UDP query the server answered before from the same zones is answered from
  ``Answers``, the earlier reply under the new query's id: a flood of one name (or a
  stub asking the same name over and over) costs a lookup in a dict, not a parse and a
  build with dnspython, and the neighbours' queries wait behind less.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode

from pocketlink.dns.zones import ZoneSet
from pocketlink.gateway.limits import Quiet, RateLimiter

log = logging.getLogger("pocketlink.dns")

UDP_RATE = 1024.0  # queries a second from one address (bursts of twice that)
ANSWERS = 4096  # replies a server keeps for queries asked again


@dataclass
class TcpLimits:
    """How many DNS-over-TCP connections may be open, from one client and in all. A client
    is an address as one server sees it (``(server, address)``): VPCs overlap."""

    idle_timeout: float = 10.0
    per_client: int = 16
    total: int = 512
    _open: dict[tuple[object, str], int] = field(default_factory=dict)
    _total: int = 0

    def admit(self, client: tuple[object, str]) -> bool:
        if self._open.get(client, 0) >= self.per_client or self._total >= self.total:
            return False
        self._open[client] = self._open.get(client, 0) + 1
        self._total += 1
        return True

    def release(self, client: tuple[object, str]) -> None:
        self._total -= 1
        left = self._open.get(client, 0) - 1
        if left > 0:
            self._open[client] = left
        else:
            self._open.pop(client, None)


def answer(zones: ZoneSet, wire: bytes, tcp: bool = False, recursive: bool = False,
           quiet: Quiet | None = None) -> bytes | None:
    """The response to one query in wire format, or None when it is not worth one. Over
    UDP an answer larger than the client takes is truncated (TC), so it asks again by TCP.

    A ``recursive`` server is a VPC resolver: it answers for everything (RA), and a name in
    no zone it knows does not exist, since there is no internet behind it."""
    quiet = quiet or Quiet(log)
    try:
        query = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError, UnicodeError) as refused:
        quiet.say(logging.DEBUG, "dropped a packet that is not DNS: %s", refused)
        return None
    if query.flags & dns.flags.QR:
        quiet.say(logging.DEBUG, "dropped a DNS response sent as a query")
        return None
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.RA
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        response.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY
                           else dns.rcode.FORMERR)
        return response.to_wire()
    question = query.question[0]
    try:
        result = zones.lookup(question.name, question.rdtype)
    except Exception as failed:  # a bug: SERVFAIL, and one line, not a flood
        quiet.say(logging.WARNING, "SERVFAIL for %s: %r", question.name, failed)
        response.set_rcode(dns.rcode.SERVFAIL)
        return response.to_wire()
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


class Answers:
    """Replies by their query's bytes after its id, for one ZoneSet: the reply depends on
    nothing else (the id is the first two bytes of both). Forgotten whole when the zones
    change or ``ANSWERS`` are kept."""

    def __init__(self) -> None:
        self._zones: ZoneSet | None = None
        self._replies: dict[bytes, bytes | None] = {}

    def reply(self, zones: ZoneSet, wire: bytes, build: Callable[[], bytes | None]
              ) -> bytes | None:
        if zones is not self._zones or len(self._replies) >= ANSWERS:
            self._zones, self._replies = zones, {}
        key = wire[2:]
        if len(wire) < 12 or zones.draws:  # a weighted answer is drawn again each query
            return build()
        if key not in self._replies:
            self._replies[key] = build()
        reply = self._replies[key]
        return None if reply is None else wire[:2] + reply[2:]


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr) -> None:
        server = self.server
        if not server.queries.allow(addr[0]):
            server.quiet.say(logging.DEBUG, "dropped DNS queries from %s: over %d a second",
                             addr[0], UDP_RATE)
            return
        zones = server.zones()
        reply = server.answers.reply(zones, data, lambda: answer(
            zones, data, recursive=server.recursive, quiet=server.quiet))
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        self.server.quiet.say(logging.DEBUG, "UDP error: %s", exc)


class DnsServer:
    """UDP and TCP listeners answering from one ZoneSet, on sockets the daemon bound (on
    loopback, or inside a VPC's namespace) and handed to the DNS process (child.py)."""

    def __init__(self, zones: Callable[[], ZoneSet], recursive: bool = False,
                 limits: TcpLimits | None = None) -> None:
        self.zones = zones
        self.recursive = recursive
        self.limits = limits or TcpLimits()
        self.queries = RateLimiter(UDP_RATE)  # per server: the same address in two VPCs
        self.quiet = Quiet(log)
        self.answers = Answers()
        self._udp: list[asyncio.DatagramTransport] = []
        self._tcp: list[asyncio.Server] = []

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = (self, peer[0] if isinstance(peer, tuple) else str(peer))
        if not self.limits.admit(client):
            writer.transport.abort()
            self.quiet.say(logging.DEBUG, "refused a DNS TCP connection from %s: over the "
                           "limit", client[1])
            return
        timeout = self.limits.idle_timeout
        try:
            while True:
                (length,) = struct.unpack(
                    "!H", await asyncio.wait_for(reader.readexactly(2), timeout))
                query = await asyncio.wait_for(reader.readexactly(length), timeout)
                reply = answer(self.zones(), query, tcp=True, recursive=self.recursive,
                               quiet=self.quiet)
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await asyncio.wait_for(writer.drain(), timeout)
        except (asyncio.IncompleteReadError, OSError):  # OSError: TimeoutError, resets
            pass
        finally:
            self.limits.release(client)
            writer.close()

    async def start_sockets(self, pairs: list[tuple[socket.socket, socket.socket]]) -> None:
        """Serve on bound (UDP, TCP) socket pairs; this server owns them from now on."""
        loop = asyncio.get_running_loop()
        for udp, tcp in pairs:
            udp.setblocking(False)
            tcp.setblocking(False)
            transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=udp)
            self._udp.append(transport)
            self._tcp.append(await asyncio.start_server(self._connection, sock=tcp))

    async def stop(self) -> None:
        for transport in self._udp:
            transport.close()
        for server in self._tcp:
            server.close()
            await server.wait_closed()
        self._udp, self._tcp = [], []
