"""The makers of sockets inside namespaces: the daemon's pool, whose callers that find no
socket ready are served in order, one socket each, from the batches the namespace's thread
makes; and a worker's stock, made on the calling thread, which comes back home."""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket

import pytest

from pocketlink.dataplane import sockets
from pocketlink.dataplane.sockets import NamespaceSockets, Stock
from pocketlink.network import netns


@pytest.fixture
def namespace(tmp_path):
    name = f"pl-socktest-{os.getpid()}"
    netns.create(name, str(tmp_path / "state.db"))
    yield name
    netns.remove(name)


def test_waiters_are_served_in_order_one_socket_each(namespace, monkeypatch) -> None:
    made: list[int] = []

    def batch(family: int, kind: int, count: int) -> list[socket.socket]:
        socks = [socket.socket(family, kind) for _ in range(count)]
        made.extend(sock.fileno() for sock in socks)
        return socks

    monkeypatch.setattr(sockets, "_batch", batch)

    async def scenario() -> tuple[list[int], int]:
        pool = NamespaceSockets(batch=4)
        try:
            waiters = [pool.socket(namespace, socket.AF_INET) for _ in range(10)]
            served = [await waiter for waiter in waiters]
            order = [made.index(sock.fileno()) for sock in served]
            distinct = len({sock.fileno() for sock in served})
            for sock in served:
                sock.close()
            return order, distinct
        finally:
            pool.close()

    order, distinct = asyncio.run(scenario())
    assert distinct == 10  # one socket each
    # Each batch serves the longest waiting first; within a batch sockets come from its end.
    assert [index // 4 for index in order] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]


def test_a_namespace_that_cannot_be_entered_fails_every_waiter(tmp_path) -> None:
    async def scenario() -> list[BaseException | None]:
        pool = NamespaceSockets(batch=2)
        try:
            waiters = [pool.socket("pl-socktest-missing", socket.AF_INET) for _ in range(3)]
            done = await asyncio.gather(*waiters, return_exceptions=True)
            return [r if isinstance(r, BaseException) else None for r in done]
        finally:
            pool.close()

    errors = asyncio.run(scenario())
    assert all(isinstance(e, OSError) for e in errors), errors


def test_a_ready_socket_is_taken_at_once_and_the_pool_refills_ahead(namespace) -> None:
    async def scenario() -> tuple[bool, int]:
        pool = NamespaceSockets(batch=4)
        try:
            first = await pool.socket(namespace, socket.AF_INET)
            first.close()
            taken = [pool.take(namespace, socket.AF_INET) for _ in range(2)]
            # Two of the three left taken: fewer than half a batch ready, one more is made.
            await asyncio.sleep(0.5)
            ready_now = len(pool._ready[(namespace, socket.AF_INET, socket.SOCK_STREAM)])
            for sock in taken:
                if sock is not None:
                    sock.close()
            return all(sock is not None for sock in taken), ready_now
        finally:
            pool.close()

    all_taken, ready_now = asyncio.run(scenario())
    assert all_taken
    assert ready_now == 1 + 4


SIOCGSKNS = 0x894C  # a socket's network namespace, as a descriptor (Linux 4.9+)


def _namespace_of(sock) -> int:
    fd = fcntl.ioctl(sock.fileno(), SIOCGSKNS)
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


def test_a_stock_makes_its_sockets_inside_the_namespace_and_comes_back_home(namespace) -> None:
    home = os.readlink("/proc/thread-self/ns/net")
    stock = Stock(batch=3, prepare=lambda sock: sock.setblocking(False))
    try:
        taken = [stock.take(namespace, socket.AF_INET) for _ in range(4)]  # two batches
        inside = os.stat(netns.NETNS_DIR / namespace).st_ino
        assert {_namespace_of(sock) for sock in taken} == {inside}
        assert all(not sock.getblocking() for sock in taken)  # prepared as made
        assert os.readlink("/proc/thread-self/ns/net") == home
        with pytest.raises(OSError):
            stock.take("pl-socktest-missing", socket.AF_INET)
        assert os.readlink("/proc/thread-self/ns/net") == home
        stock.keep_only(set())  # the two sockets left ready go: the namespace is let go of
        assert not stock._ready
        for sock in taken:
            sock.close()
    finally:
        stock.close()
