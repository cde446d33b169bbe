"""S3 GET throughput of one large object (100 MB by default) on every way to S3, side by side
in one run: from instances through an S3 gateway endpoint, through a NAT gateway and
through an internet gateway (a public IP), and from the host through ``localhost:4566`` and
straight to the backend (moto) on its loopback port.

Why: seed 003's point is that bulk S3 traffic belongs on the gateway endpoint (free) rather
than the NAT gateway (paid by the byte); what each of pocketlink's paths (the subnet's
routes, the router's listener or the internet namespace with its NATs, the hyperplane, TLS
at the service front, the gateway) costs against the backend's own speed is the figure
worth knowing, and the NAT gateway's counters must account for every byte it carried.

The script starts ``pocketlink up`` and builds one VPC with an internet gateway, a public
subnet (a NAT gateway, an instance with a public IP), a private subnet (0.0.0.0/0 to the NAT
gateway) and an endpoint subnet (the same NAT route, and the S3 gateway endpoint on its
table, which takes S3's prefix list), an instance in each; it puts the object, then GETs it
on the five paths, interleaved per round with the order rotated. The instances' GETs are
boto3's, over HTTPS verified against pocketlink's CA, to S3's public name. It prints MB/s per
path (the median round), each path's ratio to the direct one, and the bytes the NAT
gateway's counters saw come in from the destination (at least rounds x size: the private
instance's GETs; none of the endpoint subnet's).

Run: ``python3 bench/s3_paths.py [--rounds N] [--size MB] [--json FILE]`` (as root: the
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
from pocketlink.network.internet import nat_gateway_traffic
from pocketlink.polling import wait_for

BUCKET, KEY = "bench-s3-paths", "large"
# Inside an instance (after harness's boto3 prelude): one GET of the object, timed.
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


def build(daemon: Daemon) -> dict[str, str]:
    """The VPC, its gateways, the S3 gateway endpoint and three instances: their ids (by
    subnet), and the NAT gateway's."""
    ec2 = client("ec2", daemon.endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnets, tables = {}, {}
    for n, name in ((1, "public"), (2, "private"), (3, "endpoint")):
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
    for name in ("private", "endpoint"):
        ec2.create_route(RouteTableId=tables[name], DestinationCidrBlock="0.0.0.0/0",
                         NatGatewayId=nat)
    ec2.create_vpc_endpoint(VpcEndpointType="Gateway", VpcId=vpc, RouteTableIds=[tables[
        "endpoint"]], ServiceName=f"com.amazonaws.{REGION}.s3")
    found = {"nat": nat}
    for name in subnets:
        found[name] = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1,
                                        MaxCount=1, NetworkInterfaces=[{
                                            "DeviceIndex": 0, "SubnetId": subnets[name],
                                            "AssociatePublicIpAddress": name == "public"}])[
            "Instances"][0]["InstanceId"]
    wait_for(lambda: {i["State"]["Name"] for r in ec2.describe_instances(
        InstanceIds=[found[name] for name in subnets])["Reservations"]
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
    if not preflight("s3_paths.py", ("nft", "ip")):
        return 2
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-s3-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log")
    size = args.size * 1_000_000
    try:
        daemon.start()
        s3 = client("s3", daemon.endpoint)
        s3.create_bucket(Bucket=BUCKET)
        # In parts (a request body is 64 MiB at most), as `aws s3 cp` sends a large file.
        s3.upload_fileobj(io.BytesIO(os.urandom(size)), BUCKET, KEY)
        world = build(daemon)
        backend = daemon.status()["backend"]
        direct = client("s3", f"http://{HOST}:{backend['port']}", direct=True)
        paths = {"gateway endpoint": lambda: inside(daemon, world["endpoint"]),
                 "nat gateway": lambda: inside(daemon, world["private"]),
                 "internet gateway": lambda: inside(daemon, world["public"]),
                 "localhost": lambda: from_host(s3),
                 "direct": lambda: from_host(direct)}
        before = nat_gateway_traffic(world["nat"])
        order = list(paths)
        seconds: dict[str, list[float]] = {p: [] for p in paths}
        for round_ in range(args.rounds):
            turn = round_ % len(order)
            for path in order[turn:] + order[:turn]:
                seconds[path].append(paths[path]())
        after = nat_gateway_traffic(world["nat"])
        load = os.getloadavg()
        print(f"pocketlink {daemon.describe()}")
        print(f"S3 GET of {args.size} MB, median of {args.rounds} rounds, load average "
              f"{load[0]:.1f}")
        rates = {p: size / statistics.median(s) / 1e6 for p, s in seconds.items()}
        for path, rate in rates.items():
            print(f"  {path:<18}{rate:>9.1f} MB/s   x{rate / rates['direct']:.2f} of direct")
        received = after.bytes_in_from_destination - before.bytes_in_from_destination \
            if after and before else 0
        print(f"NAT gateway counted {received / 1e6:.1f} MB in from destinations for "
              f"{args.rounds} GETs of {args.size} MB through it")
        if args.json:
            args.json.write_text(json.dumps({"size_mb": args.size, "rounds": args.rounds,
                                             "mb_per_s": rates, "seconds": seconds,
                                             "nat_bytes_in": received}, indent=2))
    finally:
        daemon.tear_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
