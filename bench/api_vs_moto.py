"""pocketlink against moto's server: the same boto3 EC2 workload, one run, side by side.

Why: pocketlink answers the EC2 calls a developer's tools make, and moto's server is the
usual local stand-in for them. The question worth a number is whether pocketlink keeps up,
on the same calls from the same client, on the same machine, at the same time. This script
starts both servers as subprocesses on 127.0.0.1 (pocketlink on a fresh state file in a temp
dir), warms both up, then runs the same rounds of create and describe calls against each,
interleaved per round with the order swapped every round, so neither server is favoured by
CPU frequency drift, caches or the growing amount of state. It prints calls per second and
p50/p99 latency for each server, then pocketlink/moto ratios: throughput above x1 and
latency below x1 mean pocketlink is faster.

Run: ``python3 bench/api_vs_moto.py [--rounds N] [--warmup N] [--json FILE]``
(boto3 and moto[server] come with pocketlink).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # a 12-digit key id is the account id for pocketlink; moto takes it too
SECRET = "bench-secret"
POCKETLINK_AMI = "ami-0123456789abcdef0"  # pocketlink checks only the id's shape
START_TIMEOUT = 60.0
OPERATIONS = [
    "CreateVpc", "CreateSubnet", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress",
    "RunInstances", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
    "DescribeInstances",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# Only loopback is spoken to: never let an HTTP(S)_PROXY in the environment take the calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Server:
    """A server under test: its subprocess, endpoint and the boto3 client that drives it."""

    name: str
    command: list[str]
    port: int
    log: Path
    probe: str  # a path that answers once the server is ready
    process: subprocess.Popen[bytes] | None = None
    client: Any = None
    ami: str = ""
    wire_started: float = 0.0
    wire_last: float = 0.0

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early: {self.log.read_text()[-2000:]}")
            try:
                _OPENER.open(self.endpoint + self.probe, timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answered: up, whatever it thinks of the path
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT:.0f} s")
        self.client = boto3.client(
            "ec2", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=ACCOUNT, aws_secret_access_key=SECRET,
            config=Config(retries={"max_attempts": 1}, proxies={}),
        )
        # Time on the wire: from the request leaving botocore to the response body read,
        # i.e. the call without boto3's own serializing and parsing.
        self.client.meta.events.register("before-send.ec2", self._sent)
        self.client.meta.events.register("before-parse.ec2", self._received)

    def _sent(self, **_: Any) -> None:
        self.wire_started = time.perf_counter()

    def _received(self, **_: Any) -> None:
        self.wire_last = time.perf_counter() - self.wire_started

    def stop(self) -> None:
        """Stop our own subprocess by its pid: SIGTERM, then SIGKILL if it lingers."""
        if self.client is not None:
            self.client.close()
            self.client = None
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@dataclass
class Samples:
    """What one server did in the measured rounds."""

    calls: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    wire: list[float] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)

    def all_calls(self) -> list[float]:
        return [s for op in OPERATIONS for s in self.calls[op]]


def one_round(server: Server, index: int, samples: Samples | None) -> None:
    """One round of the workload: five creates, four describes, each checked for its id."""
    ec2 = server.client

    def call(op: str, method: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
        started = time.perf_counter()
        answer = method(**params)
        elapsed = time.perf_counter() - started
        if samples is not None:
            samples.calls[op].append(elapsed)
            samples.wire.append(server.wire_last)
        return answer

    started = time.perf_counter()
    vpc = call("CreateVpc", ec2.create_vpc, CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = call("CreateSubnet", ec2.create_subnet, VpcId=vpc,
                  CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = call("CreateSecurityGroup", ec2.create_security_group, VpcId=vpc,
                 GroupName=f"bench-{index}", Description="api_vs_moto")["GroupId"]
    call("AuthorizeSecurityGroupIngress", ec2.authorize_security_group_ingress, GroupId=group,
         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                         "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    instance = call("RunInstances", ec2.run_instances, ImageId=server.ami, MinCount=1, MaxCount=1,
                    InstanceType="t3.micro", SubnetId=subnet,
                    SecurityGroupIds=[group])["Instances"][0]["InstanceId"]
    vpcs = call("DescribeVpcs", ec2.describe_vpcs, VpcIds=[vpc])["Vpcs"]
    subnets = call("DescribeSubnets", ec2.describe_subnets,
                   Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    groups = call("DescribeSecurityGroups", ec2.describe_security_groups,
                  GroupIds=[group])["SecurityGroups"]
    reservations = call("DescribeInstances", ec2.describe_instances,
                        InstanceIds=[instance])["Reservations"]
    if samples is not None:
        samples.round_seconds.append(time.perf_counter() - started)
    if ([v["VpcId"] for v in vpcs] != [vpc] or [s["SubnetId"] for s in subnets] != [subnet]
            or [g["GroupId"] for g in groups] != [group]
            or [i["InstanceId"] for r in reservations for i in r["Instances"]] != [instance]):
        raise RuntimeError(f"{server.name} answered a describe with the wrong resources "
                           f"in round {index}")


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile: a latency some call really had."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarize(samples: Samples) -> dict[str, Any]:
    calls = samples.all_calls()
    seconds = sum(samples.round_seconds)
    return {
        "calls": len(calls),
        "seconds": seconds,
        "calls_per_second": len(calls) / seconds,
        "p50_ms": quantile(calls, 0.50) * 1000,
        "p99_ms": quantile(calls, 0.99) * 1000,
        "wire_p50_ms": quantile(samples.wire, 0.50) * 1000,
        "wire_p99_ms": quantile(samples.wire, 0.99) * 1000,
        "per_operation_p50_ms": {op: quantile(samples.calls[op], 0.50) * 1000
                                 for op in OPERATIONS},
    }


def throughput_by_quarter(moto: Samples, pocketlink: Samples) -> list[float]:
    """pocketlink/moto throughput over each quarter of the rounds: how steady the ratio is."""
    n = len(moto.round_seconds)
    cuts = [n * k // 4 for k in range(5)]
    return [sum(moto.round_seconds[a:b]) / sum(pocketlink.round_seconds[a:b])
            for a, b in itertools.pairwise(cuts) if b > a]


def moto_ami(server: Server) -> str:
    """moto launches only AMIs it knows: take one of its built-in Amazon images."""
    images = server.client.describe_images(Owners=["amazon"])["Images"]
    if not images:
        raise RuntimeError("moto lists no Amazon AMIs to launch")
    return sorted(image["ImageId"] for image in images)[0]


def report(rounds: int, warmup: int, results: dict[str, dict[str, Any]],
           quarters: list[float]) -> dict[str, float]:
    moto, pocket = results["moto"], results["pocketlink"]
    print(f"\n{rounds} rounds x {len(OPERATIONS)} calls per server "
          f"(+{warmup} warm-up rounds), interleaved per round, order swapped each round\n")
    print(f"{'server':<11} {'calls':>6} {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'wire p50':>9} {'wire p99':>9}")
    for name, r in results.items():
        print(f"{name:<11} {r['calls']:>6} {r['calls_per_second']:>8.0f} {r['p50_ms']:>7.2f} "
              f"{r['p99_ms']:>7.2f} {r['wire_p50_ms']:>9.2f} {r['wire_p99_ms']:>9.2f}")
    print(f"\n{'p50 ms by call':<30} {'moto':>7} {'pocketlink':>10} {'ratio':>6}")
    for op in OPERATIONS:
        m, p = moto["per_operation_p50_ms"][op], pocket["per_operation_p50_ms"][op]
        print(f"{op:<30} {m:>7.2f} {p:>10.2f} {p / m:>6.2f}")
    ratios = {
        "throughput": pocket["calls_per_second"] / moto["calls_per_second"],
        "p50": pocket["p50_ms"] / moto["p50_ms"],
        "p99": pocket["p99_ms"] / moto["p99_ms"],
        "wire_p50": pocket["wire_p50_ms"] / moto["wire_p50_ms"],
        "wire_p99": pocket["wire_p99_ms"] / moto["wire_p99_ms"],
    }
    print("\nthroughput ratio by quarter of the run: " + " ".join(f"x{q:.2f}" for q in quarters))
    print(f"wire only (no boto3 client time): p50 x{ratios['wire_p50']:.2f}, "
          f"p99 x{ratios['wire_p99']:.2f}")
    print(f"pocketlink/moto: throughput x{ratios['throughput']:.2f}, p50 x{ratios['p50']:.2f}, "
          f"p99 x{ratios['p99']:.2f}")
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="measured rounds (default 300)")
    parser.add_argument("--warmup", type=int, default=30,
                        help="unmeasured warm-up rounds per server (default 30)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    if args.rounds < 4 or args.warmup < 0:
        parser.error("--rounds must be at least 4 and --warmup at least 0")
    # No profile or credentials file of the user's may change what the clients do.
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

    with tempfile.TemporaryDirectory(prefix="pocketlink-bench-") as temp:
        folder = Path(temp)
        moto_port, pocket_port = free_port(), free_port()
        servers = [
            Server("moto", [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(moto_port)],
                   moto_port, folder / "moto.log", "/moto-api/"),
            # The API alone (--no-network), as moto serves it: no namespaces to build.
            Server("pocketlink", [sys.executable, "-m", "pocketlink", "up", "--host", HOST,
                                  "--port", str(pocket_port), "--public-dns-port",
                                  str(free_port()), "--state", str(folder / "state.db"),
                                  "--no-network"],
                   pocket_port, folder / "pocketlink.log", "/_pocketlink/health"),
        ]
        moto, pocket = servers
        try:
            for server in servers:
                server.start()
            moto.ami = moto_ami(moto)
            pocket.ami = POCKETLINK_AMI
            for index in range(args.warmup):
                for server in servers:
                    one_round(server, index, None)
            samples = {server.name: Samples() for server in servers}
            started = time.perf_counter()
            for index in range(args.warmup, args.warmup + args.rounds):
                for server in servers if index % 2 == 0 else servers[::-1]:
                    one_round(server, index, samples[server.name])
            elapsed = time.perf_counter() - started
        finally:
            for server in servers:
                server.stop()

    results = {name: summarize(s) for name, s in samples.items()}
    quarters = throughput_by_quarter(samples["moto"], samples["pocketlink"])
    ratios = report(args.rounds, args.warmup, results, quarters)
    print(f"(measured phase took {elapsed:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps({
            "rounds": args.rounds, "warmup": args.warmup, "operations": OPERATIONS,
            "servers": results, "pocketlink_over_moto": ratios,
            "throughput_ratio_by_quarter": quarters,
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
