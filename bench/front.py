"""The service front's cost: backend calls from an instance through an interface endpoint
(TLS, the hyperplane, the front, the gateway), side by side with the same calls from the
host to ``localhost:4566`` and straight to the backend (moto) on its loopback port.

Why: an application in a private subnet reaches SSM or S3 only through an endpoint; what
the endpoint path adds to the backend's own time is the number worth knowing. The script
starts ``pocketlink up``, builds a VPC with an instance and SSM and S3 interface endpoints,
seeds a parameter and a 1 MiB object, then runs rounds of ``GetParameter`` and of a 1 MiB
``GetObject`` on the three paths, interleaved per round (the order rotated every round).
The instance's calls are boto3's, over HTTPS with keep-alive, verified against pocketlink's
CA, their service names answered with the endpoints' ENI addresses. It prints calls/s,
p50 and p99 per path, the endpoint/direct and endpoint/localhost ratios, and the resident
memory of the front, the backend and the daemon.

Run: ``python3 bench/front.py [--rounds N] [--calls N] [--json FILE]`` (as root: the
daemon builds namespaces).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
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
    """A VPC, a subnet, an instance, a security group open on 443, SSM and S3 endpoints:
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
    for short in ("ssm", "s3"):
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


def through_endpoint(daemon: Daemon, world: dict[str, str], count: int) -> dict[str, list[float]]:
    job = {"addresses": {"s3": world["s3"], "ssm": world["ssm"]}, "account": PROVIDER,
           "region": REGION, "calls": count}
    done = subprocess.run(
        [sys.executable, "-m", "pocketlink", "exec", world["instance"], "--",
         *boto3_in_instance(INSIDE, job)],
        input=(daemon.state.parent / "ca" / "ca.pem").read_bytes(), capture_output=True,
        timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode()[-2000:])
    return json.loads(done.stdout)


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
