"""Route 53's health checkers, here: probes sent from the emulated internet.

AWS's checkers are on the internet, so pocketlink's probe from its internet namespace
(network/internet.py), from ``ROUTE53_CHECKER_IPV4``/``_IPV6`` (addresses of the AWS
public range that no service uses, so a security group lets them in as it would let in
Route 53's published checker ranges). Every probe's socket is made inside that namespace
(``netns.run_in``); none is ever opened in the root namespace. From there a probe reaches
what the internet reaches: the public addresses of instances (through their VPC's
internet gateway, past their security groups and the public subnet's routes) and the AWS
service addresses. Anything else (a private address, an address no VPC owns, or every
address while no VPC has an internet gateway and so no internet namespace exists) cannot
be reached, and the check fails, as an unreachable endpoint fails at AWS.

What a probe must see to succeed (the Route 53 Developer Guide, "How Amazon Route 53
determines whether a health check is healthy"): TCP, a connection within 10 seconds;
HTTP and HTTPS, a connection within 4 seconds and then a 2xx or 3xx status within 2
seconds; the ``_STR_MATCH`` types, that and the SearchString within the body's first
5,120 bytes. HTTPS certificates are not checked, as Route 53 checks none. A
FullyQualifiedDomainName without an IPAddress is resolved in pocketlink's public DNS.

A check flips after FailureThreshold probes in a row that disagree with it (AWS's rule
for one checker; AWS counts a check healthy while more than 18% of its checkers say so,
and pocketlink has one). Inverted inverts the verdict; Disabled makes it healthy (then
inverted, as the UpdateHealthCheck reference tells); CALCULATED is healthy while at least
HealthThreshold of its children are; CLOUDWATCH_METRIC follows its
InsufficientDataHealthStatus (no alarm is evaluated: Unhealthy, or healthy). Each probe's
outcome is stored on the check when it differs from the last (GetHealthCheckStatus reads
it: its CheckedTime is when the checker first saw the status it reports, where AWS's is the
last probe's), and a flip reaches the DNS (dns/routing.py) like any change to the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
import time

import dns.name
import dns.rdatatype

from pocketlink.dns.public import public_zones
from pocketlink.model.aws_services import ROUTE53_CHECKER_IPV4, ROUTE53_CHECKER_IPV6
from pocketlink.model.base import now
from pocketlink.model.route53 import HealthCheck
from pocketlink.network import netns
from pocketlink.store import Store

log = logging.getLogger("pocketlink.route53")

LOOK_EVERY = 1.0  # seconds between looks at which checks are due
TCP_CONNECT = 10.0
HTTP_CONNECT = 4.0
HTTP_ANSWER = 2.0
BODY_SEARCHED = 5120
IP_FREEBIND = 15  # Linux's; the socket module names it from Python 3.12 only
USER_AGENT = "Amazon-Route53-Health-Check-Service (pocketlink)"
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
TIMED_OUT = ("Failure: Connection timed out. The endpoint or the internet connection is "
             "down, or requests are being blocked by your firewall. See "
             "https://docs.aws.amazon.com/console/route53/health-checks-failures")


class Probe:
    """One probe of one endpoint check: its outcome as Route 53 words a StatusReport (the
    Success/Failure forms are AWS's; pocketlink's wording beyond them is a guess)."""

    def __init__(self, internet: str, config: dict, address: str | None) -> None:
        self.internet, self.config, self.address = internet, config, address

    def _socket(self) -> socket.socket:
        ipv6 = ":" in (self.address or "")

        def made() -> socket.socket:
            sock = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            # The checker's address is one of a local route's (the AWS range), not a
            # device's: IPv6 binds such an address only with FREEBIND.
            sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
            sock.bind((ROUTE53_CHECKER_IPV6 if ipv6 else ROUTE53_CHECKER_IPV4, 0))
            return sock
        return netns.run_in(self.internet, made)

    async def run(self) -> tuple[bool, str]:
        if self.address is None:
            name = self.config.get("FullyQualifiedDomainName")
            return False, f"Failure: DNS resolution failed: {name} could not be resolved."
        try:
            sock = await asyncio.to_thread(self._socket)
        except OSError:  # no internet namespace: nothing is reachable
            return False, TIMED_OUT
        kind = self.config["Type"]
        port = self.config["Port"]
        loop = asyncio.get_running_loop()
        try:
            limit = TCP_CONNECT if kind == "TCP" else HTTP_CONNECT
            try:
                await asyncio.wait_for(loop.sock_connect(sock, (self.address, port)), limit)
            except (TimeoutError, OSError) as failed:
                if isinstance(failed, ConnectionRefusedError):
                    return False, f"Failure: Connection refused. Resolved IP: {self.address}"
                return False, TIMED_OUT
            if kind == "TCP":
                return True, "Success: TCP connection established."
            return await asyncio.wait_for(self._http(sock), HTTP_ANSWER)
        except TimeoutError:
            return False, (f"Failure: The endpoint did not answer within {HTTP_ANSWER:g} "
                           f"seconds. Resolved IP: {self.address}")
        except (OSError, ValueError, IndexError, EOFError, asyncio.LimitOverrunError) as failed:
            return False, (f"Failure: {failed or 'the endpoint closed the connection'}. "
                           f"Resolved IP: {self.address}")
        finally:
            sock.close()

    async def _http(self, sock: socket.socket) -> tuple[bool, str]:
        kind, name = self.config["Type"], self.config.get("FullyQualifiedDomainName")
        host = name or self.address or ""
        context = None
        if kind.startswith("HTTPS"):
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        # No SNI unless EnableSNI and a name ("" tells asyncio to send none)
        server_name = (name or "") if self.config.get("EnableSNI") else ""
        reader, writer = await asyncio.open_connection(
            sock=sock.dup(), ssl=context, server_hostname=server_name if context else None)
        try:
            default = 443 if context is not None else 80
            port = self.config["Port"]
            writer.write((f"GET {self.config.get('ResourcePath') or '/'} HTTP/1.1\r\n"
                          f"Host: {host}{'' if port == default else f':{port}'}\r\n"
                          f"User-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n").encode())
            await writer.drain()
            status_line = (await reader.readline()).decode("latin-1").split(" ", 2)
            code = int(status_line[1])
            reason = status_line[2].strip() if len(status_line) > 2 else ""
            await reader.readuntil(b"\r\n\r\n")  # the headers, which decide nothing
            body = b""
            if kind.endswith("_STR_MATCH"):
                try:
                    body = await reader.readexactly(BODY_SEARCHED)
                except asyncio.IncompleteReadError as short:
                    body = short.partial
        finally:
            writer.close()
        if not 200 <= code < 400:
            return False, (f"Failure: HTTP Status Code {code}, {reason}. Resolved IP: "
                           f"{self.address}")
        if kind.endswith("_STR_MATCH") and \
                self.config["SearchString"].encode() not in body[:BODY_SEARCHED]:
            return False, ("Failure: Search string not found in the first 5120 bytes of the "
                           f"response body. Resolved IP: {self.address}")
        return True, f"Success: HTTP Status Code {code}, {reason}"


def resolve(store: Store, config: dict) -> str | None:
    """The address a check probes: its IPAddress, or its name's in the public DNS."""
    if config.get("IPAddress"):
        return str(ipaddress.ip_address(config["IPAddress"]))
    answer = public_zones(store).lookup(dns.name.from_text(config["FullyQualifiedDomainName"]),
                                        dns.rdatatype.A)
    found = [rdata.address for rrset in answer.answer if rrset.rdtype == dns.rdatatype.A
             for rdata in rrset]
    return found[0] if found else None


def verdict(check: HealthCheck, probed: bool | None, children: dict[str, bool]) -> bool:
    """What a check says before FailureThreshold and Disabled/Inverted: for an endpoint
    check the probe (None: not probed this time, keep), else its children or alarm."""
    config = check.config
    kind = config["Type"]
    if kind == "CALCULATED":
        healthy = sum(1 for c in config.get("ChildHealthChecks") or [] if children.get(c, True))
        return healthy >= config.get("HealthThreshold", 0)
    if kind == "CLOUDWATCH_METRIC":
        return config.get("InsufficientDataHealthStatus") != "Unhealthy"
    if kind in ENDPOINT_TYPES and probed is not None:
        return probed
    return True


def judged(check: HealthCheck, measured: bool) -> tuple[bool, int]:
    """(healthy, streak) once ``measured`` is counted: an endpoint check flips after
    FailureThreshold measurements in a row against it, the others at once."""
    config = check.config
    if config.get("Disabled"):
        return not config.get("Inverted", False), 0
    wanted = measured != bool(config.get("Inverted"))
    if wanted == check.healthy:
        return check.healthy, 0
    streak = check.streak + 1
    threshold = config.get("FailureThreshold", 3) if config["Type"] in ENDPOINT_TYPES else 1
    return (wanted, 0) if streak >= threshold else (check.healthy, streak)


class HealthCheckers:
    """Probes every endpoint check at its RequestInterval, and keeps every check's verdict
    in the store."""

    def __init__(self, store: Store, internet: str) -> None:
        self.store, self.internet = store, internet
        self.due: dict[str, float] = {}  # check id -> when its next probe starts
        self.probing: set[asyncio.Task] = set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self._look()
            except Exception:  # a check that cannot be judged must not stop the daemon
                log.exception("route 53 health checks")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LOOK_EVERY)
        for task in self.probing:
            task.cancel()

    def _look(self) -> None:
        checks = list(self.store.all(HealthCheck))
        self.due = {c.id: self.due[c.id] for c in checks if c.id in self.due}
        health = {c.id: c.healthy for c in checks}
        for check in checks:
            config = check.config
            if config["Type"] in ENDPOINT_TYPES and not config.get("Disabled"):
                if time.monotonic() >= self.due.get(check.id, 0):
                    self.due[check.id] = time.monotonic() + config.get("RequestInterval", 30)
                    task = asyncio.create_task(self._probe(check.id, config))
                    self.probing.add(task)
                    task.add_done_callback(self.probing.discard)
                continue
            healthy, streak = judged(check, verdict(check, None, health))
            if (healthy, streak) != (check.healthy, check.streak):
                self._keep(check.id, config, healthy, streak, None)

    async def _probe(self, check_id: str, config: dict) -> None:
        try:
            address = resolve(self.store, config)
            succeeded, status = await Probe(self.internet, config, address).run()
        except Exception:  # a probe that breaks must not go unheard
            log.exception("probing health check %s", check_id)
            return
        check = self.store.get(HealthCheck, check_id)
        if check is None or check.config != config:
            return  # deleted or updated while probing: its next probe judges it
        healthy, streak = judged(check, succeeded)
        seen = (check.observation or {}).get("StatusReport", {}).get("Status")
        if (healthy, streak, status) == (check.healthy, check.streak, seen):
            return  # nothing new: a steady check does not stir the store (and its readers)
        observation = {"IPAddress": ROUTE53_CHECKER_IPV6 if ":" in (address or "")
                       else ROUTE53_CHECKER_IPV4,
                       "StatusReport": {"Status": status, "CheckedTime": now()}}
        self._keep(check_id, config, healthy, streak, observation)

    def _keep(self, check_id: str, config: dict, healthy: bool, streak: int,
              observation: dict | None) -> None:
        with self.store.transaction() as tx:
            check = tx.get(HealthCheck, check_id)
            if check is None or check.config != config:
                return
            check = tx.edit(HealthCheck, check_id)
            if check.healthy != healthy:
                log.info("health check %s is now %s", check_id,
                         "healthy" if healthy else "unhealthy")
            check.healthy, check.streak = healthy, streak
            if observation is not None:
                check.observation = observation
