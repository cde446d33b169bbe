"""The network reconciler: makes the kernel match the topology the store describes, one
worker per VPC.

Each VPC (its router, its instances) is one key with one worker, as kopf queues per
object: a key is converged serially, different keys in parallel, so a VPC whose process
will not stop or whose route the kernel refuses holds up no other. ``want`` hands a key
its latest desired ``VpcTopology``; nudges that arrive while the worker is busy merge into
its next run. A run observes each namespace, plans the actions with the pure
``changes.diff_*`` and applies them; a spec is recorded as applied only when every one of
its actions succeeded, otherwise the key is tried again after a back-off and its
``failures`` say why, for the state machines to show. A spec already applied is skipped
unless its namespace vanished. A router that links to no other namespace (the kernel
holds nothing there that another run changes) plans first from what its last run left
(``changes.after``), applies that, and only then reads the kernel, closing in the same run
whatever changed behind the daemon's back: a new endpoint's address waited ~0.2 s for the
netlink dumps to be decoded while endpoints were created by the hundred. Each key looks
again at whatever it holds on its own timer, about every ``FULL_PASS`` seconds (a random
part of it, so that keys made together, as at a restart, drift apart: twenty VPCs looked
at all at once held every new endpoint in them up for seconds), and when
``want(..., force=True)`` says the world changed under it.

One more key sweeps away the namespaces nothing wants any more. The internet namespace
(network/internet.py) is converged by ``want_internet``, awaited by the pass before it hands
out the routers whose uplinks lead there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pocketlink.instances import processes
from pocketlink.instances.userdata import Instances
from pocketlink.model.states import INSTANCE_BOOTED
from pocketlink.network import kernel, names, netns
from pocketlink.network.changes import Observed, after
from pocketlink.network.firewall import digest_of
from pocketlink.network.internet import InternetSpec, internet_spec
from pocketlink.network.names import NAMESPACE_PREFIX
from pocketlink.network.topology import HostSpec, RouterSpec, VpcTopology

log = logging.getLogger("pocketlink.network")

FULL_PASS = 60.0
FULL_PASS_SPREAD = 0.25  # each key's period: FULL_PASS less up to this part of it
# Back-off before a key whose last run failed is tried again.
RETRY_FIRST = 0.5
RETRY_MAX = 10.0
# Threads for kernel work: one per busy key, so that a stuck key keeps only its own.
THREADS = 16


@dataclass
class NetworkStatus:
    """What the last runs made true, for the state machines to act on."""

    ready: set[str] = field(default_factory=set)  # instances whose network is up
    halted: set[str] = field(default_factory=set)  # instances with no process left
    failed: dict[str, str] = field(default_factory=dict)  # vpc or instance id -> reason
    namespaces: set[str] = field(default_factory=set)  # the pocketlink namespaces now
    peerings: set[str] = field(default_factory=set)  # peerings whose link is up
    # (router namespace, address) of the ENIs the routers hold now: a listener bound before
    # its address landed (IP_FREEBIND) carries traffic once it is here.
    held: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class _Key:
    """One VPC's worker and its inbox: the latest wanted topology (None: the VPC is gone)."""

    wanted: VpcTopology | None
    force: bool = False
    nudged: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    status: NetworkStatus = field(default_factory=NetworkStatus)
    built: bool = False  # its router converged once in this daemon's life
    looked: float = 0.0  # the loop's time of its last forced run (or of the key's making)


class NetworkReconciler:
    def __init__(self, instances: Instances, owner: str) -> None:
        self.instances = instances
        self.owner = owner  # the state file: which namespaces are this daemon's
        self.changed: Callable[[], None] = lambda: None  # a run finished: look again
        self.hold = asyncio.Event()  # cleared: workers wait (the daemon starts listening first)
        self.hold.set()
        self._keys: dict[str, _Key] = {}
        self._applied: dict[str, tuple[object, int | None]] = {}  # namespace -> (spec, inode)
        # namespace -> (what this daemon's last run there left, inode): the next run plans
        # from it first, and reads the kernel after applying (kernel.plan_router says where).
        self._held: dict[str, tuple[Observed, int | None]] = {}
        self._foreign: dict[str, int] = {}  # namespaces of other daemons, by _entries' inode
        # What a past life left: its routers hold their addresses already.
        self._inherited = _existing()
        self._sweeping: asyncio.Future | None = None
        self._closing = False
        self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="pocketlink-network")
        self.internet = names.internet(owner)  # this daemon's internet namespace
        self._internet: InternetSpec | None = None  # wanted while a gateway is attached
        # At a restart, the keys not run yet in this life, until each has run once (the
        # re-check of what the last life left), and when the first was wanted.
        self._unchecked: set[str] = set()
        self._checking_since: float | None = None

    # --- the keys -------------------------------------------------------------------------
    def want(self, vpc_id: str, wanted: VpcTopology | None, force: bool = False) -> None:
        key = self._keys.get(vpc_id)
        if key is None:
            if wanted is None:
                return
            key = self._keys[vpc_id] = _Key(wanted, looked=asyncio.get_running_loop().time())
            if wanted.router.namespace in self._inherited and (
                    self._checking_since is None or self._unchecked):
                self._checking_since = self._checking_since or asyncio.get_running_loop().time()
                self._unchecked.add(vpc_id)
        key.wanted = wanted
        key.force = key.force or force
        key.nudged.set()
        if key.task is None or key.task.done():
            key.task = asyncio.ensure_future(self._work(vpc_id, key))

    def status(self) -> NetworkStatus:
        status = NetworkStatus()
        for key in self._keys.values():
            status.ready |= key.status.ready
            status.halted |= key.status.halted
            status.failed.update(key.status.failed)
            status.peerings |= key.status.peerings
            status.held |= key.status.held
        status.namespaces = _existing()
        return status

    def routers(self) -> list[RouterSpec]:
        """The routers that can hold listeners: built in this life, or left by the last
        one (at a restart), and not failed in their last run."""
        return [k.wanted.router for vpc_id, k in self._keys.items() if k.wanted is not None
                and vpc_id not in k.status.failed
                and (k.built or k.wanted.router.namespace in self._inherited)]

    async def _work(self, vpc_id: str, key: _Key) -> None:
        loop = asyncio.get_running_loop()
        delay = RETRY_FIRST
        while True:
            due = key.looked + FULL_PASS * (1 - FULL_PASS_SPREAD * random.random())
            timeout = max(0.0, due - loop.time())
            try:
                await asyncio.wait_for(key.nudged.wait(), timeout=min(timeout, delay) if
                                       key.status.failed else timeout)
            except TimeoutError:
                key.force = True  # a retry, or the key's periodic look, looks at everything
            key.nudged.clear()
            await self.hold.wait()
            if self._closing:
                return
            wanted, force = key.wanted, key.force
            key.force = False
            if force:
                key.looked = loop.time()
            if wanted is None:
                del self._keys[vpc_id]
                self._checked(vpc_id)
                self.changed()
                return
            started = loop.time()
            try:
                key.status = await loop.run_in_executor(self._threads, self.converge_vpc,
                                                        wanted, force)
                log.debug("VPC %s run %.3f s (force %s)", vpc_id, loop.time() - started, force)
            except Exception as error:  # a bug, not the kernel: say so and try again
                log.exception("VPC %s", vpc_id)
                key.status = NetworkStatus(failed={vpc_id: str(error)})
            key.built = key.built or vpc_id not in key.status.failed
            delay = min(delay * 2, RETRY_MAX) if key.status.failed else RETRY_FIRST
            self._checked(vpc_id)
            self.changed()

    def _checked(self, vpc_id: str) -> None:
        """Says when every key of the start has run once: the network is checked again
        (bench/restart.py reads this line)."""
        if vpc_id in self._unchecked:
            self._unchecked.discard(vpc_id)
            if not self._unchecked and self._checking_since is not None:
                log.info("network checked again after the start: %d keys in %.2f s",
                         len(self._keys), asyncio.get_running_loop().time() -
                         self._checking_since)

    async def want_internet(self, wanted: bool, force: bool = False) -> bool:
        """The internet namespace, wanted (and converged now) or not (swept away); whether
        it is there as wanted. Runs before the routers are handed out: their uplinks need it."""
        self._internet = internet_spec(self.internet) if wanted else None
        if self._internet is None:
            return False
        loop = asyncio.get_running_loop()
        status = NetworkStatus()
        return await loop.run_in_executor(self._threads, self._converge, self._internet,
                                          kernel.plan_internet, "internet", "internet", force,
                                          status)

    def _current(self, namespace: str, spec: RouterSpec | HostSpec | InternetSpec) -> bool:
        applied = self._applied.get(namespace)
        return applied is not None and applied == (_view(spec), netns.inode(namespace))

    def _converge(self, spec: RouterSpec | HostSpec | InternetSpec,
                  plan: Callable[..., kernel.Planned],
                  resource_id: str,
                  what: str, force: bool, status: NetworkStatus) -> bool:
        """One namespace planned and applied, unless already current; recorded as applied
        only when every action held, else its failure is ``resource_id``'s. Whether it holds."""
        namespace = spec.namespace
        if not force and self._current(namespace, spec):
            return True
        started = time.monotonic()
        inode = netns.inode(namespace)
        held, held_in = self._held.pop(namespace, (None, None))
        trusted = None if force or inode is None or held_in != inode else held
        actions, observed = plan(spec, self._loaded(namespace, force), trusted)
        planned = time.monotonic()
        failures = kernel.apply(actions, self.owner)
        applied = time.monotonic()
        since = actions  # what was applied after ``observed`` was read
        if trusted is not None and not failures:
            # What the last run left is trusted only to put the change in place first: the
            # kernel is read after it, and what changed behind the daemon's back is closed
            # (or fails) in this run, as before.
            left = after(namespace, trusted, actions)
            since, observed = plan(spec, left.ruleset if left else None, None)
            failures = kernel.apply(since, self.owner)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s: planned in %.3f s%s, %d actions applied in %.3f s (%s)%s", what,
                      resource_id, planned - started, " (from its last run)" if trusted
                      else "", len(actions), applied - planned,
                      " ".join(sorted({type(a).__name__ for a in actions})),
                      f"; checked in {time.monotonic() - applied:.3f} s ({len(since)} more)"
                      if trusted else "")
        if failures:
            self._applied.pop(namespace, None)
            status.failed[resource_id] = _reason(failures)
            log.warning("%s %s: %s", what, resource_id, status.failed[resource_id])
            return False
        self._applied[namespace] = (_view(spec), netns.inode(namespace))
        left = after(namespace, observed, since) if observed is not None else None
        if left is not None:
            self._held[namespace] = (left, self._applied[namespace][1])
        return True

    def _loaded(self, namespace: str, force: bool) -> str | None:
        """The digest of the ruleset this daemon last loaded into ``namespace`` (still the
        same namespace), unless a full pass asks the kernel again."""
        applied = self._applied.get(namespace)
        if force or applied is None or applied[1] != netns.inode(namespace):
            return None
        return digest_of(applied[0].ruleset)  # type: ignore[attr-defined]

    def converge_vpc(self, vpc: VpcTopology, force: bool = False) -> NetworkStatus:
        """One run of one key; runs on a worker thread, never on the event loop."""
        status = NetworkStatus()
        router = vpc.router
        if self._converge(router, kernel.plan_router, router.vpc_id, "VPC", force, status):
            status.held = {(router.namespace, address.split("/")[0])
                           for bridge in router.bridges for address in bridge.addresses}
            self._linked(router, status)
        for host in vpc.hosts:
            if not self._converge(host, kernel.plan_host, host.instance_id, "instance", force,
                                  status):
                continue
            if host.state in INSTANCE_BOOTED:
                self.instances.boot(host)
                if router.vpc_id not in status.failed:
                    status.ready.add(host.instance_id)
            else:
                processes.stop_all(host.namespace)
                status.halted.add(host.instance_id)
        for gateway in vpc.gateways:
            if self._converge(gateway, kernel.plan_host, gateway.instance_id, "NAT gateway",
                              force, status) and router.vpc_id not in status.failed:
                status.ready.add(gateway.instance_id)
        return status

    def _linked(self, router: RouterSpec, status: NetworkStatus) -> None:
        """The peerings whose link this router makes (it is the requester's), and that are
        there: one the other router was not ready for is this run's failure, under the
        peering's id (not the VPC's: nothing else of the VPC waits for it), so that the key
        is tried again until the link can be made."""
        made = [link for link in router.peerings if link.makes]
        if not made:
            return
        present = kernel.link_names(router.namespace)
        for link in made:
            if link.name in present:
                status.peerings.add(link.peering_id)
            else:
                self._applied.pop(router.namespace, None)
                status.failed[link.peering_id] = f"the router of {link.peer_namespace} is not there yet"

    # --- the sweep ------------------------------------------------------------------------
    def sweep(self) -> None:
        """Remove the namespaces of this daemon that no key wants, in the background
        (stopping what runs there may take a while); one sweep at a time."""
        wanted = {n for k in self._keys.values() if k.wanted is not None
                  for n in k.wanted.namespaces}
        if self._internet is not None:
            wanted.add(self._internet.namespace)
        strays = {n: entry for n, entry in _entries().items()
                  if n not in wanted and self._foreign.get(n) != entry}
        if not strays or (self._sweeping is not None and not self._sweeping.done()):
            return
        loop = asyncio.get_running_loop()
        self._sweeping = loop.run_in_executor(self._threads, self._remove, strays)
        self._sweeping.add_done_callback(self._swept)

    def _swept(self, done: asyncio.Future) -> None:
        if not done.cancelled() and done.result():
            self.changed()  # namespaces went: instances may now be terminated

    def _remove(self, strays: dict[str, int]) -> int:
        removed = 0
        for namespace, entry in strays.items():
            if netns.owner_of(namespace) != self.owner:
                self._foreign[namespace] = entry
                continue
            try:
                processes.stop_all(namespace)
                netns.remove(namespace)
            except OSError as error:
                log.warning("cannot remove namespace %s: %s", namespace, error)
                continue
            self._applied.pop(namespace, None)
            self._held.pop(namespace, None)
            removed += 1
            log.info("removed namespace %s", namespace)
        self.instances.reap()
        return removed

    async def close(self, timeout: float) -> None:
        """Stop the workers: runs under way get ``timeout`` seconds to finish, then the
        workers are cancelled (as kopf ends its queues: a stop token, a bounded wait)."""
        self._closing = True
        self.hold.set()
        keys = list(self._keys.values())
        for key in keys:
            key.nudged.set()
        tasks: list[asyncio.Future] = [k.task for k in keys if k.task and not k.task.done()]
        if self._sweeping is not None and not self._sweeping.done():
            tasks.append(self._sweeping)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                log.warning("network work still under way at stop; left to end on its own")
                task.cancel()
        # Threads still inside the kernel are left to finish on their own.
        self._threads.shutdown(wait=False, cancel_futures=True)


def _existing() -> set[str]:
    return set(_entries())


def _entries() -> dict[str, int]:
    """The pocketlink namespaces, each with the inode of its file (new when the name is
    made again), read with the directory: a pass looked at every other daemon's namespace
    with a stat of its own, hundreds on a machine that runs several."""
    with contextlib.suppress(FileNotFoundError), os.scandir(netns.NETNS_DIR) as found:
        return {e.name: e.inode() for e in found if e.name.startswith(NAMESPACE_PREFIX)}
    return {}


def _reason(failures: list[kernel.Failure]) -> str:
    first = str(failures[0])
    return first if len(failures) == 1 else f"{first} (and {len(failures) - 1} more)"


def _view(spec: RouterSpec | HostSpec | InternetSpec) -> object:
    return spec.kernel_view if isinstance(spec, HostSpec) else spec


def tear_down(owner: str | None) -> list[str]:
    """``pocketlink down``: the namespaces one daemon made (its state file is ``owner``),
    and any pocketlink namespace no daemon claims, with what runs in them; with ``owner``
    None, every pocketlink namespace on the machine."""
    every = netns.ours()
    doomed = every if owner is None else netns.ours(owner) | {
        n for n in every if netns.owner_of(n) is None}
    removed = []
    for namespace in sorted(doomed):
        processes.stop_all(namespace)
        netns.remove(namespace)
        removed.append(namespace)
    return removed
