"""The daemon's life: open the state, start the API server, stop cleanly on a signal.

Signal handlers only set an event; the main coroutine closes the listener, then the store.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from pocketlink.gateway.dispatch import Gateway
from pocketlink.gateway.http import serve
from pocketlink.gateway.identity import Credentials
from pocketlink.model.ec2 import Instance, NetworkInterface, RouteTable, SecurityGroup, Subnet, Vpc
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup
from pocketlink.model.privatelink import ConnectionNotification, EndpointService, VpcEndpoint
from pocketlink.model.route53 import Change, HostedZone
from pocketlink.store import Store

log = logging.getLogger("pocketlink")

KINDS = [Vpc, Subnet, SecurityGroup, RouteTable, NetworkInterface, Instance,
         LoadBalancer, TargetGroup, Listener, EndpointService, VpcEndpoint,
         ConnectionNotification, HostedZone, Change]


@dataclass
class DaemonConfig:
    host: str
    port: int
    state: Path
    credentials: Credentials
    strict_auth: bool = False


def open_store(path: Path) -> Store:
    path.parent.mkdir(parents=True, exist_ok=True)
    return Store(path, KINDS)


async def run(config: DaemonConfig) -> None:
    store = open_store(config.state)
    gateway = Gateway(store, config.credentials, config.strict_auth)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        server = await serve(gateway, config.host, config.port)
    except OSError as error:
        store.close()
        raise SystemExit(
            f"pocketlink: cannot listen on {config.host}:{config.port} ({error.strerror}); "
            "is another pocketlink running? Stop it, or pick another --port.") from None
    log.info("pocketlink is up on http://%s:%d (state %s)", config.host, config.port,
             config.state)
    try:
        await stop.wait()
    finally:
        log.info("pocketlink is stopping")
        server.close()
        await server.wait_closed()
        store.close()
