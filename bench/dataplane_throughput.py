"""Bulk throughput through the data plane, side by side: one namespace path measured three
ways in one run, direct, through HAProxy, and through a pocketlink interface endpoint
(the world: bench/_dataplane.py).

Why: pocketlink's data plane carries every byte between a consumer and a provider, in
Python (splice(2) keeps the bytes in the kernel). The targets: at least HAProxy's
throughput, and close to the direct path's (the ceiling; x0.85 or better).

Measured on each path, interleaved by round (the order rotates every round): ``iperf3 -c
ADDR -p 5201 -t S -J``, one stream, end.sum_received; and the CPU the proxy processes
(HAProxy's; the daemon's and its workers') and the machine used meanwhile.

Run as root: ``sudo python3 bench/dataplane_throughput.py [--quick] [--rounds N]
[--seconds S] [--json FILE]``; see bench/README.md.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

from _dataplane import (
    IPERF_PORT,
    LABELS,
    PATHS,
    Rig,
    Row,
    arguments,
    checked_arguments,
    cpu_meter,
    cpu_rows,
    header,
    in_ns,
    main,
    mean_cpu,
    ratio,
    run_json,
    say,
    table,
    targets_line,
    times,
    verdicts,
)

ROWS: list[Row] = [("throughput_bps", "throughput (Gbit/s)", 1e-9, "{:.2f}", (">=", 1.0))]


def iperf(rig: Rig, path: str, seconds: float) -> dict[str, Any]:
    instance, address = rig.world.route(path)
    pids = rig.proxy_pids(path) | {"server": [rig.services.pid("iperf3")]}
    with cpu_meter(pids) as cpu:
        report = run_json(in_ns(instance, "iperf3", "-c", address, "-p", str(IPERF_PORT),
                                "-t", f"{seconds:g}", "-J"), timeout=seconds + 60)
    if "error" in report:
        raise RuntimeError(f"iperf3 over {path}: {report['error']}")
    end = report["end"]
    return {"bits_per_second": end["sum_received"]["bits_per_second"],
            "retransmits": end["sum_sent"].get("retransmits"), "cpu": cpu}


def measure(rig: Rig) -> None:
    rig.warm_up()
    for path in PATHS:
        iperf(rig, path, 1)
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in PATHS}
    for index, order in rig.rounds():
        for path in order:
            say(f"  round {index + 1}/{rig.args.rounds}: throughput over {LABELS[path]} "
                f"({rig.args.seconds:g} s)")
            runs[path].append(iperf(rig, path, rig.args.seconds))
    rig.results["paths"] = {p: {
        "throughput_bps": statistics.mean(r["bits_per_second"] for r in v),
        "proxy_cpu_throughput": mean_cpu(v, "proxy"),
        "machine_cpu_throughput": mean_cpu(v, "machine"),
        "rounds": v} for p, v in runs.items()}


def report(results: dict[str, Any]) -> None:
    paths = results["paths"]
    header(results, "bulk throughput")
    say("")
    checks = verdicts(paths, ROWS)
    direct = ratio(paths["pocketlink"]["throughput_bps"], paths["direct"]["throughput_bps"])
    checks["of_direct"] = {"pocketlink_over_direct": direct, "target": ">= x0.85",
                           "met": direct is not None and direct >= 0.85}
    results["verdicts"] = checks
    table(paths, ROWS, checks)
    cpu_rows(paths, "throughput", "throughput")
    say("")
    for p in PATHS:
        rounds = ", ".join(f"{r['bits_per_second'] / 1e9:.2f}" for r in paths[p]["rounds"])
        say(f"  {LABELS[p]:11} per round: Gbit/s {rounds}")
    say("")
    targets_line(checks, {"throughput_bps": "throughput >= HAProxy"})
    say(f"         of direct >= x0.85: {'ok' if checks['of_direct']['met'] else 'MISSED'} "
        f"({times(direct)})")


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="iperf3 seconds per path and round (default 10)")
    args = checked_arguments(parser, None, {"rounds": 1, "seconds": 2.0},
                             {"rounds": 2, "seconds": 10.0})
    if not (1 <= args.rounds <= 10 and 1 <= args.seconds <= 60):
        parser.error("out of range: --rounds 1-10, --seconds 1-60")
    sys.exit(main("dataplane_throughput.py", args, measure, report))
