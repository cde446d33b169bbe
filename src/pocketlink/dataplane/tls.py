"""TLS listeners, in a data-plane worker: TLS terminated with the listener's certificates
(SNI picks among them), under its security policy (protocols, ciphers) and ALPN policy,
then the plaintext carried to the target as a TCP listener's flows are (the same target
choice by flow hash, connect from the NLB node's address, PROXY v2 header, idle timeout,
drain), or encrypted again towards a TLS target group.

Why here, and why apart from the TCP path. The TCP path (worker.py, pump.py) is tuned to
the system calls any proxy pays: no task, future or Python buffer per flow, bulk bytes
spliced in the kernel. Decrypted bytes have to pass through user space, so a TLS flow
cannot be spliced, and kernel TLS (which would let it be) is not there on this kind of
machine (no ``tls`` ULP; Python 3.11's ssl cannot hand keys over). So TLS flows are a
kind of their own: asyncio's SSL transports (OpenSSL in C does the cipher work), one task
per flow for its handshake and connect, two protocols relaying with backpressure. They
live in the same worker processes, on the same listening sockets handed over the same
way, so the hyperplane, the plan's target choice, the sweep (idle flows reset), the drain
and the restart of a dead worker are the ones TCP listeners have, and a TCP listener's
accept and flows do not run one line more than before: the worker picks its accept
handler per listener, once, when it starts to listen. A separate TLS process was the
other choice: it would have needed a second pool of workers, a second hop on loopback
and its own copy of target choice, health, draining and PROXY headers for the targets.

What differs from AWS: TLS 1.3's cipher suites cannot be narrowed from Python (OpenSSL's
three are offered whatever the policy says); a TLS listener has no half-close (a close
from either side closes the flow once its bytes are out); HTTP2Only does not refuse a
client that offers no h2 (it gets no ALPN answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import struct
import time
from collections.abc import Callable

from pocketlink.dataplane import ppv2
from pocketlink.dataplane.relay import RelaySide
from pocketlink.dataplane.spec import Backend, TlsTermination
from pocketlink.model.ssl_policies import SslPolicy, policies

log = logging.getLogger("pocketlink.dataplane")

HANDSHAKE_TIMEOUT = 10.0
ACCEPT_BATCH = 64
CONNECT_TIMEOUT = 10.0  # as a TCP flow's (worker.py)
VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
# What an NLB offers its TLS targets (the NLB guide: set by the listener's policy).
BACKEND_POLICY_TLS13 = "ELBSecurityPolicy-TLS13-1-0-2021-06"
BACKEND_POLICY = "ELBSecurityPolicy-2016-08"
_LINGER_RESET = struct.pack("ii", 1, 0)


def apply_policy(context: ssl.SSLContext, policy: SslPolicy) -> None:
    """The policy's protocol range and (TLS 1.2 and older) ciphers, in its order."""
    versions = sorted(VERSIONS[p] for p in policy.protocols)
    context.minimum_version, context.maximum_version = versions[0], versions[-1]
    older = [c for c in policy.ciphers if not c.startswith("TLS_")]
    if older:
        # TLS 1.0 and 1.1 sign with SHA-1, which OpenSSL 3 refuses above level 0.
        legacy = ssl.TLSVersion.TLSv1_2 > versions[0]
        context.set_ciphers(":".join(older) + (":@SECLEVEL=0" if legacy else ""))
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE


def _names(chain: str) -> list[str]:
    """The DNS names the chain's leaf certificate is for. cryptography is imported here,
    by the first TLS listener: a worker with none starts without it (a third of its
    start-up, which a restarted daemon's traffic waits for)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    with open(chain, "rb") as file:
        leaf = x509.load_pem_x509_certificate(file.read())
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        return [n.lower() for n in names.value.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        return [str(a.value).lower() for a in leaf.subject.get_attributes_for_oid(
            NameOID.COMMON_NAME)]


def _matches(pattern: str, name: str) -> bool:
    if pattern.startswith("*."):
        first, _, rest = name.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == name


class Termination:
    """A TLS listener's server contexts, one per certificate; the first is the default,
    and its SNI callback moves a connection to the certificate its server name matches
    (an exact name before a wildcard, as ACM's smart selection would)."""

    def __init__(self, spec: TlsTermination) -> None:
        policy = policies()[spec.ssl_policy]
        self.contexts: list[tuple[list[str], ssl.SSLContext]] = []
        for chain, key in spec.certificates:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            apply_policy(context, policy)
            if spec.alpn:
                context.set_alpn_protocols(list(spec.alpn))
            context.load_cert_chain(chain, key)
            self.contexts.append((_names(chain), context))
        self.default = self.contexts[0][1]
        self.default.sni_callback = self._choose
        self.upstream: ssl.SSLContext | None = None
        if spec.reencrypt:  # an NLB does not check its targets' certificates
            self.upstream = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.upstream.check_hostname = False
            self.upstream.verify_mode = ssl.CERT_NONE
            apply_policy(self.upstream, policies()[
                BACKEND_POLICY_TLS13 if "TLSv1.3" in policy.protocols else BACKEND_POLICY])

    def _choose(self, connection: ssl.SSLObject, server_name: str | None,
                _: ssl.SSLContext) -> None:
        if not server_name:
            return
        name = server_name.lower().rstrip(".")
        exact = next((c for names, c in self.contexts if name in names), None)
        chosen = exact or next((c for names, c in self.contexts
                                if any(_matches(n, name) for n in names)), None)
        if chosen is not None and chosen is not connection.context:
            connection.context = chosen


class TlsFlow:
    """One connection of a TLS listener, from accept to the last close. The worker's sweep
    treats it as a TCP flow: ``idle`` and ``reset`` (its own task times out the handshake
    and the connect, so ``check_connected`` has nothing to add).

    A socket is the flow's to close until a transport takes it (``_bare``); from then on
    its transport closes it, even when its handshake fails or its task is cancelled."""

    def __init__(self, termination: Termination, backend: Backend, client: socket.socket,
                 peer: tuple[str, int], local: tuple[str, int],
                 choose: Callable[[tuple, tuple, tuple], tuple[str, int] | None],
                 take: Callable[[str, int], socket.socket],
                 on_end: Callable[[TlsFlow], None]) -> None:
        self.termination, self.backend = termination, backend
        self.peer, self.local = peer, local
        self.on_end = on_end
        self.started = self.last_activity = time.monotonic()
        self.client, self.upstream = RelaySide(self.side_lost), RelaySide(self.side_lost)
        self.finished = False
        self._bare: list[socket.socket] = []
        self.task = asyncio.ensure_future(self._run(client, choose, take))

    async def _run(self, client: socket.socket, choose, take) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.connect_accepted_socket(
                lambda: self.client, client, ssl=self.termination.default,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
            target = choose(self.backend.targets, self.peer, self.local)
            if target is None:
                raise ConnectionRefusedError("no target")
            raw = take(self.backend.namespace, socket.AF_INET6 if ":" in target[0]
                       else socket.AF_INET)
            upstream = socket.socket(fileno=raw.detach())  # the loop's transports want this type
            self._bare.append(upstream)
            upstream.bind((self.backend.source, 0))
            await asyncio.wait_for(loop.sock_connect(upstream, target), CONNECT_TIMEOUT)
            if upstream not in self._bare:
                # reset() closed it while the connect completed: Python 3.11's wait_for can
                # return a result that raced its cancellation.
                return
            self._bare.remove(upstream)
            transport, _ = await loop.create_connection(lambda: self.upstream, sock=upstream)
            if self.backend.proxy_protocol:
                transport.write(ppv2.encode(self.peer, self.local, self.backend.endpoint_id))
            if self.termination.upstream is not None:
                transport.resume_reading()
                secured = await loop.start_tls(transport, self.upstream,
                                               self.termination.upstream,
                                               ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
                assert secured is not None
                self.upstream.transport = secured  # type: ignore[assignment]
                secured.pause_reading()
        except (OSError, TimeoutError, EOFError) as error:  # the client's or target's doing
            log.debug("TLS flow from %s: %s", self.peer, error or type(error).__name__)
            self.reset()
            return
        except Exception:  # a bug: this flow ends, the worker goes on
            log.exception("TLS flow from %s failed", self.peer)
            self.reset()
            return
        self.last_activity = time.monotonic()
        self.upstream.link(self.client)
        self.client.link(self.upstream)
        if self.client.lost.done() or self.upstream.lost.done():
            self.reset()

    def side_lost(self) -> None:
        if not self.task.done():
            self.reset()  # the client left during the handshake or the connect
        elif self.client.lost.done() and (self.upstream.lost.done() or self.upstream.transport is None):
            self._end()

    def check_connected(self) -> bool:
        return True

    def idle(self, now: float) -> bool:
        last = max(self.last_activity, self.client.last_activity, self.upstream.last_activity)
        return now - last > self.backend.idle_timeout

    def fail(self, error: OSError) -> None:
        log.info("TLS flow from %s: %s", self.peer, error)
        self.reset()

    def reset(self) -> None:
        """Both sides get a TCP reset, as an NLB's idle or failed flow does."""
        if not self.task.done() and asyncio.current_task() is not self.task:
            self.task.cancel()  # its transports close what they took
        for side in (self.client, self.upstream):
            if side.transport is not None:
                _linger_reset(side.transport.get_extra_info("socket"))
                side.transport.abort()
        for sock in self._bare:
            _linger_reset(sock)
            sock.close()
        self._bare.clear()
        self._end()

    def _end(self) -> None:
        if not self.finished:
            self.finished = True
            self.on_end(self)


def _linger_reset(sock) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)


class TlsListener:
    """A TLS listener's accept: each connection becomes a ``TlsFlow``."""

    def __init__(self, spec: TlsTermination) -> None:
        self.termination = Termination(spec)

    def accept(self, sock: socket.socket, backend: Backend, local: tuple[str, int],
               choose, take, flows: set) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                client, peer = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                log.info("TLS accept on %s:%d: %s", *local, error)
                return
            client.setblocking(False)
            flows.add(TlsFlow(self.termination, backend, client, peer[:2], local, choose,
                              take, flows.discard))
