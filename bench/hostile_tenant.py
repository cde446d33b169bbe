"""A hostile tenant's neighbour: the victim's endpoint traffic and API calls, quiet and
under attack, side by side in one run.

Why: issue 14 promises that one account that floods DNS, sends huge requests and fills its
VPC costs another account nothing: its endpoint traffic keeps its p99 within 2x of the
quiet figure, and its API calls all succeed. tests/security/test_hostile_tenant.py asserts
the functional half (nothing lost); this measures the other half, which a test on a noisy
machine must not assert.

The world and the attack are the test's (tests/security/hostile.py): a provider's web
server behind an NLB and an endpoint service; the victim's instance asking for the page
through its interface endpoint by the endpoint's DNS name (a lookup at its VPC's resolver
and a new connection per request; the lookup's share is reported apart as "lookup p99",
the rest, from connect to the last byte, as "flow p99"), and its API client calling one
read or write after another. The attacker floods DNS (thousands of idle TCP connections
and ~5,000 UDP queries/s, at its VPC's resolver from inside its instance and at the
public DNS), abuses the API (bodies over the limit, endless headers, pipelined requests
far past its rate) and fills its VPC (instances and network interfaces until its subnets
are full, security groups up to a bound). The victim is measured for ``--seconds`` quiet,
then for ``--seconds`` under attack; ``--parts`` runs only some of the attack, to see
which part costs what.

Run as root (it builds namespaces): ``sudo .venv/bin/python bench/hostile_tenant.py
[--seconds 20] [--parts dns,api,fill] [--compare SRC] [--json FILE]``; ``--compare`` runs
the same first with another source tree (``git archive COMMIT src | tar -x -C DIR``, then
``--compare DIR/src``), so that before and after are measured in one sitting. The daemon is started on free
loopback ports with a fresh state file in a temp dir, stopped by its own pid, and its
namespaces removed (``pocketlink down`` with its own --port and --state).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from common import Daemon, preflight

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the attack is the test's

from tests.security.hostile import (
    PARTS,
    ApiCalls,
    Attack,
    build,
    last_json,
    start_victim_traffic,
)


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile, in ms."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def window(daemon: Daemon, world, seconds: float, attack: Attack | None) -> dict[str, Any]:
    """The victim's figures over ``seconds``, with the attack running over the same time."""
    if attack is not None:
        attack.start()
    try:
        traffic = start_victim_traffic(world, seconds)
        calls = ApiCalls(daemon, world)
        caller = threading.Thread(target=calls.run, args=(seconds,))
        caller.start()
        caller.join(seconds + 120)
        seen = last_json(traffic, seconds + 60)
    finally:
        attacked = attack.wait() if attack is not None else {}
    load = os.getloadavg()
    flows = [total - lookup for total, lookup in zip(seen["latencies"], seen["lookups"],
                                                     strict=True)]
    return {
        "endpoint": {"requests": len(seen["latencies"]), "failures": seen["failures"],
                     "p50_ms": quantile(seen["latencies"], 0.50),
                     "p99_ms": quantile(seen["latencies"], 0.99),
                     "lookup_p99_ms": quantile(seen["lookups"], 0.99),
                     "flow_p99_ms": quantile(flows, 0.99)},
        "api": {"calls": len(calls.latencies), "failures": calls.failures,
                "p50_ms": quantile(calls.latencies, 0.50),
                "p99_ms": quantile(calls.latencies, 0.99)},
        "load_average": load, "attack": attacked}


def run(args: argparse.Namespace, folder: Path, source: Path | None = None) -> dict[str, Any]:
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log", source=source)
    load = os.getloadavg()
    daemon.start()
    try:
        world = build(daemon)
        quiet = window(daemon, world, args.seconds, None)
        loud = window(daemon, world, args.seconds,
                      Attack(daemon, world, args.seconds, parts=tuple(args.parts)))
    finally:
        daemon.tear_down()
    return {"seconds": args.seconds, "parts": args.parts, "load_before": load,
            "quiet": quiet, "attack": loud, "pocketlink": daemon.describe()}


def report(results: dict[str, Any]) -> None:
    print(f"pocketlink: {results['pocketlink']}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in results['load_before'])}; "
          f"attack parts: {','.join(results['parts'])}; {results['seconds']:.0f} s each")
    print(f"{'victim':<22}{'quiet':>18}{'under attack':>18}{'ratio':>8}")
    for what, label in (("endpoint", "endpoint requests"), ("api", "API calls")):
        quiet, loud = results["quiet"][what], results["attack"][what]
        count = "requests" if what == "endpoint" else "calls"
        print(f"{label:<22}{quiet[count]:>18}{loud[count]:>18}")
        print(f"{'  failed':<22}{len(quiet['failures']):>18}{len(loud['failures']):>18}")
        for q in [k for k in quiet if k.endswith("_ms")]:
            label = "  " + q.removesuffix("_ms").replace("_", " ") + " (ms)"
            print(f"{label:<22}{quiet[q]:>18.1f}{loud[q]:>18.1f}{loud[q] / quiet[q]:>7.2f}x")
    print(f"load average after each window: quiet "
          f"{' '.join(f'{x:.2f}' for x in results['quiet']['load_average'])}, attack "
          f"{' '.join(f'{x:.2f}' for x in results['attack']['load_average'])}")
    print(f"the attack: {json.dumps(results['attack']['attack'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of each window, quiet and under attack (default 20)")
    parser.add_argument("--parts", type=lambda text: text.split(","), default=list(PARTS),
                        help="which attacks to run, of dns,api,fill (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--compare", type=Path, default=None, metavar="SRC",
                        help="first run the same against the pocketlink source tree SRC "
                             "(its src/ folder, e.g. an older commit's), then this one")
    args = parser.parse_args(argv)
    if not set(args.parts) <= set(PARTS) or not 1 <= args.seconds <= 300:
        parser.error(f"--parts takes some of {','.join(PARTS)}; --seconds 1..300")
    if not preflight("hostile_tenant.py", ()):
        return 2
    runs = []
    for source in ([args.compare] if args.compare else []) + [None]:
        with tempfile.TemporaryDirectory(prefix="pocketlink-hostile-") as temp:
            runs.append(run(args, Path(temp), source))
        report(runs[-1])
    if args.json is not None:
        args.json.write_text(json.dumps(runs if args.compare else runs[0], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
