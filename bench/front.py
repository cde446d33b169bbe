"""The service front's cost: backend calls from an instance through an interface endpoint
(TLS, the hyperplane, the front, the gateway), side by side with the same calls from the
host to ``localhost:4566`` and straight to the backend (moto) on its loopback port.

Why: an application in a private subnet reaches SSM or S3 only through an endpoint; what
the endpoint path adds to the backend's own time is the number worth knowing. The script
starts ``pocketlink up``, builds a VPC with an instance and SSM, S3 and STS interface endpoints,
seeds a parameter and a 1 MiB object, then runs rounds of ``GetParameter`` and of a 1 MiB
``GetObject`` on the three paths, interleaved per round (the order rotated every round).
The instance's calls are boto3's, over HTTPS with keep-alive, verified against pocketlink's
CA, their service names answered with the endpoints' ENI addresses. It prints calls/s,
p50 and p99 per path, the endpoint/direct and endpoint/localhost ratios, and the resident
memory of the front, the backend and the daemon.

``--heavy`` measures instead whether a heavy request to the API stalls these flows
(issue 14: the API served apart from the data plane): rounds of the instance's calls
through the endpoints (and STS's ``GetCallerIdentity``, which the daemon's own loop
answers, where the other two are the backend's), alternately quiet and while the host
sends, one after another, 10 MiB ``PutObject`` requests (accepted: read whole by the
daemon, forwarded to the backend) and, beside them, endless headers (cut off at 16 KiB,
431), to ``localhost:4566``.

Run: ``python3 bench/front.py [--rounds N] [--calls N] [--heavy] [--json FILE]`` (as
root: the daemon builds namespaces).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REGION, Daemon, preflight, rss_kib

from pocketlink.harness import HOST, PROVIDER, boto3_in_instance
from pocketlink.polling import wait_for

OBJECT = os.urandom(1 << 20)
# Inside the instance (after harness's boto3 prelude): job["calls"] per operation; prints
# {operation: [seconds per call]} after a warm-up.
INSIDE = r"""
import time

config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
ssm = session.client("ssm", verify=ca.name, config=config)
s3 = session.client("s3", verify=ca.name, config=config)
operations = {
    "GetParameter": lambda: ssm.get_parameter(Name="/bench/parameter"),
    "GetObject 1 MiB": lambda: s3.get_object(Bucket="bench-objects", Key="1mib")["Body"].read(),
}
if "sts" in job["addresses"]:  # answered by the daemon's own loop, not the backend
    sts = session.client("sts", verify=ca.name, config=config)
    operations["GetCallerIdentity"] = sts.get_caller_identity
for call in operations.values():
    for _ in range(3):
        call()
times = {}
for name, call in operations.items():
    times[name] = []
    for _ in range(job["calls"]):
        started = time.perf_counter()
        call()
        times[name].append(time.perf_counter() - started)
print(json.dumps(times))
"""


def client(service: str, endpoint: str, direct: bool) -> Any:
    made = boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=PROVIDER, aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1}, proxies={},
                                      s3={"addressing_style": "path"}))
    if direct:  # what the gateway adds to every forwarded request
        made.meta.events.register(
            "before-send", lambda request, **_: request.headers.__setitem__(
                "x-moto-account-id", PROVIDER))
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


def build(daemon: Daemon) -> dict[str, str]:
    """A VPC, a subnet, an instance, a security group open on 443, SSM, S3 and STS endpoints:
    the instance's id and the endpoints' addresses."""
    ec2 = client("ec2", daemon.endpoint, False)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="https", Description="https",
                                      VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    instance = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                 SubnetId=subnet)["Instances"][0]["InstanceId"]
    found = {"instance": instance}
    for short in ("ssm", "s3", "sts"):
        endpoint = ec2.create_vpc_endpoint(
            VpcEndpointType="Interface", VpcId=vpc, SubnetIds=[subnet],
            ServiceName=f"com.amazonaws.{REGION}.{short}", SecurityGroupIds=[group],
            PrivateDnsEnabled=False)["VpcEndpoint"]
        wait_for(lambda e=endpoint: ec2.describe_vpc_endpoints(VpcEndpointIds=[
            e["VpcEndpointId"]])["VpcEndpoints"][0]["State"] == "available", timeout=120)
        [eni] = ec2.describe_network_interfaces(
            NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"]
        found[short] = eni["PrivateIpAddress"]
    wait_for(lambda: ec2.describe_instances(InstanceIds=[instance])["Reservations"][0][
        "Instances"][0]["State"]["Name"] == "running", timeout=120)
    return found


def through_endpoint(daemon: Daemon, world: dict[str, str], count: int,
                     services: tuple[str, ...] = ("s3", "ssm")) -> dict[str, list[float]]:
    job = {"addresses": {short: world[short] for short in services}, "account": PROVIDER,
           "region": REGION, "calls": count}
    done = subprocess.run(
        [sys.executable, "-m", "pocketlink", "exec", world["instance"], "--",
         *boto3_in_instance(INSIDE, job)],
        input=(daemon.state.parent / "ca" / "ca.pem").read_bytes(), capture_output=True,
        timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode()[-2000:])
    return json.loads(done.stdout)


HEAVY = 10 << 20


def heavy_requests(daemon: Daemon, stop: threading.Event) -> Counter[str]:
    """10 MiB PutObjects to the daemon's port one after another, and endless headers
    beside them, until ``stop``: what came back, by kind and status."""
    seen: Counter[str] = Counter()
    body = os.urandom(HEAVY)

    def puts() -> None:
        s3 = client("s3", daemon.endpoint, False)
        while not stop.is_set():
            status = s3.put_object(Bucket="bench-objects", Key="heavy", Body=body)[
                "ResponseMetadata"]["HTTPStatusCode"]
            seen[f"PutObject 10 MiB {status}"] += 1

    def endless() -> None:
        line = b"X-Pad: " + b"a" * 8000 + b"\r\n"
        while not stop.is_set():
            with socket.create_connection((HOST, daemon.port), timeout=10) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                try:
                    while not stop.is_set():
                        sock.sendall(line)
                except OSError:  # refused (431) and closed: the next one
                    pass
                answer = b""
                with contextlib.suppress(OSError):
                    answer = sock.recv(64)
            seen[f"endless header {answer[9:12].decode() or 'closed'}"] += 1

    workers = [threading.Thread(target=puts), threading.Thread(target=endless)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return seen


def heavy(daemon: Daemon, world: dict[str, str], rounds: int, count: int) -> dict[str, Any]:
    """The endpoint path's calls, quiet and under heavy requests, in alternate rounds."""
    samples: dict[tuple[str, str], list[float]] = {}
    sent: Counter[str] = Counter()
    for round_ in range(2 * rounds):
        loud = round_ % 2 == 1
        stop = threading.Event()
        result: list[Counter[str]] = []
        sender = threading.Thread(target=lambda r=result, s=stop: r.append(
            heavy_requests(daemon, s)))
        if loud:
            sender.start()
            time.sleep(0.5)  # the first 10 MiB under way
        try:
            times = through_endpoint(daemon, world, count, ("s3", "ssm", "sts"))
        finally:
            stop.set()
            if loud:
                sender.join()
                sent.update(result[0] if result else {})
        for name, seconds in times.items():
            samples.setdefault(("heavy" if loud else "quiet", name), []).extend(seconds)
    figures: dict[str, Any] = {"sent": dict(sent)}
    print(f"pocketlink {daemon.describe()}")
    print(f"{'through the endpoint':<20}{'quiet p50/p99 ms':>20}{'heavy p50/p99 ms':>20}"
          f"{'ratio p50/p99':>16}")
    for name in sorted({name for _, name in samples}):
        quiet, loud = samples[("quiet", name)], samples[("heavy", name)]
        row = {"quiet_p50_ms": statistics.median(quiet) * 1000,
               "quiet_p99_ms": percentile(quiet, 0.99) * 1000,
               "heavy_p50_ms": statistics.median(loud) * 1000,
               "heavy_p99_ms": percentile(loud, 0.99) * 1000,
               "heavy_max_ms": max(loud) * 1000, "calls": len(loud)}
        figures[name] = row
        print(f"{name:<20}{row['quiet_p50_ms']:>10.2f}{row['quiet_p99_ms']:>10.2f}"
              f"{row['heavy_p50_ms']:>10.2f}{row['heavy_p99_ms']:>10.2f}"
              f"{row['heavy_p50_ms'] / row['quiet_p50_ms']:>8.2f}x"
              f"{row['heavy_p99_ms'] / row['quiet_p99_ms']:>7.2f}x")
    print(f"sent while heavy: {dict(sent)}; load average {os.getloadavg()[0]:.1f}")
    return figures


def timed(operations: dict[str, Callable[[], object]], count: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for name, call in operations.items():
        times[name] = []
        for _ in range(count):
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=30, help="calls per operation and round")
    parser.add_argument("--heavy", action="store_true",
                        help="the endpoint path quiet and under heavy API requests instead")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not preflight("front.py", ("nft", "ip")):
        return 2
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-front-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log")
    try:
        daemon.start()
        client("ssm", daemon.endpoint, False).put_parameter(
            Name="/bench/parameter", Value="v", Type="String")
        s3 = client("s3", daemon.endpoint, False)
        s3.create_bucket(Bucket="bench-objects")
        s3.put_object(Bucket="bench-objects", Key="1mib", Body=OBJECT)
        world = build(daemon)
        if args.heavy:
            figures = heavy(daemon, world, args.rounds, args.calls)
            if args.json:
                args.json.write_text(json.dumps(figures, indent=2))
            return 0
        backend = daemon.status()["backend"]
        host_paths = {"localhost": calls(daemon.endpoint, direct=False),
                      "direct": calls(f"http://{HOST}:{backend['port']}", direct=True)}
        for path in host_paths.values():  # warm-up
            timed(path, 3)
        samples: dict[tuple[str, str], list[float]] = {}
        order = ["endpoint", "localhost", "direct"]
        for round_ in range(args.rounds):
            for path in order[round_ % 3:] + order[:round_ % 3]:
                times = through_endpoint(daemon, world, args.calls) if path == "endpoint" \
                    else timed(host_paths[path], args.calls)
                for name, seconds in times.items():
                    samples.setdefault((path, name), []).extend(seconds)
        front = daemon.status()["front"]
        result: dict[str, Any] = {
            "rounds": args.rounds, "calls": args.calls, "front_rss_kib": rss_kib(front["pid"]),
            "backend_rss_kib": rss_kib(backend["pid"]), "daemon_rss_kib": rss_kib(daemon.pid),
            "operations": {}}
        print(f"pocketlink {daemon.describe()}")
        print(f"{'operation':<18}{'path':<11}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for name in host_paths["direct"]:
            figures = {}
            for path in order:
                times = samples[(path, name)]
                figures[path] = {"calls_per_s": len(times) / sum(times),
                                 "p50_ms": statistics.median(times) * 1000,
                                 "p99_ms": percentile(times, 0.99) * 1000}
                f = figures[path]
                print(f"{name:<18}{path:<11}{f['calls_per_s']:>9.1f}{f['p50_ms']:>9.2f}"
                      f"{f['p99_ms']:>9.2f}")
            ratios = {}
            for base in ("direct", "localhost"):
                ratio = {k: figures["endpoint"][k] / figures[base][k] for k in figures[base]}
                ratios[f"endpoint_over_{base}"] = ratio
                print(f"{name:<18}{'/' + base:<11}" + "".join(
                    f"{'x' + format(ratio[k], '.2f'):>9}"
                    for k in ("calls_per_s", "p50_ms", "p99_ms")))
            result["operations"][name] = {**figures, **ratios}
        print(f"front RSS {result['front_rss_kib'] / 1024:.0f} MiB, backend RSS "
              f"{result['backend_rss_kib'] / 1024:.0f} MiB, daemon RSS "
              f"{result['daemon_rss_kib'] / 1024:.0f} MiB")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
    finally:
        daemon.tear_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
