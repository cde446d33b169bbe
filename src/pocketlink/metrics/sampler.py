"""The sampler: once a second, the data plane's counters and the store's resources become
that second's data points (figures.py), written to the metric store at once: a count for
each second it grew, a level when it moved and once a minute (an idle daemon's hundreds of
levels would otherwise be a row each every second). Once a minute old points are rolled
up. It keeps, for the Prometheus page and the console's topology, every count's total
since the daemon started and every level's last value, of the resources that still exist:
a deleted resource's figures are dropped, so that a daemon with churn keeps no more than
what is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from pocketlink.dataplane.hyperplane import Counters
from pocketlink.dataplane.plan import ListenerSpec
from pocketlink.metrics.figures import (
    Delta,
    Figure,
    Figures,
    Route,
    alive,
    listener_figures,
    live_names,
    nat_figures,
    resource_figures,
    route,
)
from pocketlink.metrics.nat import NatDeltas, NatGatewayReader
from pocketlink.metrics.store import Metric, MetricStore, Point
from pocketlink.store import Store

log = logging.getLogger("pocketlink.metrics")

SAMPLE_EVERY = 1.0
ROLL_UP_EVERY = 60.0

Key = tuple[str, str, int]


class Sampler:
    def __init__(self, store: Store, metrics: MetricStore,
                 counters: Callable[[], dict[Key, Counters]],
                 nat: NatGatewayReader | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.counters = counters
        self.nat = nat
        self.totals: dict[Metric, tuple[float, str]] = {}  # counts since the daemon started
        self.levels: dict[Metric, tuple[float, str]] = {}  # levels, as last sampled
        self._last: dict[Key, tuple[int, ...]] = {}
        self._routes: dict[Key, tuple[int, ListenerSpec, Route]] = {}
        self._nat = NatDeltas()
        self._written: dict[Metric, tuple[float, int]] = {}  # each level's last point
        self._resources: tuple[int, dict] = (-1, {})  # (the store's changes, their levels)
        self._live: tuple[int, set[tuple[str, str]]] = (-1, set())  # (changes, live_names)
        self._sizes = (0, 0)  # of totals and _written, as _forget_the_gone left them

    async def run(self, stop: asyncio.Event) -> None:
        rolled = 0.0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)
            try:
                await self.sample(time.time())
                if time.monotonic() - rolled > ROLL_UP_EVERY:
                    rolled = time.monotonic()
                    self.metrics.roll_up()
            except Exception:  # a bad second must not end the metrics for good
                log.exception("sampling the metrics failed")

    async def sample(self, now: float) -> list[Figure]:
        if self._resources[0] != self.store.changes:  # the resources' levels, made again
            resources = Figures()
            resource_figures(resources, self.store)
            self._resources = (self.store.changes, resources.levels)
        figures = Figures(self._resources[1])
        counted = self.counters()
        for gone in self._last.keys() - counted.keys():  # listeners no longer there
            del self._last[gone]
            self._routes.pop(gone, None)
        for key, counters in list(counted.items()):
            current = (counters.new, counters.bytes_in, counters.bytes_out,
                       counters.elb_resets, counters.target_resets, counters.client_resets)
            before = self._last.get(key, (0,) * len(current))
            self._last[key] = current
            delta = Delta(*(a - b for a, b in zip(current, before, strict=True)),
                          active=counters.active_flows)
            if delta.carried or delta.active:
                listener_figures(figures, self._route(key, counters.spec), delta)
        if self.nat is not None:
            nat_figures(figures, self._nat.take(await self.nat()))
        result = figures.result()
        second = int(now)
        self.metrics.put(Point(f.metric, second, f.value, 1.0, unit=f.unit) for f in result
                         if f.counter or self._changed(f, second // 60))
        levels = {}
        for figure in result:
            if not figure.finest:
                continue
            if figure.counter:
                total, _ = self.totals.get(figure.metric, (0.0, figure.unit))
                self.totals[figure.metric] = (total + figure.value, figure.unit)
            else:
                levels[figure.metric] = (figure.value, figure.unit)
        self.levels = levels
        self._forget_the_gone()
        return result

    def _forget_the_gone(self) -> None:
        """Drops the totals and last written levels of resources no longer in the store.
        Looked at only when a resource went or a metric was added (perhaps a last flow of
        a resource deleted meanwhile): a walk of every total, not made every second."""
        sizes = (len(self.totals), len(self._written))
        lost = False
        if self._live[0] != self.store.changes:
            live = live_names(self.store)
            lost = not self._live[1] <= live
            self._live = (self.store.changes, live)
        if not lost and sizes == self._sizes:
            return
        for table in (self.totals, self._written):
            for metric in [m for m in table if not alive(m, self._live[1])]:
                del table[metric]
        self._sizes = (len(self.totals), len(self._written))

    def _changed(self, figure: Figure, minute: int) -> bool:
        """Whether a level is written this second: when it moved, and once a minute (so
        that every minute of a resource's life has its point, which the bill counts)."""
        last = self._written.get(figure.metric)
        if last is not None and last == (figure.value, minute):
            return False
        self._written[figure.metric] = (figure.value, minute)
        return True

    def _route(self, key: Key, spec: ListenerSpec) -> Route:
        """Whom a listener's flows count for, worked out again when the store changed."""
        cached = self._routes.get(key)
        if cached is not None and cached[0] == self.store.changes and cached[1] == spec:
            return cached[2]
        found = route(self.store, spec)
        self._routes[key] = (self.store.changes, spec, found)
        return found
