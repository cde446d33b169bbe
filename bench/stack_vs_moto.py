"""Seed 002's whole template (its ACM certificate validated through the hosted zone, the
NLB with its TLS listener and target group, the endpoint service and its permissions, the
Auto Scaling group from the launch template, the security group), deployed with
CreateStack on pocketlink and on moto's server: seconds from the call to CREATE_COMPLETE,
side by side, and their ratio. Then, on pocketlink only (moto moves no
bytes), the PrivateLink stack with a target and a consumer instance: seconds to
CREATE_COMPLETE and to the first byte of the target's page through the endpoint.

    sudo python3 bench/stack_vs_moto.py [--rounds 3]

moto refuses the seed's TLS listener, so the side-by-side ratio is of the stack without it
(both servers accept that); the whole stack's figure is pocketlink's, with moto's refusal
beside it. Each round makes the seed's parameters (a VPC, three subnets, a hosted zone) on each
server, then times the stack; both servers are this script's own subprocesses, stopped
by their pids. pocketlink's figure is the real thing (namespaces, listeners bound, the NLB
``active``); moto's is records in memory.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api_vs_moto import Server, free_port
from bench.common import preflight
from pocketlink.cloudformation.template import load_text
from pocketlink.harness import Daemon
from pocketlink.seeds.httpd import httpd_user_data
from tests.cloudformation.templates import TRAFFIC
from tests.cloudformation.test_seed002 import SEED, parameters
from tests.conftest import remove_namespaces

REGION = "us-east-1"


def clients(endpoint: str, account: str) -> dict:
    config = Config(retries={"max_attempts": 2}, proxies={})
    return {name: boto3.client(name, endpoint_url=endpoint, region_name=REGION,
                               aws_access_key_id=account, aws_secret_access_key="x",
                               config=config)
            for name in ("ec2", "route53", "cloudformation")}


def world(made: dict) -> dict:
    ec2, route53 = made["ec2"], made["route53"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=zones[i])["Subnet"]["SubnetId"]
               for i in range(3)]
    domain = f"bench-{secrets.token_hex(3)}.example.com"
    zone = route53.create_hosted_zone(Name=domain, CallerReference=domain)["HostedZone"]
    return {"vpc": vpc, "subnets": subnets, "zone": zone["Id"].rsplit("/", 1)[-1],
            "domain": domain}


def without_listener(template: str) -> str:
    """The stack with no listener: moto refuses a TLS one (its listeners must be HTTP or
    HTTPS), so the side-by-side figure is of what both accept."""
    body = load_text(template)
    del body["Resources"]["EndpointServiceNetworkLoadBalancerListener"]
    return json.dumps(body)


def seed_round(made: dict, name: str, template: str) -> tuple[float, str, str]:
    """Seconds from CreateStack to its end, the final status and its reason (a refused
    CreateStack: 0 s, and the refusal)."""
    cfn, given = made["cloudformation"], parameters(world(made))
    for parameter in given:  # moto's server keeps one account: names must differ per stack
        if parameter["ParameterKey"] == "Application":
            parameter["ParameterValue"] = name
    started = time.perf_counter()
    try:
        cfn.create_stack(StackName=name, TemplateBody=template, Parameters=given)
    except ClientError as error:
        return 0.0, "refused", str(error)
    except ResponseParserError:  # moto's server failing with its HTML 500 page
        return 0.0, "failed", "the server answered HTTP 500, its internal error page"
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return (time.perf_counter() - started, stack["StackStatus"],
                    stack.get("StackStatusReason", ""))
        time.sleep(0.05)


def traffic_round(daemon: Daemon, account: str, index: int) -> tuple[float, float]:
    cfn = clients(daemon.endpoint, account)["cloudformation"]
    name = f"traffic-{index}"
    started = time.perf_counter()
    cfn.create_stack(StackName=name, TemplateBody=TRAFFIC, Parameters=[
        {"ParameterKey": "HttpdScript", "ParameterValue": httpd_user_data()}])
    while (status := cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]) \
            .endswith("_IN_PROGRESS"):
        time.sleep(0.05)
    complete = time.perf_counter() - started
    if status != "CREATE_COMPLETE":
        raise RuntimeError(f"{name}: {status}")
    out = {o["OutputKey"]: o["OutputValue"]
           for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]}
    dns = out["EndpointDns"].split(":", 1)[1]
    while True:
        done = subprocess.run([sys.executable, "-m", "pocketlink", "exec", out["Consumer"], "--",
                               "curl", "-sS", "-m", "2", f"http://{dns}/"],
                              capture_output=True, text=True, timeout=30)
        if "Hello World" in done.stdout:
            return complete, time.perf_counter() - started
        if time.perf_counter() - started > 300:
            raise RuntimeError(f"{name}: no page through the endpoint: {done.stderr}")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if not preflight("stack_vs_moto.py", ("nft", "bwrap", "curl", "apache2")):
        return 1
    folder = Path(tempfile.mkdtemp(prefix="pl-bench-stack-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log",
                    args=["--max-request-rate", "1000000"])
    moto = Server("moto", [sys.executable, "-m", "moto.server", "-p", str(port := free_port()),
                           "-H", "127.0.0.1"], port, folder / "moto.log", "/moto-api/")
    results: dict[str, list[float]] = {"pocketlink": [], "moto": []}
    notes: dict[str, str] = {}
    whole: dict[str, tuple[float, str]] = {}
    traffic: list[tuple[float, float]] = []
    try:
        daemon.start()
        moto.start()
        for index in range(args.rounds):
            for name, endpoint in (("pocketlink", daemon.endpoint), ("moto", moto.endpoint)):
                made = clients(endpoint, f"7{secrets.randbelow(10**11):011d}")
                seconds, status, reason = seed_round(made, f"whole-{index}", SEED)
                whole[name] = (seconds, f"{status} {reason}".strip())
                made = clients(endpoint, f"7{secrets.randbelow(10**11):011d}")  # names anew
                seconds, status, reason = seed_round(made, f"seed-{index}",
                                                     without_listener(SEED))
                results[name].append(seconds)
                notes[name] = f"{status} {reason}".strip()
            traffic.append(traffic_round(daemon, f"6{secrets.randbelow(10**11):011d}", index))
    finally:
        moto.stop()
        daemon.stop()
        remove_namespaces(daemon)
    ours, theirs = statistics.median(results["pocketlink"]), statistics.median(results["moto"])
    print("seed 002's whole stack (certificate, NLB, TLS listener, target group, endpoint "
          "service, permissions, Auto Scaling group, launch template, security group), last "
          "round:")
    for name, (seconds, note) in whole.items():
        print(f"  {name:10} {seconds:7.2f} s  ({note[:160]})")
    print(f"the same without its listener (what moto accepts), {args.rounds} rounds, median "
          "seconds from CreateStack to its end:")
    print(f"  pocketlink {ours:7.2f} s  ({notes['pocketlink']})")
    print(f"  moto       {theirs:7.2f} s  ({notes['moto']})")
    if theirs > 0:
        print(f"  ratio pocketlink/moto: x{ours / theirs:.1f}")
    print("the PrivateLink stack with a target and a consumer instance, on pocketlink: "
          f"CREATE_COMPLETE in {statistics.median(t[0] for t in traffic):.2f} s, first byte "
          f"through the endpoint at {statistics.median(t[1] for t in traffic):.2f} s (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
