"""The service front process: TLS in, the daemon's gateway out.

``python -m pocketlink.services.front_main LISTEN_FD GATEWAY_SOCKET CA_FOLDER PARENT_PID``,
started by services/front.py, which owns the listening socket (loopback, a port of its
choosing) so that the port, and the connections queued on it, outlive this process.

Every connection comes from the hyperplane (an interface endpoint's listener) and starts
with the PROXY protocol v2 header it writes: who connected, to which ENI address, through
which endpoint (AWS's TLV 0xEA). Exactly that header is read (not a byte of the TLS
ClientHello behind it), then TLS is terminated (TLS 1.2+, ALPN http/1.1) with a
certificate from pocketlink's CA for the name the client asked for (SNI), issued on first
use. The connection is then relayed, both ways, to a connection of its own on the
gateway's front socket (0600, the daemon's), which starts with the same header: that is
how the gateway learns the request's network path, and the only place it believes one.
The gateway parses the requests, keeps their limits and timeouts, answers errors in AWS's
format and decides keep-alive; the front moves bytes as they come (a 20 MB upload is not
held here) and closes each side when the other closes.

When the gateway cannot be reached (the daemon is stopping), the client gets a 503
ServiceUnavailable in the format of the service its server name names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import ssl
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

from pocketlink.dataplane import ppv2
from pocketlink.dataplane.relay import RelaySide
from pocketlink.private_files import write_private
from pocketlink.services.backend import error_response
from pocketlink.services.backend_main import die_with
from pocketlink.services.ca import CertificateAuthority
from pocketlink.wire.errors import ServiceError

log = logging.getLogger("pocketlink.front")

HEADER_TIMEOUT = 10.0  # the hyperplane writes the header as it connects
HANDSHAKE_TIMEOUT = 10.0
MAX_CONTEXTS = 1024  # TLS contexts kept, one per certificate name
DEFAULT_NAME = "amazonaws.com"  # the certificate of a client that names no server
# The first label of these names is a bucket (or an account, for ECR's registry): one
# wildcard certificate serves them all, as AWS's does, unless the bucket has dots.
_WILDCARD_PARENTS = re.compile(r"^(s3[.-]|bucket\.vpce-|dkr\.ecr\.)")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def certificate_name(server_name: str) -> str:
    """The name the certificate for ``server_name`` is issued to."""
    name = server_name.lower().rstrip(".")
    first, _, rest = name.partition(".")
    if rest and _WILDCARD_PARENTS.match(rest) and first != "*":
        return f"*.{rest}"
    return name


def service_of(server_name: str) -> str:
    """The service a server name is for, by AWS's naming (``ssm.us-west-2.amazonaws.com``,
    ``vpce-...-x.ssm.us-west-2.vpce.amazonaws.com``, ``bucket.s3.us-west-2...``)."""
    labels = server_name.lower().split(".")
    if "s3" in labels or any(label.startswith("s3-") for label in labels):
        return "s3"
    for index, label in enumerate(labels[1:], start=1):
        if _REGION.match(label):
            return labels[index - 1]
    return labels[0]


class Certificates:
    """TLS server contexts, one per certificate name, made on first use from the CA."""

    def __init__(self, ca: CertificateAuthority) -> None:
        self.ca = ca
        self._scratch = Path(tempfile.mkdtemp(prefix="pocketlink-front-"))  # 0700
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        self.server = self.context(DEFAULT_NAME)
        self.server.sni_callback = self._choose

    def context(self, name: str) -> ssl.SSLContext:
        context = self._contexts.get(name)
        if context is not None:
            self._contexts.move_to_end(name)
            return context
        chain, key = self.ca.issue(name)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        # ssl loads a certificate from files only: written, loaded and gone at once, in a
        # folder only this process's user may read.
        chain_path, key_path = self._scratch / "chain.pem", self._scratch / "key.pem"
        try:
            chain_path.write_bytes(chain)
            write_private(key_path, key)
            context.load_cert_chain(chain_path, key_path)
        finally:
            chain_path.unlink(missing_ok=True)
            key_path.unlink(missing_ok=True)
        self._contexts[name] = context
        if len(self._contexts) > MAX_CONTEXTS:
            self._contexts.popitem(last=False)
        return context

    def name_of(self, context: ssl.SSLContext) -> str:
        """The certificate name a connection's context serves (SNI chose it)."""
        return next((n for n, c in self._contexts.items() if c is context), DEFAULT_NAME)

    def _choose(self, connection: ssl.SSLObject, server_name: str | None,
                _: ssl.SSLContext) -> None:
        if not server_name:
            return  # the default certificate
        try:
            connection.context = self.context(certificate_name(server_name))
        except ValueError as error:  # the default certificate, which the client refuses
            log.info("front: no certificate for %s: %s", server_name, error)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._scratch.rmdir()


class Front:
    def __init__(self, listening: socket.socket, gateway: str,
                 certificates: Certificates) -> None:
        self.listening = listening
        self.gateway = gateway
        self.certificates = certificates
        self._connections: set[asyncio.Task] = set()

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            connection, _ = await loop.sock_accept(self.listening)
            # An answer's head and body are two writes: without this, the body would wait
            # for the hyperplane's delayed ACK of the head (40 ms a request).
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = asyncio.ensure_future(self._serve(connection))
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def _serve(self, connection: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            header = await asyncio.wait_for(_read_header(loop, connection), HEADER_TIMEOUT)
        except (ValueError, OSError, TimeoutError) as error:
            log.info("front: a connection without a PROXY protocol v2 header (%s): closed",
                     error or type(error).__name__)
            connection.close()
            return
        client = RelaySide()
        try:
            await loop.connect_accepted_socket(
                lambda: client, connection, ssl=self.certificates.server,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as error:
            log.debug("front: TLS handshake failed: %s", error)
            connection.close()
            return
        upstream = RelaySide()
        try:
            await loop.create_unix_connection(lambda: upstream, self.gateway)
        except OSError as error:
            self._unavailable(client, error)
            return
        assert upstream.transport is not None and client.transport is not None
        upstream.transport.write(header)
        upstream.link(client)
        client.link(upstream)
        if client.lost.done():  # the client left while the gateway was being reached
            upstream.transport.close()
        await asyncio.gather(client.lost, upstream.lost)

    def _unavailable(self, client: RelaySide, error: OSError) -> None:
        assert client.transport is not None
        service = service_of(self.certificates.name_of(
            client.transport.get_extra_info("ssl_object").context))
        log.warning("front: the gateway cannot be reached (%s): %s answered 503", error,
                    service)
        answer = error_response(service, ServiceError(
            f"{service} is not available (pocketlink is starting or stopping); try again",
            code="ServiceUnavailable", status=503))
        head = [f"HTTP/1.1 {answer.status} Service Unavailable",
                *(f"{k}: {v}" for k, v in answer.headers.items()),
                f"Content-Length: {len(answer.body)}", "Connection: close"]
        client.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer.body)
        client.transport.close()


async def _read_header(loop: asyncio.AbstractEventLoop, connection: socket.socket) -> bytes:
    """Exactly the PROXY protocol v2 header, checked, as it came."""
    data = await _read(loop, connection, ppv2.FIXED)
    data += await _read(loop, connection, ppv2.size(data) - len(data))
    decoded = ppv2.decode(data)
    assert decoded is not None  # the whole header was read
    if decoded[0].source is None:
        raise ValueError("the header names no client (a LOCAL header)")
    return data


async def _read(loop: asyncio.AbstractEventLoop, connection: socket.socket, count: int
                ) -> bytes:
    data = b""
    while len(data) < count:
        more = await loop.sock_recv(connection, count - len(data))
        if not more:
            raise ValueError("the connection closed inside the header")
        data += more
    return data


def _quiet_handshakes(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """A client that gives up a TLS handshake is its own business, not the log's."""
    if isinstance(context.get("exception"), (ssl.SSLError, ConnectionError, TimeoutError)):
        log.debug("front: %s", context.get("message"))
        return
    loop.default_exception_handler(context)


async def serve(listening: socket.socket, gateway: str, ca_folder: Path) -> None:
    certificates = Certificates(CertificateAuthority(ca_folder))
    asyncio.get_running_loop().set_exception_handler(_quiet_handshakes)
    listening.setblocking(False)
    front = Front(listening, gateway, certificates)
    print('{"ready": true}', flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads the pipe any more
    try:
        await front.serve()
    finally:
        certificates.close()


def main(argv: list[str]) -> None:
    fd, gateway, ca_folder, parent = int(argv[0]), argv[1], Path(argv[2]), int(argv[3])
    die_with(parent)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    listening = socket.socket(fileno=fd)
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(serve(listening, gateway, ca_folder))


if __name__ == "__main__":
    main(sys.argv[1:])
