"""The DNS process, the daemon's side: the daemon binds every DNS socket, builds the zones
from the store and ships them; the child (child.py) answers the queries.

Why a process: a query answered on the daemon's event loop waits behind whatever the API
is doing, and a tenant's API flood or DNS flood becomes its neighbours' slow lookups. In a
process of its own the DNS has its own loop and its own core's worth of time.

- Sockets: the daemon binds each (UDP, TCP) pair (inside a VPC router's namespace for a
  resolver, on loopback for the public DNS), hands the child a copy, and keeps its own. A
  child that dies is started again (one log line) and handed the same sockets: the
  queries the kernel queued meanwhile are still there, and a stub's retry finds an answer.
- Zones: a *view* is what one server answers from (``public``, or a VPC id), built by the
  zone builders (public.py, vpc.py) when the store changed, at most every ``gap`` seconds
  (twice the time the last build took, at least PUBLISH_GAP: building never takes more than
  a third of the loop). Each zone travels in its plain form (the texts its records were
  added with, not written back from dnspython's objects), under an id that is a hash of
  its content, once: a view is shipped as its zones' ids, and only when those changed, so
  a change in one VPC ships that VPC's view and the zones that are new, not the others'.
  A shipment is versioned; ``current()`` waits until the child answers from the store as
  it is (the private DNS verification asks the public DNS right after a change).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from pocketlink.dataplane import control
from pocketlink.dataplane.priority import raise_priority
from pocketlink.dns.zones import Zone, ZoneSet
from pocketlink.network import netns
from pocketlink.store import Store

log = logging.getLogger("pocketlink.dns")

PUBLISH_GAP = 0.05  # seconds between two shipments of zones, at least
SYNC_TIMEOUT = 2.0  # how long ``current()`` waits for the child
STOP_TIMEOUT = 5.0
RESTART_PAUSE = 0.2
EARLY_DEATH, EARLY_DEATH_PAUSE = 5.0, 5.0  # as the data-plane workers (hyperplane.py)
RESOLVER_PORT = 53

Pair = tuple[socket.socket, socket.socket]


def bind_pair(host: str, port: int) -> Pair:
    """A bound UDP and TCP socket on ``host``:``port``, in this namespace."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        udp.bind((host, port))
        tcp.bind((host, port))
    except OSError:
        udp.close()
        tcp.close()
        raise
    return udp, tcp


def bind_resolver(namespace: str, addresses: tuple[str, ...]) -> list[Pair]:
    """A VPC resolver's bound UDP and TCP sockets on port 53 of each of ``addresses``
    (``a.b.c.d/nn`` or plain), made inside ``namespace``."""
    def make() -> list[Pair]:
        made: list[socket.socket] = []
        try:
            for address in addresses:
                ip = address.split("/")[0]
                family = socket.AF_INET6 if ":" in ip else socket.AF_INET
                udp = socket.socket(family, socket.SOCK_DGRAM)
                made.append(udp)
                tcp = socket.socket(family, socket.SOCK_STREAM)
                made.append(tcp)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                udp.bind((ip, RESOLVER_PORT))
                tcp.bind((ip, RESOLVER_PORT))
        except OSError:
            # One address not there yet: none stays bound, or the next try finds it taken.
            for sock in made:
                sock.close()
            raise
        return list(zip(made[::2], made[1::2], strict=True))
    return netns.run_in(namespace, make)


@dataclass
class _View:
    build: Callable[[Store], ZoneSet] | None  # None: restored, not taken over yet
    recursive: bool
    pairs: list[Pair]


class DnsProcess:
    def __init__(self, store: Store | None = None) -> None:
        """``store``: None for one started from the serving snapshot (snapshot.py) before
        the store is open; ``attach`` gives it the store."""
        self.store: Store = store  # type: ignore[assignment]
        self.pid: int | None = None
        self._views: dict[str, _View] = {}
        self._shipped: dict[str, list[str]] = {}  # view -> its zones' ids, as the child has it
        self._plain: dict[str, dict] = {}  # zone id -> plain form, for a restarted child
        self._named: Counter[str] = Counter()  # zone id -> how many views name it
        self._seen: dict[int, tuple[Zone, str]] = {}  # id(zone) -> it and its id, last built
        self._built_at = -1
        self._version = 0
        self._acked = 0
        self._synced = asyncio.Event()
        self._gap = PUBLISH_GAP
        self._next = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._channel: control.Channel | None = None
        self._restarting: asyncio.Task | None = None
        self._stopping = False
        if store is not None:
            self.attach(store)

    def attach(self, store: Store) -> None:
        self.store = store
        store.listeners.append(self._changed)

    # --- what the daemon asks ----------------------------------------------------------
    async def start(self) -> None:
        if self._process is None:  # not started from the snapshot already
            await self._start()

    def restore(self, zones: dict[str, dict], views: dict[str, tuple[list[Pair], list[str]]]
                ) -> None:
        """Serve each resolver view on its sockets from the zones the snapshot kept
        (``views``: name -> its sockets and its zones' ids), before the store is read;
        ``adopt`` later gives each its builder, and the store's zones replace these."""
        for name, (pairs, ids) in views.items():
            self._views[name] = _View(None, True, pairs)
            self._shipped[name] = ids
        self._named = Counter(i for ids in self._shipped.values() for i in ids)
        self._plain = {i: zones[i] for i in self._named}
        self._ship({"zones": self._plain, "views": dict(self._shipped), "dropped": []})
        for name, view in self._views.items():
            for pair in view.pairs:
                self._hand(name, view, pair)

    async def handed(self) -> None:
        """Returns once the child's channel holds everything sent to it (or SYNC_TIMEOUT
        passed). The daemon's loop stalls right after a restore (``import
        pocketlink.daemon``, some 1.5 s of CPU): a resolver whose socket the channel could
        not take yet would answer only after it. The channel holds some 280 messages ahead
        of the child, and a restore sends one per resolver address (765 at 1,000
        namespaces): most resolvers answered 1.5-3 s late before this wait."""
        if self._channel is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SYNC_TIMEOUT):
                    await self._channel.drained()

    def adopt(self, view: str, build: Callable[[Store], ZoneSet]) -> None:
        """A restored view taken over: built from the store from now on."""
        found = self._views.get(view)
        if found is not None and found.build is None:
            found.build = build
            self._changed()

    def served(self, views: set[str]) -> tuple[dict[str, dict], dict[str, list[str]]]:
        """The zones (by id) and the zone ids of ``views`` as the child has them: what the
        serving snapshot keeps."""
        shipped = {name: ids for name, ids in self._shipped.items() if name in views}
        return {i: self._plain[i] for ids in shipped.values() for i in ids}, shipped

    def serve(self, view: str, pairs: list[Pair], build: Callable[[Store], ZoneSet],
              recursive: bool) -> None:
        """Answer for ``view`` on ``pairs`` (from now on this object's), from ``build``."""
        self._views[view] = _View(build, recursive, pairs)
        self.publish(only=view)  # its zones before its sockets: no query finds it empty
        for pair in pairs:
            self._hand(view, self._views[view], pair)

    def close(self, view: str) -> None:
        closed = self._views.pop(view, None)
        if closed is None:
            return
        self._send({"op": "close", "view": view})
        for udp, tcp in closed.pairs:
            udp.close()
            tcp.close()
        if view in self._shipped:
            # The child forgets the zones no view names now: so does what is shipped next.
            for zone_id in self._rename(view, None):
                del self._plain[zone_id]
            self._ship({"zones": {}, "views": {}, "dropped": [view]})

    async def current(self) -> None:
        """Returns once the child answers from the store as it is now (or SYNC_TIMEOUT
        passed: a child that is restarting gets the zones when it is back). A build already
        due is waited for, not brought forward: callers in a flood of changes share it."""
        wanted = self.store.changes
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SYNC_TIMEOUT):
                while self._built_at < wanted or self._acked < self._version:
                    if self._built_at < wanted and self._timer is None:
                        self._changed()
                    self._synced.clear()
                    await self._synced.wait()

    async def stop(self) -> None:
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
        if self._restarting is not None:
            self._restarting.cancel()
        if self._channel is not None:
            self._channel.close()  # end of file: the child stops
        if self._process is not None and self._process.returncode is None:
            try:
                await asyncio.wait_for(self._process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                log.warning("DNS process (pid %d) did not stop; killing it", self._process.pid)
                self._process.kill()
                await self._process.wait()
        for view in self._views.values():
            for udp, tcp in view.pairs:
                udp.close()
                tcp.close()
        self._views.clear()

    # --- zones -------------------------------------------------------------------------
    def _changed(self) -> None:
        """Soon after a quiet spell (what the API just wrote is answered at once), else
        once the gap since the last build has passed."""
        if self._timer is None and not self._stopping:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(max(loop.time(), self._next), self.publish)

    def publish(self, only: str | None = None) -> None:
        """Builds every view (or ``only`` that one) now, and ships what changed."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        if only is not None:
            self._publish_one(only)
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._built_at = self.store.changes
        views: dict[str, list[str]] = {}
        plain = dict(self._plain)
        seen: dict[int, tuple[Zone, str]] = {}
        for name in list(self._views):
            ids = self._build(name, plain, seen)
            views[name] = self._shipped.get(name, []) if ids is None else ids
        changed = {name: ids for name, ids in views.items() if self._shipped.get(name) != ids}
        dropped = [name for name in self._shipped if name not in views]
        self._named = Counter(i for ids in views.values() for i in ids)
        new = {i: plain[i] for i in self._named if i not in self._plain}
        self._plain, self._shipped, self._seen = {i: plain[i] for i in self._named}, views, seen
        if changed or dropped:
            self._ship({"zones": new, "views": changed, "dropped": dropped})
        self._synced.set()  # built: whoever waits for it looks again
        self._gap = max(PUBLISH_GAP, 2 * (time.perf_counter() - started))
        self._next = loop.time() + self._gap

    def _publish_one(self, name: str) -> None:
        """One view built and shipped, at a cost of its own zones, not of every view's: a
        restart brings a thousand resolvers back one after another."""
        plain: dict[str, dict] = {}
        ids = self._build(name, plain, self._seen)
        if ids is not None and ids != self._shipped.get(name):
            new = {i: plain[i] for i in ids if i not in self._plain}
            self._plain.update(new)
            gone = self._rename(name, ids)
            self._ship({"zones": new, "views": {name: ids}, "dropped": []})
            for zone_id in gone:  # the child forgets them too, as no view names them
                del self._plain[zone_id]
        self._synced.set()

    def _build(self, name: str, plain: dict[str, dict],
               seen: dict[int, tuple[Zone, str]]) -> list[str] | None:
        """The ids of view ``name``'s zones (None: it could not be built), each new one's
        plain form put in ``plain``. A zone object built before (the public zones every
        view shares, each region's AWS names, built once) keeps its id from ``_seen``:
        it is not turned into its plain form and hashed again."""
        build = self._views[name].build
        if build is None:  # restored, not taken over yet: it keeps what it has
            return None
        try:
            zones = build(self.store)
        except Exception:
            log.exception("the zones of %s could not be built; it keeps its last", name)
            return None
        ids = []
        for zone in zones.zones:
            known = self._seen.get(id(zone))
            if known is not None and known[0] is zone and (known[1] in self._plain
                                                           or known[1] in plain):
                zone_id = known[1]
            else:
                form = zone.plain()
                zone_id = hashlib.blake2b(json.dumps(form, sort_keys=True).encode(),
                                          digest_size=12).hexdigest()
                if zone_id not in self._plain:
                    plain.setdefault(zone_id, form)
            seen[id(zone)] = (zone, zone_id)
            ids.append(zone_id)
        return ids

    def _rename(self, name: str, ids: list[str] | None) -> list[str]:
        """View ``name`` now names ``ids`` (None: it is gone); the ids no view names now."""
        old = self._shipped.pop(name, [])
        if ids is not None:
            self._shipped[name] = ids
            self._named.update(ids)
        self._named.subtract(old)
        gone = [i for i in set(old) if self._named[i] <= 0]
        for zone_id in gone:
            del self._named[zone_id]
        return gone

    def _ship(self, shipment: dict) -> None:
        if self._channel is None:
            return  # no child now: the next one is shipped everything as it starts
        self._version += 1
        fd = os.memfd_create("pocketlink-zones", os.MFD_CLOEXEC)
        try:
            with os.fdopen(os.dup(fd), "w") as out:
                json.dump(shipment, out)
            os.lseek(fd, 0, os.SEEK_SET)
            self._send({"op": "zones", "version": self._version}, [fd])
        finally:
            os.close(fd)

    # --- the child ---------------------------------------------------------------------
    def _send(self, message: control.Message, fds: list[int] | tuple[int, ...] = ()) -> None:
        if self._channel is not None:
            self._channel.send(message, fds)

    def _hand(self, name: str, view: _View, pair: Pair) -> None:
        self._send({"op": "serve", "view": name, "recursive": view.recursive},
                   [pair[0].fileno(), pair[1].fileno()])

    async def _start(self) -> None:
        mine, theirs = control.pair()
        with theirs:
            self._process = process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pocketlink.dns.child", str(theirs.fileno()),
                "--log-level", logging.getLevelName(logging.getLogger().getEffectiveLevel()),
                pass_fds=(theirs.fileno(),), stdin=asyncio.subprocess.DEVNULL)
        self.pid = process.pid
        raise_priority(process.pid)
        started = asyncio.get_running_loop().time()
        self._channel = control.Channel(mine, self._heard,
                                        lambda: self._gone(process, started))
        if self._shipped:  # a restart: everything the last child had, then its sockets
            self._ship({"zones": self._plain, "views": self._shipped, "dropped": []})
        for name, view in self._views.items():
            for pair in view.pairs:
                self._hand(name, view, pair)

    def _heard(self, message: control.Message, fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        if message["op"] == "zones":
            self._acked = max(self._acked, message["version"])
            self._synced.set()

    def _gone(self, process: asyncio.subprocess.Process, started: float) -> None:
        self._channel = None
        self._acked = self._version  # nothing to wait for: the next child gets it all
        self._synced.set()
        if not self._stopping:
            self._restarting = asyncio.ensure_future(self._restart(process, started))

    async def _restart(self, process: asyncio.subprocess.Process, started: float) -> None:
        code = await process.wait()
        if self._stopping:
            return
        log.warning("DNS process (pid %d) exited with %s; starting another with its %d "
                    "servers", process.pid, code, len(self._views))
        lived = asyncio.get_running_loop().time() - started
        await asyncio.sleep(RESTART_PAUSE if lived > EARLY_DEATH else EARLY_DEATH_PAUSE)
        if not self._stopping:
            await self._start()
