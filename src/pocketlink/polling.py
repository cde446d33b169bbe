"""Waiting for what becomes true later (an instance running, an endpoint available): the
seeds, the tests and the benchmarks poll one way."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long a wait for what must come gives it, by default: generous, because a wait guards
# correctness (it came), not speed (how soon). The test suite runs on a loaded machine
# where a restart or a reconciler's pass can take tens of seconds; a short bound there
# fails a correct run, while a long one costs nothing when the thing comes early.
PATIENCE: float = 60


class NotYet(TimeoutError, AssertionError):
    """What was waited for did not come: a timeout, and in a test a failed expectation."""


def wait_for(check: Callable[[], T], what: str = "", timeout: float = PATIENCE,
             every: float = 0.05) -> T:
    """The first truthy ``check()``, polled every ``every`` seconds; ``NotYet`` after
    ``timeout`` seconds, naming ``what`` (or the check) and its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise NotYet(f"{what or check}: not within {timeout:.0f} s (last: {value!r})")
        time.sleep(every)
