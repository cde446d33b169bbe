"""Resource state machines, advanced when what they wait for is true.

Each pass hands every VPC whose stored inputs changed its desired topology (the network
reconciler's per-VPC workers converge the kernel in the background and nudge a pass when
they finish), brings the resolvers and the data plane's listeners in line, then decides
every transition that is due (``due_transitions``, no I/O) from the store and what the
network's last runs made true (or failed to), and writes them in one transaction; the
commit nudges the next pass, which finds nothing more to do. Without a network
(``--no-network``), what a transition waits for is only that the records exist.

Internet gateways lead to the internet namespace (network/internet.py), converged before the
routers whose uplinks need it, with the service front's listeners and checkip.amazonaws.com
in it; a NAT gateway turns ``available`` once its namespace forwards, ``failed`` when its VPC
has no internet gateway (as AWS's does), and ``deleted`` once its namespace is gone.

A failure is state, not a log line: an endpoint whose VPC's network cannot be built turns
``failed`` with a ``LastError`` (and back to ``pending`` once it can), an instance stays
``pending`` with a ``StateReason``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from pocketlink.dataplane.health import HealthChecks, planned_checks
from pocketlink.dataplane.hyperplane import Hyperplane
from pocketlink.dataplane.plan import internet_listeners, plan
from pocketlink.dns.process import DnsProcess
from pocketlink.imds.roles import InstanceProfiles
from pocketlink.imds.server import MetadataService
from pocketlink.model.base import now
from pocketlink.model.ec2 import Instance, NetworkInterface
from pocketlink.model.elbv2 import LoadBalancer, TargetGroup, drained
from pocketlink.model.internet import Address, InternetGateway, NatGateway
from pocketlink.model.privatelink import EndpointService, LastError, VpcEndpoint
from pocketlink.model.states import (
    ENDPOINT_LISTENING,
    InstanceState,
    LoadBalancerState,
    NatGatewayState,
    PrivateDnsState,
    State,
    VpcEndpointState,
    checked,
)
from pocketlink.network import names
from pocketlink.network.topology import desired_vpc, inputs, unchanged
from pocketlink.reconcile.autoscaling import Scaler
from pocketlink.reconcile.certificates import CertificateValidation
from pocketlink.reconcile.changes import Change, forget, set_fields
from pocketlink.reconcile.network import FULL_PASS, NetworkReconciler, NetworkStatus
from pocketlink.reconcile.peering import peering_transitions
from pocketlink.reconcile.resolvers import Resolvers
from pocketlink.reconcile.transit_gateways import GatewayRouters, transit_gateway_transitions
from pocketlink.reconcile.verification import verify_private_dns
from pocketlink.reconcile.vpn import vpn_transitions
from pocketlink.services.acm_authority import AcmAuthority
from pocketlink.services.checkip import CheckIp
from pocketlink.snapshot import Keeper, Restored
from pocketlink.store import Store, Transaction

log = logging.getLogger("pocketlink.reconcile")

# How long a deleted endpoint stays describable, as AWS keeps it for a while.
DELETED_RETENTION = timedelta(minutes=10)
# How often verified private DNS names are checked again, and the periodic pass runs.
RECHECK_INTERVAL = 60.0
TICK = 5.0
SLOW_PASS = 2.0  # a pass that takes this long is logged with its stages' times
# What a resource whose network cannot be built shows: an instance's StateReason code, as
# AWS's for a launch it could not complete, and an endpoint's LastError code (AWS documents
# no list of these; the name is pocketlink's guess).
LAUNCH_ERROR = "Server.InternalError"
ENDPOINT_ERROR = "InternalError"

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



def _finish_deleting(endpoint: VpcEndpoint) -> Change:
    def change(tx: Transaction) -> None:
        for eni_id in endpoint.network_interface_ids:
            eni = tx.store.get(NetworkInterface, eni_id)
            if eni is not None:
                tx.delete(eni)
        mine = tx.get(VpcEndpoint, endpoint.id)
        if mine is not None:
            mine.state = VpcEndpointState.DELETED
            mine.network_interface_ids = []
            mine.deleted_at = now().isoformat()
    return change


def _drop_drained(group: TargetGroup, moment: datetime) -> Change:
    def change(tx: Transaction) -> None:
        mine = tx.get(TargetGroup, group.id)
        if mine is not None:
            mine.targets = [t for t in mine.targets if not drained(mine, t, moment)]
    return change


def _network_reason(network: NetworkStatus | None, *ids: str) -> str | None:
    """Why the network of any of ``ids`` (an instance, its VPC) could not be built."""
    if network is None:
        return None
    return next((network.failed[i] for i in ids if i in network.failed), None)


def _instance_transitions(store: Store, network: NetworkStatus | None) -> list[Transition]:
    due = []
    for instance in store.all(Instance):
        state = instance.state
        failure = _network_reason(network, instance.id, instance.vpc_id)
        if state == InstanceState.PENDING and failure is not None:
            # As AWS shows an instance it could not launch; it stays pending and is tried
            # again until its network can be built.
            message = f"{LAUNCH_ERROR}: {failure}"
            if instance.state_reason_message != message:
                due.append(Transition(f"{instance.id} pending: {failure}", set_fields(
                    Instance, instance.id, state_reason=LAUNCH_ERROR,
                    state_reason_message=message)))
        elif state == InstanceState.PENDING and (network is None or instance.id in network.ready):
            cleared = {"state_reason": None, "state_reason_message": None} \
                if instance.state_reason == LAUNCH_ERROR else {}
            due.append(_move(Instance, instance, InstanceState.RUNNING, **cleared))
        elif state == InstanceState.STOPPING and (network is None or
                                                  instance.id in network.halted):
            due.append(_move(Instance, instance, InstanceState.STOPPED))
        elif state == InstanceState.SHUTTING_DOWN and (
                network is None or names.namespace(instance.id) not in network.namespaces):
            due.append(_move(Instance, instance, InstanceState.TERMINATED))
    return due


def _move(cls, resource, state: State, **fields) -> Transition:
    """A transition of the resource's state machine (model/states.py), checked."""
    return Transition(f"{resource.id} {state}", set_fields(
        cls, resource.id, state=checked(resource.id, resource.state, state), **fields))


def _endpoint_transitions(store: Store, moment: datetime, network: NetworkStatus | None,
                          listening: Ready) -> list[Transition]:
    due = []
    for endpoint in store.all(VpcEndpoint):
        failure = _network_reason(network, endpoint.vpc_id) \
            if endpoint.endpoint_type == "Interface" else None
        ours = endpoint.last_error is not None and endpoint.last_error.code == ENDPOINT_ERROR
        if endpoint.state in ENDPOINT_LISTENING and failure is not None:
            due.append(_move(VpcEndpoint, endpoint, VpcEndpointState.FAILED, last_error=LastError(
                code=ENDPOINT_ERROR, message=f"The network of {endpoint.vpc_id} could not be "
                f"built: {failure}")))
        elif endpoint.state == VpcEndpointState.FAILED and ours and network is not None \
                and failure is None:
            due.append(_move(VpcEndpoint, endpoint, VpcEndpointState.PENDING, last_error=None))
        elif endpoint.state == VpcEndpointState.PENDING and \
                _endpoint_ready(store, endpoint, listening):
            due.append(_move(VpcEndpoint, endpoint, VpcEndpointState.AVAILABLE))
        elif endpoint.state == VpcEndpointState.DELETING:
            due.append(Transition(f"{endpoint.id} deleted", _finish_deleting(endpoint)))
        elif endpoint.state == VpcEndpointState.DELETED and endpoint.deleted_at and \
                datetime.fromisoformat(endpoint.deleted_at) + DELETED_RETENTION <= moment:
            due.append(Transition(f"{endpoint.id} forgotten", forget(VpcEndpoint, endpoint.id)))
    return due


def _release_nat(nat: NatGateway, state: NatGatewayState, **fields) -> Change:
    """A NAT gateway that failed or is deleted gives back its ENI and its Elastic IP's
    association (the address stays the account's)."""
    def change(tx: Transaction) -> None:
        for held in nat.addresses:
            eni = tx.store.get(NetworkInterface, held.network_interface_id)
            if eni is not None:
                tx.delete(eni)
            address = tx.get(Address, held.allocation_id)
            if address is not None and address.network_interface_id == held.network_interface_id:
                address.network_interface_id = address.private_ip_address = None
                address.association_id = address.vpc_id = None
        mine = tx.get(NatGateway, nat.id)
        if mine is not None:
            mine.state = state
            for key, value in fields.items():
                setattr(mine, key, value)
    return change


def _nat_gateway_transitions(store: Store, moment: datetime, network: NetworkStatus | None
                             ) -> list[Transition]:
    due = []
    attached = {g.vpc_id for g in store.all(InternetGateway)}
    for nat in store.all(NatGateway):
        if nat.state == NatGatewayState.PENDING and nat.vpc_id not in attached:
            # What AWS answers for a public NAT gateway in a VPC with no way out.
            due.append(Transition(f"{nat.id} failed", _release_nat(
                nat, NatGatewayState.FAILED, failure_code="Gateway.NotAttached",
                failure_message=f"Network {nat.vpc_id} has no Internet gateway attached",
                deleted_at=now().isoformat())))
        elif nat.state == NatGatewayState.PENDING and (network is None or nat.id in network.ready):
            due.append(_move(NatGateway, nat, NatGatewayState.AVAILABLE))
        elif nat.state == NatGatewayState.DELETING and (
                network is None or names.namespace(nat.id) not in network.namespaces):
            due.append(Transition(f"{nat.id} deleted", _release_nat(
                nat, NatGatewayState.DELETED, deleted_at=now().isoformat())))
        elif nat.state == NatGatewayState.DELETED and nat.deleted_at and \
                datetime.fromisoformat(nat.deleted_at) + DELETED_RETENTION <= moment:
            due.append(Transition(f"{nat.id} forgotten", forget(NatGateway, nat.id)))
    return due


def due_transitions(store: Store, moment: datetime, network: NetworkStatus | None = None,
                    listening: Ready = _always) -> list[Transition]:
    """Every transition the store's state (and the network's last runs) makes due now."""
    due: list[Transition] = _instance_transitions(store, network)
    for balancer in store.all(LoadBalancer):
        if balancer.state == LoadBalancerState.PROVISIONING and listening(balancer.id) and \
                _network_reason(network, balancer.vpc_id) is None and all(
                store.get(NetworkInterface, n.network_interface_id) for n in balancer.nodes):
            due.append(_move(LoadBalancer, balancer, LoadBalancerState.ACTIVE))
    due += _endpoint_transitions(store, moment, network, listening)
    due += _nat_gateway_transitions(store, moment, network)
    for group in store.all(TargetGroup):
        if any(drained(group, t, moment) for t in group.targets):
            due.append(Transition(f"{group.name} drained", _drop_drained(group, moment)))
    due += [Transition(what, change) for what, change in peering_transitions(
        store, moment, network.peerings if network is not None else None)]
    due += [Transition(what, change) for what, change in transit_gateway_transitions(
        store, moment, network.peerings if network is not None else None,
        network.namespaces if network is not None else None)]
    due += [Transition(what, change) for what, change in vpn_transitions(store, moment)]
    return due


class Lifecycle:
    """Runs passes when the store changes or a network worker finishes, and every TICK
    seconds for what time makes due."""

    def __init__(self, store: Store, public_dns: tuple[str, int], dns: DnsProcess,
                 network: NetworkReconciler | None = None,
                 metadata: MetadataService | None = None,
                 front: tuple[str, int] | None = None,
                 acm: AcmAuthority | None = None,
                 profiles: InstanceProfiles | None = None,
                 restored: Restored | None = None,
                 keeper: Keeper | None = None) -> None:
        """``restored``: the listeners and resolvers the serving snapshot brought back,
        which the first pass takes over; ``keeper`` writes that snapshot after passes."""
        self.store = store
        self.acm = acm  # ACM's authority: issues certificates once their names are proven
        self.certificates = CertificateValidation(store, acm, public_dns, dns.current,
                                                  lambda: self.nudged.set()) \
            if acm is not None else None
        self.metadata = metadata
        self.public_dns = public_dns
        self.dns = dns
        self.network = network
        self.front = front  # the service front's address (AWS services' endpoints)
        self.resolvers = Resolvers(store, dns, restored.resolvers if restored else None)
        self.keeper = keeper
        self.scaler = Scaler(store, profiles)  # IAM's instance profiles, for its launches
        if restored is not None:
            restored.taken = True
        self.hyperplane = restored.hyperplane if restored is not None else \
            Hyperplane() if network is not None else None
        self.health = HealthChecks(store, self.hyperplane.sockets) if self.hyperplane else None
        self.checkip = CheckIp(self.hyperplane.sockets) if self.hyperplane else None
        self._internet: str | None = None  # the internet namespace, once built
        self.nudged = asyncio.Event()
        # Set once the first pass has ended (well or not): at a restart, the listeners and
        # resolvers are back; the daemon builds its API after this (daemon.py).
        self.first_pass = asyncio.Event()
        self._last_recheck = 0.0
        self._last_full = -FULL_PASS
        self._inputs: dict[str, tuple] = {}  # vpc id -> the stored objects last handed over
        self._gateways = GatewayRouters()  # the transit gateways' routers, keys of their own
        store.listeners.append(self.nudged.set)
        if network is not None:
            network.changed = self.nudged.set

    async def run(self, stop: asyncio.Event) -> None:
        """Passes until ``stop``; the pass under way then finishes (the caller bounds how
        long it waits, see ``close``). The data-plane workers start first: their start-up
        runs while the first pass binds the resolvers."""
        if self.hyperplane is not None:
            await self.hyperplane.start()
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
            self.first_pass.set()

    async def close(self, timeout: float) -> None:
        """Stop the network workers (each run under way gets ``timeout`` seconds), then
        the resolvers, health checks and the data plane; the serving snapshot first, as the
        last pass left it."""
        if self.keeper is not None:
            self.keeper.flush()
        if self.network is not None:
            await self.network.close(timeout)
        if self.certificates is not None:
            self.certificates.close()
        self.resolvers.stop()
        if self.metadata is not None:
            await self.metadata.stop()
        if self.health is not None:
            await self.health.close()
        if self.checkip is not None:
            await self.checkip.close()
        if self.hyperplane is not None:
            await self.hyperplane.close()

    async def _want_network(self, network: NetworkReconciler) -> None:
        """Hand each VPC whose stored inputs changed (or all, on a full pass) its desired
        topology; the others' workers have theirs already. The internet namespace first,
        while any internet gateway is attached: the routers' uplinks lead there. Only a
        change of the internet namespace makes every key look again now: each key has its
        own timer for that (network.py), not one moment for all."""
        loop = asyncio.get_running_loop()
        full = loop.time() - self._last_full >= FULL_PASS
        if full:
            self._last_full = loop.time()
        groups = inputs(self.store)
        # Only a VPC that has a network (an idle default VPC has none) needs the internet.
        needed = any(group.internet_gateways or group.egress_only_gateways
                     for group in groups.values())
        internet = network.internet if await network.want_internet(needed, full) else None
        force = internet != self._internet
        if force:  # every router's way out changed
            self._internet, full = internet, True
        for vpc_id, group in groups.items():
            members = group.members()
            if full or not unchanged(self._inputs.get(vpc_id), members):
                self._inputs[vpc_id] = members
                network.want(vpc_id, desired_vpc(self.store, group, internet), force=force)
        for vpc_id in set(self._inputs) - set(groups):
            del self._inputs[vpc_id]
            network.want(vpc_id, None)
        self._gateways.want(self.store, network.want, force)
        network.sweep()

    async def converge(self) -> None:
        status = None
        listening: Ready = _always
        clock = asyncio.get_running_loop().time
        stages = [("", clock())]  # (what ended, when): a slow pass says where its time went
        if self.network is not None and self.hyperplane is not None:
            first = not self._inputs
            if first:
                # At start the namespaces of the last life are there already: listeners
                # and resolvers come back before the network is looked at again.
                self.network.hold.clear()
            try:
                await self._want_network(self.network)
                stages.append(("network", clock()))
                status = self.network.status()
                routers = tuple(self.network.routers())
                await self.resolvers.sync(routers, set(status.failed))
                if self.metadata is not None:
                    await self.metadata.sync(routers, set(status.failed))
                stages.append(("resolvers", clock()))
                planned = plan(self.store, self.front, self._certificate_files)
                if self._internet is not None and self.front is not None:
                    planned.update((s.key, s) for s in internet_listeners(self._internet, self.front))
                if self.checkip is not None:
                    await self.checkip.sync(self._internet)
                checks = planned_checks(self.store)
                stages.append(("plan", clock()))
                await self.hyperplane.sync(planned, {c.namespace for c in checks.values()})
                stages.append(("listeners", clock()))
                if self.keeper is not None:
                    self.keeper.save(planned, self.resolvers.serving, self.dns)
                if self.health is not None:
                    self.health.sync(checks)
            finally:  # a pass that raised must not hold the network runs for good
                self.network.hold.set()
            hyperplane = self.hyperplane

            held = status.held

            def listening(owner: str) -> bool:
                return hyperplane.ready(owner, planned, held)
        await self.scaler.converge()
        stages.append(("scaler", clock()))
        transitions = due_transitions(self.store, now(), status, listening)
        stages.append(("transitions", clock()))
        transitions += await self._verifications()
        if self.certificates is not None:
            transitions += [Transition(m.what, m.apply)
                            for m in await self.certificates.moves()]
        stages.append(("dns checks", clock()))
        with self.store.transaction() as tx:
            for transition in transitions:
                transition.apply(tx)
        stages.append(("commit", clock()))
        took = stages[-1][1] - stages[0][1]
        log.log(logging.WARNING if took >= SLOW_PASS else logging.DEBUG,
                "a pass took %.2f s (%s); %d transitions", took, ", ".join(
                    f"{what} {end - start:.3f}" for (_, start), (what, end) in pairwise(stages)),
                len(transitions))
        if not transitions:
            return
        for transition in transitions:
            log.info("%s", transition.what)

    def _certificate_files(self, certificate_id: str) -> tuple[str, str] | None:
        """An issued certificate's chain and key files, for TLS listeners."""
        if self.acm is None:
            return None
        chain, key = self.acm.files(certificate_id)
        return (str(chain), str(key)) if chain.exists() and key.exists() else None

    async def _verifications(self) -> list[Transition]:
        """Requested verifications, and a periodic re-check of names already verified: a TXT
        record taken away makes the name ``failed``, as AWS's re-verification does."""
        loop = asyncio.get_running_loop()
        recheck = loop.time() - self._last_recheck >= RECHECK_INTERVAL
        if recheck:
            self._last_recheck = loop.time()
        due: list[Transition] = []
        services = [s for s in self.store.all(EndpointService) if s.private_dns_name and (
            s.verification_requested or
            (recheck and s.private_dns_state == PrivateDnsState.VERIFIED))]
        if not services:
            return due
        await self.dns.current()  # the public DNS answers from the store as it is
        host, port = self.public_dns
        # Asked at once: one after another, a pass waited for as many answers as names.
        answers = await asyncio.gather(*(verify_private_dns(s, host, port) for s in services))
        for service, verified in zip(services, answers, strict=True):
            asked = service.verification_requested
            state = PrivateDnsState.VERIFIED if verified else (
                PrivateDnsState.FAILED if asked or
                service.private_dns_state == PrivateDnsState.VERIFIED
                else service.private_dns_state)
            if asked or state != service.private_dns_state:
                due.append(Transition(f"{service.id} private DNS {state}",
                                      set_fields(EndpointService, service.id, private_dns_state=state,
                                           verification_requested=False)))
        return due
