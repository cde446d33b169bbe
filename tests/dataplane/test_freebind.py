"""A listener is bound before its ENI's address is in the namespace (IP_FREEBIND): the kernel
takes connections to it as soon as the address lands, so a new endpoint's listener does not
wait for its VPC's network run."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess

import pytest

from pocketlink.dataplane.hyperplane import Hyperplane
from pocketlink.dataplane.plan import Backend, ListenerSpec
from pocketlink.network import netns

ADDRESS, PORT = "10.77.0.5", 8080


@pytest.fixture
def namespace(tmp_path):
    name = f"pl-freebind-{os.getpid()}"
    netns.create(name, str(tmp_path / "state.db"))
    yield name
    netns.remove(name)


def ip(namespace: str, *args: str) -> None:
    subprocess.run(["ip", "-n", namespace, *args], check=True, capture_output=True)


def test_a_listener_binds_before_its_address_and_accepts_once_it_lands(namespace) -> None:
    spec = ListenerSpec(namespace, ADDRESS, PORT, "vpce-0freebind", Backend(
        namespace=namespace, source=ADDRESS, targets=(), proxy_protocol=False,
        endpoint_id=None, idle_timeout=350.0))

    async def bind() -> socket.socket:
        plane = Hyperplane(workers=1)
        try:
            return await plane._listen(spec)
        finally:
            plane.sockets.close()

    # Up, as a router's is: with its loopback down a namespace lets any address be bound.
    ip(namespace, "link", "set", "lo", "up")
    listener = asyncio.run(bind())  # the namespace holds no such address yet
    try:
        assert listener.getsockname() == (ADDRESS, PORT)
        ip(namespace, "address", "add", f"{ADDRESS}/32", "dev", "lo")
        client = subprocess.run(
            ["ip", "netns", "exec", namespace, "python3", "-c",
             f"import socket; socket.create_connection(('{ADDRESS}', {PORT}), 5).close()"],
            capture_output=True, text=True, timeout=60)
        assert client.returncode == 0, client.stderr[-2000:]
        listener.settimeout(5)
        accepted, _ = listener.accept()
        accepted.close()
    finally:
        listener.close()
