"""The daemon's life: open the state, bring back the data plane and the resolvers, start
the API server, stop cleanly on a signal.

The daemon's event loop holds the store and what works on it: the reconciler, the
instances' metadata service, the health checks, the sampler, the control socket, and the
API's handlers. The API's HTTP (accepting, reading, its limits, the parse, writing the
answer) runs on a thread of its own (gateway/api_thread.py), so that a client's flood of
connections or of large bodies is not read on this loop.

At a restart, cli ``up`` has already served the endpoints' listeners and the VPCs'
resolvers from the serving snapshot (snapshot.py) before importing this module; the
reconciler's first pass takes them over (or, without a snapshot, brings them back from the
store), and the network is looked at again only after. The API is built after that pass,
whose models and handlers are most of a start's CPU: traffic resumes before it answers.

Signal handlers (and ``pocketlink down``, through the control socket) only set flags, as
uvicorn's do: the first asks for a stop, a second forces exit at once. A stop closes in
order, each step bounded: the API listener and its connections, the service front, the
API's thread, the reconciler (its last pass, then its network workers), the metrics sampler, the data
plane, the backend, the DNS process, the metric store and the store. While it
runs, its runtime record says where its control socket is (``gateway.control``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pocketlink.api.ec2_launch_templates import launch_template_profile
from pocketlink.descriptors import raise_file_limit
from pocketlink.dns.process import DnsProcess, bind_pair
from pocketlink.dns.public import public_zones
from pocketlink.gateway import control
from pocketlink.gateway.identity import Credentials
from pocketlink.gateway.limits import DEFAULT_RATE, ConnectionCap, RateLimiter
from pocketlink.imds import roles
from pocketlink.imds.server import MetadataService
from pocketlink.instances.userdata import Instances
from pocketlink.metrics.store import MetricStore
from pocketlink.model.acm import Certificate
from pocketlink.model.autoscaling import AutoScalingGroup, ScalingActivity
from pocketlink.model.cloudformation import ChangeSet, Stack
from pocketlink.model.dhcp import DhcpOptions
from pocketlink.model.ec2 import (
    AccountAttributes,
    Instance,
    NetworkInterface,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup
from pocketlink.model.faults import Fault
from pocketlink.model.fis import Experiment, ExperimentTemplate
from pocketlink.model.flow_logs import FlowLog
from pocketlink.model.iam import RoleSession
from pocketlink.model.internet import (
    Address,
    EgressOnlyInternetGateway,
    InternetGateway,
    NatGateway,
)
from pocketlink.model.launch_templates import LaunchTemplate
from pocketlink.model.network_insights import NetworkInsightsAnalysis, NetworkInsightsPath
from pocketlink.model.peering import VpcPeeringConnection
from pocketlink.model.prefix_lists import ManagedPrefixList
from pocketlink.model.privatelink import ConnectionNotification, EndpointService, VpcEndpoint
from pocketlink.model.route53 import Change, HealthCheck, HostedZone
from pocketlink.model.subnet_reservations import SubnetCidrReservation
from pocketlink.model.transit_gateways import (
    TransitGateway,
    TransitGatewayRouteTable,
    TransitGatewayVpcAttachment,
)
from pocketlink.model.vpn import CustomerGateway, VpnConnection, VpnGateway
from pocketlink.network import names
from pocketlink.reconcile.lifecycle import Lifecycle
from pocketlink.reconcile.network import NetworkReconciler
from pocketlink.services.acm_authority import AcmAuthority
from pocketlink.services.backend import Backend
from pocketlink.services.ca import CertificateAuthority
from pocketlink.services.ecr_access import RegistryAccess
from pocketlink.services.ecr_registry import Registry, registry_socket_path
from pocketlink.services.ecr_tokens import AuthorizationTokens
from pocketlink.services.front import ServiceFront, gateway_socket_path, network_path
from pocketlink.snapshot import Keeper, Restored
from pocketlink.store import Store

log = logging.getLogger("pocketlink")

PUBLIC_DNS_HOST = "127.0.0.1"

KINDS = [Vpc, Subnet, SecurityGroup, RouteTable, NetworkInterface, Instance,
         LoadBalancer, TargetGroup, Listener, EndpointService, VpcEndpoint,
         ConnectionNotification, HostedZone, Change, RoleSession, AccountAttributes,
         LaunchTemplate, AutoScalingGroup, ScalingActivity, Certificate,
         InternetGateway, Address, NatGateway, EgressOnlyInternetGateway,
         VpcPeeringConnection, DhcpOptions, ManagedPrefixList, SubnetCidrReservation,
         Stack, ChangeSet, Fault,
         NetworkInsightsPath, NetworkInsightsAnalysis, ExperimentTemplate, Experiment,
         HealthCheck, FlowLog, TransitGateway, TransitGatewayVpcAttachment,
         TransitGatewayRouteTable, VpnGateway, CustomerGateway, VpnConnection]


@dataclass
class DaemonConfig:
    host: str
    port: int
    state: Path
    credentials: Credentials
    public_dns_port: int = 4553
    strict_auth: bool = False
    network: bool = True
    max_request_rate: float = DEFAULT_RATE
    prometheus: bool = False  # the Prometheus page on the API port too (it names every account's resources)

    @property
    def data_dir(self) -> Path:
        """Where everything but the state file lives: the instances' consoles, UserData,
        the backend's data (``backend/``), the CA instances trust (``ca/``), ECR's
        registry (``registry/``) and its token key (``ecr/``), ACM's CA and its
        certificates' keys (``acm/``)."""
        return self.state.parent


def open_store(path: Path) -> Store:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Store(path, KINDS)


def check_network_tools() -> str | None:
    """Why the network cannot be built here, in one line, or None when it can."""
    if os.geteuid() != 0:
        return ("pocketlink up needs root (CAP_NET_ADMIN) to build VPCs as network "
                "namespaces: run it as root, or with --no-network for the API alone.")
    for tool in ("nft", "nsenter", "ip", "bwrap", "setpriv"):
        if shutil.which(tool) is None:
            return (f"pocketlink up needs '{tool}' to build the network: install it "
                    "(scripts/setup does), or run with --no-network.")
    return None


# The interpreter's switch interval, for the whole daemon (the default is 5 ms; the data
# plane and DNS run in processes of their own): the loop, back from each system call of a
# listener's bind (setns, socket, bind, listen), waited that long for a thread decoding
# netlink to let go of the GIL (ten new endpoints' listeners took 0.1-0.9 s to bind in a
# burst of creations), and the daemon's loop and the API's thread (gateway/api_thread.py)
# each wait at most this long for the other.
SWITCH_INTERVAL = 0.0005

# How long a stop waits for the reconciler's pass under way, and for each network worker.
LAST_PASS_TIMEOUT = 10.0
WORKER_TIMEOUT = 5.0


async def run(config: DaemonConfig, restored: Restored | None = None) -> None:
    """``restored``: the listeners and resolvers cli ``up`` brought back from the serving
    snapshot before importing this module (snapshot.py), for the first pass to take over."""
    descriptors = raise_file_limit()  # the state is claimed already (control.Claim)
    sys.setswitchinterval(SWITCH_INTERVAL)
    store = open_store(config.state)
    metrics = MetricStore(config.data_dir / "metrics.db")
    stop, force = asyncio.Event(), asyncio.Event()
    backend = Backend(config.data_dir / "backend")
    ca = CertificateAuthority(config.data_dir / "ca")
    acm = AcmAuthority(config.data_dir / "acm")
    ca.trust_also(acm.root_pem)
    instances = Instances(config.data_dir / "instances", ca.bundle)
    profiles = roles.InstanceProfiles(backend, partial(launch_template_profile, store))
    registry = Registry(config.data_dir / "registry", registry_socket_path(config.state))
    ecr = RegistryAccess(registry, AuthorizationTokens(config.data_dir / "ecr"), backend,
                         config.credentials)
    config.credentials.sessions = lambda key: roles.credential(store, key)
    loop = asyncio.get_running_loop()

    def signalled() -> None:
        if stop.is_set():
            force.set()
        stop.set()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, signalled)
    if restored is None:
        dns = DnsProcess(store)
    else:
        dns = restored.dns
        dns.attach(store)
    try:
        public_dns = bind_pair(PUBLIC_DNS_HOST, config.public_dns_port)
    except OSError as error:
        store.close()
        raise SystemExit(
            f"pocketlink: cannot serve public DNS on {PUBLIC_DNS_HOST}:{config.public_dns_port} "
            f"({error.strerror}); pick another --public-dns-port.") from None
    # The endpoints' listeners and the VPCs' resolvers come back from the store before the
    # API is built (its models and handlers are most of a start's CPU): at a restart,
    # traffic waits for the first pass only, the API for the first pass too.
    await dns.start()
    dns.serve("public", [public_dns], public_zones, recursive=False)
    # With a network, interface endpoints to AWS services send their flows to the front.
    front = ServiceFront(config.data_dir / "ca", gateway_socket_path(config.state)) \
        if config.network else None
    network = NetworkReconciler(instances, str(config.state.resolve())) if config.network \
        else None
    lifecycle = Lifecycle(store, (PUBLIC_DNS_HOST, config.public_dns_port), dns, network,
                          MetadataService(store, profiles) if network else None,
                          front.address if front is not None else None, acm,
                          profiles=profiles, restored=restored,
                          keeper=Keeper(config.state) if network else None)
    reconciling = asyncio.create_task(lifecycle.run(stop))
    first = asyncio.ensure_future(lifecycle.first_pass.wait())
    await asyncio.wait({reconciling, first}, timeout=LAST_PASS_TIMEOUT,
                       return_when=asyncio.FIRST_COMPLETED)
    first.cancel()

    async def abandon() -> None:
        """A start that cannot finish: what it started, stopped."""
        stop.set()
        await _bounded(reconciling, LAST_PASS_TIMEOUT, force)
        await _bounded(lifecycle.close(WORKER_TIMEOUT), LAST_PASS_TIMEOUT, force)
        await dns.stop()
        store.close()

    if reconciling.done() and not stop.is_set():  # it ended before its first pass
        failure = None if reconciling.cancelled() else reconciling.exception()
        await abandon()
        raise SystemExit(f"pocketlink: the reconciler stopped at start ({failure}); see the "
                         "log above, mend what it names, then start again.")

    # What the API and the periodic work need, imported only now: the listeners and the
    # resolvers above did not wait for them (the console's, the gateway's and
    # CloudFormation's modules, prometheus_client, conntrack's).
    from pocketlink.console.app import Console
    from pocketlink.console.aws import endpoint_of
    from pocketlink.faults.experiments import ExperimentRunner
    from pocketlink.faults.kernel import FaultInjector
    from pocketlink.flowlogs.collector import FlowLogCollector, interval_override
    from pocketlink.gateway.api_thread import ApiThread, DaemonLoopFront
    from pocketlink.gateway.dispatch import Gateway, loopback_only, own_origins
    from pocketlink.gateway.fair import FairFront
    from pocketlink.gateway.http import HttpServer
    from pocketlink.metrics import prometheus
    from pocketlink.metrics.nat import namespace_reader
    from pocketlink.metrics.sampler import Sampler
    from pocketlink.network.route53_checker import HealthCheckers

    # The data plane's counters, and the NAT gateways' own (their namespaces' nftables
    # counters).
    sampler = Sampler(store, metrics, lambda: lifecycle.hyperplane.counters
                      if lifecycle.hyperplane is not None else {},
                      nat=namespace_reader(store) if config.network else None)
    page = partial(prometheus.page, sampler)
    origins = own_origins(config.host, config.port)
    console = Console(endpoint_of(config.host, config.port), origins, config.strict_auth,
                      lambda: lifecycle.hyperplane.target_counts()
                      if lifecycle.hyperplane is not None else {}, lambda: sampler.totals,
                      lambda: store.changes)  # the topology keeps its lists while it stays
    gateway = Gateway(store, config.credentials, config.strict_auth,
                      consoles=instances.console, origins=origins,
                      limiter=RateLimiter(config.max_request_rate), backend=backend,
                      instance_profiles=profiles, registry=ecr, metrics=metrics,
                      prometheus=page if config.prometheus else None,
                      loopback=loopback_only(config.host), console=console)
    # One set of turns for both doors: the host's port and the service front's socket,
    # where instances' calls through endpoints arrive. Both doors' HTTP is served on the
    # API's own thread (api_thread.py); each request read whole is answered on this loop,
    # where the store lives.
    fair = DaemonLoopFront(FairFront(gateway, settle=dns.current), loop, gateway.parse_ahead)
    api = ApiThread(ConnectionCap.for_descriptors(descriptors))  # both doors' connections
    api.start()
    server = HttpServer(fair, cap=api.cap)
    try:
        await api.call(server.listen_tcp(config.host, config.port))
    except OSError as error:
        await api.stop()
        await abandon()
        raise SystemExit(
            f"pocketlink: cannot listen on {config.host}:{config.port} ({error.strerror}); "
            "is another pocketlink running? Stop it, or pick another --port.") from None
    record = control.RuntimeRecord(os.getpid(), config.host, config.port,
                                   str(config.state.resolve()),
                                   str(control.RuntimeRecord.socket_for(config.state)))
    fronted = HttpServer(fair, paths=partial(network_path, store), cap=api.cap)
    controller = HttpServer(control.Control(store, record, stop.set, backend, front, registry,
                                            metrics=metrics, prometheus=page, api=api.status))
    try:
        await controller.listen_unix(control.private_socket_path(config.state))
        if front is not None:
            await api.call(fronted.listen_unix(front.gateway_socket))
            front.serve()
        record.write()
    except OSError as error:
        await api.call(server.close())
        await api.stop()
        await abandon()
        raise SystemExit(f"pocketlink: cannot serve its control socket {record.socket} "
                         f"({error.strerror or error})") from None
    sampling = asyncio.create_task(sampler.run(stop))
    injecting = asyncio.create_task(FaultInjector(store).run(stop)) if network else None
    experimenting = asyncio.create_task(ExperimentRunner(store).run(stop))
    checking = asyncio.create_task(HealthCheckers(store, names.internet(
        str(config.state.resolve()))).run(stop)) if network else None
    flow_logging = asyncio.create_task(FlowLogCollector(
        store, backend, interval_override()).run(stop)) if network else None
    log.info("pocketlink is up on http://%s:%d (state %s, public DNS on %s:%d, %d file "
             "descriptors)", config.host, config.port, config.state, PUBLIC_DNS_HOST,
             config.public_dns_port, descriptors)
    try:
        await stop.wait()
    finally:
        log.info("pocketlink is stopping")
        await _bounded(api.call(server.close()), LAST_PASS_TIMEOUT, force)
        console.close()
        if front is not None:
            await _bounded(front.stop(), LAST_PASS_TIMEOUT, force)
            await _bounded(api.call(fronted.close()), LAST_PASS_TIMEOUT, force)
            front.gateway_socket.unlink(missing_ok=True)
        await _bounded(api.stop(), LAST_PASS_TIMEOUT, force)
        await _bounded(reconciling, LAST_PASS_TIMEOUT, force)
        await _bounded(sampling, LAST_PASS_TIMEOUT, force)
        if injecting is not None:
            await _bounded(injecting, LAST_PASS_TIMEOUT, force)
        await _bounded(experimenting, LAST_PASS_TIMEOUT, force)
        if checking is not None:
            await _bounded(checking, LAST_PASS_TIMEOUT, force)
        if flow_logging is not None:
            await _bounded(flow_logging, LAST_PASS_TIMEOUT, force)
        await _bounded(lifecycle.close(WORKER_TIMEOUT), LAST_PASS_TIMEOUT, force)
        if force.is_set():
            record.remove()
            _exit_now(store)
        await _bounded(backend.stop(), LAST_PASS_TIMEOUT, force)
        await _bounded(registry.stop(), LAST_PASS_TIMEOUT, force)
        await dns.stop()
        metrics.close()
        store.close()
        await controller.close()
        record.remove()


async def _bounded(step, timeout: float, force: asyncio.Event) -> None:
    """``step``, given ``timeout`` seconds (none once a second signal came), then cancelled."""
    task = asyncio.ensure_future(step)
    forcing = asyncio.ensure_future(force.wait())
    await asyncio.wait({task, forcing}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    forcing.cancel()
    if not task.done():
        log.warning("a step of the stop did not finish in time%s",
                    " (a second signal)" if force.is_set() else "")
        task.cancel()


def _exit_now(store: Store) -> None:
    """A second signal: the store is closed (every acknowledged change is already in its
    file), and the process ends without waiting for threads still inside the kernel."""
    log.warning("pocketlink forced to stop")
    store.close()
    logging.shutdown()
    os._exit(1)
