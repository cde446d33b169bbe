"""A small HTTP/1.1 server on asyncio: httptools parses, a front (the AWS gateway, or the
daemon's control) answers.

AWS SDKs send one request at a time per connection with keep-alive. A front answers a
request inline, or later (the backend's requests; every API request once it waits its
turn, gateway/fair.py): the connection then reads nothing more until the answer is out,
and requests a client pipelined behind it are answered after it, in order.

Nothing a client sends can make it hold more than its limits: the request line and headers
together are cut off at ``MAX_HEAD`` bytes (431), a body larger than the front allows is
refused from its Content-Length before a byte of it is kept (413), a connection idle
between requests closes after ``KEEP_ALIVE_TIMEOUT`` (as uvicorn's 5 s), and a request
must arrive whole within ``REQUEST_TIMEOUT``, and a connection whose answer says
``hold_off`` (a client throttled for its rate) is not read for that long. Every such
refusal is an error in AWS's format, from the front, and at most one log line a minute.
A server made with a ``cap`` (the API's: the host's port and the service front's socket
share one, gateway/limits.py) closes a connection beyond it as soon as it is accepted,
unanswered: answering would mean waiting for the request, holding the descriptor the cap
is there to keep (docs/security-tenants.md). The control socket has no cap.
``HttpServer.close`` stops accepting, lets a request under way finish within a grace
period, and closes the idle connections.

A server made with ``paths`` serves the service front's socket (services/front.py): each
of its connections starts with the PROXY protocol v2 header the hyperplane wrote, which
``paths`` turns into the ``NetworkPath`` handed with every request of that connection; a
connection that does not start with one is closed unanswered. No other server reads a
path from anything a client sends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Protocol

import httptools

from pocketlink.dataplane import ppv2
from pocketlink.gateway.limits import ConnectionCap, Quiet
from pocketlink.gateway.paths import NetworkPath
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest, HttpResponse
from pocketlink.wire.numbers import integer

log = logging.getLogger("pocketlink.http")
REFUSALS = Quiet(log)  # an attacker's oversized requests: one line a minute, not each
OVER_CAP = Quiet(log)  # connections beyond the cap: the same

# The request line and every header, together. AWS publishes no figure for its APIs
# (S3 caps its headers at 8 KiB of metadata; CloudFront takes 20 KiB of headers); 16 KiB
# is what Node.js and many front ends allow, and far above what an SDK sends.
MAX_HEAD = 16 * 1024
KEEP_ALIVE_TIMEOUT = 5.0
REQUEST_TIMEOUT = 30.0
# After a refusal the rest of what the client sends is read and dropped for a moment
# before the close (nginx's lingering close): closing with unread bytes would reset the
# connection, and the client would lose the error it is owed.
LINGER_SECONDS = 1.0
LINGER_BYTES = 4 * 1024 * 1024
SHUTDOWN_GRACE = 2.0
MAX_PREAMBLE = 1024  # the hyperplane's PROXY header is 100 bytes (dataplane/ppv2.py)

Paths = Callable[[ppv2.ProxyHeader], NetworkPath]
# Headers whose repeated lines are one comma-separated list (RFC 9110 5.3): a registry
# client (skopeo, podman) sends each media type it accepts on an ``Accept`` line of its own.
_LISTS = frozenset({"accept"})


class Front(Protocol):
    """What answers requests: the AWS API (``Gateway``) or the daemon's control."""

    def handle(self, request: HttpRequest, peer: str, path: NetworkPath | None = None
               ) -> HttpResponse: ...

    def forwarding(self, request: HttpRequest, peer: str, path: NetworkPath | None = None
                   ) -> Awaitable[HttpResponse] | None:
        """The answer to come from elsewhere (the backend), or None: ``handle`` answers."""

    def refuse(self, request: HttpRequest | None, error: ServiceError) -> HttpResponse: ...

    def body_limit(self, request: HttpRequest) -> int: ...


# HTTP-level errors, with the codes of AWS's common errors where it has one.
class MalformedHttpRequest(ServiceError):
    code = "MalformedHttpRequestException"

    def __init__(self, why: str) -> None:
        super().__init__(f"Problems with the request at the HTTP level: {why}.")


class RequestEntityTooLarge(ServiceError):
    code = "RequestEntityTooLargeException"
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"Problems with the request at the HTTP level. The request entity is "
                         f"too large: at most {limit} bytes are accepted.")


class RequestHeaderSectionTooLarge(ServiceError):
    code = "RequestHeaderSectionTooLarge"  # S3's name for it; the status is HTTP's
    status = 431

    def __init__(self) -> None:
        super().__init__(f"Your request header section exceeds the maximum allowed size "
                         f"({MAX_HEAD} bytes, request line included).")


class Connections:
    """The open connections of a server, so that shutdown can close them."""

    def __init__(self) -> None:
        self.open: set[HttpProtocol] = set()
        self._none = asyncio.Event()
        self._none.set()

    def add(self, connection: HttpProtocol) -> None:
        self.open.add(connection)
        self._none.clear()

    def discard(self, connection: HttpProtocol) -> None:
        self.open.discard(connection)
        if not self.open:
            self._none.set()

    async def close(self, grace: float) -> None:
        for connection in list(self.open):
            connection.shutdown()
        try:
            await asyncio.wait_for(self._none.wait(), grace)
        except TimeoutError:
            for connection in list(self.open):
                connection.abort()


class HttpProtocol(asyncio.Protocol):
    def __init__(self, front: Front, connections: Connections, paths: Paths | None = None,
                 cap: ConnectionCap | None = None) -> None:
        # shared
        self.front = front
        self.connections = connections
        self.paths = paths
        self.cap = cap
        # per connection
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.path: NetworkPath | None = None  # from the service front's header (``paths``)
        self._preamble: bytes | None = b"" if paths is not None else None
        self._counted = False  # holds one of the cap's places
        self._timer: asyncio.TimerHandle | None = None
        self._held: asyncio.TimerHandle | None = None  # not read until then (throttled)
        self._closing = False  # shutdown asked: close once the request under way is answered
        self._in_head = True  # reading a request line and headers (or waiting for one)
        self._head_size = 0
        # per request
        self._busy = False
        self._refused = False
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._limit = 0
        self._pending: asyncio.Future[HttpResponse] | None = None
        # pipelined behind the request whose answer is to come: answered in order, after it
        self._waiting: deque[tuple[HttpRequest, bool]] = deque()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if isinstance(peer, tuple) else "local"
        if self.cap is not None:
            if not self.cap.take():
                OVER_CAP.say(logging.WARNING, "closed an API connection from %s unread: %d "
                             "are open, the cap (the other descriptors are kept for the rest "
                             "of the daemon)", self.peer, self.cap.limit)
                transport.close()
                return
            self._counted = True
        self.connections.add(self)
        self._arm(KEEP_ALIVE_TIMEOUT)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self._counted:
            self._counted = False
            assert self.cap is not None
            self.cap.give()
        for timer in (self._timer, self._held):
            if timer is not None:
                timer.cancel()
        if self._pending is not None:
            self._pending.cancel()
        self._waiting.clear()
        self._body = []

    def data_received(self, data: bytes) -> None:
        if self._preamble is not None:
            data = self._read_preamble(data)
            if not data:
                return
        if self._refused:  # lingering: dropped, never kept
            self._size += len(data)
            if self._size > LINGER_BYTES and self.transport is not None:
                self.transport.close()
            return
        try:
            while data and not self._refused:
                if not self._in_head:
                    self.parser.feed_data(data)
                    return
                # The head is fed no further than its limit, so an endless header costs
                # MAX_HEAD bytes, not what the client sends.
                room = MAX_HEAD - self._head_size
                part, data = data[:room], data[room:]
                self._head_size += len(part)
                self.parser.feed_data(part)
                if self._in_head and self._head_size >= MAX_HEAD:
                    self._refuse(None, RequestHeaderSectionTooLarge())
        except httptools.HttpParserUpgrade:
            # The request is answered as plain HTTP (the Upgrade header ignored, as HTTP
            # allows); what follows it would be another protocol.
            if self._pending is not None:
                self._closing = True  # closed once its answer is out
            elif self.transport is not None:
                self.transport.close()
        except httptools.HttpParserError as error:
            self._refuse(None, MalformedHttpRequest(str(error) or "malformed request"))

    def _read_preamble(self, data: bytes) -> bytes:
        """The service front's PROXY header, then what follows it; b"" until it is whole.
        A connection that does not start with one is closed: no request on it is served."""
        assert self._preamble is not None and self.paths is not None
        self._preamble += data
        try:
            decoded = ppv2.decode(self._preamble)
            if decoded is None and len(self._preamble) > MAX_PREAMBLE:
                raise ValueError(f"no header within {MAX_PREAMBLE} bytes")
            if decoded is not None and decoded[0].source is None:
                raise ValueError("the header names no client")
        except ValueError as error:
            log.warning("closed a front connection without a PROXY header: %s", error)
            self._preamble = None
            if self.transport is not None:
                self.transport.abort()
            return b""
        if decoded is None:
            return b""
        header, size = decoded
        rest, self._preamble = self._preamble[size:], None
        self.path = self.paths(header)
        self.peer = self.path.source_ip
        return rest

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._busy = True
        self._url = b""
        self._headers = {}
        self._body = []
        self._size = 0
        self._arm(REQUEST_TIMEOUT)

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        if key in _LISTS and key in self._headers:  # one line per value, as Go clients send
            text = f"{self._headers[key]}, {text}"
        self._headers[key] = text

    def on_headers_complete(self) -> None:
        self._in_head = False
        head = self._request(b"")
        self._limit = self.front.body_limit(head)
        declared = integer(self._headers.get("content-length", "0"))
        if declared is not None and declared > self._limit:
            self._refuse(head, RequestEntityTooLarge(self._limit))
        elif self._headers.get("expect", "").lower() == "100-continue" and self.transport:
            # boto3 asks before sending an S3 body over 1 MB, and waits a second for the go.
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._size += len(body)
        if self._size > self._limit:  # a chunked body, with no length said up front
            self._refuse(self._request(b""), RequestEntityTooLarge(self._limit))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._in_head = True
        self._head_size = 0
        request = self._request(b"".join(self._body))
        self._body = []
        keep_alive = self.parser.should_keep_alive()
        if self._pending is not None or self._waiting:
            self._waiting.append((request, keep_alive))
            return
        self._dispatch(request, keep_alive)

    def _dispatch(self, request: HttpRequest, keep_alive: bool) -> None:
        pending = self.front.forwarding(request, self.peer, self.path)
        if pending is not None:
            self._reply_later(pending, keep_alive)
            return
        self._busy = bool(self._waiting)
        response = self.front.handle(request, self.peer, self.path)
        self._reply(response, keep_alive=keep_alive and not self._closing)
        self._next()  # a pipelined request answered at once may be the last one waiting

    def _reply_later(self, pending: Awaitable[HttpResponse], keep_alive: bool) -> None:
        """Busy (shutdown waits for it) and not reading until the answer is written. Timed
        as a request under way, not as an idle connection: it may have begun (pipelined)
        before an answer that armed the keep-alive timeout."""
        assert self.transport is not None
        self._arm(REQUEST_TIMEOUT)
        self.transport.pause_reading()
        self._pending = asyncio.ensure_future(pending)

        def done(task: asyncio.Future[HttpResponse]) -> None:
            self._pending = None
            self._busy = bool(self._waiting)
            if task.cancelled():
                return
            self._reply(task.result(), keep_alive=keep_alive and not self._closing)
            self._next()

        self._pending.add_done_callback(done)

    # the server's side
    def shutdown(self) -> None:
        """Close now if idle, else once the request under way is answered."""
        self._closing = True
        if not self._busy and self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _request(self, body: bytes) -> HttpRequest:
        url = httptools.parse_url(self._url or b"/")
        return HttpRequest(
            method=self.parser.get_method().decode(),
            path=(url.path or b"/").decode("latin-1"),
            query=(url.query or b"").decode("latin-1"),
            headers=self._headers,
            body=body,
        )

    def _refuse(self, request: HttpRequest | None, error: ServiceError) -> None:
        """An HTTP-level error, then the connection closes: what follows cannot be framed."""
        self._refused = True
        self._busy = False
        self._body = []
        self._size = 0
        REFUSALS.say(logging.INFO, "refused a request from %s: %s", self.peer, error.code)
        self._reply(self.front.refuse(request, error), keep_alive=False, linger=True)

    def _reply(self, response: HttpResponse, keep_alive: bool, linger: bool = False) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        reason = HTTPStatus(response.status).phrase
        head = [f"HTTP/1.1 {response.status} {reason}"]
        headers = {"Content-Type": "text/plain", **response.headers}
        headers.setdefault("Content-Length", str(len(response.body)))  # a HEAD's is given
        headers["Connection"] = "keep-alive" if keep_alive else "close"
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.transport.writelines([("\r\n".join(head) + "\r\n\r\n").encode("latin-1"),
                                   response.body])  # a body of megabytes is not copied
        if keep_alive:
            self._arm(KEEP_ALIVE_TIMEOUT)
            if response.hold_off:
                self._hold(response.hold_off)
        elif linger and self.transport.can_write_eof():
            self.transport.write_eof()
            self._arm(LINGER_SECONDS)
        else:
            self.transport.close()

    def _hold(self, seconds: float) -> None:
        """Not read for ``seconds``: what a throttled client sends next waits in its socket,
        costing the daemon nothing, rather than being parsed and refused again."""
        assert self.transport is not None
        if self._held is not None:
            self._held.cancel()
        self.transport.pause_reading()
        self._held = asyncio.get_running_loop().call_later(seconds, self._release)

    def _release(self) -> None:
        self._held = None
        if self._pending is None:
            self._next()

    def _next(self) -> None:
        """The next pipelined request (those already read are answered, even to a client
        held off: only what it sends next waits), or, with none, reading again."""
        if self.transport is None or self.transport.is_closing():
            self._waiting.clear()
        elif self._waiting:
            self._dispatch(*self._waiting.popleft())
        elif self._held is None:
            self.transport.resume_reading()

    def _arm(self, seconds: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expire)

    def _expire(self) -> None:
        """Idle too long between requests, or a request too slow to arrive: closed without
        an answer, as uvicorn does."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class HttpServer:
    """One front, on a TCP port or a unix socket, with its connections."""

    def __init__(self, front: Front, paths: Paths | None = None,
                 cap: ConnectionCap | None = None) -> None:
        self.front = front
        self.paths = paths  # the service front's socket: each connection states its path
        self.cap = cap
        self.connections = Connections()
        self._servers: list[asyncio.Server] = []

    def _protocol(self) -> HttpProtocol:
        return HttpProtocol(self.front, self.connections, self.paths, self.cap)

    async def listen_tcp(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._servers.append(
            await loop.create_server(self._protocol, host, port, reuse_address=True))

    async def listen_unix(self, path: Path) -> None:
        """A socket only this user can connect to (0600), made so from its first moment."""
        path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)
        try:
            sock.bind(str(path))
        finally:
            os.umask(previous)
        os.chmod(path, 0o600)
        loop = asyncio.get_running_loop()
        self._servers.append(await loop.create_unix_server(self._protocol, sock=sock))

    async def close(self, grace: float = SHUTDOWN_GRACE) -> None:
        for server in self._servers:
            server.close()
        await self.connections.close(grace)
        for server in self._servers:
            await server.wait_closed()
