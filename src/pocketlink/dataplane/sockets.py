"""Sockets made inside other namespaces, for the event loop to use.

Each namespace gets one long-lived worker thread that entered it once (``setns`` moves
only that thread); making a socket is then a hand-off to that thread, not a new thread
per connection. A socket keeps its namespace for life, wherever it is used afterwards.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import os
import socket
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor

from pocketlink.network import netns

_libc = ctypes.CDLL(None, use_errno=True)


def _enter(namespace: str) -> None:
    fd = os.open(netns.NETNS_DIR / namespace, os.O_RDONLY)
    try:
        if _libc.setns(fd, netns.CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into {namespace}: {os.strerror(error)}")
    finally:
        os.close(fd)


BATCH = 16  # sockets made per hand-off, kept ready for the next connections


def _batch(family: int, kind: int, count: int) -> list[socket.socket]:
    return [socket.socket(family, kind) for _ in range(count)]


class NamespaceSockets:
    """``batch``: sockets made per hand-off; more, for a data-plane worker's stream of new
    flows, means fewer hand-offs (each wakes a thread) for a few more idle descriptors."""

    def __init__(self, batch: int = BATCH) -> None:
        self.batch = batch
        self._workers: dict[str, ThreadPoolExecutor] = {}
        # Fresh sockets made ahead, per (namespace, family, type): a new flow takes one at
        # once instead of waiting for a hand-off to the namespace's thread. One batch at a
        # time per key: flows that find none ready wait for the batch under way.
        self._ready: dict[tuple[str, int, int], list[socket.socket]] = {}
        self._making: dict[tuple[str, int, int], asyncio.Future] = {}

    def _worker(self, namespace: str) -> ThreadPoolExecutor:
        worker = self._workers.get(namespace)
        if worker is None:
            worker = ThreadPoolExecutor(1, thread_name_prefix=f"ns-{namespace}",
                                        initializer=_enter, initargs=(namespace,))
            self._workers[namespace] = worker
        return worker

    async def socket(self, namespace: str, family: int, kind: int = socket.SOCK_STREAM
                     ) -> socket.socket:
        key = (namespace, family, kind)
        while not self._ready.get(key):
            making = self._making.get(key)
            if making is None or making.done():
                # A batch that is done but whose sockets others took: start another (awaiting
                # a done future would not yield, and this loop would spin).
                making = self._making[key] = asyncio.ensure_future(self._make(key))
            await asyncio.shield(making)
        return self._ready[key].pop()

    async def _make(self, key: tuple[str, int, int]) -> None:
        namespace, family, kind = key
        loop = asyncio.get_running_loop()
        try:
            made = await loop.run_in_executor(self._worker(namespace), _batch, family, kind,
                                              self.batch)
        except BrokenExecutor:
            # The thread could not enter the namespace (not made yet, or gone): forget the
            # broken worker so that a later pass starts a fresh one.
            self._workers.pop(namespace, None)
            raise OSError(errno.ENOENT, f"namespace {namespace} cannot be entered") from None
        self._ready.setdefault(key, []).extend(made)

    def keep_only(self, namespaces: set[str]) -> None:
        """Let go of the workers (and ready sockets) of namespaces no longer in use: a thread
        or a socket inside a removed namespace would keep it alive."""
        for namespace in list(self._workers):
            if namespace not in namespaces:
                self._workers.pop(namespace).shutdown(wait=False)
        for key in list(self._ready):
            if key[0] not in namespaces:
                for sock in self._ready.pop(key):
                    sock.close()

    def close(self) -> None:
        self.keep_only(set())
