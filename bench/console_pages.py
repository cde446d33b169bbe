"""The web console's pages with 100 endpoints: how long each takes to render, p50 and p99,
as a browser would fetch it (one kept-alive HTTP connection, the session cookie sent).

Why: issue 11 asks that pages render in under 200 ms with 100 endpoints. A console page is
a few AWS API calls the console makes from a worker thread (signed by botocore, handed to
the gateway in process), then HTML; the endpoint list is beside the one DescribeVpcEndpoints
call it is made of (boto3, same daemon, same moment), so the ratio says what the console
adds to the API.

The world, made with the API on an API-only daemon (``--no-network``: no root needed, and
endpoints there turn available as on a network daemon): a provider VPC with two subnets,
an internal NLB with a listener, an endpoint service that needs no acceptance; a consumer
VPC per 50 endpoints (AWS's quota per VPC), each with two subnets, and 100 interface
endpoints to the service (``--endpoints``).

Run: ``python3 bench/console_pages.py [--endpoints 100] [--rounds 30] [--json FILE]``. The
daemon is started on free loopback ports with a fresh state file in a temp dir, and
stopped by its own pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import Daemon

from pocketlink.polling import wait_for

PROVIDER, CONSUMER = "111111111111", "222222222222"
ZONE_IDS = ("use1-az1", "use1-az2")
ROOT = "/_pocketlink/console"
PER_VPC = 50  # AWS's default quota of interface endpoints per VPC, which pocketlink keeps


def offered_service(daemon: Daemon, consumers: list[str], targets: tuple[str, ...] = ()
                    ) -> dict:
    """The provider's endpoint service (an internal NLB in ``ZONE_IDS``, a TCP:80 listener
    to an ip target group of ``targets``), no acceptance, ``consumers`` allowed."""
    ec2, elbv2 = daemon.client("ec2", PROVIDER), daemon.client("elbv2", PROVIDER)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                 AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
               for n, zone in enumerate(ZONE_IDS)]
    [balancer] = elbv2.create_load_balancer(Name="bench-nlb", Type="network", Scheme="internal",
                                            Subnets=subnets)["LoadBalancers"]
    [group] = elbv2.create_target_group(Name="bench-tg", Protocol="TCP", Port=80, VpcId=vpc,
                                        TargetType="ip")["TargetGroups"]
    if targets:
        elbv2.register_targets(TargetGroupArn=group["TargetGroupArn"],
                               Targets=[{"Id": target} for target in targets])
    elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=80,
                          DefaultActions=[{"Type": "forward",
                                           "TargetGroupArn": group["TargetGroupArn"]}])
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]],
        AcceptanceRequired=False)["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service["ServiceId"],
        AddAllowedPrincipals=[f"arn:aws:iam::{account}:root" for account in consumers])
    return service


def build(daemon: Daemon, count: int) -> dict:
    service = offered_service(daemon, [CONSUMER])
    consumer = daemon.client("ec2", CONSUMER)
    endpoints: list[str] = []
    for v in range(-(-count // PER_VPC)):
        consumer_vpc = consumer.create_vpc(CidrBlock=f"10.{v + 1}.0.0/16")["Vpc"]["VpcId"]
        consumer_subnets = [consumer.create_subnet(
            VpcId=consumer_vpc, CidrBlock=f"10.{v + 1}.{n}.0/24",
            AvailabilityZoneId=zone)["Subnet"]["SubnetId"] for n, zone in enumerate(ZONE_IDS)]
        endpoints += [consumer.create_vpc_endpoint(
            VpcEndpointType="Interface", VpcId=consumer_vpc, ServiceName=service["ServiceName"],
            SubnetIds=consumer_subnets)["VpcEndpoint"]["VpcEndpointId"]
            for _ in range(min(PER_VPC, count - len(endpoints)))]
    wait_for(lambda: all(e["State"] == "available" for e in consumer.describe_vpc_endpoints()[
        "VpcEndpoints"]), "the endpoints available", timeout=120)
    return {"service": service["ServiceId"], "endpoint": endpoints[0]}


def pages(world: dict) -> list[tuple[str, str]]:
    """(account, path) of the pages measured: the seeds' main ones, and the live status
    the endpoint pages poll (for one endpoint still changing)."""
    return [(CONSUMER, "vpc/endpoints"), (CONSUMER, f"vpc/endpoints/{world['endpoint']}"),
            (CONSUMER, "vpc/endpoints/create"),
            (CONSUMER, f"live/endpoints?ids={world['endpoint']}"),
            (PROVIDER, "vpc/endpoint-services"),
            (PROVIDER, f"vpc/endpoint-services/{world['service']}?tab=connections"),
            (CONSUMER, "vpc/vpcs"), (CONSUMER, "vpc/subnets"), (CONSUMER, "vpc/security-groups"),
            (CONSUMER, "ec2/instances")]


def measure(daemon: Daemon, account: str, path: str, rounds: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=60)
    cookie = {"Cookie": f"pocketlink_console=a={account}&r=us-east-1"}
    times = []
    for n in range(rounds + 1):
        started = time.perf_counter()
        connection.request("GET", f"{ROOT}/{path}", headers=cookie)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200 or b'role="alert"' in body:
            raise SystemExit(f"{path}: HTTP {response.status} {body[-600:]!r}")
        if n:  # the first one makes the account's clients
            times.append(elapsed)
    connection.close()
    return times


def api_times(daemon: Daemon, rounds: int) -> list[float]:
    consumer = daemon.client("ec2", CONSUMER)
    consumer.describe_vpc_endpoints()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        consumer.describe_vpc_endpoints()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pocketlink-console-bench-") as folder:
        daemon = Daemon(state=Path(folder) / "state.db", log=Path(folder) / "daemon.log",
                        args=["--no-network", "--max-request-rate", "1000000"])
        daemon.start()
        try:
            print(f"*** {args.endpoints} endpoints, made with the API")
            world = build(daemon, args.endpoints)
            results = {}
            print(f"{'page':58} {'p50 ms':>8} {'p99 ms':>8}")
            for account, path in pages(world):
                times = measure(daemon, account, path, args.rounds)
                results[path] = {"p50": statistics.median(times), "p99": percentile(times, 0.99)}
                print(f"{path:58} {results[path]['p50']:8.1f} {results[path]['p99']:8.1f}")
            api = api_times(daemon, args.rounds)
            page = results["vpc/endpoints"]["p50"]
            print(f"\nthe endpoint list: {page:.1f} ms; its one DescribeVpcEndpoints call "
                  f"(boto3): {statistics.median(api):.1f} ms; ratio {page / statistics.median(api):.2f}")
        finally:
            daemon.stop()
    if args.json:
        args.json.write_text(json.dumps({"endpoints": args.endpoints, "pages": results,
                                         "describe_vpc_endpoints_p50": statistics.median(api)},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
