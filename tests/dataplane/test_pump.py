"""The pump on loopback sockets: bytes both ways (copied while short, spliced once bulk),
half-close carried, a header ahead of the client's bytes, a refused connect and an idle
flow reset."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import time

import pytest

from pocketlink.dataplane import pump as pump_module
from pocketlink.dataplane.pump import Flow, Pump, Tally

HEADER = b"H" * 100  # what a PROXY protocol v2 header would be, to the pump


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


async def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < size:
        chunk = await loop.sock_recv(sock, size - len(data))
        assert chunk, f"closed after {len(data)} of {size} bytes"
        data += chunk
    return data


@pytest.fixture
def flow_ends():
    return []


async def _flow(flow_ends, idle: float = 30.0, header: bytes = b"", tally: Tally | None = None):
    """client <-> [client_side | Flow | upstream_side] <-> server, as a worker makes it:
    the accepted socket left blocking, the upstream one non-blocking."""
    client, client_side = _tcp_pair()
    upstream_side, server = _tcp_pair()
    for sock in (client, upstream_side, server):
        sock.setblocking(False)
    flow = Flow(Pump(), client_side, upstream_side, server.getsockname(), idle, flow_ends.append,
                header, tally)
    return client, server, flow


def test_bytes_go_both_ways_and_half_close_is_carried(flow_ends):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        client, server, flow = await _flow(flow_ends)
        small = b"hello"
        await loop.sock_sendall(client, small)  # copied
        assert await _recv_exactly(server, len(small)) == small
        payload = os.urandom(3 * 1024 * 1024)  # fills the copy buffer: spliced from then on
        await loop.sock_sendall(client, payload)
        client.shutdown(socket.SHUT_WR)  # the client is done talking, not listening
        assert await _recv_all(server) == payload  # the server sees EOF after all of it
        assert flow.up.splicing and not flow.down.splicing
        await loop.sock_sendall(server, b"still here")
        server.shutdown(socket.SHUT_WR)
        assert await _recv_all(client) == b"still here"
        await asyncio.sleep(0.05)
        assert flow_ends == [flow]
        client.close()
        server.close()
        flow.pump.close()

    asyncio.run(scenario())


def test_a_slow_receiver_holds_the_sender_back_and_loses_nothing(flow_ends, monkeypatch):
    """Small reads that the receiver does not take: the sink fills, the copy waits for its
    writable edge (asked for only now), then carries on in order."""
    monkeypatch.setattr(pump_module, "COPY_BUFFER", 1 << 20)  # stay on the copy path

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        client, server, flow = await _flow(flow_ends)
        flow.upstream.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        payload = os.urandom(4 << 20)
        sending = asyncio.ensure_future(loop.sock_sendall(client, payload))
        await asyncio.sleep(0.3)  # the server reads nothing yet
        assert flow.up.blocked and flow.up.watching
        received = bytearray()
        while len(received) < len(payload):
            chunk = await loop.sock_recv(server, 1 << 16)
            assert chunk, f"closed after {len(received)} bytes"
            received += chunk
        assert received == payload
        await sending
        client.close()
        server.close()
        await asyncio.sleep(0.05)
        assert flow_ends == [flow]
        flow.pump.close()

    asyncio.run(scenario())


def test_a_spliced_direction_with_a_full_sink_stops_reading_and_resumes(flow_ends):
    """Bulk bytes the receiver does not take: the spliced direction pauses (its source's
    readable edges are no longer asked for) while the other way still carries bytes, and
    once the receiver reads, every byte arrives in order and the direction reads again."""
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        client, server, flow = await _flow(flow_ends)
        flow.upstream.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        payload = os.urandom(8 << 20)
        sending = asyncio.ensure_future(loop.sock_sendall(client, payload))
        await asyncio.sleep(0.3)  # the server reads nothing yet
        assert flow.up.splicing and flow.up.blocked and flow.up.paused
        await loop.sock_sendall(server, b"meanwhile")  # the other way is not paused
        assert await _recv_exactly(client, 9) == b"meanwhile"
        received = bytearray()
        while len(received) < len(payload):
            chunk = await loop.sock_recv(server, 1 << 16)
            assert chunk, f"closed after {len(received)} bytes"
            received += chunk
        assert received == payload
        await sending
        assert not flow.up.paused
        client.close()
        server.close()
        await asyncio.sleep(0.05)
        assert flow_ends == [flow]
        flow.pump.close()

    asyncio.run(scenario())


def test_the_header_goes_ahead_of_the_first_bytes(flow_ends):
    async def scenario() -> bytes:
        loop = asyncio.get_running_loop()
        client, server, flow = await _flow(flow_ends, header=HEADER)
        await loop.sock_sendall(client, b"GET / HTTP/1.0\r\n\r\n")
        client.shutdown(socket.SHUT_WR)
        received = await _recv_all(server)
        client.close()
        server.close()
        flow.pump.close()
        return received

    assert asyncio.run(scenario()) == HEADER + b"GET / HTTP/1.0\r\n\r\n"


def test_the_header_goes_alone_to_a_server_that_speaks_first(flow_ends):
    async def scenario() -> tuple[bytes, bytes]:
        loop = asyncio.get_running_loop()
        client, server, flow = await _flow(flow_ends, header=HEADER)
        header = await _recv_exactly(server, len(HEADER))  # the client says nothing
        await loop.sock_sendall(server, b"220 ready\r\n")
        greeting = await _recv_exactly(client, 11)
        client.close()
        server.close()
        flow.pump.close()
        return header, greeting

    assert asyncio.run(scenario()) == (HEADER, b"220 ready\r\n")


def test_the_header_goes_even_to_a_client_that_leaves_without_a_word(flow_ends):
    async def scenario() -> bytes:
        client, server, flow = await _flow(flow_ends, header=HEADER)
        client.shutdown(socket.SHUT_WR)
        received = await _recv_all(server)  # the header, then end of file
        client.close()
        server.close()
        flow.pump.close()
        return received

    assert asyncio.run(scenario()) == HEADER


def test_a_refused_connect_resets_the_client(flow_ends):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        client, client_side = _tcp_pair()
        client.setblocking(False)
        with socket.socket() as closed:  # a port nothing listens on
            closed.bind(("127.0.0.1", 0))
            target = closed.getsockname()
        upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        assert upstream.connect_ex(target) in (0, errno.EINPROGRESS)
        pump = Pump()
        flow = Flow(pump, client_side, upstream, target, 30.0, flow_ends.append)
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(loop.sock_recv(client, 10), 5)
        assert flow_ends == [flow] and not flow.connected
        client.close()
        pump.close()

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
        flow.pump.close()

    asyncio.run(scenario())


def test_a_flow_counts_its_bytes_to_its_target_and_itself_when_it_ends(flow_ends):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        tally = Tally()
        client, server, flow = await _flow(flow_ends, tally=tally)
        target = server.getsockname()
        await loop.sock_sendall(client, b"ping")
        assert await _recv_exactly(server, 4) == b"ping"
        flow.count()  # the sweep's count: the bytes so far, the flow not yet
        assert tally.targets == {target: [0, 4]}
        await loop.sock_sendall(server, b"pong!")
        assert await _recv_exactly(client, 5) == b"pong!"
        client.shutdown(socket.SHUT_WR)
        server.shutdown(socket.SHUT_WR)
        await _recv_all(server)
        await _recv_all(client)
        await asyncio.sleep(0.05)
        assert flow_ends == [flow]
        assert tally.take_targets() == [[*target, 1, 9]]
        assert tally.targets == {}  # taken: the next report starts from zero
        client.close()
        server.close()
        flow.pump.close()

    asyncio.run(scenario())
