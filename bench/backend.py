"""The front door's cost: backend calls through ``localhost:4566`` against the same calls
straight to the backend (moto) on its own loopback port, in one run, side by side.

Why: every SSM, Secrets Manager, S3 ... call an application makes goes through pocketlink's
front door, which reads the SigV4 scope, picks the account and forwards the request to the
backend process. The number worth knowing is what that hop adds to the backend's own time.
The script starts ``pocketlink up``, seeds a parameter and a 1 MiB object, then runs rounds
of ``GetParameter`` and of a 1 MiB ``GetObject`` against both paths, interleaved per round
with the order swapped every round, and prints calls per second and p50/p99 latency of
each, their ratios (front/direct: throughput below x1 and latency above x1 are the front's
cost), and the resident memory of the backend and of the daemon.

Run: ``python3 bench/backend.py [--rounds N] [--calls N] [--json FILE]`` (as root, like the
other benchmarks: the daemon builds its network).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import HOST, REGION, SECRET, Daemon, rss_kib

ACCOUNT = "111111111111"
OBJECT = os.urandom(1 << 20)


def client(service: str, endpoint: str, direct: bool) -> Any:
    made = boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=ACCOUNT, aws_secret_access_key=SECRET,
                        config=Config(retries={"max_attempts": 1}, proxies={},
                                      s3={"addressing_style": "path"}))
    if direct:  # what the front door adds to every forwarded request
        made.meta.events.register(
            "before-send", lambda request, **_: request.headers.__setitem__(
                "x-moto-account-id", ACCOUNT))
    return made


def calls(endpoint: str, direct: bool) -> dict[str, Callable[[], object]]:
    ssm, s3 = client("ssm", endpoint, direct), client("s3", endpoint, direct)
    return {
        "GetParameter": lambda: ssm.get_parameter(Name="/bench/parameter"),
        "GetObject 1 MiB": lambda: s3.get_object(Bucket="bench-objects", Key="1mib")["Body"].read(),
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=30, help="calls per operation and round")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-backend-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log")
    try:
        daemon.start()
        front = calls(daemon.endpoint, direct=False)
        client("ssm", daemon.endpoint, False).put_parameter(
            Name="/bench/parameter", Value="v", Type="String")
        s3 = client("s3", daemon.endpoint, False)
        s3.create_bucket(Bucket="bench-objects")
        s3.put_object(Bucket="bench-objects", Key="1mib", Body=OBJECT)
        backend = daemon.status()["backend"]
        direct = calls(f"http://{HOST}:{backend['port']}", direct=True)
        paths = {"front": front, "direct": direct}
        samples: dict[tuple[str, str], list[float]] = {}
        busy: dict[tuple[str, str], float] = {}
        for name in front:  # warm-up
            for path in paths.values():
                for _ in range(5):
                    path[name]()
        for round_ in range(args.rounds):
            order = ["front", "direct"] if round_ % 2 == 0 else ["direct", "front"]
            for name in front:
                for path in order:
                    call = paths[path][name]
                    times = samples.setdefault((path, name), [])
                    started = time.perf_counter()
                    for _ in range(args.calls):
                        t = time.perf_counter()
                        call()
                        times.append(time.perf_counter() - t)
                    busy[(path, name)] = busy.get((path, name), 0) + time.perf_counter() - started
        result: dict[str, Any] = {"rounds": args.rounds, "calls": args.calls,
                                  "backend_rss_kib": rss_kib(backend["pid"]),
                                  "daemon_rss_kib": rss_kib(daemon.pid), "operations": {}}
        print(f"pocketlink {daemon.describe()}")
        print(f"{'operation':<18}{'path':<8}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for name in front:
            figures = {}
            for path in paths:
                times = samples[(path, name)]
                figures[path] = {"calls_per_s": len(times) / busy[(path, name)],
                                 "p50_ms": statistics.median(times) * 1000,
                                 "p99_ms": percentile(times, 0.99) * 1000}
                f = figures[path]
                print(f"{name:<18}{path:<8}{f['calls_per_s']:>9.1f}{f['p50_ms']:>9.2f}"
                      f"{f['p99_ms']:>9.2f}")
            ratio = {k: figures["front"][k] / figures["direct"][k] for k in figures["front"]}
            print(f"{name:<18}{'ratio':<8}" + "".join(
                f"{'x' + format(ratio[k], '.2f'):>9}" for k in ("calls_per_s", "p50_ms", "p99_ms")))
            result["operations"][name] = {**figures, "front_over_direct": ratio}
        print(f"backend RSS {result['backend_rss_kib'] / 1024:.0f} MiB, "
              f"daemon RSS {result['daemon_rss_kib'] / 1024:.0f} MiB")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
    finally:
        daemon.tear_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
