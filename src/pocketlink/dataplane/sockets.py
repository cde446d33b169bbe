"""Sockets made inside other namespaces, for the event loop to use.

Each namespace gets one long-lived worker thread that entered it once (``setns`` moves
only that thread); making a socket is then a hand-off to that thread, not a new thread
per connection. A socket keeps its namespace for life, wherever it is used afterwards.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
from concurrent.futures import ThreadPoolExecutor

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


class NamespaceSockets:
    def __init__(self) -> None:
        self._workers: dict[str, ThreadPoolExecutor] = {}

    def _worker(self, namespace: str) -> ThreadPoolExecutor:
        worker = self._workers.get(namespace)
        if worker is None:
            worker = ThreadPoolExecutor(1, thread_name_prefix=f"ns-{namespace}",
                                        initializer=_enter, initargs=(namespace,))
            self._workers[namespace] = worker
        return worker

    async def socket(self, namespace: str, family: int, kind: int = socket.SOCK_STREAM
                     ) -> socket.socket:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker(namespace), socket.socket, family, kind)

    def keep_only(self, namespaces: set[str]) -> None:
        """Let go of the workers of namespaces no longer in use: a thread inside a removed
        namespace would keep it alive."""
        for namespace in list(self._workers):
            if namespace not in namespaces:
                self._workers.pop(namespace).shutdown(wait=False)

    def close(self) -> None:
        self.keep_only(set())
