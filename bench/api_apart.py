"""The API served apart from the daemon's loop (issue 14, "limits everywhere"): how much a
client flooding the API delays what the daemon's loop serves, with the API's HTTP on the
loop (another checkout, ``--source``: main's way) and on a thread of its own (this one,
gateway/api_thread.py).

Both daemons run side by side (``--no-network``: the API alone, no root needed), on free
loopback ports, each on a fresh state in a temp dir; they are stopped by their own pids.
What is measured, in windows of ``--seconds``: the daemon's loop, by its control socket's
status (``/_pocketlink/status``, answered on that loop, as the reconciler, the metadata
service and the health checks run there), asked one after another; and the API, by an
unsigned DescribeVpcs on a kept-alive connection, asked one after another too. Each
window has one of three loads, made by one client in a process of its own:

- ``quiet``: none;
- ``slow+oversized``: ``--slow`` connections, each in a request whose 1 MiB body comes a
  KiB at a time, and ``--flooders`` connections sending 1 MiB bodies over the API's limit
  (each refused with 413, its body read and dropped, then again);
- ``valid 1 MiB``: ``--flooders`` connections sending DescribeVpcs requests of almost
  1 MiB (a filter's value), each answered.

Rounds interleave the daemons (the order swaps every round) and the loads. It prints, per
load and daemon, the p50 and p99 of each probe and how many were answered, then the
ratios of this checkout to the other. ``--json FILE`` keeps every figure.

Run: ``python3 bench/api_apart.py --source /path/to/other/pocketlink/src [--rounds 3]
[--seconds 4] [--slow 300] [--flooders 4] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import Daemon

from pocketlink.gateway import control

MiB = 1024 * 1024
LIMIT = MiB  # the API's body limit (gateway/dispatch.py MAX_BODY)
LOADS = ("quiet", "slow+oversized", "valid 1 MiB")
DESCRIBE = b"Action=DescribeVpcs&Version=2016-11-15"
TRICKLE = 1024  # bytes a slow connection sends at a time
TRICKLE_EVERY = 0.05  # seconds between two passes over the slow connections


def request(size: int, close: bool = False) -> bytes:
    filler = DESCRIBE + b"&Filter.1.Name=tag:big&Filter.1.Value.1="
    body = filler + b"x" * max(0, size - len(filler))
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + (b"Connection: close\r\n" if close else b"")
            + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


# --- the load: one client, in a process of its own ----------------------------------------
def _flooder(port: int, payload: bytes, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(payload)
                while sock.recv(65536):
                    pass
        except OSError:
            continue


def _slow(port: int, count: int, stop: threading.Event) -> None:
    head = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + str(MiB).encode()
            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n" + DESCRIBE)
    sockets: list[tuple[socket.socket, int]] = []
    while not stop.is_set():
        while len(sockets) < count:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(head)
            except OSError:
                break
            sockets.append((sock, len(DESCRIBE)))
        kept = []
        for sock, sent in sockets:
            try:
                if sent + TRICKLE >= MiB:
                    raise OSError("body complete: start again")
                sock.sendall(b"&" + b"x" * (TRICKLE - 1))
                kept.append((sock, sent + TRICKLE))
            except OSError:
                sock.close()
        sockets = kept
        stop.wait(TRICKLE_EVERY)
    for sock, _ in sockets:
        sock.close()


def load(port: int, kind: str, slow: int, flooders: int, seconds: float) -> None:
    stop = threading.Event()
    threads = []
    if kind == "slow+oversized":
        threads.append(threading.Thread(target=_slow, args=(port, slow, stop)))
        payload = request(LIMIT + 1024, close=True)
    else:
        payload = request(LIMIT - 1024, close=True)
    threads += [threading.Thread(target=_flooder, args=(port, payload, stop))
                for _ in range(flooders)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(30)


# --- the probes -----------------------------------------------------------------------
def probe(daemon: Daemon, seconds: float) -> dict[str, list[float]]:
    """Control status and the API's DescribeVpcs, each asked again as soon as answered."""
    record = control.RuntimeRecord.read(daemon.state)
    assert record is not None
    found: dict[str, list[float]] = {"status": [], "api": []}
    deadline = time.perf_counter() + seconds

    def status() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            control.ask(record, "GET", "/_pocketlink/status")
            found["status"].append((time.perf_counter() - started) * 1000)

    def api() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=60)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection.request("POST", "/", DESCRIBE,
                               {"Content-Type": "application/x-www-form-urlencoded"})
            answer = connection.getresponse()
            answer.read()
            if answer.status == 200:
                found["api"].append((time.perf_counter() - started) * 1000)
        connection.close()

    threads = [threading.Thread(target=status), threading.Thread(target=api)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def window(daemon: Daemon, kind: str, args: argparse.Namespace) -> dict[str, list[float]]:
    loader = None
    if kind != "quiet":
        loader = multiprocessing.Process(target=load, args=(
            daemon.port, kind, args.slow, args.flooders, args.seconds + 1.0))
        loader.start()
        time.sleep(1.0)  # the flood under way before the probes
    try:
        return probe(daemon, args.seconds)
    finally:
        if loader is not None:
            loader.join(60)


def quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="the other pocketlink's source folder (its src/): main's way")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-"))
    daemons = {
        "other": Daemon(state=folder / "other" / "state.db", log=folder / "other.log",
                        args=["--no-network", "--max-request-rate", "1000000"],
                        source=args.source),
        "this": Daemon(state=folder / "this" / "state.db", log=folder / "this.log",
                       args=["--no-network", "--max-request-rate", "1000000"]),
    }
    figures: dict[str, dict[str, dict[str, list[float]]]] = {
        kind: {name: {"status": [], "api": []} for name in daemons} for kind in LOADS}
    try:
        for name, daemon in daemons.items():
            (folder / name).mkdir()
            daemon.start()
            print(f"{name}: {daemon.describe()}")
        for round_ in range(args.rounds):
            order = list(daemons) if round_ % 2 == 0 else list(reversed(daemons))
            for kind in LOADS:
                for name in order:
                    found = window(daemons[name], kind, args)
                    for probe_name, values in found.items():
                        figures[kind][name][probe_name] += values
            print(f"round {round_ + 1} of {args.rounds} done", flush=True)
    finally:
        for daemon in daemons.values():
            daemon.stop()

    summary: dict[str, dict] = {}
    print(f"\n{'load':16} {'daemon':6} {'status p50':>11} {'p99':>8} {'n':>6} "
          f"{'api p50':>9} {'p99':>8} {'n':>6}   (ms)")
    for kind in LOADS:
        summary[kind] = {}
        for name in daemons:
            row = {probe_name: {"p50": quantile(values, 0.5), "p99": quantile(values, 0.99),
                                "n": len(values)}
                   for probe_name, values in figures[kind][name].items()}
            summary[kind][name] = row
            print(f"{kind:16} {name:6} {row['status']['p50']:11.2f} {row['status']['p99']:8.2f} "
                  f"{row['status']['n']:6d} {row['api']['p50']:9.2f} {row['api']['p99']:8.2f} "
                  f"{row['api']['n']:6d}")
    print("\nthis/other (below x1: this checkout answers sooner; n: more answers)")
    for kind in LOADS:
        this, other = summary[kind]["this"], summary[kind]["other"]
        ratios = {f"{probe_name} {q}": this[probe_name][q] / other[probe_name][q]
                  for probe_name in ("status", "api") for q in ("p50", "p99", "n")
                  if other[probe_name][q]}
        summary[kind]["ratios"] = ratios
        print(f"{kind:16} " + ", ".join(f"{k} x{v:.2f}" for k, v in ratios.items()))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
