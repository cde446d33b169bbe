"""The hyperplane, the daemon's side: listeners on endpoint ENIs and NLB nodes, bound here
and carried by data-plane worker processes (worker.py).

The daemon's event loop also serves the API; a flow on it would be stalled by a heavy
request, and one loop is one core and one process's descriptors. So the flows live in
``WORKERS`` processes (one per core), each with its own loop and descriptor limit. For
every planned listener the daemon makes one socket per worker inside the listener's
namespace, all bound to the same address with SO_REUSEPORT, so that the kernel spreads new
connections over the workers (a shared socket would let whichever worker wakes first take
a whole batch), and hands each worker its socket over the control channel (control.py).
The daemon keeps its copies: a worker that dies is started again and handed the same
sockets, and the connections that queued meanwhile are still there.

A listener is ready (its endpoint may turn ``available``) once every worker has said it
accepts on it and its address is in its namespace: available means traffic flows. It is
bound before that (IP_FREEBIND), beside the network run that puts the address there.

Stopping is bounded, as uvicorn's: ``close`` drains, the workers stop accepting, open
flows get ``grace`` seconds (DRAIN_GRACE) to finish, the rest are reset, and the workers
exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass, field

from pocketlink.dataplane import control
from pocketlink.dataplane.priority import raise_priority
from pocketlink.dataplane.sockets import NamespaceSockets, Stock
from pocketlink.dataplane.spec import ListenerSpec
from pocketlink.dataplane.worker import Key, family

log = logging.getLogger("pocketlink.dataplane")

BACKLOG = 4096
WORKERS = len(os.sched_getaffinity(0))  # the cores this daemon may use
DRAIN_GRACE = 5.0  # seconds open flows get to finish when the daemon stops
EXIT_MARGIN = 5.0  # past the grace, a worker that has not exited is killed
ACK_TIMEOUT = 2.0  # how long a pass waits for the workers to take new listeners
RESTART_PAUSE = 0.2
IP_TRANSPARENT = getattr(socket, "IP_TRANSPARENT", 19)
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)  # IPv6 sockets heed it too (Linux 4.15+)
# A worker that dies this soon after its start is likely to die again (a broken install):
# the next start waits longer, so that the log gets a line every few seconds, not a flood.
EARLY_DEATH, EARLY_DEATH_PAUSE = 5.0, 5.0


@dataclass
class _Listening:
    spec: ListenerSpec
    socks: list[socket.socket]  # one per worker, by index

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


@dataclass
class Counters:
    """What one listener carried since the daemon started, from every worker's tallies
    (worker.py): flows, bytes each way (in: client to target), resets by who caused them;
    ``active``, its open flows per worker now. ``spec``: the listener as last planned
    (kept after it closes, so its last flows are still put down to their owner).
    ``targets``: per target (address, port), [flows ended, bytes both ways]."""

    spec: ListenerSpec
    new: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    elb_resets: int = 0
    target_resets: int = 0
    client_resets: int = 0
    active: dict[int, int] = field(default_factory=dict)
    targets: dict[tuple[str, int], list[int]] = field(default_factory=dict)

    def add_target(self, address: str, port: int, flows: int, carried: int) -> None:
        counts = self.targets.setdefault((address, port), [0, 0])
        counts[0] += flows
        counts[1] += carried

    def add(self, worker: int, counts: list[int]) -> None:
        new, bytes_in, bytes_out, elb, target, client, active = counts
        self.new += new
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out
        self.elb_resets += elb
        self.target_resets += target
        self.client_resets += client
        self.active[worker] = active

    @property
    def active_flows(self) -> int:
        return sum(self.active.values())


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process
    started: float
    channel: control.Channel | None = None
    accepting: set[Key] = field(default_factory=set)
    waiters: dict[Key, list[asyncio.Future]] = field(default_factory=dict)


class Hyperplane:
    def __init__(self, workers: int = WORKERS, grace: float = DRAIN_GRACE) -> None:
        self.sockets = NamespaceSockets()  # the health checks' probes, checkip's listeners
        # The listeners' own sockets, made on the loop's thread (setns there and back): a
        # hand-off to a namespace's thread waits for the interpreter lock, which threads
        # decoding netlink hold for long stretches (passes took 20 s to bind a dozen).
        self._stock = Stock(workers)
        self.grace = grace
        self._count = workers
        self._workers: list[_Worker | None] = [None] * workers
        self._listening: dict[Key, _Listening] = {}
        self._restarting: set[asyncio.Task] = set()
        self._stopping = False
        self.counters: dict[Key, Counters] = {}  # every listener's, since the daemon started

    def ready(self, owner: str, planned: dict[Key, ListenerSpec],
              held: set[tuple[str, str]]) -> bool:
        """Whether every worker accepts on every listener the plan gives ``owner``, and the
        namespace holds each one's address (``held``: (namespace, address) pairs): a
        listener is bound with IP_FREEBIND before its address lands. A gateway endpoint's
        listener is on a service's public address, which no namespace holds."""
        specs = [spec for spec in planned.values() if spec.owner == owner]
        keys = [spec.key for spec in specs]
        return all(spec.key in self._listening and (
            spec.backend.gateway_routes or (spec.namespace, spec.address) in held)
            for spec in specs) and all(
            worker is not None and all(key in worker.accepting for key in keys)
            for worker in self._workers)

    async def start(self) -> None:
        """The workers not running yet, started: called before the first pass plans
        anything, so that their start-up (a Python's imports) runs while the daemon binds
        the resolvers and plans, not after (at a restart, traffic waits for them)."""
        for index, worker in enumerate(self._workers):
            if worker is None and not self._stopping:
                self._workers[index] = await self._start(index)

    async def sync(self, planned: dict[Key, ListenerSpec],
                   also_used: frozenset[str] | set[str] = frozenset()) -> None:
        """Listeners as planned; ``also_used``: namespaces others make sockets in (health
        checks), whose socket threads must stay. Waits (a little) for the workers to take
        the listeners it hands them."""
        if self._stopping:
            return
        await self.start()
        for key in list(self._listening):
            if key not in planned:
                self._listening.pop(key).close()
                self._tell_all({"op": "close", "key": list(key)})
                for worker in self._live():
                    worker.accepting.discard(key)
        new = []
        for key, spec in planned.items():
            current = self._listening.get(key)
            if current is None:
                new.append(spec)
            elif current.spec != spec:
                current.spec = spec
                self._tell_all({"op": "update", "spec": control.spec_message(spec)})
        # Bound one after another on the loop's thread (``Stock``), each handed to the
        # workers as soon as it is bound: a client the kernel has queued on it waits for a
        # worker to accept, not for every other new listener to be bound.
        clock = asyncio.get_running_loop().time
        started = clock()
        handed = await asyncio.gather(*(self._add(spec) for spec in new))
        bound = clock()
        taken = [future for futures in handed for future in futures]
        if taken:
            await asyncio.wait(taken, timeout=ACK_TIMEOUT)
        if new:
            log.debug("%d new listeners bound in %.3f s, taken in %.3f s", len(new),
                      bound - started, clock() - bound)
        self.sockets.keep_only(set(also_used) | {k[0] for k in self._listening})
        self._stock.keep_only({k[0] for k in self._listening})

    async def _add(self, spec: ListenerSpec) -> list[asyncio.Future]:
        """Binds a new listener and hands it to the workers; futures done as they accept."""
        socks = await self._bind(spec)
        if socks is None:
            return []
        if self._stopping:  # a stop came while binding
            for sock in socks:
                sock.close()
            return []
        self._listening[spec.key] = listening = _Listening(spec, socks)
        return [self._hand(worker, spec.key, listening) for worker in self._live()]

    def _live(self) -> list[_Worker]:
        return [w for w in self._workers if w is not None and w.channel is not None]

    def _tell_all(self, message: control.Message) -> None:
        for worker in self._live():
            assert worker.channel is not None
            worker.channel.send(message)

    def _hand(self, worker: _Worker, key: Key, listening: _Listening) -> asyncio.Future:
        """Gives ``worker`` its socket of a listener; the future is done once it accepts."""
        assert worker.channel is not None
        taken = asyncio.get_running_loop().create_future()
        worker.waiters.setdefault(key, []).append(taken)
        worker.channel.send({"op": "listen", "spec": control.spec_message(listening.spec)},
                            [listening.socks[worker.index].fileno()])
        return taken

    async def _bind(self, spec: ListenerSpec) -> list[socket.socket] | None:
        """One listening socket per worker, or None (logged) when the address cannot be
        bound yet."""
        socks: list[socket.socket] = []
        try:
            for _ in range(self._count):
                socks.append(await self._listen(spec))
        except OSError as error:
            for sock in socks:
                sock.close()
            # An address the network pass has not put in place yet: the next pass binds.
            level = logging.DEBUG if error.errno == errno.EADDRNOTAVAIL else logging.WARNING
            log.log(level, "cannot listen on %s:%d in %s: %s", spec.address, spec.port,
                    spec.namespace, error)
            return None
        return socks

    async def _listen(self, spec: ListenerSpec) -> socket.socket:
        # Stock makes the C type under socket.socket; the daemon keeps the full one.
        sock = socket.socket(fileno=self._stock.take(spec.namespace, family(spec.address)).detach())
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if sock.family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            # Bound before the ENI's address is in the namespace: a new endpoint's listener
            # need not wait for its VPC's network run, which runs beside it; the kernel
            # takes its SYNs once the address lands (the endpoint turns available only then,
            # reconcile/lifecycle.py).
            sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
            if spec.backend.gateway_routes:
                # A service's public address, which only a local route brings here
                # (plan.py): bound and answered from though the router does not hold it.
                sock.setsockopt(socket.IPPROTO_IP, IP_TRANSPARENT, 1)
            sock.bind((spec.address, spec.port))
            sock.listen(BACKLOG)
        except OSError:
            sock.close()
            raise
        return sock

    # --- the worker processes ----------------------------------------------------------
    async def _start(self, index: int) -> _Worker:
        mine, theirs = control.pair()
        with theirs:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pocketlink.dataplane.worker", str(theirs.fileno()),
                "--grace", str(self.grace),
                "--log-level", logging.getLevelName(logging.getLogger().getEffectiveLevel()),
                pass_fds=(theirs.fileno(),), stdin=asyncio.subprocess.DEVNULL)
        raise_priority(process.pid)
        worker = _Worker(index, process, asyncio.get_running_loop().time())
        worker.channel = control.Channel(
            mine, lambda message, fds: self._heard(worker, message, fds),
            lambda: self._gone(worker))
        for key, listening in self._listening.items():
            self._hand(worker, key, listening)
        return worker

    def _heard(self, worker: _Worker, message: control.Message, fds: list[int]) -> None:
        for fd in fds:
            socket.close(fd)
        if message["op"] == "tally":
            self._tallied(worker, message["listeners"], message.get("targets", []))
        elif message["op"] == "listening":
            key = tuple(message["key"])
            worker.accepting.add(key)
            for taken in worker.waiters.pop(key, []):
                if not taken.done():
                    taken.set_result(None)

    def _tallied(self, worker: _Worker, listeners: list[list], targets: list[list]) -> None:
        for namespace, address, port, *counts in listeners:
            counters = self._counters((namespace, address, port))
            if counters is not None:
                counters.add(worker.index, counts)
        for namespace, address, port, *counts in targets:
            counters = self._counters((namespace, address, port))
            if counters is not None:
                counters.add_target(*counts)

    def _counters(self, key: Key) -> Counters | None:
        """The listener's counters, made at its first tally; None for a listener this
        daemon never planned (nothing to put its flows down to)."""
        counters = self.counters.get(key)
        listening = self._listening.get(key)
        if counters is None:
            if listening is None:
                return None
            counters = self.counters[key] = Counters(listening.spec)
        elif listening is not None:
            counters.spec = listening.spec
        return counters

    def target_counts(self) -> dict[tuple[str, str, int], tuple[int, int]]:
        """Flows ended and bytes per target group ARN, target address and port, over
        every listener that forwards to the group (an NLB's, its endpoints')."""
        found: dict[tuple[str, str, int], tuple[int, int]] = {}
        for counters in self.counters.values():
            group = counters.spec.backend.target_group
            if not group:
                continue
            for (address, port), (flows, carried) in counters.targets.items():
                had = found.get((group, address, port), (0, 0))
                found[(group, address, port)] = (had[0] + flows, had[1] + carried)
        return found

    def _gone(self, worker: _Worker) -> None:
        for counters in self.counters.values():
            counters.active.pop(worker.index, None)  # its flows died with it
        worker.channel = None
        worker.accepting.clear()
        for waiters in worker.waiters.values():
            for taken in waiters:
                taken.cancel()
        worker.waiters.clear()
        if not self._stopping:
            task = asyncio.ensure_future(self._restart(worker))
            self._restarting.add(task)
            task.add_done_callback(self._restarting.discard)

    async def _restart(self, worker: _Worker) -> None:
        code = await worker.process.wait()
        if self._stopping:
            return
        log.warning("data-plane worker %d (pid %d) exited with %s; starting another with "
                    "its %d listeners", worker.index, worker.process.pid, code,
                    len(self._listening))
        lived = asyncio.get_running_loop().time() - worker.started
        await asyncio.sleep(RESTART_PAUSE if lived > EARLY_DEATH else EARLY_DEATH_PAUSE)
        if not self._stopping and self._workers[worker.index] is worker:
            self._workers[worker.index] = await self._start(worker.index)

    # --- stopping ----------------------------------------------------------------------
    async def drain(self, grace: float) -> None:
        """Stop accepting, give open flows ``grace`` seconds to finish, reset the rest. The
        daemon forces an end by cancelling this wait (the workers are then told to stop
        now), or by exiting (a worker whose daemon is gone while it drains stops now)."""
        if self._stopping:
            return
        self._stopping = True
        for task in list(self._restarting):
            task.cancel()
        self._tell_all({"op": "drain", "grace": grace})
        for listening in self._listening.values():
            listening.close()  # with every copy closed, the kernel stops taking connections
        self._listening.clear()
        processes = [w.process for w in self._workers if w is not None]
        try:
            exits = [asyncio.ensure_future(p.wait()) for p in processes]
            if exits:
                await asyncio.wait(exits, timeout=grace + EXIT_MARGIN)
        except asyncio.CancelledError:
            _stop_now(processes)
            raise
        for process in processes:
            if process.returncode is None:
                log.warning("data-plane worker (pid %d) did not stop; killing it", process.pid)
                process.kill()
                await process.wait()

    async def close(self) -> None:
        await self.drain(self.grace)
        self.sockets.close()
        self._stock.close()


def _stop_now(processes: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM to a draining worker: reset its flows and exit now."""
    for process in processes:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
