"""S3 GET throughput of a large object through an S3 gateway endpoint, side by side with
the same GET from the host through ``localhost:4566`` and straight to the backend (moto)
on its loopback port.

Why: a gateway endpoint is the free way out of an isolated subnet for bulk S3 traffic (seed
003's point); what its path (the subnet's local route, the listener in the VPC router, the
hyperplane, TLS at the service front, the gateway) costs against the backend's own speed
is the figure worth knowing. The script starts ``pocketlink up``, builds a VPC with an
instance whose subnet's route table routes S3's prefix list through a gateway endpoint,
puts one object (100 MiB by default), then GETs it on the three paths, interleaved per
round (the order rotated every round). The instance's GETs are boto3's, over HTTPS,
verified against pocketlink's CA, to S3's public address (the prefix list's). It prints
MB/s per path (median of the rounds) and the ratios to the direct path. The NAT gateway's
path (issue 9's third figure) comes with the NAT gateway.

Run: ``python3 bench/gateway_s3.py [--rounds N] [--mib N] [--json FILE]`` (as root: the
daemon builds namespaces).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REGION, Daemon, preflight

from pocketlink.harness import HOST, PROVIDER, boto3_in_instance
from pocketlink.model.aws_services import public_addresses
from pocketlink.polling import wait_for

BUCKET, KEY = "bench-gateway", "object"
# Inside the instance (after harness's boto3 prelude): one GET of the object, timed.
INSIDE = r"""
import time

s3 = session.client("s3", verify=ca.name, config=Config(retries={"max_attempts": 1}))
started = time.perf_counter()
size = len(s3.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read())
print(json.dumps({"seconds": time.perf_counter() - started, "bytes": size}))
"""


def client(service: str, endpoint: str, direct: bool = False) -> Any:
    made = boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=PROVIDER, aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1}, proxies={},
                                      s3={"addressing_style": "path"}))
    if direct:  # what the gateway adds to every forwarded request
        made.meta.events.register(
            "before-send", lambda request, **_: request.headers.__setitem__(
                "x-moto-account-id", PROVIDER))
    return made


def build(daemon: Daemon) -> str:
    """A VPC, an isolated subnet with its route table, an instance, an S3 gateway endpoint
    on that table: the instance's id."""
    ec2 = client("ec2", daemon.endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    instance = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                 SubnetId=subnet)["Instances"][0]["InstanceId"]
    ec2.create_vpc_endpoint(VpcEndpointType="Gateway", VpcId=vpc, RouteTableIds=[table],
                            ServiceName=f"com.amazonaws.{REGION}.s3")
    wait_for(lambda: ec2.describe_instances(InstanceIds=[instance])["Reservations"][0][
        "Instances"][0]["State"]["Name"] == "running", timeout=120)
    return instance


def through_gateway(daemon: Daemon, instance: str) -> float:
    job = {"addresses": {"s3": public_addresses(REGION, "s3")[0]}, "account": PROVIDER,
           "region": REGION, "bucket": BUCKET, "key": KEY}
    done = subprocess.run(
        [sys.executable, "-m", "pocketlink", "exec", instance, "--",
         *boto3_in_instance(INSIDE, job)],
        input=(daemon.state.parent / "ca" / "ca.pem").read_bytes(), capture_output=True,
        timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode()[-2000:])
    return json.loads(done.stdout)["seconds"]


def from_host(s3: Any) -> float:
    started = time.perf_counter()
    s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mib", type=int, default=100, help="the object's size")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not preflight("gateway_s3.py", ("nft", "ip")):
        return 2
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-gateway-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log")
    try:
        daemon.start()
        s3 = client("s3", daemon.endpoint)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
                         if REGION != "us-east-1" else {})
        # In parts, as the CLI sends a large file: a request body is at most 64 MiB.
        s3.upload_fileobj(io.BytesIO(os.urandom(args.mib << 20)), BUCKET, KEY)
        instance = build(daemon)
        backend = daemon.status()["backend"]
        paths = {"gateway endpoint": lambda: through_gateway(daemon, instance),
                 "localhost": lambda: from_host(s3),
                 "direct": lambda: from_host(client("s3", f"http://{HOST}:{backend['port']}",
                                                    direct=True))}
        wait_for(lambda: _quietly(paths["gateway endpoint"]), "the gateway route", timeout=60)
        order = list(paths)
        seconds: dict[str, list[float]] = {path: [] for path in order}
        for round_ in range(args.rounds):
            for path in order[round_ % 3:] + order[:round_ % 3]:
                seconds[path].append(paths[path]())
        megabytes = (args.mib << 20) / 1e6
        rates = {path: megabytes / statistics.median(times) for path, times in seconds.items()}
        print(f"pocketlink {daemon.describe()}")
        print(f"S3 GET of {args.mib} MiB, median of {args.rounds} rounds")
        for path, rate in rates.items():
            print(f"  {path:<17}{rate:>9.1f} MB/s   x{rate / rates['direct']:.2f} of direct")
        if args.json:
            args.json.write_text(json.dumps({"mib": args.mib, "rounds": args.rounds,
                                             "seconds": seconds, "mb_per_s": rates}, indent=2))
    finally:
        daemon.tear_down()
    return 0


def _quietly(get: Any) -> bool:
    try:
        get()
    except RuntimeError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
