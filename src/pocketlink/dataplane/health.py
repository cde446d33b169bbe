"""Health checks, for real: TCP, HTTP and HTTPS from the NLB node's address inside the
provider's VPC, with the target group's interval, timeout, thresholds, path and matcher.

One task per target in use (registered, not draining, in a group a listener forwards to).
A target starts ``initial``; so many checks in a row passing (the healthy threshold) make
it ``healthy``, so many failing (the unhealthy threshold) make it ``unhealthy`` with
AWS's reason. What they find goes to the store, where DescribeTargetHealth reads it and
the data plane's plan picks its candidates (failing open when none is healthy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from dataclasses import dataclass

from pocketlink.dataplane import ppv2
from pocketlink.dataplane.plan import target_address
from pocketlink.dataplane.sockets import NamespaceSockets
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup
from pocketlink.network import names
from pocketlink.store import Store
from pocketlink.wire.numbers import integer

log = logging.getLogger("pocketlink.health")

USER_AGENT = "ELB-HealthChecker/2.0"


def _unverified_tls() -> ssl.SSLContext:
    """HTTPS checks trust any certificate, as an NLB's do; made once (loading no CA bundle,
    which would stall the event loop on every probe)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_UNVERIFIED_TLS = _unverified_tls()


@dataclass(frozen=True)
class Check:
    """One target's check, as its group's settings say today."""

    group_arn: str
    target_id: str
    target_port: int
    namespace: str
    source: str
    address: str
    port: int
    protocol: str
    path: str | None
    matcher: str | None
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    proxy_protocol: bool


def _in_use(store: Store, group: TargetGroup) -> LoadBalancer | None:
    for listener in store.all(Listener):
        if listener.target_group_arn == group.id:
            return store.get(LoadBalancer, listener.load_balancer_arn)
    return None


def planned_checks(store: Store) -> dict[tuple[str, str, int], Check]:
    checks = {}
    for group in store.all(TargetGroup):
        balancer = _in_use(store, group)
        if balancer is None or not group.health_check_enabled or not balancer.nodes:
            continue
        for target in group.targets:
            if target.deregistered is not None:
                continue
            address = target_address(store, group, target.id)
            if address is None:
                continue
            node = next((n for n in balancer.nodes
                         if n.availability_zone == target.availability_zone), balancer.nodes[0])
            source = node.ipv6_address if ":" in address else node.private_ipv4_address
            if source is None:
                continue
            port = target.port if group.health_check_port == "traffic-port" else \
                int(group.health_check_port)
            checks[(group.id, target.id, target.port)] = Check(
                group_arn=group.id, target_id=target.id, target_port=target.port,
                namespace=names.namespace(balancer.vpc_id), source=source, address=address,
                port=port, protocol=group.health_check_protocol, path=group.health_check_path,
                matcher=group.matcher, interval=float(group.health_check_interval),
                timeout=float(group.health_check_timeout),
                healthy_threshold=group.healthy_threshold,
                unhealthy_threshold=group.unhealthy_threshold,
                proxy_protocol=group.attributes.get("proxy_protocol_v2.enabled") == "true")
    return checks


def matches(matcher: str, status: int) -> bool:
    """AWS's matcher syntax: ``200``, ``200,202`` or ``200-399``."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        first, last = integer(low), integer(high or low)
        if first is not None and last is not None and first <= status <= last:
            return True
    return False


class HealthChecks:
    def __init__(self, store: Store, sockets: NamespaceSockets) -> None:
        self.store = store
        self.sockets = sockets
        self._tasks: dict[tuple[str, str, int], tuple[Check, asyncio.Task]] = {}

    def sync(self, wanted: dict[tuple[str, str, int], Check]) -> None:
        for key in list(self._tasks):
            check, task = self._tasks[key]
            if wanted.get(key) != check or task.done():
                task.cancel()
                del self._tasks[key]
        for key, check in wanted.items():
            if key not in self._tasks:
                self._tasks[key] = (check, asyncio.ensure_future(self._run(check)))

    async def close(self) -> None:
        for _, task in self._tasks.values():
            task.cancel()
        self._tasks.clear()

    async def _run(self, check: Check) -> None:
        passed = failed = 0
        while True:
            reason = await self._probe(check)
            if reason is None:
                passed, failed = passed + 1, 0
                if passed >= check.healthy_threshold:
                    self._record(check, "healthy", None)
            else:
                passed, failed = 0, failed + 1
                if failed >= check.unhealthy_threshold:
                    self._record(check, "unhealthy", reason)
            await asyncio.sleep(check.interval)

    async def _probe(self, check: Check) -> str | None:
        """None when the target passed, else AWS's reason code for the failure."""
        try:
            return await asyncio.wait_for(self._attempt(check), check.timeout)
        except TimeoutError:
            return "Target.Timeout"
        except (OSError, ValueError, UnicodeError, ssl.SSLError):
            # A target answering garbage (no status line, an endless line) fails its check;
            # it must not end the task that checks it.
            return "Target.FailedHealthChecks"

    async def _attempt(self, check: Check) -> str | None:
        family = socket.AF_INET6 if ":" in check.address else socket.AF_INET
        sock = await self.sockets.socket(check.namespace, family)
        try:
            sock.setblocking(False)
            sock.bind((check.source, 0))
            await asyncio.get_running_loop().sock_connect(sock, (check.address, check.port))
        except BaseException:
            sock.close()
            raise
        context = _UNVERIFIED_TLS if check.protocol == "HTTPS" else None
        reader, writer = await asyncio.open_connection(sock=sock)
        try:
            if check.proxy_protocol:
                writer.write(ppv2.encode_local())
            if context is not None:
                await writer.start_tls(context)
            if check.protocol == "TCP":
                await writer.drain()
                return None
            host = f"[{check.address}]" if ":" in check.address else check.address
            writer.write(f"GET {check.path or '/'} HTTP/1.1\r\nHost: {host}:{check.port}\r\n"
                         f"User-Agent: {USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
                         .encode())
            await writer.drain()
            status_line = (await reader.readline()).decode("latin-1").split()
            if len(status_line) < 2 or not status_line[1].isascii() or \
                    not status_line[1].isdigit():
                return "Target.FailedHealthChecks"
            if not matches(check.matcher or "200-399", int(status_line[1])):
                return "Target.ResponseCodeMismatch"
            return None
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _record(self, check: Check, health: str, reason: str | None) -> None:
        group = self.store.get(TargetGroup, check.group_arn)
        if group is None:
            return
        current = next((t for t in group.targets
                        if (t.id, t.port) == (check.target_id, check.target_port)), None)
        if current is None or (current.health, current.health_reason) == (health, reason):
            return
        log.info("target %s:%d of %s: %s%s", check.target_id, check.target_port, group.name,
                 health, f" ({reason})" if reason else "")
        with self.store.transaction() as tx:
            mine = tx.get(TargetGroup, group.id)
            assert mine is not None
            for target in mine.targets:
                if (target.id, target.port) == (check.target_id, check.target_port):
                    target.health, target.health_reason = health, reason
