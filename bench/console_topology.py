"""The console's topology page with 100 endpoints: how long it takes to render, p50 and
p99, and the daemon's CPU time it costs, p50, for the provider's view, one consumer's and
the whole machine's, and its figures' feed; optionally two pocketlink trees side by side,
interleaved, in the same period.

Why: issue 11 asks that pages render in under 200 ms with 100 endpoints. The topology
page is the console's heaviest: every account's Describe calls, then the figures from
the daemon's own running totals, the model, the layout and the SVG
(docs/console-topology.md). The lists are kept while the store does not change, so the
whole machine is fetched twice a round: as it is, and right after a change made with the
API (a tag), when every list is asked again.

The world, made with the API on an API-only daemon (``--no-network``: no root needed): a
provider VPC with two subnets, an internal NLB with a listener and a target group, an
endpoint service that needs no acceptance; four consumer accounts, each with a VPC of two
subnets and a quarter of the endpoints (``--endpoints``, 100) to the service.

Run: ``python3 bench/console_topology.py [--endpoints 100] [--rounds 12] [--source DIR
...] [--json FILE]``. Each ``--source`` (a pocketlink tree's ``src``) gets a daemon of its
own, world and all; their pages are fetched in turns (one of each page, then again), so a
change in the machine's load falls on both alike. Each daemon is started on free loopback
ports with a fresh state file in a temp dir, and stopped by its own pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import Daemon
from console_pages import PROVIDER, ZONE_IDS, offered_service

from pocketlink.polling import wait_for

CONSUMERS = ("222222222222", "333333333333", "444444444444", "555555555555")
ROOT = "/_pocketlink/console"


def build(daemon: Daemon, count: int) -> None:
    service = offered_service(daemon, CONSUMERS, targets=("10.0.0.10", "10.0.1.10"))
    share = -(-count // len(CONSUMERS))
    made = 0
    for n, account in enumerate(CONSUMERS):
        consumer = daemon.client("ec2", account)
        consumer_vpc = consumer.create_vpc(CidrBlock=f"10.{n + 1}.0.0/16")["Vpc"]["VpcId"]
        consumer_subnets = [consumer.create_subnet(
            VpcId=consumer_vpc, CidrBlock=f"10.{n + 1}.{s}.0/24",
            AvailabilityZoneId=zone)["Subnet"]["SubnetId"] for s, zone in enumerate(ZONE_IDS)]
        for _ in range(min(share, count - made)):
            consumer.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=consumer_vpc,
                                         ServiceName=service["ServiceName"],
                                         SubnetIds=consumer_subnets)
            made += 1
    for account in CONSUMERS:
        consumer = daemon.client("ec2", account)
        wait_for(lambda c=consumer: all(e["State"] == "available" for e in
                                        c.describe_vpc_endpoints()["VpcEndpoints"]),
                 "the endpoints available", timeout=120)


PAGES = {  # name -> (account of the session cookie, path)
    "provider": (PROVIDER, "topology"),
    "consumer": (CONSUMERS[0], "topology"),
    "machine": (PROVIDER, "topology?scope=machine"),
    "machine, changed": (PROVIDER, "topology?scope=machine"),
    "provider feed": (PROVIDER, "topology.json"),
}
# Fetched right after a change made with the API (a tag on the provider's VPC, not timed):
# the page cannot use what it read before (console/topology_read.py ``Answers``).
AFTER_A_CHANGE = {"machine, changed"}


class Fetcher:
    """One daemon's pages, with the session cookie, each on a connection of its own (the
    daemon closes an idle kept-alive one while the other daemon's page is fetched)."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.times: dict[str, list[float]] = {name: [] for name in PAGES}
        self.cpu: dict[str, list[float]] = {name: [] for name in PAGES}
        self.ec2 = daemon.client("ec2", PROVIDER)
        self.vpc = self.ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}]
                                          )["Vpcs"][0]["VpcId"]
        self.changes = 0

    def fetch(self, name: str, keep: bool = True) -> None:
        account, path = PAGES[name]
        if name in AFTER_A_CHANGE:
            self.changes += 1
            self.ec2.create_tags(Resources=[self.vpc],
                                 Tags=[{"Key": "bench", "Value": str(self.changes)}])
        cookie = {"Cookie": f"pocketlink_console=a={account}&r=us-east-1"}
        connection = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=60)
        spent = cpu_ms(self.daemon.pid)
        started = time.perf_counter()
        connection.request("GET", f"{ROOT}/{path}", headers=cookie)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        spent = cpu_ms(self.daemon.pid) - spent
        connection.close()
        if response.status != 200 or b'role="alert"' in body:
            raise SystemExit(f"{path}: HTTP {response.status} {body[-600:]!r}")
        if keep:
            self.times[name].append(elapsed)
            self.cpu[name].append(spent)


def cpu_ms(pid: int) -> float:
    """The daemon's CPU time so far (user and system, all its threads): what a page costs
    it whatever the machine's load (its once-a-second sampler's falls in some fetches)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--source", type=Path, action="append", default=[],
                        help="a pocketlink tree's src to run (repeat to compare); "
                             "default: the installed one")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sources: list[Path | None] = list(args.source) or [None]
    with tempfile.TemporaryDirectory(prefix="pocketlink-topology-bench-") as folder:
        daemons = [Daemon(state=Path(folder) / f"state{n}.db", log=Path(folder) / f"d{n}.log",
                          args=["--no-network", "--max-request-rate", "1000000"], source=src)
                   for n, src in enumerate(sources)]
        try:
            fetchers = []
            for daemon in daemons:
                daemon.start()
                print(f"*** {daemon.describe()}: {args.endpoints} endpoints, made with the API")
                build(daemon, args.endpoints)
                fetchers.append(Fetcher(daemon))
            for fetcher in fetchers:  # the first fetch makes each account's clients
                for name in PAGES:
                    fetcher.fetch(name, keep=False)
            for _ in range(args.rounds):
                for name in PAGES:
                    for fetcher in fetchers:
                        fetcher.fetch(name)
            load = os.getloadavg()
        finally:
            for daemon in daemons:
                if daemon.process is not None:
                    daemon.stop()
    results = {}
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; p50 / p99 ms "
          "(daemon's CPU ms, p50)")
    print(f"{'page':16}" + "".join(f"{str(s or 'installed')[-30:]:>36}" for s in sources))
    for name in PAGES:
        row = [(statistics.median(f.times[name]), percentile(f.times[name], 0.99),
                statistics.median(f.cpu[name])) for f in fetchers]
        results[name] = {str(s or "installed"): {"p50": p50, "p99": p99, "cpu_p50": cpu}
                         for s, (p50, p99, cpu) in zip(sources, row, strict=True)}
        print(f"{name:16}" + "".join(f"{p50:>18.1f} / {p99:7.1f} ({cpu:5.0f})"
                                     for p50, p99, cpu in row))
    if args.json:
        args.json.write_text(json.dumps({"endpoints": args.endpoints, "load": load,
                                         "pages": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
