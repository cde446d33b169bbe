"""The instance metadata service: HTTP on 169.254.169.254:80 and [fd00:ec2::254]:80 of
every VPC router, answering each instance about itself.

Like AmazonProvidedDNS, it listens on sockets made inside the VPC's router namespace
(addresses on the router's loopback, reached through the subnet's gateway); the caller is
the instance whose address the connection comes from, in that VPC. Anything else (an
endpoint's or a load balancer's address, no instance at all) gets its connection reset.

IMDSv1 and IMDSv2 as AWS
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html):
``PUT /latest/api/token`` with ``X-aws-ec2-metadata-token-ttl-seconds`` (1-21600) gives a
token whose answer leaves with the instance's ``HttpPutResponseHopLimit`` as its IP TTL;
a GET with an invalid or expired token is 401; without one, 401 when ``HttpTokens`` is
``required``; a PUT with ``X-Forwarded-For`` is 403; ``HttpEndpoint`` disabled is 403
for everything; ``HttpProtocolIpv6`` disabled, the IPv6 address answers nothing.

Bounded: heads of at most ``MAX_HEAD`` bytes, small bodies, idle connections closed,
``MAX_CONNECTIONS`` per source and ``RATE`` requests a second per source (429 beyond:
pocketlink's choice, AWS documents throttling but no status), so one instance cannot
load the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import Counter
from datetime import UTC, datetime
from email.utils import formatdate

from pocketlink.gateway.limits import RateLimiter
from pocketlink.imds import roles, tree
from pocketlink.imds.roles import InstanceProfiles, Profile, Unavailable
from pocketlink.imds.tokens import MAX_TTL, MIN_TTL, Tokens
from pocketlink.model.ec2 import Instance
from pocketlink.model.iam import RoleSession
from pocketlink.network import netns
from pocketlink.network.topology import RouterSpec
from pocketlink.store import Store
from pocketlink.wire.numbers import integer

log = logging.getLogger("pocketlink.imds")

PORT = 80
MAX_HEAD = 8 * 1024
MAX_BODY = 1024  # a token PUT has none
IDLE = 10.0  # seconds a connection may wait between requests
MAX_REQUESTS = 100  # per connection
MAX_CONNECTIONS = 16  # per source address
RATE = 50.0  # requests per second per source address, bursts of twice that
TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
            503: "Service Unavailable"}
_FREEBIND = {socket.AF_INET: (socket.IPPROTO_IP, 15), socket.AF_INET6: (socket.IPPROTO_IPV6, 78)}


class Refused(Exception):
    """The connection is reset, unanswered."""


def _error_page(status: int) -> bytes:
    """IMDS's error body, an XHTML page naming the status."""
    title = f"{status} - {_REASONS[status]}"
    return ('<?xml version="1.0" encoding="iso-8859-1"?>\n'
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
            '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
            f' <head>\n  <title>{title}</title>\n </head>\n'
            f' <body>\n  <h1>{title}</h1>\n </body>\n</html>\n').encode()


class Answer:
    def __init__(self, status: int, body: bytes | None = None,
                 headers: dict[str, str] | None = None, hop_limit: int | None = None) -> None:
        self.status = status
        self.body = _error_page(status) if body is None else body
        self.headers = headers or {}
        self.content_type = "text/plain" if body is not None else "text/html"
        self.hop_limit = hop_limit


def _listening_sockets(namespace: str, addresses: tuple[str, ...]) -> list[socket.socket]:
    """TCP sockets bound inside ``namespace``; freely bound, so that they need not wait
    for the addresses to be on the router's loopback."""
    def make() -> list[socket.socket]:
        made: list[socket.socket] = []
        try:
            for address in addresses:
                ip = address.split("/")[0]
                family = socket.AF_INET6 if ":" in ip else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                made.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(*_FREEBIND[family], 1)
                sock.bind((ip, PORT))
                sock.listen(128)
                sock.setblocking(False)
        except OSError:
            for sock in made:
                sock.close()
            raise
        return made
    return netns.run_in(namespace, make)


class MetadataService:
    def __init__(self, store: Store, profiles: InstanceProfiles | None) -> None:
        self.store = store
        self.profiles = profiles
        self.tokens = Tokens()
        self.limiter = RateLimiter(RATE)
        self._servers: dict[str, tuple[tuple[str, ...], list[asyncio.Server]]] = {}
        self._open: Counter[tuple[str, str]] = Counter()
        self._index: dict[tuple[str, str], str] | None = None
        store.listeners.append(self._forget_index)

    def _forget_index(self) -> None:
        self._index = None

    async def sync(self, routers: tuple[RouterSpec, ...], failed: set[str]) -> None:
        wanted = {r.vpc_id: r for r in routers if r.metadata_addresses and r.vpc_id not in failed}
        for vpc_id in list(self._servers):
            spec = wanted.get(vpc_id)
            if spec is None or spec.metadata_addresses != self._servers[vpc_id][0]:
                await self._close(self._servers.pop(vpc_id)[1])
        for vpc_id, spec in wanted.items():
            if vpc_id in self._servers:
                continue
            try:
                sockets = await asyncio.to_thread(_listening_sockets, spec.namespace,
                                                  spec.metadata_addresses)
            except OSError as error:
                log.warning("metadata service of %s: %s", vpc_id, error)
                continue
            servers = [await asyncio.start_server(
                lambda r, w, v=vpc_id: self._connection(v, r, w), sock=sock, limit=MAX_HEAD)
                for sock in sockets]
            self._servers[vpc_id] = (spec.metadata_addresses, servers)
            log.info("instance metadata service of %s listening", vpc_id)

    async def stop(self) -> None:
        for _, servers in self._servers.values():
            await self._close(servers)
        self._servers.clear()

    @staticmethod
    async def _close(servers: list[asyncio.Server]) -> None:
        for server in servers:
            server.close()
        for server in servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    def _instance(self, vpc_id: str, address: str) -> Instance | None:
        if self._index is None:
            index = {}
            for instance in self.store.all(Instance):
                if instance.state not in ("pending", "running"):
                    continue
                for ip in (instance.private_ip_address, *instance.ipv6_addresses):
                    if ip:
                        index[(instance.vpc_id, ip)] = instance.id
            self._index = index
        instance_id = self._index.get((vpc_id, address))
        return self.store.get(Instance, instance_id) if instance_id else None

    async def _connection(self, vpc_id: str, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = (vpc_id, peer[0] if peer else "")
        if self._open[source] >= MAX_CONNECTIONS:
            _reset(writer)
            return
        self._open[source] += 1
        try:
            await self._serve(source, writer.get_extra_info("socket").family, reader, writer)
        except Refused:
            _reset(writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError):
            pass
        finally:
            self._open[source] -= 1
            if not self._open[source]:
                del self._open[source]
            writer.close()

    async def _serve(self, source: tuple[str, str], family: int,
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for count in range(1, MAX_REQUESTS + 1):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE)
            parsed = _parse(head)
            if parsed is None:
                writer.write(_render(Answer(400), keep=False))
                return
            method, target, version, headers = parsed
            # ASCII digits only: a latin-1 head makes byte 0xB2 "²", which isdigit takes
            length = integer(headers.get("content-length", "0"))
            if length is None or length > MAX_BODY or "transfer-encoding" in headers:
                writer.write(_render(Answer(400), keep=False))
                return
            if length:
                await asyncio.wait_for(reader.readexactly(length), IDLE)
            answer = await self._answer(source, family, method, target, headers)
            keep = version == "HTTP/1.1" and count < MAX_REQUESTS and \
                headers.get("connection", "").lower() != "close"
            sock = writer.get_extra_info("socket")
            if answer.hop_limit is not None:
                _hop_limit(sock, family, answer.hop_limit)
            writer.write(_render(answer, keep, head_only=method == "HEAD"))
            await writer.drain()
            if answer.hop_limit is not None:
                _hop_limit(sock, family, -1)  # the system's default again
            if not keep:
                return

    async def _answer(self, source: tuple[str, str], family: int, method: str, target: str,
                      headers: dict[str, str]) -> Answer:
        vpc_id, address = source
        if not self.limiter.allow(f"{vpc_id}/{address}"):
            return Answer(429)
        instance = self._instance(vpc_id, address)
        if instance is None:
            raise Refused
        options = instance.metadata_options
        if family == socket.AF_INET6 and options.http_protocol_ipv6 != "enabled":
            raise Refused
        if options.http_endpoint != "enabled":
            return Answer(403)
        path = target.split("?", 1)[0]
        if method == "PUT":
            if path != TOKEN_PATH:
                return Answer(405, headers={"Allow": "GET, HEAD"})
            return self._token(instance, headers)
        if method not in ("GET", "HEAD"):
            return Answer(405, headers={"Allow": "PUT" if path == TOKEN_PATH else "GET, HEAD"})
        if path == TOKEN_PATH:
            return Answer(405, headers={"Allow": "PUT"})
        token = headers.get(TOKEN_HEADER)
        if token is not None:
            if not self.tokens.valid(token, instance.id):
                return Answer(401)
        elif options.http_tokens == "required":
            return Answer(401)
        return await self._read(instance, path)

    def _token(self, instance: Instance, headers: dict[str, str]) -> Answer:
        if "x-forwarded-for" in headers:
            return Answer(403)
        ttl = headers.get(TTL_HEADER, "")
        seconds = integer(ttl)
        if seconds is None or not MIN_TTL <= seconds <= MAX_TTL:
            return Answer(400)
        token = self.tokens.issue(instance.id, seconds)
        return Answer(200, token.encode(), {"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": ttl},
                      hop_limit=instance.metadata_options.http_put_response_hop_limit)

    async def _read(self, instance: Instance, path: str) -> Answer:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return Answer(200, "\n".join(tree.VERSION_DATES).encode())
        if parts[0] not in tree.VERSION_DATES:
            return Answer(404)
        rest = "/".join(parts[1:])
        association = instance.iam_instance_profile
        profile = None
        if association is not None:
            # Listing meta-data/ needs only to know there is a profile; IAM is asked
            # when its folder is read.
            profile = Profile(association.arn, association.arn, association.profile_id, ())
            if f"{rest}/".startswith("meta-data/iam/") and self.profiles is not None:
                try:
                    profile = await self.profiles.fetch(instance.account, association.arn)
                except Unavailable:
                    return Answer(503)
                if profile is None:
                    return Answer(404)
        now = datetime.now(UTC)

        def credentials() -> RoleSession:
            assert profile is not None
            return roles.session_for(self.store, instance, profile.roles[0], now)
        found = tree.lookup(tree.instance_tree(self.store, instance, profile, credentials, now),
                            rest)
        return Answer(404) if found is None else Answer(200, found)


def _parse(head: bytes) -> tuple[str, str, str, dict[str, str]] | None:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
    except ValueError:
        return None
    if not version.startswith("HTTP/1.") or not target.startswith("/"):
        return None
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            return None
        headers[name.lower()] = value.strip()
    return method, target, version, headers


def _render(answer: Answer, keep: bool, head_only: bool = False) -> bytes:
    headers = {"Content-Type": answer.content_type, "Accept-Ranges": "none",
               "Content-Length": str(len(answer.body)), "Date": formatdate(usegmt=True),
               "Server": "EC2ws", "Connection": "keep-alive" if keep else "close",
               **answer.headers}
    head = f"HTTP/1.1 {answer.status} {_REASONS[answer.status]}\r\n" + \
        "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + (b"" if head_only else answer.body)


def _hop_limit(sock: socket.socket, family: int, hops: int) -> None:
    """The IP TTL (IPv6 hop limit) of what the connection sends next; -1: the default."""
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
    else:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, hops)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (SO_LINGER 0): the caller sees the connection refused midway."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
