"""Connections through the data plane, side by side: new connections per second and the
latency of a small request, on one namespace path measured three ways in one run, direct,
through HAProxy, and through a pocketlink interface endpoint (the world:
bench/_dataplane.py).

Why: a new connection costs the proxy an accept, a target choice, a connect inside the
provider's namespace and a PROXY header; that, not bulk bytes, bounds a Python data plane.
The targets, on pocketlink/HAProxy: connections/s at least HAProxy's (x1; HAProxy with its
default threads, one per CPU), p99 latency at most twice HAProxy's on kept and on new
connections.

Measured on each path, interleaved by round (the order rotates every round): connections
per second (C workers, each connect, 64-byte request, 64-byte answer, server closes) with
the CPU the proxy processes (HAProxy's; the daemon's and its workers') used; the latency of
a 64-byte request/answer, N sequential round trips on one kept connection and N each on a
new connection. Then, through the endpoint only, the kept-connection latency again while
10 MB API requests (or the biggest the API takes whole) keep arriving at the daemon: the
flows run in worker processes, so the API's work must not stall them.

Run as root: ``sudo python3 bench/dataplane_connections.py [--quick] [--rounds N]
[--cps-seconds S] [--concurrency C] [--requests N] [--json FILE]``; see bench/README.md.
"""

from __future__ import annotations

import statistics
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

from _dataplane import (
    ECHO_PORT,
    LABELS,
    PATHS,
    Rig,
    Row,
    arguments,
    checked_arguments,
    cpu_meter,
    cpu_rows,
    header,
    load,
    main,
    mean_cpu,
    percent,
    quantile,
    run_json,
    say,
    table,
    targets_line,
    verdicts,
)

ROWS: list[Row] = [
    ("cps", "connections/s", 1.0, "{:.0f}", (">=", 1.0)),
    ("kept_p50_us", "p50 latency, kept conn (us)", 1.0, "{:.0f}", None),
    ("kept_p99_us", "p99 latency, kept conn (us)", 1.0, "{:.0f}", ("<=", 2.0)),
    ("new_p50_us", "p50 latency, new conn (us)", 1.0, "{:.0f}", None),
    ("new_p99_us", "p99 latency, new conn (us)", 1.0, "{:.0f}", ("<=", 2.0)),
]
HEAVY_BYTES = 10 * 1024 * 1024  # or the biggest body the API takes, if smaller
API_LOAD_SAMPLES = 10  # times --requests: long enough for several heavy requests to land


def cps(rig: Rig, path: str, seconds: float) -> dict[str, Any]:
    instance, address = rig.world.route(path)
    with cpu_meter(rig.proxy_pids(path)) as cpu:
        found = run_json(load(instance, "cps", "--host", address, "--port", str(ECHO_PORT),
                              "--seconds", f"{seconds:g}",
                              "--concurrency", str(rig.args.concurrency)),
                         timeout=seconds + 60)
    found["cpu"] = cpu
    return found


def _heavy(endpoint: str, size: int, opener: urllib.request.OpenerDirector) -> int:
    """One query-protocol request of ``size`` bytes to the API; its HTTP status."""
    prefix = b"Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-0&Tag.1.Key=k&Tag.1.Value="
    request = urllib.request.Request(endpoint, data=prefix + b"v" * (size - len(prefix)), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/ec2/"
                         "aws4_request, SignedHeaders=host, Signature=0"})
    try:
        with opener.open(request, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code  # an AWS error is an answer
    except urllib.error.URLError as error:
        if isinstance(error.reason, (BrokenPipeError, ConnectionResetError)):
            return 413  # refused as too large before the body was read, and closed
        raise


def heavy_size(endpoint: str) -> int:
    """The biggest request the API takes whole, up to HEAVY_BYTES (a daemon that refuses a
    body as too large, 413, has not read it: no load)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    size = HEAVY_BYTES
    while size > 4096 and _heavy(endpoint, size, opener) == 413:
        size //= 2
    return size


def heavy_requests(endpoint: str, size: int, stop: threading.Event, sent: Counter[str]) -> None:
    """``size``-byte requests to the API, one after another, until ``stop``; their statuses."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while not stop.is_set():
        try:
            sent[str(_heavy(endpoint, size, opener))] += 1
        except OSError:
            sent["failed"] += 1


def under_api_load(rig: Rig, count: int) -> dict[str, Any]:
    quiet = rig.latency("pocketlink", "kept", count)
    size = heavy_size(rig.daemon.endpoint)
    stop, sent = threading.Event(), Counter[str]()
    thread = threading.Thread(target=heavy_requests,
                              args=(rig.daemon.endpoint, size, stop, sent))
    thread.start()
    try:
        loaded = rig.latency("pocketlink", "kept", count)
    finally:
        stop.set()
        thread.join(timeout=120)
    return {"quiet": _spread(quiet), "loaded": _spread(loaded), "heavy_bytes": size,
            "heavy_requests": dict(sent)}


def _spread(samples: list[int]) -> dict[str, float]:
    return {"p50_us": quantile(samples, 0.5), "p99_us": quantile(samples, 0.99),
            "max_us": max(samples)}


def measure(rig: Rig) -> None:
    a = rig.args
    rig.warm_up()
    runs: dict[str, dict[str, Any]] = {p: {"cps": [], "kept_us": [], "new_us": []} for p in PATHS}
    for index, order in rig.rounds():
        for path in order:
            say(f"  round {index + 1}/{a.rounds}: connections/s over {LABELS[path]} "
                f"({a.cps_seconds:g} s, {a.concurrency} workers)")
            runs[path]["cps"].append(cps(rig, path, a.cps_seconds))
    for index, order in rig.rounds():
        for path in order:
            say(f"  round {index + 1}/{a.rounds}: latency over {LABELS[path]} "
                f"({a.requests} kept + {a.requests} new)")
            runs[path]["kept_us"] += rig.latency(path, "kept", a.requests)
            runs[path]["new_us"] += rig.latency(path, "new", a.requests)
    rig.results["paths"] = {p: summarize(v) for p, v in runs.items()}
    samples = API_LOAD_SAMPLES * a.requests
    say(f"  kept-connection latency through the endpoint, quiet and while big API requests "
        f"arrive ({samples} round trips each)")
    rig.results["api_load"] = under_api_load(rig, samples)


def summarize(values: dict[str, Any]) -> dict[str, Any]:
    errors: Counter[str] = Counter()
    for r in values["cps"]:
        errors.update(r["errors"])
    return {
        "cps": statistics.mean(r["per_second"] for r in values["cps"]),
        "cps_errors": dict(errors),
        "kept_p50_us": quantile(values["kept_us"], 0.50),
        "kept_p99_us": quantile(values["kept_us"], 0.99),
        "new_p50_us": quantile(values["new_us"], 0.50),
        "new_p99_us": quantile(values["new_us"], 0.99),
        "latency_samples": {"kept": len(values["kept_us"]), "new": len(values["new_us"])},
        "proxy_cpu_cps": mean_cpu(values["cps"], "proxy"),
        "server_cpu_cps": mean_cpu(values["cps"], "server"),
        "client_cpu_cps": statistics.mean(r["client_cpu"] for r in values["cps"]) * 100,
        "machine_cpu_cps": mean_cpu(values["cps"], "machine"),
        "rounds": values["cps"],
    }


def report(results: dict[str, Any]) -> None:
    paths = results["paths"]
    header(results, "connections")
    say(f"latency: {results['settings']['requests']} sequential 64-byte round trips a round, on "
        "one kept connection, and each on a new connection (connect, request, answer, close)")
    say("")
    checks = verdicts(paths, ROWS)
    results["verdicts"] = checks
    table(paths, ROWS, checks)
    cpu_rows(paths, "cps", "connections/s")
    for name, key in (("echo server CPU, conn/s", "server_cpu_cps"),
                      ("client CPU, conn/s", "client_cpu_cps")):
        say(f"{name:30}" + "".join(f"{percent(paths[p][key]):>{12 if p == 'pocketlink' else 11}}"
                                   for p in PATHS))
    say("")
    for p in PATHS:
        rounds = ", ".join(f"{r['per_second']:.0f}" for r in paths[p]["rounds"])
        errors = paths[p]["cps_errors"]
        say(f"  {LABELS[p]:11} per round: conn/s {rounds}; connection errors: "
            f"{sum(errors.values())}{f' {errors}' if errors else ''}")
    load_ = results["api_load"]
    quiet, loaded = load_["quiet"], load_["loaded"]
    say("")
    say(f"kept-connection latency through the endpoint, quiet -> while "
        f"{load_['heavy_bytes'] / 2**20:.1f} MiB API requests arrive (answers by status: "
        f"{load_['heavy_requests']}): p50 {quiet['p50_us']:.0f} -> "
        f"{loaded['p50_us']:.0f} us, p99 {quiet['p99_us']:.0f} -> {loaded['p99_us']:.0f} us, "
        f"max {quiet['max_us'] / 1000:.1f} -> {loaded['max_us'] / 1000:.1f} ms")
    say("")
    targets_line(checks, {"cps": "conn/s >= HAProxy", "kept_p99_us": "p99 kept <= 2x HAProxy",
                          "new_p99_us": "p99 new <= 2x HAProxy"})


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2)")
    parser.add_argument("--cps-seconds", type=float, default=None,
                        help="connections/s seconds per path and round (default 5)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="connections/s workers (default 32)")
    parser.add_argument("--requests", type=int, default=None,
                        help="latency round trips per path, mode and round (default 1000)")
    args = checked_arguments(parser, None, {"rounds": 1, "cps_seconds": 2.0, "requests": 200},
                             {"rounds": 2, "cps_seconds": 5.0, "requests": 1000})
    if not (1 <= args.rounds <= 10 and 1 <= args.cps_seconds <= 60
            and 10 <= args.requests <= 100000 and 1 <= args.concurrency <= 1024):
        parser.error("out of range: --rounds 1-10, --cps-seconds 1-60, --requests 10-100000, "
                     "--concurrency 1-1024")
    sys.exit(main("dataplane_connections.py", args, measure, report))
