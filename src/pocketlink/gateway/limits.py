"""Request rate per client: a token bucket per access key (or, unsigned, per address).

Every caller reaches the daemon from 127.0.0.1, so the address alone cannot tell tenants
apart; the access key does. Buckets of callers who stopped calling are forgotten once
full again, so a flood of made-up keys costs memory only while it lasts.
"""

from __future__ import annotations

import logging
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
