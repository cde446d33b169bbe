"""The service front: where interface endpoints to AWS services (com.amazonaws.REGION.ssm
...) send their connections, as the daemon's supervised child.

The daemon makes the front's listening socket itself, on 127.0.0.1 and a free port, once:
the data plane's plan sends every such endpoint's flows there (with a PROXY protocol v2
header, from the daemon's own namespace), and the port stays the same for the daemon's
life, whatever happens to the process behind it. That process (front_main.py) starts with
the first connection, terminates TLS with pocketlink's CA (``ca/`` in the state dir) and
relays each connection to the gateway's front socket, which the daemon serves with a
second ``HttpServer`` whose connections begin with the same header: ``network_path``
turns it into the ``NetworkPath`` (endpoint, VPC, caller's address) the gateway is
handed with each request. Connections queued while the process is (re)starting wait in
the socket's backlog. It is started again whenever it exits, with one log line saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
from pathlib import Path

from pocketlink.dataplane.ppv2 import ProxyHeader
from pocketlink.gateway.control import RuntimeRecord
from pocketlink.gateway.paths import NetworkPath
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.store import Store
from pocketlink.supervisor import ChildSupervisor

log = logging.getLogger("pocketlink.front")

HOST = "127.0.0.1"
BACKLOG = 4096
STARTUP = 30.0  # seconds the front may take to import and say it is ready


def gateway_socket_path(state: Path) -> Path:
    """The gateway's front socket: beside the daemon's control socket, in its private
    folder, so that no other user (and no instance) can claim a network path."""
    control = RuntimeRecord.socket_for(state)
    return control.with_name(f"{control.stem}.front.sock")


def network_path(store: Store, header: ProxyHeader) -> NetworkPath:
    """The path of the requests of a connection the front relayed: the caller's address
    and endpoint from the hyperplane's header, the endpoint's VPC from the store."""
    assert header.source is not None  # the front passes only headers that name a client
    endpoint_id = header.vpc_endpoint_id
    endpoint = store.get(VpcEndpoint, endpoint_id) if endpoint_id else None
    return NetworkPath(source_ip=header.source[0], vpce_id=endpoint_id,
                       vpc_id=endpoint.vpc_id if endpoint else None)


class ServiceFront(ChildSupervisor):
    name = "service front"
    log = log
    startup = STARTUP

    def __init__(self, ca_folder: Path, gateway_socket: Path) -> None:
        super().__init__()
        self.ca_folder = ca_folder  # the daemon's CA (made at its start); the child loads it
        self.gateway_socket = gateway_socket
        self.listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listening.bind((HOST, 0))
        self.listening.listen(BACKLOG)
        self.listening.setblocking(False)
        self.address: tuple[str, int] = self.listening.getsockname()[:2]

    def serve(self) -> None:
        """The process starts with the first connection (most daemons never need it)."""
        asyncio.get_running_loop().add_reader(self.listening.fileno(), self._first)

    def _first(self) -> None:
        asyncio.get_running_loop().remove_reader(self.listening.fileno())
        self.supervise()

    def status(self) -> dict:
        return {"pid": self.pid, "address": f"{self.address[0]}:{self.address[1]}",
                "restarts": self.restarts}

    async def stop(self) -> None:
        self.stopping = True
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.listening.fileno())
        await super().stop()
        self.listening.close()

    async def spawn(self) -> asyncio.subprocess.Process:
        fd = self.listening.fileno()
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pocketlink.services.front_main", str(fd),
            str(self.gateway_socket), str(self.ca_folder), str(os.getpid()),
            stdout=asyncio.subprocess.PIPE, pass_fds=(fd,), start_new_session=True)

    async def ready(self, process: asyncio.subprocess.Process) -> None:
        """The front's ``{"ready": true}`` line on stdout (a library may print before it)."""
        assert process.stdout is not None
        while line := await process.stdout.readline():
            with contextlib.suppress(ValueError):
                if json.loads(line) == {"ready": True}:
                    return
        raise EOFError("the front ended before it served")

    def announce(self, exited: str | None) -> None:
        assert self.process is not None
        if exited is None:
            log.info("service front is up on %s:%d (pid %d)", *self.address, self.process.pid)
        else:
            log.warning("service front exited with %s; restarted (pid %d, still on %s:%d)",
                        exited, self.process.pid, *self.address)
