"""S3 GetObject of one large object (100 MB by default) on the ways out of a VPC, side by side:
from an instance in a private subnet through a NAT gateway, from an instance with a public IP
through the internet gateway, and from the host on ``localhost:4566``.

Why: a NAT gateway is the path seed 003 pays for by the byte; what pocketlink's emulated
internet (veths, the router's 1:1 NAT, the NAT gateway's SNAT, the hyperplane, the service
front) costs next to the host's own path to the same backend is the number worth knowing,
and the NAT's counters must account for every byte. The script starts ``pocketlink up``,
builds a VPC with an internet gateway, a public and a private subnet, a NAT gateway and two
instances, puts one object in S3, then GETs it on the three paths, interleaved per round
(the order rotated every round). The instances' calls are boto3's, over HTTPS verified
against pocketlink's CA, to S3's public name (its address on the AWS public range). It prints
MB/s per path, the ratios to localhost, and what the NAT gateway's counters saw.

Run: ``python3 bench/internet_paths.py [--rounds N] [--size MB] [--json FILE]`` (as root).
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

from pocketlink.harness import PROVIDER, boto3_in_instance
from pocketlink.model.aws_services import public_addresses
from pocketlink.network.internet import nat_gateway_traffic
from pocketlink.polling import wait_for

BUCKET, KEY = "bench-internet", "large"
INSIDE = r"""
import time

s3 = session.client("s3", verify=ca.name, config=Config(retries={"max_attempts": 1}))
started = time.perf_counter()
size = len(s3.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read())
print(json.dumps({"seconds": time.perf_counter() - started, "bytes": size}))
"""


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=PROVIDER, aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1}, proxies={}))


def build(daemon: Daemon) -> dict[str, str]:
    """The VPC, its gateways and two instances: their ids, and the NAT gateway's."""
    ec2 = client("ec2", daemon.endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnets, tables = {}, {}
    for n, name in ((1, "public"), (2, "private")):
        subnets[name] = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")["Subnet"][
            "SubnetId"]
        tables[name] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=tables[name], SubnetId=subnets[name])
    ec2.create_route(RouteTableId=tables["public"], DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=igw)
    eip = ec2.allocate_address()["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets["public"], AllocationId=eip)["NatGateway"][
        "NatGatewayId"]
    wait_for(lambda: ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0][
        "State"] == "available", timeout=120)
    ec2.create_route(RouteTableId=tables["private"], DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat)
    found = {"nat": nat}
    for name, public in (("public", True), ("private", False)):
        found[name] = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1,
                                        MaxCount=1, NetworkInterfaces=[{
                                            "DeviceIndex": 0, "SubnetId": subnets[name],
                                            "AssociatePublicIpAddress": public}])[
            "Instances"][0]["InstanceId"]
    wait_for(lambda: {i["State"]["Name"] for r in ec2.describe_instances(
        InstanceIds=[found["public"], found["private"]])["Reservations"]
        for i in r["Instances"]} == {"running"}, timeout=120)
    return found


def inside(daemon: Daemon, instance: str) -> float:
    job = {"addresses": {"s3": public_addresses(REGION, "s3")[0]}, "account": PROVIDER,
           "region": REGION, "bucket": BUCKET, "key": KEY}
    done = subprocess.run(
        [sys.executable, "-m", "pocketlink", "exec", instance, "--",
         *boto3_in_instance(INSIDE, job)],
        input=(daemon.state.parent / "ca" / "ca.pem").read_bytes(), capture_output=True,
        timeout=900)
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
    parser.add_argument("--size", type=int, default=100, help="the object's size, MB")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not preflight("internet_paths.py", ("nft", "ip")):
        return 2
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-internet-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log")
    size = args.size * 1_000_000
    try:
        daemon.start()
        s3 = client("s3", daemon.endpoint)
        s3.create_bucket(Bucket=BUCKET)
        # In parts (a request body is 64 MiB at most), as `aws s3 cp` sends a large file.
        s3.upload_fileobj(io.BytesIO(os.urandom(size)), BUCKET, KEY)
        world = build(daemon)
        before = nat_gateway_traffic(world["nat"])
        paths = {"nat gateway": lambda: inside(daemon, world["private"]),
                 "internet gateway": lambda: inside(daemon, world["public"]),
                 "localhost": lambda: from_host(s3)}
        order = list(paths)
        seconds: dict[str, list[float]] = {p: [] for p in paths}
        for round_ in range(args.rounds):
            for path in order[round_ % 3:] + order[:round_ % 3]:
                seconds[path].append(paths[path]())
        after = nat_gateway_traffic(world["nat"])
        print(f"pocketlink {daemon.describe()}")
        rates = {p: size / statistics.median(s) / 1e6 for p, s in seconds.items()}
        for path, rate in rates.items():
            print(f"{path:<18}{rate:>9.1f} MB/s  x{rate / rates['localhost']:.2f} localhost")
        received = after.bytes_in_from_destination - before.bytes_in_from_destination \
            if after and before else 0
        print(f"NAT gateway counted {received / 1e6:.1f} MB in from destinations for "
              f"{args.rounds} GETs of {args.size} MB ({before} -> {after})")
        if args.json:
            args.json.write_text(json.dumps({"size_mb": args.size, "rounds": args.rounds,
                                             "mb_per_s": rates, "seconds": seconds,
                                             "nat_bytes_in": received}, indent=2))
    finally:
        daemon.tear_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
