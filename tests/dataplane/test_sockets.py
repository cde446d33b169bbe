"""The per-namespace socket pool: callers that find no socket ready are served in order,
one socket each, from the batches the namespace's thread makes."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from pocketlink.dataplane.sockets import NamespaceSockets
from pocketlink.network import netns


@pytest.fixture
def namespace(tmp_path):
    name = f"pl-socktest-{os.getpid()}"
    netns.create(name, str(tmp_path / "state.db"))
    yield name
    netns.remove(name)


def test_waiters_are_served_in_order_one_socket_each(namespace) -> None:
    async def scenario() -> tuple[list[int], int, bool]:
        made: list[int] = []

        def prepare(sock: socket.socket) -> None:
            sock.setblocking(False)
            made.append(sock.fileno())

        pool = NamespaceSockets(batch=4, prepare=prepare)
        try:
            waiters = [pool.socket(namespace, socket.AF_INET) for _ in range(10)]
            served = [await waiter for waiter in waiters]
            order = [made.index(sock.fileno()) for sock in served]
            distinct = len({sock.fileno() for sock in served})
            prepared = all(not sock.getblocking() for sock in served)
            for sock in served:
                sock.close()
            return order, distinct, prepared
        finally:
            pool.close()

    order, distinct, prepared = asyncio.run(scenario())
    assert distinct == 10  # one socket each
    # Each batch serves the longest waiting first; within a batch sockets come from its end.
    assert [index // 4 for index in order] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert prepared  # the options were set in the namespace's thread


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
