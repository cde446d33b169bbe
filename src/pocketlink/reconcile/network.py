"""The network reconciler: makes the kernel match the topology the store describes.

A pass takes the desired ``Topology`` (computed on the event loop, where the store lives)
to a worker thread, converges each VPC router and instance host, boots or stops what runs
inside, and removes every pocketlink namespace nothing wants any more. A spec already
applied is skipped unless its namespace vanished; a full pass at start and every
``FULL_PASS`` seconds repairs whatever drifted behind pocketlink's back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from pocketlink.instances import processes
from pocketlink.instances.userdata import Instances
from pocketlink.network import kernel, netns
from pocketlink.network.topology import HostSpec, RouterSpec, Topology

log = logging.getLogger("pocketlink.network")

FULL_PASS = 60.0


@dataclass
class NetworkStatus:
    """What the last pass made true, for the state machines to act on."""

    ready: set[str] = field(default_factory=set)  # instances whose network is up
    halted: set[str] = field(default_factory=set)  # instances with no process left
    failed: dict[str, str] = field(default_factory=dict)  # resource id -> reason
    namespaces: set[str] = field(default_factory=set)  # the pocketlink namespaces after it


class NetworkReconciler:
    def __init__(self, instances: Instances, owner: str) -> None:
        self.instances = instances
        self.owner = owner  # the state file: which namespaces are this daemon's
        self._applied: dict[str, tuple[object, int | None]] = {}  # namespace -> (spec, inode)
        self._last_full = 0.0

    def _current(self, namespace: str, spec: RouterSpec | HostSpec) -> bool:
        applied = self._applied.get(namespace)
        return applied is not None and applied == (_view(spec), netns.inode(namespace))

    def converge(self, topology: Topology) -> NetworkStatus:
        """One pass; runs on a worker thread, never on the event loop."""
        full = time.monotonic() - self._last_full >= FULL_PASS
        if full:
            self._applied.clear()
            self._last_full = time.monotonic()
        status = NetworkStatus()
        for router in topology.routers:
            if self._current(router.namespace, router):
                continue
            try:
                kernel.converge_router(router, self.owner)
                self._applied[router.namespace] = (_view(router), netns.inode(router.namespace))
            except Exception as error:
                log.warning("VPC %s: %s", router.vpc_id, error)
                status.failed[router.vpc_id] = str(error)
        for host in topology.hosts:
            try:
                if not self._current(host.namespace, host):
                    kernel.converge_host(host, self.owner)
                    self._applied[host.namespace] = (_view(host), netns.inode(host.namespace))
                if host.state in ("pending", "running"):
                    self.instances.boot(host)
                    status.ready.add(host.instance_id)
                else:
                    processes.stop_all(host.namespace)
                    status.halted.add(host.instance_id)
            except Exception as error:
                log.warning("instance %s: %s", host.instance_id, error)
                status.failed[host.instance_id] = str(error)
                self._applied.pop(host.namespace, None)
        for namespace in netns.ours(self.owner) - topology.namespaces:
            processes.stop_all(namespace)
            netns.remove(namespace)
            self._applied.pop(namespace, None)
            log.info("removed namespace %s", namespace)
        self.instances.reap()
        status.namespaces = netns.ours(self.owner)
        return status


def _view(spec: RouterSpec | HostSpec) -> object:
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
