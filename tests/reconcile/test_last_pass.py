"""The stop's bound on the reconciler's last pass (issue 12, item 4): a pass that never ends
holds up none of the stop's later steps. In process, the daemon's own stop steps
(``daemon._bounded`` around ``Lifecycle.run``, then ``Lifecycle.close``) with the pass made
to hang by a monkeypatch: a running daemon offers no way to make its pass hang without a
hook in its code. No timed assertion: the order of what happened is the check; PATIENCE
is only the line past which the test fails rather than hangs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pocketlink.daemon import WORKER_TIMEOUT, _bounded
from pocketlink.dns.process import DnsProcess
from pocketlink.polling import PATIENCE
from pocketlink.reconcile.lifecycle import Lifecycle

SHORT = 0.2  # the last pass's bound here (the daemon's: LAST_PASS_TIMEOUT)


@pytest.mark.parametrize(("bound", "second_signal", "said"), [
    (SHORT, False, "did not finish in time"),
    (PATIENCE * 10, True, "did not finish in time (a second signal)"),  # no waiting at all
])
def test_a_last_pass_that_hangs_is_abandoned_and_the_stop_goes_on(
        store, monkeypatch, caplog, bound, second_signal, said) -> None:
    events: list[str] = []
    passing = asyncio.Event()

    async def hanging(self) -> None:  # a pass that waits for what never comes
        events.append("pass started")
        passing.set()
        await asyncio.Event().wait()
        events.append("pass ended")  # never
    monkeypatch.setattr(Lifecycle, "converge", hanging)

    async def stopping() -> asyncio.Task:
        stop, force = asyncio.Event(), asyncio.Event()
        lifecycle = Lifecycle(store, ("127.0.0.1", 0), DnsProcess(store))
        reconciling = asyncio.create_task(lifecycle.run(stop))
        await passing.wait()
        stop.set()
        events.append("stop")
        if second_signal:
            force.set()
        await _bounded(reconciling, bound, force)
        events.append("last pass left")
        await _bounded(lifecycle.close(WORKER_TIMEOUT), bound, force)
        events.append("closed")
        return reconciling

    async def bounded() -> asyncio.Task:
        return await asyncio.wait_for(stopping(), PATIENCE)

    with caplog.at_level(logging.WARNING, logger="pocketlink"):
        reconciling = asyncio.run(bounded())
    assert events == ["pass started", "stop", "last pass left", "closed"]
    assert reconciling.cancelled()
    # The pass's step is the first that did not finish (with a second signal, close is
    # not waited for either).
    assert next(r.getMessage() for r in caplog.records
                if "did not finish" in r.getMessage()) == f"a step of the stop {said}"
