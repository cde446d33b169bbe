"""Sockets made inside other namespaces, for the event loop to use. A socket keeps its
namespace for life, wherever it is used afterwards.

Two makers, for two kinds of caller:

- ``NamespaceSockets``, for the daemon's health-check probes and checkip's listeners: each
  namespace gets one long-lived thread that entered it once (``setns`` moves only that
  thread), and making a socket is a hand-off to that thread, off the loop.
- ``Stock``, for a data-plane worker, which makes one socket a flow, and for the daemon's
  listeners: the calling thread enters the namespace for a batch and comes back, with no
  hand-off, future or second thread (a hand-off waited seconds for the interpreter lock
  while the network threads decoded netlink).
"""

from __future__ import annotations

import _socket
import asyncio
import ctypes
import errno
import os
import socket
from collections import deque
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor

from pocketlink.network import netns

_libc = ctypes.CDLL(None, use_errno=True)

Key = tuple[str, int, int]  # namespace, family, type


ROOT_NAMESPACE = ""  # the daemon's own: its sockets reach its loopback (the service front)


def _enter(namespace: str) -> None:
    if namespace == ROOT_NAMESPACE:
        return  # the thread is in it already
    fd = os.open(os.path.join(netns.NETNS_DIR, namespace), os.O_RDONLY)  # no Path object a batch
    try:
        if _libc.setns(fd, netns.CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into {namespace}: {os.strerror(error)}")
    finally:
        os.close(fd)


BATCH = 16  # sockets made per hand-off, kept ready for the next connections

Prepare = Callable[[socket.socket], None]


def _batch(family: int, kind: int, count: int) -> list[socket.socket]:
    return [socket.socket(family, kind) for _ in range(count)]


def _let_go(ready: dict[Key, list[socket.socket]], namespaces: set[str]) -> None:
    """Closes the ready sockets of every namespace not in ``namespaces``."""
    for key in list(ready):
        if key[0] not in namespaces:
            for sock in ready.pop(key):
                sock.close()


class NamespaceSockets:
    """``batch``: sockets made per hand-off; more means fewer hand-offs (each wakes a
    thread) for a few more idle descriptors."""

    def __init__(self, batch: int = BATCH) -> None:
        self.batch = batch
        self._workers: dict[str, ThreadPoolExecutor] = {}
        # Fresh sockets made ahead, per (namespace, family, type): a new flow takes one at
        # once instead of waiting for a hand-off to the namespace's thread. One batch at a
        # time per key, started when the ready ones run low; callers that find none ready
        # wait in line, and each batch serves them in order, one socket each (waking only
        # those it serves).
        self._ready: dict[Key, list[socket.socket]] = {}
        self._waiting: dict[Key, deque[asyncio.Future]] = {}
        self._making: dict[Key, asyncio.Future] = {}

    def _worker(self, namespace: str) -> ThreadPoolExecutor:
        worker = self._workers.get(namespace)
        if worker is None:
            worker = ThreadPoolExecutor(1, thread_name_prefix=f"ns-{namespace}",
                                        initializer=_enter, initargs=(namespace,))
            self._workers[namespace] = worker
        return worker

    def take(self, namespace: str, family: int, kind: int = socket.SOCK_STREAM
             ) -> socket.socket | None:
        """A ready socket at once, or None when there is none (then ``socket`` waits)."""
        key = (namespace, family, kind)
        ready = self._ready.get(key)
        if not ready:
            return None
        sock = ready.pop()
        if len(ready) < self.batch // 2:
            self._refill(key)
        return sock

    def socket(self, namespace: str, family: int, kind: int = socket.SOCK_STREAM
               ) -> asyncio.Future[socket.socket]:
        """A socket, once one is made: a ready one at once, else the next one a batch
        makes after those asked for before it."""
        waiter = asyncio.get_running_loop().create_future()
        sock = self.take(namespace, family, kind)
        if sock is not None:
            waiter.set_result(sock)
            return waiter
        key = (namespace, family, kind)
        self._waiting.setdefault(key, deque()).append(waiter)
        self._refill(key)
        return waiter

    def _refill(self, key: Key) -> None:
        if key not in self._making:
            self._making[key] = asyncio.ensure_future(self._make(key))

    async def _make(self, key: Key) -> None:
        namespace, family, kind = key
        loop = asyncio.get_running_loop()
        try:
            made = await loop.run_in_executor(self._worker(namespace), _batch, family, kind,
                                              self.batch)
        except BaseException as error:
            del self._making[key]
            if isinstance(error, BrokenExecutor):
                # The thread could not enter the namespace (not made yet, or gone): forget
                # the broken worker so that a later call starts a fresh one.
                self._workers.pop(namespace, None)
                error = OSError(errno.ENOENT, f"namespace {namespace} cannot be entered")
            stopped = not isinstance(error, Exception)  # cancelled: the loop stops
            for waiter in self._waiting.pop(key, ()):
                if stopped:
                    waiter.cancel()
                elif not waiter.done():
                    waiter.set_exception(error)
            if stopped:
                raise
            return
        del self._making[key]
        waiting = self._waiting.get(key)
        while waiting and made:
            waiter = waiting.popleft()
            if not waiter.done():  # a caller that gave up leaves its socket to the next
                waiter.set_result(made.pop())
        if waiting:
            self._refill(key)
        elif waiting is not None:
            del self._waiting[key]
        if key[0] in self._workers:
            self._ready.setdefault(key, []).extend(made)
        else:  # the namespace was let go of while this batch was made
            for sock in made:
                sock.close()

    def keep_only(self, namespaces: set[str]) -> None:
        """Let go of the workers (and ready sockets) of namespaces no longer in use: a thread
        or a socket inside a removed namespace would keep it alive."""
        for namespace in list(self._workers):
            if namespace not in namespaces:
                self._workers.pop(namespace).shutdown(wait=False)
        _let_go(self._ready, namespaces)

    def close(self) -> None:
        self.keep_only(set())


class Stock:
    """Sockets made ahead inside namespaces on the calling thread, for a data-plane worker
    that makes one a flow (and for the daemon's listeners): the thread enters the namespace
    (setns) for a batch of ``batch`` and comes back. The worker's loop waits for no hand-off
    to another thread, and no thread of its own contends for its GIL, at the cost of a
    batch's system calls every ``batch`` flows (a fraction of a millisecond). ``prepare``
    sets options as each socket is made. ``take`` raises OSError when the namespace cannot
    be entered.

    The sockets are of the C type under socket.socket (``_socket.socket``): the same
    methods, without the Python-level __init__ and close that a flow would pay for."""

    def __init__(self, batch: int, prepare: Prepare | None = None) -> None:
        self.batch = batch
        self.prepare = prepare
        self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self._ready: dict[Key, list[socket.socket]] = {}

    def take(self, namespace: str, family: int, kind: int = socket.SOCK_STREAM
             ) -> socket.socket:
        ready = self._ready.get((namespace, family, kind))
        if not ready:
            ready = self._ready[namespace, family, kind] = self._make(namespace, family, kind)
        return ready.pop()

    def _make(self, namespace: str, family: int, kind: int) -> list[socket.socket]:
        try:
            _enter(namespace)
            made = [_socket.socket(family, kind) for _ in range(self.batch)]
            if self.prepare is not None:
                for sock in made:
                    self.prepare(sock)
            return made
        finally:
            if _libc.setns(self._home, netns.CLONE_NEWNET) != 0:  # cannot happen: it is ours
                # A thread left in a tenant's namespace would make every later socket
                # there: no way on is safe.
                os.write(2, b"pocketlink: cannot return to its own network namespace; "
                            b"stopping at once (start it again)\n")
                os._exit(70)

    def keep_only(self, namespaces: set[str]) -> None:
        """Let go of the ready sockets of namespaces no longer in use (a socket inside a
        removed namespace would keep it alive)."""
        _let_go(self._ready, namespaces)

    def close(self) -> None:
        self.keep_only(set())
        os.close(self._home)
