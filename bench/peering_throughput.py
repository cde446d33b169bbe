"""Bulk throughput over a VPC peering, side by side with the same transfer inside one VPC:
what the peering's link (a veth between the two VPC routers, one more hop and one more
routing decision) costs a flow.

The world: VPC B (10.1.0.0/16) holds an iperf3 server and a client of its own subnet's
neighbour subnet (its packets cross B's router, as the peered ones do); VPC A
(10.0.0.0/16), peered with B, holds the other client. Each round runs ``iperf3 -c SERVER
-t S -J`` from both clients, one after the other (the order swaps every round); the figure
is end.sum_received. Target: the peered path at x0.85 or better of the in-VPC one.

Run as root: ``sudo python3 bench/peering_throughput.py [--rounds N] [--seconds S]
[--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Daemon, preflight

from pocketlink.polling import wait_for

AMI = "ami-0123456789abcdef0"
PORT = 5201


def in_ns(instance_id: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", f"pl-{instance_id}", *argv]


def _vpc(ec2, cidr: str, subnets: int) -> tuple[str, list[str], str]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = ".".join(cidr.split(".")[:2])
    made = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.{n + 1}.0/24")["Subnet"]["SubnetId"]
            for n in range(subnets)]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    return vpc, made, table


def _open(ec2, vpc: str) -> str:
    group = ec2.create_security_group(GroupName="iperf", Description="iperf",
                                      VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    return group


def _launch(ec2, subnet: str, **params) -> dict:
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnet,
                                   **params)["Instances"]
    wait_for(lambda: ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
        "Reservations"][0]["Instances"][0]["State"]["Name"] == "running", timeout=120)
    return instance


def build(daemon: Daemon) -> dict[str, str]:
    a = daemon.client("ec2", "111111111111")
    b = daemon.client("ec2", "222222222222")
    vpc_a, [subnet_a], table_a = _vpc(a, "10.0.0.0/16", 1)
    vpc_b, [server_subnet, neighbour_subnet], table_b = _vpc(b, "10.1.0.0/16", 2)
    server = _launch(b, server_subnet, SecurityGroupIds=[_open(b, vpc_b)])
    local = _launch(b, neighbour_subnet)
    peered = _launch(a, subnet_a)
    peering = a.create_vpc_peering_connection(VpcId=vpc_a, PeerVpcId=vpc_b,
                                              PeerOwnerId="222222222222")[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    wait_for(lambda: b.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering])[
        "VpcPeeringConnections"][0]["Status"]["Code"] == "pending-acceptance")
    b.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    wait_for(lambda: a.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering])[
        "VpcPeeringConnections"][0]["Status"]["Code"] == "active", timeout=120)
    a.create_route(RouteTableId=table_a, DestinationCidrBlock="10.1.0.0/16",
                   VpcPeeringConnectionId=peering)
    b.create_route(RouteTableId=table_b, DestinationCidrBlock="10.0.0.0/16",
                   VpcPeeringConnectionId=peering)
    return {"server": server["InstanceId"], "address": server["PrivateIpAddress"],
            "in-VPC": local["InstanceId"], "peered": peered["InstanceId"]}


def iperf(client: str, address: str, seconds: float) -> float:
    done = subprocess.run(in_ns(client, "iperf3", "-c", address, "-p", str(PORT), "-t",
                                f"{seconds:g}", "-J"), capture_output=True, text=True,
                          timeout=seconds + 60)
    report = json.loads(done.stdout or "{}")
    if "error" in report or "end" not in report:
        raise RuntimeError(f"iperf3 from {client}: {report.get('error', done.stderr)}")
    return report["end"]["sum_received"]["bits_per_second"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3)  # iperf3 takes whole seconds
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not preflight("peering_throughput.py", ("iperf3",)):
        return 2
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log")
    server = None
    try:
        daemon.start()
        world = build(daemon)
        server = subprocess.Popen(in_ns(world["server"], "iperf3", "-s", "-p", str(PORT)),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        paths = ("in-VPC", "peered")
        wait_for(lambda: all(_try(world[p], world["address"]) for p in paths), timeout=60)
        runs: dict[str, list[float]] = {p: [] for p in paths}
        for index in range(args.rounds):
            for path in paths if index % 2 == 0 else paths[::-1]:
                runs[path].append(iperf(world[path], world["address"], args.seconds))
                time.sleep(0.2)
        means = {p: statistics.mean(v) for p, v in runs.items()}
        for path in paths:
            print(f"{path:8} {means[path] / 1e9:6.2f} Gbit/s "
                  f"(rounds: {', '.join(f'{v / 1e9:.2f}' for v in runs[path])})")
        ratio = means["peered"] / means["in-VPC"]
        print(f"peered/in-VPC throughput x{ratio:.2f} (target >= x0.85: "
              f"{'met' if ratio >= 0.85 else 'missed'})")
        if args.json:
            args.json.write_text(json.dumps({"runs": runs, "means": means, "ratio": ratio}))
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        daemon.stop()
        daemon.down()


def _try(client: str, address: str) -> bool:
    try:
        iperf(client, address, 1)
    except (RuntimeError, subprocess.TimeoutExpired):
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
