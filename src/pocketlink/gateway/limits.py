"""Request rate per client: a token bucket per access key (or, unsigned, per address);
and a cap on the API's open connections, all clients together.

Every caller reaches the daemon from 127.0.0.1, so the address alone cannot tell tenants
apart; the access key does. Buckets of callers who stopped calling are forgotten once
full again, so a flood of made-up keys costs memory only while it lasts.

A connection is a descriptor before a byte of it is read, so no per-client count can
guard the daemon's descriptors (no key is known yet, and every address is 127.0.0.1):
``ConnectionCap`` bounds the API's connections together, below the process's descriptor
limit, so that the reconciler, the control socket, the instances' metadata service, the
health checks and the backend's connections keep descriptors of their own whatever a
client opens.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpResponse

DEFAULT_RATE = 200.0  # requests per second, per client: generous; bursts of twice that
# After a refusal for its rate, the client's connection is not read for this long: refusing
# costs the daemon too (routing, the error, the log line), and a client sending faster than
# it is refused would otherwise take the event loop that every other client shares. The
# throttled client's answer goes out at once (and those of the requests it had pipelined
# behind it); only what it sends next waits. (AWS does not say how it paces throttled
# callers; its SDKs back off after one.)
HOLD_OFF = 1.0
THROTTLING_CODES = frozenset({"RequestLimitExceeded", "Throttling", "ThrottlingException"})
_FORGET_ABOVE = 10_000  # buckets kept before full ones are swept
QUIET = 60.0  # seconds between two log lines about the same kind of refusal
# Descriptors the API's connections leave to the rest of the daemon: a quarter of its limit,
# and never fewer than this. Measured: an idle daemon with the network holds ~30, each VPC
# ~8 more (its resolver's and metadata service's sockets...); a reconcile pass adds its
# netlink sockets and the pipes of the tools it runs, a forwarded request its connection to
# the backend. The quarter of 262,144 covers thousands of VPCs; 512, some fifty.
RESERVED_DESCRIPTORS = 512
MIN_API_CONNECTIONS = 32  # under a tiny limit, the API still serves a few clients
CAP_VARIABLE = "POCKETLINK_MAX_API_CONNECTIONS"  # the cap itself, for a host that knows better


@dataclass
class _Bucket:
    tokens: float
    at: float


def held_off(response: HttpResponse, error: ServiceError) -> None:
    """Marks the answer to a refusal for rate (``error``'s code) to hold its connection."""
    if error.code in THROTTLING_CODES:
        response.hold_off = HOLD_OFF


class Quiet:
    """Says something at most once per ``QUIET`` seconds, and how much it kept to itself:
    what a tenant can make happen as often as it likes (a refused request, a dropped
    packet) must not become a log line each time, a flood of the log and of the loop."""

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self._last = -QUIET
        self._held = 0

    def say(self, level: int, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < QUIET:
            self._held += 1
            return
        held, self._held, self._last = self._held, 0, now
        if held:
            self.log.log(level, message + " (and %d more since the last such line)", *args,
                         held)
        else:
            self.log.log(level, message, *args)


class ConnectionCap:
    """How many API connections may be open at once (the host's port and the service
    front's socket together); one beyond is closed as it is accepted (gateway/http.py)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    @classmethod
    def for_descriptors(cls, descriptors: int) -> ConnectionCap:
        """The process's descriptor limit less the reserve (``CAP_VARIABLE`` overrides)."""
        given = os.environ.get(CAP_VARIABLE, "").strip()
        reserve = max(RESERVED_DESCRIPTORS, descriptors // 4)
        cap = cls(int(given) if given.isascii() and given.isdigit() and int(given) > 0
                  else max(MIN_API_CONNECTIONS, descriptors - reserve))
        logging.getLogger("pocketlink.http").info(
            "at most %d API connections open at once (of %d descriptors)", cap.limit,
            descriptors)
        return cap

    def take(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def give(self) -> None:
        self.open -= 1


class RateLimiter:
    def __init__(self, rate: float = DEFAULT_RATE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, client: str) -> bool:
        """Take one token from ``client``'s bucket; False when it has none left."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= _FORGET_ABOVE:
                self._sweep(now)
            bucket = self._buckets[client] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _sweep(self, now: float) -> None:
        kept = {key: b for key, b in self._buckets.items()
                if b.tokens + (now - b.at) * self.rate < self.burst}
        if len(kept) >= _FORGET_ABOVE:  # all busy: the older half starts afresh
            kept = dict(list(kept.items())[len(kept) // 2:])
        self._buckets = kept
