"""The API's HTTP side on an event loop of its own, in a thread of its own: a client's
connection flood, its slow bodies or its 1 MiB requests are accepted, read, held to their
limits and answered there, not on the daemon's loop, where the reconciler makes a new
endpoint carry its first byte, the instances' metadata service answers, the health checks
and the sampler run and the control socket serves.

What touches the store stays on the daemon's loop, where the store lives (a transaction
reads, copies and commits without a lock; the reconciler iterates its dicts): each request
read whole is handed there (``DaemonLoopFront``), where the fair turns (gateway/fair.py)
serve it exactly as before; a connection that closes cancels its request's work there.
Before the hand-over, the gateway routes and parses the request on the API thread
(dispatch.py ``parse_ahead``: pure, and what a large request costs most); the daemon's
loop keeps identity, auth, the endpoint policy, the handler and the serializing (the
answer is written from the handler's result, which may hold the store's own objects).
The refusals the HTTP server makes itself (``refuse``: too large, malformed) and the body
limit it reads from a request's head are pure (routing, an error's serializer) and answer
on the API thread. The service front's ``paths`` (services/front.py ``network_path``) reads
one endpoint with ``Store.get``, one dict lookup of a resource that transactions replace
whole, never change in place: it stays on the API thread too.

Each of the gateway's limits is one thread's only: the connection cap (gateway/limits.py
``ConnectionCap``) is counted by the HTTP servers, on the API thread; the rate limiter is
asked by the gateway (and the console's in-process calls), on the daemon's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from pocketlink.gateway.http import Front
from pocketlink.gateway.limits import ConnectionCap
from pocketlink.gateway.paths import NetworkPath
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest, HttpResponse

T = TypeVar("T")

THREAD_NAME = "pocketlink-api"


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop, as the daemon's own (cli ``up``), when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class ApiThread:
    """The API's event loop, running in its thread from ``start`` to ``stop``; ``cap``, the
    API's connections (both doors'), counted there."""

    def __init__(self, cap: ConnectionCap) -> None:
        self.cap = cap
        self.loop = _new_loop()
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, work: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """``work`` run on the API's loop, awaited from the daemon's (cancelling the wait
        cancels it there)."""
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def stop(self) -> None:
        """The loop stopped (the daemon closes the servers on it first, with ``call``) and
        the thread joined, awaited without holding the daemon's loop."""
        if not self._thread.is_alive():
            self.loop.close()
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join)
        self.loop.close()

    def status(self) -> dict:
        """For the control's status: which thread of the daemon serves the API (its
        kernel id, as /proc/PID/task names it), and its connections."""
        return {"thread": self._thread.native_id, "connections": self.cap.open,
                "connection_cap": self.cap.limit}

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()


class DaemonLoopFront:
    """A Front for the API thread's servers: every request is answered by ``front`` (the
    fair turns) on the daemon's loop, once ``ahead`` (the gateway's parse) has done its
    store-free part in the API thread; refusals at the HTTP level, in the API thread."""

    def __init__(self, front: Front, loop: asyncio.AbstractEventLoop,
                 ahead: Callable[[HttpRequest], None]) -> None:
        self.front = front
        self.loop = loop  # the daemon's
        self.ahead = ahead

    def forwarding(self, request: HttpRequest, peer: str, path: NetworkPath | None = None
                   ) -> Awaitable[HttpResponse]:
        self.ahead(request)
        return asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(self._answer(request, peer, path), self.loop))

    def handle(self, request: HttpRequest, peer: str, path: NetworkPath | None = None
               ) -> HttpResponse:
        raise AssertionError("every request is forwarded to the daemon's loop")

    def refuse(self, request: HttpRequest | None, error: ServiceError) -> HttpResponse:
        return self.front.refuse(request, error)

    def body_limit(self, request: HttpRequest) -> int:
        return self.front.body_limit(request)

    async def _answer(self, request: HttpRequest, peer: str, path: NetworkPath | None
                      ) -> HttpResponse:
        pending = self.front.forwarding(request, peer, path)
        return await pending if pending is not None else self.front.handle(request, peer, path)
