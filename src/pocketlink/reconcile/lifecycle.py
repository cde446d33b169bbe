"""Resource state machines, advanced when what they wait for is true.

Each pass first has the network reconciler converge the kernel (when pocketlink runs with
a network), then decides every transition that is due (``due_transitions``, no I/O) from
the store and what the network pass made true, and writes them in one transaction; the
commit nudges the next pass, which finds nothing more to do. Without a network
(``--no-network``), what a transition waits for is only that the records exist.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pocketlink.dataplane.health import HealthChecks, planned_checks
from pocketlink.dataplane.hyperplane import Hyperplane
from pocketlink.dataplane.plan import plan
from pocketlink.model.base import now
from pocketlink.model.ec2 import Instance, NetworkInterface
from pocketlink.model.elbv2 import LoadBalancer, TargetGroup, drained
from pocketlink.model.privatelink import EndpointService, VpcEndpoint
from pocketlink.network import names
from pocketlink.network.topology import desired
from pocketlink.reconcile.network import NetworkReconciler, NetworkStatus
from pocketlink.reconcile.resolvers import Resolvers
from pocketlink.reconcile.verification import verify_private_dns
from pocketlink.store import Store, Transaction

log = logging.getLogger("pocketlink.reconcile")

# How long a deleted endpoint stays describable, as AWS keeps it for a while.
DELETED_RETENTION = timedelta(minutes=10)
# How often verified private DNS names are checked again, and the periodic pass runs.
RECHECK_INTERVAL = 60.0
TICK = 5.0

Change = Callable[[Transaction], None]
# Whether the data plane listens for an endpoint or load balancer (always, without one).
Ready = Callable[[str], bool]


def _always(_: str) -> bool:
    return True


@dataclass
class Transition:
    what: str
    apply: Change


def _endpoint_ready(store: Store, endpoint: VpcEndpoint, listening: Ready) -> bool:
    if endpoint.endpoint_type == "Gateway":
        return True
    if not listening(endpoint.id):
        return False
    if endpoint.service_id and store.get(EndpointService, endpoint.service_id) is None:
        return False
    return all(store.get(NetworkInterface, i) is not None for i in endpoint.network_interface_ids)


def _set(cls, resource_id: str, **fields) -> Change:
    def change(tx: Transaction) -> None:
        mine = tx.get(cls, resource_id)
        if mine is not None:
            for key, value in fields.items():
                setattr(mine, key, value)
    return change


def _finish_deleting(endpoint: VpcEndpoint) -> Change:
    def change(tx: Transaction) -> None:
        for eni_id in endpoint.network_interface_ids:
            eni = tx.store.get(NetworkInterface, eni_id)
            if eni is not None:
                tx.delete(eni)
        mine = tx.get(VpcEndpoint, endpoint.id)
        if mine is not None:
            mine.state = "deleted"
            mine.network_interface_ids = []
            mine.deleted_at = now().isoformat()
    return change


def _forget(resource) -> Change:
    def change(tx: Transaction) -> None:
        tx.delete(resource)
    return change


def _drop_drained(group: TargetGroup, moment: datetime) -> Change:
    def change(tx: Transaction) -> None:
        mine = tx.get(TargetGroup, group.id)
        if mine is not None:
            mine.targets = [t for t in mine.targets if not drained(mine, t, moment)]
    return change


def _instance_transitions(store: Store, network: NetworkStatus | None) -> list[Transition]:
    due = []
    for instance in store.all(Instance):
        state = instance.state
        if state == "pending" and (network is None or instance.id in network.ready):
            due.append(Transition(f"{instance.id} running",
                                  _set(Instance, instance.id, state="running")))
        elif state == "stopping" and (network is None or instance.id in network.halted):
            due.append(Transition(f"{instance.id} stopped",
                                  _set(Instance, instance.id, state="stopped")))
        elif state == "shutting-down" and (
                network is None or names.namespace(instance.id) not in network.namespaces):
            due.append(Transition(f"{instance.id} terminated",
                                  _set(Instance, instance.id, state="terminated")))
    return due


def due_transitions(store: Store, moment: datetime, network: NetworkStatus | None = None,
                    listening: Ready = _always) -> list[Transition]:
    """Every transition the store's state (and the last network pass) makes due now."""
    due: list[Transition] = _instance_transitions(store, network)
    for balancer in store.all(LoadBalancer):
        if balancer.state == "provisioning" and listening(balancer.id) and all(
                store.get(NetworkInterface, n.network_interface_id) for n in balancer.nodes):
            due.append(Transition(f"{balancer.name} active",
                                  _set(LoadBalancer, balancer.id, state="active")))
    for endpoint in store.all(VpcEndpoint):
        if endpoint.state == "pending" and _endpoint_ready(store, endpoint, listening):
            due.append(Transition(f"{endpoint.id} available",
                                  _set(VpcEndpoint, endpoint.id, state="available")))
        elif endpoint.state == "deleting":
            due.append(Transition(f"{endpoint.id} deleted", _finish_deleting(endpoint)))
        elif endpoint.state == "deleted" and endpoint.deleted_at and \
                datetime.fromisoformat(endpoint.deleted_at) + DELETED_RETENTION <= moment:
            due.append(Transition(f"{endpoint.id} forgotten", _forget(endpoint)))
    for group in store.all(TargetGroup):
        if any(drained(group, t, moment) for t in group.targets):
            due.append(Transition(f"{group.name} drained", _drop_drained(group, moment)))
    return due


class Lifecycle:
    """Runs passes when the store changes, and every TICK seconds for what time makes due."""

    def __init__(self, store: Store, public_dns: tuple[str, int],
                 network: NetworkReconciler | None = None) -> None:
        self.store = store
        self.public_dns = public_dns
        self.network = network
        self.resolvers = Resolvers(store)
        self.hyperplane = Hyperplane() if network is not None else None
        self.health = HealthChecks(store, self.hyperplane.sockets) if self.hyperplane else None
        self.nudged = asyncio.Event()
        self._last_recheck = 0.0
        store.listeners.append(self.nudged.set)

    async def run(self, stop: asyncio.Event) -> None:
        self.nudged.set()
        while not stop.is_set():
            waiter = asyncio.ensure_future(self.nudged.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=TICK,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
            self.nudged.clear()
            if stop.is_set():
                break
            try:
                await self.converge()
            except Exception:
                log.exception("a reconcile pass failed; the next one tries again")
        await self.resolvers.stop()
        if self.health is not None:
            await self.health.close()
        if self.hyperplane is not None:
            await self.hyperplane.close()

    async def converge(self) -> None:
        status = None
        listening: Ready = _always
        if self.network is not None and self.hyperplane is not None:
            topology = desired(self.store)
            status = await asyncio.to_thread(self.network.converge, topology)
            await self.resolvers.sync(topology.routers, set(status.failed))
            planned = plan(self.store)
            checks = planned_checks(self.store)
            await self.hyperplane.sync(planned, {c.namespace for c in checks.values()})
            if self.health is not None:
                self.health.sync(checks)
            hyperplane = self.hyperplane

            def listening(owner: str) -> bool:
                return hyperplane.ready(owner, planned)
        transitions = due_transitions(self.store, now(), status, listening)
        transitions += await self._verifications()
        if not transitions:
            return
        with self.store.transaction() as tx:
            for transition in transitions:
                transition.apply(tx)
        for transition in transitions:
            log.info("%s", transition.what)

    async def _verifications(self) -> list[Transition]:
        """Requested verifications, and a periodic re-check of names already verified: a TXT
        record taken away makes the name ``failed``, as AWS's re-verification does."""
        loop = asyncio.get_running_loop()
        recheck = loop.time() - self._last_recheck >= RECHECK_INTERVAL
        if recheck:
            self._last_recheck = loop.time()
        due = []
        for service in self.store.all(EndpointService):
            if not service.private_dns_name:
                continue
            asked = service.verification_requested
            if not asked and not (recheck and service.private_dns_state == "verified"):
                continue
            host, port = self.public_dns
            verified = await verify_private_dns(service, host, port)
            state = "verified" if verified else ("failed" if asked or
                                                 service.private_dns_state == "verified"
                                                 else service.private_dns_state)
            if asked or state != service.private_dns_state:
                due.append(Transition(f"{service.id} private DNS {state}",
                                      _set(EndpointService, service.id, private_dns_state=state,
                                           verification_requested=False)))
        return due
