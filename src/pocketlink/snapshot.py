"""What the endpoints' listeners and the VPCs' resolvers served, kept for a restart.

Why: at a restart, traffic would otherwise wait for the daemon's imports (the store's
models, the reconciler, botocore's service models), its keys and its first pass: some
10 s at 1,000 namespaces (issue 14 item 7 asks for 2 s). So the daemon keeps, beside its
state file (``<state>.serving``, 0600, replaced whole), what the data plane's listeners
carry (their specs: address, port, targets as their health left them, TLS) and what each
VPC's resolver answers (its router's namespace, its addresses, its zones in the plain form
the DNS process takes). ``restore`` runs before those imports (cli ``up``): it starts the
data-plane workers and the DNS process, binds the listeners and the resolvers in their
namespaces from the snapshot and hands them over, and returns once the workers took the
listeners and the DNS process's channel holds every resolver's sockets (the imports then
block the daemon's loop, and what it had not sent would wait for them; the DNS process
reads each zone at its first query, so it answers as soon as it is handed a socket); the
daemon's first pass takes them over (a listener planned as it was is not bound again; each
resolver's zones are built from the store again), and the network is looked at after, as
without a snapshot.

A snapshot that is missing, unreadable, of another format or another pocketlink's is
ignored (the start is then as without one). The start holds the state's claim before it
reads one (gateway/control.py), so no other daemon serves the same listeners.
It is written after a pass that changed what is served, at most every ``SAVE_GAP`` seconds
(a later pass writes what a gap held back).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from pocketlink import __version__
from pocketlink.dataplane import control
from pocketlink.dataplane.hyperplane import Hyperplane
from pocketlink.dataplane.spec import ListenerSpec
from pocketlink.dns.process import DnsProcess, bind_resolver
from pocketlink.network import netns
from pocketlink.private_files import replace_private

log = logging.getLogger("pocketlink.snapshot")

FORMAT = 1
SAVE_GAP = 2.0
# vpc id -> (its router's namespace, its resolver addresses)
Resolvers = dict[str, tuple[str, tuple[str, ...]]]


def path_for(state: Path) -> Path:
    return state.with_name(state.name + ".serving")


@dataclass
class Restored:
    """What ``restore`` started, for the daemon to take over."""

    hyperplane: Hyperplane
    dns: DnsProcess
    resolvers: Resolvers  # those bound
    taken: bool = False  # by the daemon's Lifecycle, which stops them from then on

    async def close(self) -> None:
        await self.hyperplane.close()
        await self.dns.stop()


def _listener(message: dict) -> ListenerSpec:
    """A spec as the control channel carries it, with its target group (the daemon's
    alone, which the workers are not told)."""
    spec = control.spec_from(message)
    return replace(spec, backend=replace(spec.backend, target_group=message["target_group"]))


def _present(namespace: str) -> bool:
    return (netns.NETNS_DIR / namespace).exists()


def read(state: Path) -> tuple[dict[tuple[str, str, int], ListenerSpec], Resolvers,
                               dict[str, dict], dict[str, list[str]]] | None:
    """The snapshot's listeners, resolvers, zones and views (zone ids per VPC), or None."""
    path = path_for(state)
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT or data.get("version") != __version__:
            log.info("the serving snapshot %s is another pocketlink's; starting without it",
                     path)
            return None
        listeners = {spec.key: spec for spec in map(_listener, data["listeners"])}
        resolvers = {vpc: (namespace, tuple(addresses))
                     for vpc, (namespace, addresses) in data["resolvers"].items()}
        zones = {str(i): dict(zone) for i, zone in data["zones"].items()}
        # A resolver whose zones were never shipped has no view yet: it serves none.
        views = {vpc: [str(i) for i in data["views"].get(vpc, ())] for vpc in resolvers}
        if any(i not in zones for ids in views.values() for i in ids):
            raise ValueError("a view names a zone it does not hold")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("the serving snapshot %s cannot be read (%s); starting without it",
                    path, error)
        return None
    return listeners, resolvers, zones, views


async def restore(state: Path) -> Restored | None:
    """The listeners and resolvers of the snapshot, served; None without one. The caller
    holds the state's claim (gateway/control.py), so no live daemon serves them too."""
    found = read(state)
    if found is None:
        return None
    listeners, resolvers, zones, views = found
    # Namespaces gone (``pocketlink down``, a reboot): theirs wait for the first pass.
    listeners = {key: spec for key, spec in listeners.items() if _present(spec.namespace)}
    resolvers = {vpc: where for vpc, where in resolvers.items() if _present(where[0])}
    if not listeners and not resolvers:
        return None
    started = time.perf_counter()
    dns, hyperplane = DnsProcess(), Hyperplane()
    await asyncio.gather(dns.start(), hyperplane.start())

    async def bind(vpc: str, namespace: str, addresses: tuple[str, ...]):
        try:
            return vpc, await asyncio.to_thread(bind_resolver, namespace, addresses)
        except OSError as error:
            log.warning("resolver of %s not restored: %s", vpc, error)
            return vpc, None

    async def resolve() -> dict:
        """The resolvers handed over as soon as they are bound: not after the listeners,
        whose hand-over waits for the workers to take them."""
        bound = await asyncio.gather(*(bind(vpc, *where) for vpc, where in resolvers.items()))
        served = {vpc: (pairs, views[vpc]) for vpc, pairs in bound if pairs is not None}
        dns.restore(zones, served)
        await dns.handed()
        return served

    served, _ = await asyncio.gather(resolve(), hyperplane.sync(listeners))
    log.info("%d listeners and %d resolvers back from the serving snapshot in %.2f s",
             len(listeners), len(served), time.perf_counter() - started)
    return Restored(hyperplane, dns, {vpc: resolvers[vpc] for vpc in served})


class Keeper:
    """Writes the snapshot when what is served changed (compared with what it wrote)."""

    def __init__(self, state: Path) -> None:
        self.path = path_for(state)
        self._written: tuple | None = None
        self._at = -SAVE_GAP
        self._last: tuple | None = None  # the last pass's, for flush

    def flush(self) -> None:
        """What a gap held back, written now: a stop must not leave the next start an
        older picture (an endpoint deleted just before it served again)."""
        if self._last is not None:
            self.save(*self._last, force=True)

    def save(self, listeners: Mapping[tuple[str, str, int], ListenerSpec],
             resolvers: Resolvers, dns: DnsProcess, force: bool = False) -> None:
        """``force``: even within ``SAVE_GAP`` of the last write (the daemon's stop)."""
        self._last = (listeners, resolvers, dns)
        zones, views = dns.served(set(resolvers))
        now = time.monotonic()
        what = (dict(listeners), dict(resolvers), views)
        if what == self._written or (not force and now - self._at < SAVE_GAP):
            return
        data = {"format": FORMAT, "version": __version__,
                "listeners": [{**control.spec_message(spec),
                               "target_group": spec.backend.target_group}
                              for spec in listeners.values()],
                "resolvers": {vpc: [namespace, list(addresses)]
                              for vpc, (namespace, addresses) in resolvers.items()},
                "zones": zones, "views": views}
        try:
            replace_private(self.path, json.dumps(data).encode())
        except OSError as error:
            log.warning("the serving snapshot %s not written: %s", self.path, error)
            return
        self._written, self._at = what, now
