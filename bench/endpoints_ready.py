"""Endpoints ready at scale: 200 interface endpoints created at once across 20 VPCs, and how
long each takes from its CreateVpcEndpoint answer to the first byte it carries.

Why: at AWS an endpoint takes a minute or two to turn available; pocketlink promises that
an endpoint carries traffic about as soon as it is created, and that this holds when many
are created together (a CloudFormation stack, a test suite's set-up), not just for one.
The figure is measured as a program in the consumer's VPC would see it: from inside a
consumer instance of each VPC (a prober started with ``ip netns exec pl-<instance>``), a
TCP connection to the endpoint's ENI address that sends an HTTP request and reads the
first byte of the answer, retried every few milliseconds from the moment the address is
known. The clock is the machine's (``time.time()`` in both processes).

The set-up before the measured part: one provider VPC with a web server (Python's
http.server, started by UserData) behind an internal NLB offered as an endpoint service
that needs no acceptance; ``--vpcs`` consumer VPCs, each with a subnet in the service's
zone, a security group letting the VPC reach port 8080, and one running instance.

Run as root (it builds namespaces): ``sudo python3 bench/endpoints_ready.py [--vpcs 20]
[--per-vpc 10] [--source /path/to/other/pocketlink/src] [--json FILE] [--daemon-log FILE
--log-level debug]``. The daemon's debug log times each reconciler pass by stage, each
VPC's network run and each batch of listeners bound. ``--source``
measures another checkout the same way, for a side-by-side figure. The daemon is started
on free loopback ports with a fresh state file in a temp dir, always stopped by its own
pid, and its namespaces removed (``pocketlink down`` with its own --port and --state).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import Daemon, preflight

ACCOUNT = "123456789012"
AMI = "ami-0123456789abcdef0"
PORT = 8080
CREATORS = 8  # concurrent CreateVpcEndpoint calls: "at once", as a stack would send them
SETTLE_TIMEOUT = 120.0
FIRST_BYTE_TIMEOUT = 30.0
RETRY = 0.02  # seconds between a prober's tries of one endpoint, after its creation
RESTART_RETRY = 0.1  # the same, while the daemon restarts
# http.server's own backlog is 5: the 200 first flows, arriving together, overflowed it and
# their SYNs waited for a 1 s retransmit (seen as the data plane's connects taking 1.0 s).
# The target is not what is measured: it gets a backlog fit for the burst.
WEB_SERVER = ("#!/bin/sh\ncd /tmp && exec python3 -c 'import http.server as s; "
              "s.ThreadingHTTPServer.request_queue_size = 1024; "
              f"s.test(s.SimpleHTTPRequestHandler, s.ThreadingHTTPServer, port={PORT}, "
              "bind=\"0.0.0.0\")'\n")
# Runs inside a consumer instance: reads "address retry" lines, answers "address time"
# lines once a connection to address:PORT gave the first byte of an HTTP answer, trying
# again every ``retry`` seconds until then.
PROBER = f"""
import asyncio, sys, time
CONNECT, ANSWER = 0.25, 10.0
async def probe(address, retry):
    while True:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(address, {PORT}), CONNECT)
            # Connected: the listener is there; wait for the answer rather than connect again.
            writer.write(b"GET / HTTP/1.0\\r\\n\\r\\n")
            first = await asyncio.wait_for(reader.read(1), ANSWER)
            writer.close()
            if first:
                print(address, repr(time.time()), flush=True)
                return
        except (OSError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(retry)
async def main():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks = set()
    while line := await reader.readline():
        address, retry = line.decode().split()
        tasks.add(asyncio.ensure_future(probe(address, float(retry))))
    await asyncio.gather(*tasks)
asyncio.run(main())
"""


def states(ec2: Any, instance_ids: list[str]) -> dict[str, str]:
    found = ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}


def wait_running(ec2: Any, instance_ids: list[str]) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while set(states(ec2, instance_ids).values()) != {"running"}:
        if time.monotonic() > deadline:
            raise RuntimeError("the set-up's instances did not all run")
        time.sleep(0.2)


def service(ec2: Any, elb: Any) -> tuple[str, str]:
    """The provider: (service name, its zone id)."""
    vpc = ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.200.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT,
         "IpRanges": [{"CidrIp": "10.200.0.0/16"}]}])
    [web] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnet,
                              SecurityGroupIds=[group],
                              UserData=WEB_SERVER)["Instances"]
    wait_running(ec2, [web["InstanceId"]])
    balancer = elb.create_load_balancer(Name="web", Type="network", Scheme="internal",
                                        Subnets=[subnet])["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elb.create_target_group(Name="web", Protocol="TCP", Port=PORT,
                                           VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=target_group, Targets=[{"Id": web["InstanceId"]}])
    elb.create_listener(LoadBalancerArn=balancer, Protocol="TCP", Port=PORT,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    made = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer], AcceptanceRequired=False)["ServiceConfiguration"]
    return made["ServiceName"], made["AvailabilityZoneIds"][0]


def consumers(ec2: Any, vpcs: int, zone: str) -> list[dict[str, str]]:
    made = []
    for n in range(vpcs):
        vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.1.0/24",
                                   AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="endpoints", Description="endpoints",
                                          VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT,
             "IpRanges": [{"CidrIp": f"10.{n}.0.0/16"}]}])
        [client] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                     SubnetId=subnet)["Instances"]
        made.append({"vpc": vpc, "subnet": subnet, "group": group,
                     "instance": client["InstanceId"]})
    wait_running(ec2, [c["instance"] for c in made])
    return made


class Probers:
    """One prober per consumer instance; first-byte times by address."""

    def __init__(self, instance_ids: list[str]) -> None:
        self.first_byte: dict[str, float] = {}
        self.done = threading.Condition()
        self._processes = {i: subprocess.Popen(
            ["ip", "netns", "exec", f"pl-{i}", sys.executable, "-c", PROBER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for i in instance_ids}
        self._readers = [threading.Thread(target=self._read, args=(p,), daemon=True)
                         for p in self._processes.values()]
        for reader in self._readers:
            reader.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            address, moment = line.split()
            with self.done:
                self.first_byte[address] = float(moment)
                self.done.notify_all()

    def probe(self, instance_id: str, address: str, retry: float) -> None:
        stdin = self._processes[instance_id].stdin
        assert stdin is not None
        stdin.write(f"{address} {retry}\n")
        stdin.flush()

    def wait(self, count: int, timeout: float) -> None:
        with self.done:
            self.done.wait_for(lambda: len(self.first_byte) >= count, timeout)

    def close(self) -> None:
        for process in self._processes.values():
            process.kill()
            process.wait()


def create(ec2: Any, name: str, consumer: dict[str, str], probers: Probers
           ) -> tuple[str, tuple[float, str]]:
    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=consumer["vpc"], ServiceName=name,
        SubnetIds=[consumer["subnet"]], SecurityGroupIds=[consumer["group"]])["VpcEndpoint"]
    created = time.time()
    [eni] = endpoint["NetworkInterfaceIds"]
    address = ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["PrivateIpAddress"]
    probers.probe(consumer["instance"], address, RETRY)
    return address, (created, endpoint["VpcEndpointId"])


def restarted(daemon: Daemon, probers: Probers, created: dict[str, tuple[float, str]],
              wanted: list[dict[str, str]]) -> dict[str, Any]:
    """Stop the daemon (SIGTERM), start it again on the same state, and time each endpoint
    from the start to its first byte again: how soon traffic resumes after a restart."""
    daemon.stop()
    with probers.done:
        probers.first_byte.clear()
    # ``created`` is in the order of ``wanted``: the consumer each endpoint was made for.
    for address, consumer in zip(created, wanted, strict=True):
        # Refused while it is down; tried less often than at creation, where each endpoint
        # is probed only from its own creation on (200 probes every 20 ms would take the
        # cores the starting daemon needs).
        probers.probe(consumer["instance"], address, RESTART_RETRY)
    started = time.time()
    daemon.start()
    up = time.time() - started
    probers.wait(len(created), FIRST_BYTE_TIMEOUT)
    delays = sorted(t - started for t in probers.first_byte.values())
    return {"api_up": up, "carried": len(delays),
            "p50": statistics.median(delays) if delays else None,
            "max": delays[-1] if delays else None}


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    daemon = Daemon(state=folder / "state.db", log=args.daemon_log or folder / "daemon.log",
                    source=args.source, args=["--log-level", args.log_level])
    probers: Probers | None = None
    try:
        daemon.start()
        print(f"pocketlink up: {daemon.describe()}", flush=True)
        ec2, elb = daemon.client("ec2", ACCOUNT), daemon.client("elbv2", ACCOUNT)
        name, zone = service(ec2, elb)
        made = consumers(ec2, args.vpcs, zone)
        print(f"set up: 1 service, {len(made)} consumer VPCs with a running instance each; "
              f"creating {args.vpcs * args.per_vpc} endpoints", flush=True)
        probers = Probers([c["instance"] for c in made])
        time.sleep(1.0)  # the probers' Python is up before the first address comes
        wanted = [c for c in made for _ in range(args.per_vpc)]
        # Each client is used by one thread: botocore clients are not shared across threads.
        clients = threading.local()

        def one(consumer: dict[str, str]) -> tuple[str, tuple[float, str]]:
            if not hasattr(clients, "ec2"):
                clients.ec2 = daemon.client("ec2", ACCOUNT)
            return create(clients.ec2, name, consumer, probers)  # type: ignore[arg-type]

        started = time.time()
        with ThreadPoolExecutor(CREATORS) as pool:
            created = dict(pool.map(one, wanted))
        api_seconds = time.time() - started
        probers.wait(len(created), FIRST_BYTE_TIMEOUT)
        delays = sorted(probers.first_byte[a] - t for a, (t, _) in created.items()
                        if a in probers.first_byte)
        last = max(probers.first_byte.values()) - started if probers.first_byte else None
        restart = restarted(daemon, probers, created, wanted) if args.restart else None
        return {"restart": restart,"vpcs": args.vpcs, "endpoints": len(created), "api_seconds": api_seconds,
                "carried": len(delays), "never": len(created) - len(delays),
                "p50": statistics.median(delays) if delays else None,
                "p90": delays[int(len(delays) * 0.9) - 1] if delays else None,
                "max": delays[-1] if delays else None,
                "last_first_byte_after_start": last,
                "each": [{"id": i, "created": t, "first_byte": probers.first_byte.get(a)}
                         for a, (t, i) in created.items()]}
    finally:
        if probers is not None:
            probers.close()
        daemon.tear_down()


def report(results: dict[str, Any]) -> None:
    print(f"{results['endpoints']} endpoints in {results['vpcs']} VPCs, created in "
          f"{results['api_seconds']:.2f} s; {results['carried']} carried a first byte, "
          f"{results['never']} did not within {FIRST_BYTE_TIMEOUT:.0f} s")
    if results["carried"]:
        print(f"CreateVpcEndpoint answer -> first byte: p50 {results['p50']:.3f} s, "
              f"p90 {results['p90']:.3f} s, max {results['max']:.3f} s")
        print(f"last first byte {results['last_first_byte_after_start']:.2f} s after the "
              "first CreateVpcEndpoint")
    restart = results["restart"]
    if restart and restart["carried"]:
        print(f"after a restart (SIGTERM, start again): the API answered in "
              f"{restart['api_up']:.2f} s; {restart['carried']}/{results['endpoints']} endpoints "
              f"carried again, p50 {restart['p50']:.3f} s, max {restart['max']:.3f} s after the "
              "start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vpcs", type=int, default=20, help="consumer VPCs (default 20)")
    parser.add_argument("--per-vpc", type=int, default=10, help="endpoints per VPC (default 10)")
    parser.add_argument("--source", type=Path, default=None,
                        help="run the daemon from this pocketlink source folder instead")
    parser.add_argument("--restart", action="store_true",
                        help="then restart the daemon and time each endpoint's first byte again")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--daemon-log", type=Path, default=None,
                        help="keep the daemon's log here (default: in the temp dir, deleted)")
    parser.add_argument("--log-level", default="info",
                        help="the daemon's (debug: its reconciler's stages, timed)")
    args = parser.parse_args(argv)
    if not 1 <= args.vpcs <= 199 or not 1 <= args.per_vpc <= 50:
        parser.error("--vpcs must be 1..199 and --per-vpc 1..50")
    if not preflight("endpoints_ready.py", ("ip", "nft", "nsenter")):
        return 2
    with tempfile.TemporaryDirectory(prefix="pocketlink-endpoints-") as temp:
        results = run(args, Path(temp))
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
