"""A small HTTP/1.1 server on asyncio: httptools parses, the gateway answers.

AWS SDKs send one request at a time per connection with keep-alive; that is all this
serves. pocketlink's own handlers are quick and synchronous, so their requests are answered
inline on the loop; a request for the backend is answered when the backend has, and the
connection reads nothing more until then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from http import HTTPStatus

import httptools

from pocketlink.gateway.dispatch import Gateway
from pocketlink.wire.message import HttpRequest, HttpResponse

log = logging.getLogger("pocketlink.http")

MAX_BODY = 16 * 1024 * 1024


class HttpProtocol(asyncio.Protocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._pending: asyncio.Future[HttpResponse] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply(HttpResponse(400, b"upgrades are not supported\n"), keep_alive=False)
        except httptools.HttpParserError:
            self._reply(HttpResponse(400, b"malformed HTTP request\n"), keep_alive=False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        """boto3 asks before sending an S3 body over 1 MB and waits a second for the go."""
        if self._headers.get("expect", "").lower() == "100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= MAX_BODY:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._size > MAX_BODY:
            self._reply(HttpResponse(413, b"request body too large\n"), keep_alive=False)
            return
        url = httptools.parse_url(self._url)
        request = HttpRequest(
            method=self.parser.get_method().decode(),
            path=(url.path or b"/").decode("latin-1"),
            query=(url.query or b"").decode("latin-1"),
            headers=self._headers,
            body=b"".join(self._body),
        )
        keep_alive = self.parser.should_keep_alive()
        pending = self.gateway.forwarding(request)
        if pending is not None:
            self._reply_later(pending, keep_alive)
            return
        self._reply(self.gateway.handle(request), keep_alive=keep_alive)

    def _reply_later(self, pending: Awaitable[HttpResponse], keep_alive: bool) -> None:
        assert self.transport is not None
        self.transport.pause_reading()
        self._pending = asyncio.ensure_future(pending)

        def done(task: asyncio.Future[HttpResponse]) -> None:
            self._pending = None
            if task.cancelled():
                return
            self._reply(task.result(), keep_alive)
            if self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()

        self._pending.add_done_callback(done)

    def _reply(self, response: HttpResponse, keep_alive: bool) -> None:
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
        if not keep_alive:
            self.transport.close()


async def serve(gateway: Gateway, host: str, port: int) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: HttpProtocol(gateway), host, port, reuse_address=True)
