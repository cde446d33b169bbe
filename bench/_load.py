"""The data-plane benchmark's two ends: a tiny echo server for the target, and the load
generator for the client. The bench/dataplane_*.py benchmarks run each inside a namespace with
``ip netns exec pl-<instance-id> python3 bench/_load.py MODE ...``.

Why a program of our own: iperf3 measures bulk bytes, but not new connections per second,
the latency of one small request, or thousands of idle connections held open; and the three
paths under test (direct, HAProxy, pocketlink) must be driven by the very same client.

The protocol is one line each way: the client sends a 64-byte line, the server sends the
same line back. A line that starts with ``c`` asks the server to close once it has answered
(connect, request, answer, close: the server closes first, as an HTTP/1.0 server does, so
TIME_WAIT stays on the server's side and the client never runs out of ephemeral ports); a
line that starts with ``k`` keeps the connection open for the next one.

Modes (each prints one JSON object on stdout at the end; ``hold`` also prints progress
events, one JSON object a line, as it goes):

- ``serve --port P [--port Q]``: the echo server, until SIGTERM. Prints ``ready``.
- ``cps --host H --port P --seconds S --concurrency C``: C workers, each one connection
  after another for S seconds; counts completed connections and errors.
- ``latency --host H --port P --count N --mode kept|new``: N sequential round trips with a
  blocking socket, after a short warm-up: on one kept connection, or each on a new one
  (connect, request, answer, close); gives every sample in microseconds.
- ``hold --host H --port P --count N --seconds S``: opens N connections (at most
  ``--parallel`` connecting at once), one round trip on each, holds them all S seconds
  (any connection that ends early is an error), one more round trip on each, then closes.
  After ``--give-up-after`` failed connections it tries no more (a proxy out of file
  descriptors would otherwise cost every remaining one its full timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import resource
import signal
import socket
import sys
import time
from collections import Counter
from typing import Any

LINE = 64  # bytes of a request line, and of its answer
CONNECT_TIMEOUT = 10.0


def line(kind: bytes) -> bytes:
    return kind + b"x" * (LINE - 2) + b"\n"


def raise_nofile(wanted: int) -> int:
    """Lift this process's open-files limit to at least ``wanted`` (root may raise the hard
    limit too); gives the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def error_name(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno:
        return errno.errorcode.get(error.errno, str(error.errno))
    return type(error).__name__


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


# --- serve -------------------------------------------------------------------------------
class Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        buffered = self.pending + data if self.pending else data
        start = 0
        while (end := buffered.find(b"\n", start)) >= 0:
            self.transport.write(buffered[start:end + 1])
            if buffered[start:start + 1] == b"c":
                self.transport.close()  # after the answer is flushed: FIN from our side
                self.pending = b""
                return
            start = end + 1
        self.pending = buffered[start:]

    def eof_received(self) -> bool:
        return False  # the client is done: close our side too


async def serve(ports: list[int]) -> None:
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(Echo, "0.0.0.0", port, backlog=4096, reuse_address=True)
               for port in ports]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for server in servers:
        server.close()


# --- cps ---------------------------------------------------------------------------------
class Once(asyncio.Protocol):
    """Connect, send one ``c`` line, read the answer until the server closes."""

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(line(b"c"))  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.received += len(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is not None:
            self.done.set_exception(exc)
        elif self.received != LINE:
            self.done.set_exception(ConnectionError(f"short answer: {self.received} bytes"))
        else:
            self.done.set_result(None)


async def cps(host: str, port: int, seconds: float, concurrency: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    errors: Counter[str] = Counter()
    durations: list[float] = []
    started = time.perf_counter()
    stop_at = started + seconds
    last = [started]  # when the last connection completed

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            begun = time.perf_counter()
            done: asyncio.Future[None] = loop.create_future()
            try:
                await loop.create_connection(lambda d=done: Once(d), host, port)  # type: ignore[misc]
                await done
            except (OSError, ConnectionError) as error:
                errors[error_name(error)] += 1
                await asyncio.sleep(0.01)  # do not spin on a refusing peer
                continue
            last[0] = time.perf_counter()
            durations.append(last[0] - begun)

    cpu = cpu_seconds()
    tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    _, stalled = await asyncio.wait(tasks, timeout=seconds + 5.0)
    for task in stalled:
        task.cancel()
    elapsed = time.perf_counter() - started
    if stalled:
        errors["stalled"] += len(stalled)
    ordered = sorted(durations)
    return {"connections": len(durations), "seconds": elapsed,
            "per_second": len(durations) / max(last[0] - started, 1e-9), "errors": dict(errors),
            "client_cpu": (cpu_seconds() - cpu) / elapsed,
            "p50_us": quantile(ordered, 0.50) * 1e6, "p99_us": quantile(ordered, 0.99) * 1e6}


def quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- latency -----------------------------------------------------------------------------
def _read_exactly(sock: socket.socket, size: int) -> None:
    got = 0
    while got < size:
        chunk = sock.recv(size - got)
        if not chunk:
            raise ConnectionError(f"closed after {got} of {size} bytes")
        got += len(chunk)


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def latency(host: str, port: int, count: int, mode: str, warmup: int) -> dict[str, Any]:
    samples: list[int] = []
    if mode == "kept":
        request = line(b"k")
        with _connect(host, port) as sock:
            for i in range(warmup + count):
                begun = time.perf_counter_ns()
                sock.sendall(request)
                _read_exactly(sock, LINE)
                if i >= warmup:
                    samples.append((time.perf_counter_ns() - begun) // 1000)
    else:
        request = line(b"c")
        for i in range(warmup + count):
            begun = time.perf_counter_ns()
            with _connect(host, port) as sock:
                sock.sendall(request)
                _read_exactly(sock, LINE)
                if sock.recv(1):
                    raise ConnectionError("the server did not close after its answer")
            if i >= warmup:
                samples.append((time.perf_counter_ns() - begun) // 1000)
    return {"mode": mode, "samples_us": samples}


# --- hold --------------------------------------------------------------------------------
class Held(asyncio.Protocol):
    """One held connection: answers are awaited one at a time; an end we did not ask for
    is remembered as an error."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.received = 0
        self.closing = False
        self.lost: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def ask(self) -> asyncio.Future[None]:
        assert self.transport is not None
        self.received = 0
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(line(b"k"))
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if self.received >= LINE and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def eof_received(self) -> bool:
        if not self.closing:
            self.lost = "EOF"
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing and self.lost is None:
            self.lost = error_name(exc) if exc else "closed"
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(self.lost or "closed"))


async def hold(host: str, port: int, count: int, seconds: float, parallel: int,
               answer_timeout: float, give_up: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(parallel)
    opened: list[Held] = []
    open_errors: Counter[str] = Counter()
    skipped = 0

    async def open_one() -> None:
        nonlocal skipped
        async with gate:
            if sum(open_errors.values()) >= give_up:
                skipped += 1  # the far end stopped taking connections: do not queue more
                return
            transport = None
            try:
                transport, protocol = await asyncio.wait_for(
                    loop.create_connection(Held, host, port), CONNECT_TIMEOUT)
                assert isinstance(protocol, Held)
                await asyncio.wait_for(protocol.ask(), answer_timeout)
            except (OSError, ConnectionError, TimeoutError) as error:
                open_errors[error_name(error)] += 1
                if transport is not None:
                    transport.abort()
                return
            opened.append(protocol)

    started = time.perf_counter()
    await asyncio.gather(*(open_one() for _ in range(count)))
    ramp = time.perf_counter() - started
    emit({"event": "held", "held": len(opened), "errors": dict(open_errors),
          "skipped": skipped, "ramp_seconds": ramp})

    await asyncio.sleep(seconds)
    lost = Counter(p.lost for p in opened if p.lost)
    alive = [p for p in opened if not p.lost]
    emit({"event": "checking", "lost": dict(lost)})

    final_errors: Counter[str] = Counter()

    async def check(protocol: Held) -> None:
        try:
            await asyncio.wait_for(protocol.ask(), answer_timeout)
        except (OSError, ConnectionError, TimeoutError) as error:
            final_errors[error_name(error)] += 1

    checked = time.perf_counter()
    await asyncio.gather(*(check(p) for p in alive))
    check_seconds = time.perf_counter() - checked
    for protocol in opened:
        protocol.closing = True
        if protocol.transport is not None:
            protocol.transport.close()
    await asyncio.sleep(0.5)
    answered = len(alive) - sum(final_errors.values())
    return {"requested": count, "held": len(opened), "open_errors": dict(open_errors),
            "skipped_after_errors": skipped,
            "ramp_seconds": ramp, "hold_seconds": seconds, "lost_during_hold": dict(lost),
            "final_errors": dict(final_errors), "answered_after_hold": answered,
            "check_seconds": check_seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="command", required=True)
    server = modes.add_parser("serve")
    server.add_argument("--port", type=int, action="append", required=True)
    server.add_argument("--nofile", type=int, default=65536)
    for name in ("cps", "latency", "hold"):
        mode = modes.add_parser(name)
        mode.add_argument("--host", required=True)
        mode.add_argument("--port", type=int, required=True)
        if name == "cps":
            mode.add_argument("--seconds", type=float, default=5.0)
            mode.add_argument("--concurrency", type=int, default=32)
        elif name == "latency":
            mode.add_argument("--count", type=int, default=1000)
            mode.add_argument("--mode", dest="reuse", choices=["kept", "new"], default="kept")
            mode.add_argument("--warmup", type=int, default=50)
        else:
            mode.add_argument("--count", type=int, default=10000)
            mode.add_argument("--seconds", type=float, default=60.0)
            mode.add_argument("--parallel", type=int, default=256)
            mode.add_argument("--answer-timeout", type=float, default=10.0)
            mode.add_argument("--give-up-after", type=int, default=256,
                              help="errors after which no more connections are tried")
    args = parser.parse_args(argv)

    if args.command == "serve":
        raise_nofile(args.nofile)
        new_loop().run_until_complete(serve(args.port))
        return 0
    if args.command == "latency":
        emit(latency(args.host, args.port, args.count, args.reuse, args.warmup))
        return 0
    loop = new_loop()
    if args.command == "cps":
        raise_nofile(args.concurrency + 256)
        emit(loop.run_until_complete(cps(args.host, args.port, args.seconds, args.concurrency)))
        return 0
    limit = raise_nofile(args.count + 256)
    if limit < args.count + 16:
        emit({"event": "error", "error": f"open-files limit {limit} < {args.count} connections"})
        return 2
    emit(loop.run_until_complete(hold(args.host, args.port, args.count, args.seconds,
                                      args.parallel, args.answer_timeout, args.give_up_after)))
    os._exit(0)  # thousands of transports: do not wait for the loop's finalizers


if __name__ == "__main__":
    sys.exit(main())
