"""The daemon's life: open the state, start the API server, stop cleanly on a signal.

Signal handlers only set an event; the main coroutine closes the listener, then the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from pocketlink.dns.public import CachedZones
from pocketlink.dns.server import DnsServer
from pocketlink.gateway.dispatch import Gateway
from pocketlink.gateway.http import serve
from pocketlink.gateway.identity import Credentials
from pocketlink.instances.userdata import Instances
from pocketlink.model.ec2 import Instance, NetworkInterface, RouteTable, SecurityGroup, Subnet, Vpc
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup
from pocketlink.model.privatelink import ConnectionNotification, EndpointService, VpcEndpoint
from pocketlink.model.route53 import Change, HostedZone
from pocketlink.reconcile.lifecycle import Lifecycle
from pocketlink.reconcile.network import NetworkReconciler
from pocketlink.store import Store

log = logging.getLogger("pocketlink")

PUBLIC_DNS_HOST = "127.0.0.1"

KINDS = [Vpc, Subnet, SecurityGroup, RouteTable, NetworkInterface, Instance,
         LoadBalancer, TargetGroup, Listener, EndpointService, VpcEndpoint,
         ConnectionNotification, HostedZone, Change]


@dataclass
class DaemonConfig:
    host: str
    port: int
    state: Path
    credentials: Credentials
    public_dns_port: int = 4553
    strict_auth: bool = False
    network: bool = True

    @property
    def data_dir(self) -> Path:
        """Where everything but the state file lives: the instances' consoles, UserData."""
        return self.state.parent


def open_store(path: Path) -> Store:
    path.parent.mkdir(parents=True, exist_ok=True)
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


WANTED_DESCRIPTORS = 1 << 18


def raise_file_limit() -> int:
    """Every flow holds two sockets (and, while bytes move, pipes): the default 1,024
    descriptors would cap the data plane at a few hundred connections. Root may raise the
    hard limit too (up to fs.nr_open); others take what their hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(hard, WANTED_DESCRIPTORS)
    try:
        ceiling = int(Path("/proc/sys/fs/nr_open").read_text())
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, ceiling), min(wanted, ceiling)))
    except (OSError, ValueError):
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def run(config: DaemonConfig) -> None:
    descriptors = raise_file_limit()
    store = open_store(config.state)
    stop = asyncio.Event()
    instances = Instances(config.data_dir / "instances")
    gateway = Gateway(store, config.credentials, config.strict_auth, shutdown=stop.set,
                      consoles=instances.console)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    public_dns = DnsServer(CachedZones(store))
    try:
        server = await serve(gateway, config.host, config.port)
    except OSError as error:
        store.close()
        raise SystemExit(
            f"pocketlink: cannot listen on {config.host}:{config.port} ({error.strerror}); "
            "is another pocketlink running? Stop it, or pick another --port.") from None
    try:
        await public_dns.start(PUBLIC_DNS_HOST, config.public_dns_port)
    except OSError as error:
        server.close()
        store.close()
        raise SystemExit(
            f"pocketlink: cannot serve public DNS on {PUBLIC_DNS_HOST}:{config.public_dns_port} "
            f"({error.strerror}); pick another --public-dns-port.") from None
    network = NetworkReconciler(instances, str(config.state.resolve())) if config.network \
        else None
    lifecycle = Lifecycle(store, (PUBLIC_DNS_HOST, config.public_dns_port), network)
    reconciling = asyncio.create_task(lifecycle.run(stop))
    log.info("pocketlink is up on http://%s:%d (state %s, public DNS on %s:%d, %d file "
             "descriptors)", config.host, config.port, config.state, PUBLIC_DNS_HOST,
             config.public_dns_port, descriptors)
    try:
        await stop.wait()
    finally:
        log.info("pocketlink is stopping")
        # The reconciler first: once the API stops answering (what ``down`` waits for),
        # nothing more is built, such as an instance's sandbox in a namespace ``down`` removes.
        await reconciling
        server.close()
        await server.wait_closed()
        await public_dns.stop()
        store.close()
