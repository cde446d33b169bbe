"""A restart at scale: how soon after ``pocketlink up`` starts again on a state with many
namespaces the API answers, every VPC's resolver answers, every endpoint carries a byte,
and the network's re-check (the full pass that looks at every namespace again) ends.

Why: a restart must not take traffic down for long (issue 14, item 7: "traffic resumes
within 2 s of a restart at 1,000 namespaces"). ``pocketlink up`` brings the endpoint
listeners and the resolvers back from its serving snapshot (src/pocketlink/snapshot.py)
before it imports the daemon, and the daemon looks at the network again only after its
first pass, so the first three figures should not grow with the namespaces; the last one
does.

The set-up: the provider of bench/endpoints_ready.py (a web server behind an internal NLB
offered as an endpoint service), then ``--vpcs`` consumer VPCs, each with ``--instances``
running instances (each VPC is its router's namespace and one per instance: 250 VPCs of 3
make 1,000 namespaces) and one interface endpoint to the service. One prober thread per
VPC works inside its first instance's namespace (entered with setns, as the daemon's
socket threads are): it asks the VPC's resolver (base + 2) for a name over UDP (any
answer counts) and sends an HTTP request to the endpoint's ENI address, reading the
first byte of the answer, each again every ``RETRY`` seconds until it has both. A round
of probes before the restart shows that everything answers; then the daemon is stopped
(SIGTERM) and started again on the same state, the probers already trying. The network
re-check's end is the time stamp of the daemon's log line that says so
(reconcile/network.py). The clock is the machine's (``time.time()``).

Run as root: ``sudo python3 bench/restart.py [--vpcs 250] [--instances 3] [--json FILE]
[--source /path/to/other/pocketlink/src]``. The daemon runs on free loopback ports with
a fresh state in a temp dir, is stopped by its own pid, and its namespaces are removed
(``pocketlink down`` with its own --port and --state).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import dns.message
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from common import REGION, Daemon, preflight
from endpoints_ready import ACCOUNT, AMI, PORT, service, states

from pocketlink.network import netns

CREATORS = 8  # concurrent API clients during the set-up
ATTEMPTS = 3  # tries at one consumer's set-up
SETTLE_TIMEOUT = 1800.0  # the set-up's endpoints all available (1,000 namespaces take long)
ROUND_TIMEOUT = 120.0
RETRY = 0.1  # seconds between a prober's tries
CONNECT, ANSWER = 0.25, 5.0
# The daemon's line when the network's first full pass after its start has ended.
RECHECKED = "network checked again after the start"


@dataclass
class Consumer:
    vpc: str
    namespace: str  # its first instance's: where its prober works
    resolver: str
    endpoint_address: str = ""
    instances: list[str] = field(default_factory=list)


def patient_client(daemon: Daemon) -> Any:
    """An EC2 client for the set-up that waits long and never sends a call twice: on the
    loaded machine a call may take over a minute, and a retried CreateSubnet or
    AuthorizeSecurityGroupIngress finds its first try's work (a conflict, a duplicate)."""
    return boto3.client("ec2", endpoint_url=daemon.endpoint, region_name=REGION,
                        aws_access_key_id=ACCOUNT, aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1}, proxies={},
                                      connect_timeout=30, read_timeout=600))


def consumer(ec2: Any, n: int, instances: int, zone: str, name: str) -> Consumer:
    """VPC ``n`` (10.(100 + n // 256).(n % 256).0/24), its instances and its endpoint."""
    cidr = f"10.{100 + n // 256}.{n % 256}.0/24"
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr,
                               AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="endpoints", Description="endpoints",
                                      VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT,
         "IpRanges": [{"CidrIp": cidr}]}])
    launched = ec2.run_instances(ImageId=AMI, MinCount=instances, MaxCount=instances,
                                 SubnetId=subnet)["Instances"]
    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=vpc, ServiceName=name, SubnetIds=[subnet],
        SecurityGroupIds=[group])["VpcEndpoint"]
    [eni] = endpoint["NetworkInterfaceIds"]
    address = ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["PrivateIpAddress"]
    ids = [i["InstanceId"] for i in launched]
    return Consumer(vpc, f"pl-{ids[0]}", cidr.rsplit(".", 1)[0] + ".2", address, ids)


def wait_running(ec2: Any, instance_ids: list[str]) -> None:
    """endpoints_ready's wait, with the time 1,000 namespaces take to be built."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        found = {}
        for start in range(0, len(instance_ids), 500):
            found |= states(ec2, instance_ids[start:start + 500])
        if set(found.values()) == {"running"}:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {list(found.values()).count('running')}/"
                               f"{len(instance_ids)} instances running")
        time.sleep(2)


def wait_available(ec2: Any, count: int) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        pages = ec2.get_paginator("describe_vpc_endpoints").paginate()
        states = [e["State"] for page in pages for e in page["VpcEndpoints"]]
        if states.count("available") >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {states.count('available')}/{count} endpoints available")
        time.sleep(2)


def _answers_dns(resolver: str, query: bytes) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(CONNECT)
        try:
            sock.sendto(query, (resolver, 53))
            return bool(sock.recv(512))
        except OSError:
            return False


def _carries(address: str) -> bool:
    try:
        with socket.create_connection((address, PORT), timeout=CONNECT) as sock:
            sock.settimeout(ANSWER)
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return bool(sock.recv(1))
    except OSError:
        return False


class Round:
    """One prober thread per consumer, each inside its namespace, trying until its
    resolver answered and its endpoint carried a byte; ``first``: when each did."""

    def __init__(self, consumers: list[Consumer]) -> None:
        self.resolved: dict[str, float] = {}
        self.carried: dict[str, float] = {}
        self._inside = threading.Barrier(len(consumers) + 1)
        self._deadline = 0.0
        query = dns.message.make_query("example.com", "A").to_wire()
        self._threads = [threading.Thread(target=self._probe, args=(c, query), daemon=True)
                         for c in consumers]

    def start(self, timeout: float) -> None:
        """Every prober inside its namespace and trying, when this returns."""
        self._deadline = time.time() + timeout
        for thread in self._threads:
            thread.start()
        self._inside.wait()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _probe(self, found: Consumer, query: bytes) -> None:
        def inside() -> None:
            self._inside.wait()
            while time.time() < self._deadline and (
                    found.vpc not in self.resolved or found.vpc not in self.carried):
                if found.vpc not in self.resolved and _answers_dns(found.resolver, query):
                    self.resolved[found.vpc] = time.time()
                if found.vpc not in self.carried and _carries(found.endpoint_address):
                    self.carried[found.vpc] = time.time()
                time.sleep(RETRY)
        netns.run_in(found.namespace, inside)


def _logged(log: Path, since: int, text: str) -> float | None:
    """The time stamp of the first line after byte ``since`` of the daemon's log that
    says ``text`` (the log's asctime: local time, milliseconds after a comma)."""
    with log.open("rb") as file:
        file.seek(since)
        for line in file.read().decode(errors="replace").splitlines():
            if text in line:
                return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return None


def _figures(moments: dict[str, float], started: float) -> dict[str, float | int | None]:
    delays = sorted(t - started for t in moments.values())
    return {"count": len(delays), "p50": statistics.median(delays) if delays else None,
            "max": delays[-1] if delays else None}


def restart(daemon: Daemon, consumers: list[Consumer], log: Path) -> dict[str, Any]:
    daemon.stop()
    since = log.stat().st_size
    probes = Round(consumers)
    probes.start(ROUND_TIMEOUT)
    started = time.time()
    daemon.start()
    api_up = time.time() - started
    probes.join()
    rechecked = None
    deadline = time.monotonic() + ROUND_TIMEOUT
    while rechecked is None and time.monotonic() < deadline:
        rechecked = _logged(log, since, RECHECKED)
        time.sleep(0.5)
    return {"api_up": api_up, "resolvers": _figures(probes.resolved, started),
            "endpoints": _figures(probes.carried, started),
            "network_rechecked": rechecked - started if rechecked is not None else None}


def namespaces(owner: Path) -> int:
    return sum(1 for name in netns.ours() if netns.owner_of(name) == str(owner.resolve()))


def run(args: argparse.Namespace, folder: Path) -> None:
    log = args.daemon_log or folder / "daemon.log"
    # The set-up's 8 clients share one access key: past the daemon's default rate they
    # would be throttled (RequestLimitExceeded), which the clients do not retry.
    daemon = Daemon(state=folder / "state.db", log=log, source=args.source,
                    args=["--max-request-rate", "100000"])
    try:
        daemon.start()
        print(f"pocketlink up: {daemon.describe()}", flush=True)
        ec2, elb = daemon.client("ec2", ACCOUNT), daemon.client("elbv2", ACCOUNT)
        name, zone = service(ec2, elb)
        clients = threading.local()

        def one(n: int) -> Consumer:
            """Consumer ``n``; one whose set-up failed (on the loaded machine a kept-alive
            connection is now and then closed under a call) is made again whole, in a
            CIDR of its own: what the failed try made stays, unprobed."""
            if not hasattr(clients, "ec2"):
                clients.ec2 = patient_client(daemon)
            for attempt in range(ATTEMPTS):
                try:
                    return consumer(clients.ec2, n + attempt * args.vpcs, args.instances,
                                    zone, name)
                except (ClientError, BotoCoreError) as error:
                    print(f"consumer {n}: {error}; made again", flush=True)
                    clients.ec2 = patient_client(daemon)
            raise RuntimeError(f"consumer {n} could not be set up in {ATTEMPTS} tries")

        began = time.time()
        with ThreadPoolExecutor(CREATORS) as pool:
            consumers = list(pool.map(one, range(args.vpcs)))
        print(f"{len(consumers)} VPCs made in {time.time() - began:.0f} s; waiting for their "
              "instances and endpoints", flush=True)
        wait_running(ec2, [i for c in consumers for i in c.instances])
        wait_available(ec2, len(consumers))
        made = namespaces(daemon.state)
        print(f"set up in {time.time() - began:.0f} s: {len(consumers)} VPCs, "
              f"{len(consumers) * args.instances} instances, {made} namespaces", flush=True)
        before = Round(consumers)
        before.start(ROUND_TIMEOUT)
        before.join()
        if len(before.resolved) < len(consumers) or len(before.carried) < len(consumers):
            raise RuntimeError(f"before the restart only {len(before.resolved)} resolvers "
                               f"and {len(before.carried)} endpoints answered")
        load = os.getloadavg()
        results = {"vpcs": len(consumers), "instances": args.instances, "namespaces": made,
                   "load_before": load, **restart(daemon, consumers, log),
                   "load_after": os.getloadavg()}
        # Said before the tear-down, which takes minutes at 1,000 namespaces.
        report(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        daemon.tear_down()


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def report(results: dict[str, Any]) -> None:
    vpcs = results["vpcs"]
    resolvers, endpoints = results["resolvers"], results["endpoints"]
    print(f"a restart at {results['namespaces']} namespaces ({vpcs} VPCs of "
          f"{results['instances']} instances, one endpoint each; load average before "
          f"{results['load_before'][0]:.1f}, after {results['load_after'][0]:.1f}), "
          "after the start:")
    print(f"  the API answered          {_seconds(results['api_up'])}")
    print(f"  every resolver answered   {_seconds(resolvers['max'])} "
          f"({resolvers['count']}/{vpcs}, p50 {_seconds(resolvers['p50'])})")
    print(f"  every endpoint carried    {_seconds(endpoints['max'])} "
          f"({endpoints['count']}/{vpcs}, p50 {_seconds(endpoints['p50'])})")
    print(f"  the network re-check ended {_seconds(results['network_rechecked'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vpcs", type=int, default=250, help="consumer VPCs (default 250)")
    parser.add_argument("--instances", type=int, default=3,
                        help="instances per consumer VPC (default 3)")
    parser.add_argument("--source", type=Path, default=None,
                        help="run the daemon from this pocketlink source folder instead")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--daemon-log", type=Path, default=None,
                        help="keep the daemon's log here (default: in the temp dir, deleted)")
    args = parser.parse_args(argv)
    if not 1 <= args.vpcs <= 1000 or not 1 <= args.instances <= 20:
        parser.error("--vpcs must be 1..1000 and --instances 1..20")
    if not preflight("restart.py", ("ip", "nft", "nsenter")):
        return 2
    with tempfile.TemporaryDirectory(prefix="pocketlink-restart-") as temp:
        run(args, Path(temp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
