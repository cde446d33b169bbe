"""The splice pump on loopback sockets: bytes both ways, half-close carried, reset on idle."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest

from pocketlink.dataplane.pump import Flow, Pipes


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    """Two connected TCP sockets on loopback (splice needs real sockets, not a socketpair's)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        near = socket.create_connection(server.getsockname())
        far, _ = server.accept()
    return near, far


async def _recv_all(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    chunks = []
    while data := await loop.sock_recv(sock, 65536):
        chunks.append(data)
    return b"".join(chunks)


@pytest.fixture
def flow_ends():
    return []


async def _flow(flow_ends, idle: float = 30.0):
    """client <-> [client_side | Flow | upstream_side] <-> server"""
    client, client_side = _tcp_pair()
    upstream_side, server = _tcp_pair()
    for sock in (client, client_side, upstream_side, server):
        sock.setblocking(False)
    flow = Flow(client_side, upstream_side, idle, flow_ends.append, Pipes())
    return client, server, flow


def test_bytes_go_both_ways_and_half_close_is_carried(flow_ends):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        client, server, flow = await _flow(flow_ends)
        payload = os.urandom(3 * 1024 * 1024)
        await loop.sock_sendall(client, payload)
        client.shutdown(socket.SHUT_WR)  # the client is done talking, not listening
        assert await _recv_all(server) == payload  # the server sees EOF after all of it
        await loop.sock_sendall(server, b"still here")
        server.shutdown(socket.SHUT_WR)
        assert await _recv_all(client) == b"still here"
        await asyncio.sleep(0.05)
        assert flow_ends == [flow]
        client.close()
        server.close()

    asyncio.run(scenario())


def test_reset_gives_both_sides_a_reset(flow_ends):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        client, server, flow = await _flow(flow_ends, idle=0.1)
        await loop.sock_sendall(client, b"hello")
        assert await loop.sock_recv(server, 5) == b"hello"
        await asyncio.sleep(0.2)
        assert flow.idle(time.monotonic())
        flow.reset()
        for side in (client, server):
            with pytest.raises(ConnectionResetError):
                while await loop.sock_recv(side, 10):
                    pass
        assert flow_ends == [flow]

    asyncio.run(scenario())
