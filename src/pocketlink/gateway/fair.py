"""Fair turns for the API's callers: one account's flood of requests must not starve
another account's calls.

A request is answered at once when nobody waits and its caller has had no other request
answered at once in this pass of the event loop: a quiet caller's call costs no queue.
Any other joins its caller's queue; the queues are served round-robin, one request each in
turn, a few milliseconds of handlers at a time before the event loop polls its sockets
again (``TURN_BUDGET``), so that a quiet caller's request waits behind at most one request
of each busy caller, not behind a burst that one of them pipelined (http.py then hands on
a connection's pipelined requests one at a time, each in its turn). A caller
is an account (the SigV4 access key's; under ``--strict-auth`` only a key the daemon
knows names one, any other is its address, as for the rate limit, limits.py, which still
applies per access key within the turns; without strict auth any 12-digit key names an
account, so a caller may split its flood over made-up accounts, as it may for its rate).
Requests the backend serves wait for the backend on their own; at most
``BACKEND_PER_CALLER`` of one caller's are forwarded at a time, the rest wait, in order.

A page of the web console (``/_pocketlink/console/``) takes no turn, nor do the API calls
it makes: they are handed to the gateway in process (console/aws.py), a few at a time
(the console's worker threads), each held to its key's rate limit.

A Route 53 request that changed the store is answered once the DNS servers answer from
the change (``settle``), as ``INSYNC`` promises: the DNS runs in its own process
(dns/process.py), which the daemon ships zones to.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from pocketlink.gateway.dispatch import Gateway
from pocketlink.gateway.paths import NetworkPath
from pocketlink.wire import sigv4
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest, HttpResponse

TURN_BUDGET = 0.005  # seconds of handlers between two polls of the loop
BACKEND_PER_CALLER = 4
SETTLED_SERVICES = frozenset({"route53"})

_Job = tuple[HttpRequest, str, NetworkPath | None, asyncio.Future, str]


class FairFront:
    """The gateway behind one queue per caller (a Front for http.py)."""

    def __init__(self, gateway: Gateway,
                 settle: Callable[[], Awaitable[None]] | None = None) -> None:
        self.gateway = gateway
        self.settle = settle
        self._queues: dict[str, deque[_Job]] = {}
        self._turns: deque[str] = deque()  # callers with requests waiting, in turn order
        self._scheduled = False
        self._forwarded: dict[str, tuple[asyncio.Semaphore, int]] = {}
        self._answered_now: set[str] = set()  # callers answered at once in this pass

    def forwarding(self, request: HttpRequest, peer: str = "", path: NetworkPath | None = None
                   ) -> Awaitable[HttpResponse] | None:
        if request.path.startswith("/_pocketlink/"):
            return self.gateway.console_page(request, path)  # else probes: answered at once
        signature = sigv4.signature_of(request)
        caller = self._caller(signature, peer)
        service = signature.scope.service if signature else ""
        if not self._turns and caller not in self._answered_now and \
                service not in SETTLED_SERVICES:
            if not self._answered_now:
                asyncio.get_running_loop().call_soon(self._answered_now.clear)
            self._answered_now.add(caller)
            pending = self.gateway.forwarding(request, peer, path)
            return None if pending is None else self._forward(caller, pending)
        answer = asyncio.get_running_loop().create_future()
        queue = self._queues.get(caller)
        if queue is None:
            queue = self._queues[caller] = deque()
            self._turns.append(caller)
        queue.append((request, peer, path, answer, service))
        if not self._scheduled:
            asyncio.get_running_loop().call_soon(self._serve)
            self._scheduled = True
        return answer

    def handle(self, request: HttpRequest, peer: str = "", path: NetworkPath | None = None
               ) -> HttpResponse:
        return self.gateway.handle(request, peer, path)

    def refuse(self, request: HttpRequest | None, error: ServiceError) -> HttpResponse:
        return self.gateway.refuse(request, error)

    def body_limit(self, request: HttpRequest) -> int:
        return self.gateway.body_limit(request)

    def _caller(self, signature: sigv4.Signature | None, peer: str) -> str:
        key = signature.scope.access_key if signature else ""
        credentials = self.gateway.credentials
        if key and (not self.gateway.strict_auth or credentials.secret_for(key) is not None):
            return f"account:{credentials.account_for(key)}"
        return f"address:{peer}"

    def _serve(self) -> None:
        self._scheduled = False
        deadline = time.perf_counter() + TURN_BUDGET
        while self._turns and time.perf_counter() < deadline:
            caller = self._turns.popleft()
            queue = self._queues[caller]
            request, peer, path, answer, service = queue.popleft()
            if queue:
                self._turns.append(caller)
            else:
                del self._queues[caller]
            if answer.done():  # its connection is gone
                continue
            pending = self.gateway.forwarding(request, peer, path)
            if pending is not None:
                _chain(self._forward(caller, pending), answer)
                continue
            changes = self.gateway.store.changes
            response = self.gateway.handle(request, peer, path)
            if self.settle is not None and service in SETTLED_SERVICES and \
                    self.gateway.store.changes != changes:
                _chain(self._settled(response), answer)
            else:
                answer.set_result(response)
        if self._turns:
            asyncio.get_running_loop().call_soon(self._serve)
            self._scheduled = True

    async def _forward(self, caller: str, pending: Awaitable[HttpResponse]) -> HttpResponse:
        gate, users = self._forwarded.get(caller, (asyncio.Semaphore(BACKEND_PER_CALLER), 0))
        self._forwarded[caller] = (gate, users + 1)
        try:
            async with gate:
                return await pending
        finally:
            gate, users = self._forwarded[caller]
            if users == 1:
                del self._forwarded[caller]
            else:
                self._forwarded[caller] = (gate, users - 1)

    async def _settled(self, response: HttpResponse) -> HttpResponse:
        assert self.settle is not None
        await self.settle()
        return response


def _chain(work: Awaitable[HttpResponse], answer: asyncio.Future) -> None:
    """``answer`` gets what ``work`` returns; cancelling ``answer`` (its connection closed)
    cancels ``work``."""
    task = asyncio.ensure_future(work)

    def done(finished: asyncio.Future) -> None:
        if not answer.done():
            if finished.cancelled():
                answer.cancel()
            elif finished.exception() is not None:
                answer.set_exception(finished.exception())  # type: ignore[arg-type]
            else:
                answer.set_result(finished.result())
    task.add_done_callback(done)
    answer.add_done_callback(lambda _: task.cancel() if answer.cancelled() else None)
