"""The data plane, side by side: one namespace path measured three ways in one run, direct,
through HAProxy, and through a pocketlink interface endpoint.

Why: pocketlink's hyperplane carries every byte between a consumer and a provider, in
Python. Whether that is good enough is a question with numbers, and the only fair yardstick
is the same path on the same machine at the same time: the path with no proxy at all (the
ceiling), and the path through HAProxy 2.6 (what a person would otherwise put there). The
issue's targets are relative to HAProxy: throughput at least HAProxy's, new connections per
second at least half of HAProxy's, p99 latency at most twice HAProxy's, and 10,000
concurrent connections through one endpoint for 60 s with no error. The byte pump in
src/pocketlink/dataplane/hyperplane.py is about to be replaced (splice(2)); this script is
what says whether the replacement is better: run it before and after.

The world, built through pocketlink's own API (boto3 against a daemon this script starts):

- provider 111111111111: VPC 10.0.0.0/16; subnet 10.0.1.0/24 holds the *target* (iperf3
  server on 5201, a small echo server on 7000: bench/_load.py), the *haproxy* instance and
  the internal NLB (TCP listeners 5201 and 7000, one target group each); subnet 10.0.2.0/24
  holds the *client*. An endpoint service on the NLB, open to the consumer.
- consumer 222222222222: VPC 10.1.0.0/16, one instance, an interface endpoint to the service.

The three paths (each crosses a VPC router namespace on the way in):

1. direct: client -> target (routed from 10.0.2.0/24 to 10.0.1.0/24 by the VPC router);
2. HAProxy: client -> haproxy (``mode tcp``, running inside its instance's namespace) ->
   target;
3. pocketlink: consumer instance -> endpoint ENI address (its DNS name is checked to
   resolve to it) -> hyperplane -> NLB node address -> target.

Measured on each path, interleaved by round (the order rotates every round): bulk throughput
(``iperf3 -c ADDR -p 5201 -t S -J``, one stream, end.sum_received); new connections per
second (C workers, each connect, 64-byte request, 64-byte answer, server closes); latency of
a 64-byte request/answer, N sequential round trips on one kept connection and N each on a
new connection; and the CPU the proxy process used meanwhile. Then, through the endpoint
only: 10,000 connections opened and held 60 s, one round trip on each before and after,
with the daemon's VmRSS growth per connection, its open fds and its fd limit.

Run as root: ``sudo python3 bench/dataplane.py [--quick] [--json FILE] [--hold N]
[--hold-seconds S] [--profile DIR]``; see bench/README.md. Traffic stays inside the
namespaces this script made; the API and the daemon's DNS are on 127.0.0.1. Every process it
starts is stopped by its pid, and the world goes with ``pocketlink down --port P --state
FILE --purge`` (never --all).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import REGION, STOP_TIMEOUT, Daemon, rss_kib

from pocketlink.polling import wait_for

PROVIDER = "111111111111"  # a 12-digit access key id is the account id for pocketlink
CONSUMER = "222222222222"
AMI = "ami-0123456789abcdef0"  # pocketlink checks only the id's shape
IPERF_PORT = 5201
ECHO_PORT = 7000
PATHS = ("direct", "haproxy", "pocketlink")
LABELS = {"direct": "direct", "haproxy": "HAProxy", "pocketlink": "pocketlink"}
LOAD = Path(__file__).resolve().parent / "_load.py"
READY_TIMEOUT = 90.0  # instances running, endpoint available, targets healthy
TICK = os.sysconf("SC_CLK_TCK")
FDS_PER_FLOW_ROOM = 8  # --daemon-nofile auto: room per held flow (a splice pump needs 2-6)
CALIBRATE = 200  # flows held briefly before the big hold, to measure the daemon's fds a flow


# maxconn left to HAProxy: it derives it from its open-files limit.
HAPROXY_CFG = """global
defaults
    mode tcp{splice}
    timeout connect 5s
    timeout client 400s
    timeout server 400s
listen iperf
    bind {address}:{iperf}
    server target {target}:{iperf}
listen echo
    bind {address}:{echo}
    server target {target}:{echo}
"""


# --- small readers of /proc ------------------------------------------------------------
def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def nofile_limits(pid: int) -> tuple[int, int]:
    """The soft and hard 'Max open files' of a process, from /proc/<pid>/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise RuntimeError(f"no open-files limit for pid {pid}")


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, every thread included, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])
    return total - values[3] - values[4], total


def machine_busy(seconds: float) -> float:
    """How busy all CPUs were over ``seconds``, in %."""
    busy, total = machine_ticks()
    time.sleep(seconds)
    busy2, total2 = machine_ticks()
    return 100.0 * (busy2 - busy) / max(total2 - total, 1)


def namespace_inode(name: str) -> int | None:
    try:
        return os.stat(f"/run/netns/{name}").st_ino
    except FileNotFoundError:
        return None


def lives_in(pid: int, namespace: str) -> bool:
    """Whether process ``pid`` is inside network namespace ``namespace`` (so that a pid read
    from a pidfile is only signalled if it is still the process we started there)."""
    inode = namespace_inode(namespace)
    try:
        return inode is not None and os.readlink(f"/proc/{pid}/ns/net") == f"net:[{inode}]"
    except OSError:
        return False


def in_ns(instance_id: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", f"pl-{instance_id}", *argv]


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- the daemon ------------------------------------------------------------------------
# --- the world -------------------------------------------------------------------------
@dataclass
class World:
    """What the API calls made: the instances, and the addresses each path dials."""

    target: str = ""
    client: str = ""
    haproxy: str = ""
    consumer: str = ""
    target_ip: str = ""
    haproxy_ip: str = ""
    endpoint_ip: str = ""
    endpoint_name: str = ""
    endpoint_id: str = ""
    target_groups: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)
    vpcs: list[str] = field(default_factory=list)

    @property
    def namespaces(self) -> set[str]:
        return {f"pl-{i}" for i in self.instances + self.vpcs}

    def route(self, path: str) -> tuple[str, str]:
        """(the instance the client runs in, the address it dials) of a path."""
        return {"direct": (self.client, self.target_ip),
                "haproxy": (self.client, self.haproxy_ip),
                "pocketlink": (self.consumer, self.endpoint_ip)}[path]


def _ingress(ec2: Any, group: str, cidr: str) -> None:
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}
        for port in (IPERF_PORT, ECHO_PORT)])


def _instance(ec2: Any, subnet: str, group: str, name: str) -> dict[str, Any]:
    [instance] = ec2.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="c5.large", SubnetId=subnet,
        SecurityGroupIds=[group], TagSpecifications=[{
            "ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"bench-{name}"}]}],
    )["Instances"]
    return instance


def _running(ec2: Any, ids: list[str]) -> bool:
    states = [i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
              for i in r["Instances"]]
    return len(states) == len(ids) and set(states) == {"running"}


def build(daemon: Daemon, world: World) -> None:
    """The provider's VPC, targets, HAProxy instance, NLB and endpoint service; the
    consumer's VPC, instance and interface endpoint; waits until all of it works."""
    ec2, elb = daemon.client("ec2", PROVIDER), daemon.client("elbv2", PROVIDER)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    world.vpcs.append(vpc)
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    servers, clients = (ec2.create_subnet(VpcId=vpc, CidrBlock=cidr,
                                          AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
                        for cidr in ("10.0.1.0/24", "10.0.2.0/24"))
    group = ec2.create_security_group(GroupName="bench", Description="bench servers",
                                      VpcId=vpc)["GroupId"]
    _ingress(ec2, group, "10.0.0.0/16")
    target = _instance(ec2, servers, group, "target")
    proxy = _instance(ec2, servers, group, "haproxy")
    client = _instance(ec2, clients, group, "client")
    world.target, world.haproxy, world.client = (i["InstanceId"] for i in (target, proxy, client))
    world.target_ip, world.haproxy_ip = target["PrivateIpAddress"], proxy["PrivateIpAddress"]

    consumer = daemon.client("ec2", CONSUMER)
    cvpc = consumer.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    world.vpcs.append(cvpc)
    consumer.modify_vpc_attribute(VpcId=cvpc, EnableDnsHostnames={"Value": True})
    zone = ec2.describe_subnets(SubnetIds=[servers])["Subnets"][0]["AvailabilityZoneId"]
    subnet = consumer.create_subnet(VpcId=cvpc, CidrBlock="10.1.1.0/24",
                                    AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
    default = consumer.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [cvpc]}, {"Name": "group-name", "Values": ["default"]},
    ])["SecurityGroups"][0]["GroupId"]
    world.consumer = _instance(consumer, subnet, default, "consumer")["InstanceId"]
    world.instances += [world.target, world.haproxy, world.client, world.consumer]
    # Both VPCs' router namespaces exist once an instance in each runs. Only then the NLB
    # and the endpoint: the hyperplane makes its sockets inside those namespaces, and a
    # listener planned before its namespace exists wedges the daemon's reconciler (its
    # per-namespace socket worker fails to start and stays broken; seen with pocketlink
    # 0.1.0, src/pocketlink/dataplane/sockets.py).
    wait_for(lambda: _running(ec2, [world.target, world.haproxy, world.client]),
             "the provider's instances running", READY_TIMEOUT)
    wait_for(lambda: _running(consumer, [world.consumer]), "the consumer instance running",
             READY_TIMEOUT)

    balancer = elb.create_load_balancer(Name="bench-nlb", Type="network", Scheme="internal",
                                        Subnets=[servers])["LoadBalancers"][0]
    for name, port in (("iperf", IPERF_PORT), ("echo", ECHO_PORT)):
        # iperf3's server takes every connection for a test: the checks go to the echo port.
        arn = elb.create_target_group(
            Name=f"bench-{name}", Protocol="TCP", Port=port, VpcId=vpc, TargetType="instance",
            HealthCheckProtocol="TCP", HealthCheckPort=str(ECHO_PORT),
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": world.target}])
        elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=port,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
        world.target_groups.append(arn)
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]],
        AcceptanceRequired=False)["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{CONSUMER}:root"])
    endpoint_group = consumer.create_security_group(
        GroupName="vpce", Description="the endpoint", VpcId=cvpc)["GroupId"]
    _ingress(consumer, endpoint_group, "10.1.0.0/16")
    endpoint = consumer.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=cvpc, ServiceName=service["ServiceName"],
        SubnetIds=[subnet], SecurityGroupIds=[endpoint_group])["VpcEndpoint"]
    world.endpoint_id = endpoint["VpcEndpointId"]
    world.endpoint_name = endpoint["DnsEntries"][0]["DnsName"]

    wait_for(lambda: consumer.describe_vpc_endpoints(VpcEndpointIds=[world.endpoint_id])[
        "VpcEndpoints"][0]["State"] == "available", "the endpoint available", READY_TIMEOUT)
    eni = consumer.describe_network_interfaces(
        NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"][0]
    world.endpoint_ip = eni["PrivateIpAddress"]
    resolved = subprocess.run(in_ns(world.consumer, "dig", "+short", "+time=2", "+tries=2",
                                    world.endpoint_name),
                              capture_output=True, text=True, timeout=30).stdout.split()
    if resolved != [world.endpoint_ip]:
        raise RuntimeError(f"{world.endpoint_name} resolves to {resolved} in the consumer, "
                           f"not to the endpoint's ENI {world.endpoint_ip}")


def wait_healthy(daemon: Daemon, world: World) -> bool:
    """Whether the NLB came to see the target healthy (it fails open meanwhile: the
    measurements would still work, but the state would change under them)."""
    elb = daemon.client("elbv2", PROVIDER)

    def healthy() -> bool:
        return all(d["TargetHealth"]["State"] == "healthy" for arn in world.target_groups
                   for d in elb.describe_target_health(TargetGroupArn=arn)[
                       "TargetHealthDescriptions"])
    try:
        wait_for(healthy, "the target healthy", timeout=60, every=1.0)
        return True
    except TimeoutError:
        return False


# --- what runs in the namespaces ---------------------------------------------------------
@dataclass
class Services:
    """The target's servers and HAProxy, each stopped by its own pid."""

    world: World
    folder: Path
    splice: bool = False  # HAProxy's `option splice-auto` (off by default, as in HAProxy)
    echo: subprocess.Popen[str] | None = None
    pids: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (pid, namespace)

    def start(self) -> None:
        w = self.world
        # `ip netns exec` execs its command: the Popen pid is the echo server's own.
        self.echo = subprocess.Popen(
            in_ns(w.target, sys.executable, str(LOAD), "serve", "--port", str(ECHO_PORT)),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            text=True)
        assert self.echo.stdout is not None
        if self.echo.stdout.readline().strip() != "ready":
            raise RuntimeError("the echo server did not start in the target")
        iperf_pid = self.folder / "iperf3.pid"
        checked(in_ns(w.target, "iperf3", "-s", "-D", "-p", str(IPERF_PORT), "-I", str(iperf_pid)))
        self._adopt("iperf3", iperf_pid, w.target)
        config = self.folder / "haproxy.cfg"
        config.write_text(HAPROXY_CFG.format(
            splice="\n    option splice-auto" if self.splice else "", address=w.haproxy_ip,
            target=w.target_ip, iperf=IPERF_PORT, echo=ECHO_PORT))
        pidfile = self.folder / "haproxy.pid"
        checked(in_ns(w.haproxy, "haproxy", "-f", str(config), "-D", "-p", str(pidfile)))
        self._adopt("haproxy", pidfile, w.haproxy)

    def _adopt(self, name: str, pidfile: Path, instance: str) -> None:
        pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().split()[:1],
                           f"{name}'s pidfile", timeout=10)[0])
        if not lives_in(pid, f"pl-{instance}"):
            raise RuntimeError(f"{name} (pid {pid}) is not running in pl-{instance}")
        self.pids[name] = (pid, f"pl-{instance}")

    def pid(self, name: str) -> int:
        return self.pids[name][0]

    def echo_pid(self) -> int:
        assert self.echo is not None
        return self.echo.pid

    def stop(self) -> None:
        for name, (pid, namespace) in list(self.pids.items()):
            if lives_in(pid, namespace):
                os.kill(pid, signal.SIGTERM)
            del self.pids[name]
        if self.echo is not None and self.echo.poll() is None:
            self.echo.send_signal(signal.SIGTERM)
            try:
                self.echo.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.echo.kill()
                self.echo.wait(timeout=10)


def checked(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: "
                           f"{(done.stdout + done.stderr).strip()[-1500:]}")


@contextmanager
def cpu_meter(pids: dict[str, int]) -> Iterator[dict[str, float]]:
    """CPU used by each process (in % of one core, every thread) and by the machine (% of
    all cores) over the block; filled in when it ends."""
    used: dict[str, float] = {}
    before = {name: cpu_ticks(pid) for name, pid in pids.items()}
    busy, total = machine_ticks()
    started = time.perf_counter()
    yield used
    elapsed = time.perf_counter() - started
    for name, pid in pids.items():
        used[name] = 100.0 * (cpu_ticks(pid) - before[name]) / TICK / elapsed
    busy2, total2 = machine_ticks()
    used["machine"] = 100.0 * (busy2 - busy) / max(total2 - total, 1)


def run_json(argv: list[str], timeout: float) -> dict[str, Any]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    try:
        return json.loads(done.stdout)  # iperf3 -J: one JSON document; _load.py: one line
    except json.JSONDecodeError as error:
        raise RuntimeError(f"{' '.join(argv[4:7])}... exited {done.returncode}: "
                           f"{(done.stdout + done.stderr).strip()[-1500:]}") from error


def load(instance: str, *argv: str) -> list[str]:
    return in_ns(instance, sys.executable, str(LOAD), *argv)


@dataclass
class Bench:
    args: argparse.Namespace
    world: World
    services: Services
    daemon: Daemon
    results: dict[str, Any] = field(default_factory=dict)

    def proxy_pids(self, path: str) -> dict[str, int]:
        pids = {"server": self.services.echo_pid()}
        if path == "haproxy":
            pids["proxy"] = self.services.pid("haproxy")
        elif path == "pocketlink":
            pids["proxy"] = self.daemon.pid
        return pids

    def iperf(self, path: str, seconds: float) -> dict[str, Any]:
        instance, address = self.world.route(path)
        pids = self.proxy_pids(path) | {"server": self.services.pid("iperf3")}
        with cpu_meter(pids) as cpu:
            report = run_json(in_ns(instance, "iperf3", "-c", address, "-p", str(IPERF_PORT),
                                    "-t", f"{seconds:g}", "-J"), timeout=seconds + 60)
        if "error" in report:
            raise RuntimeError(f"iperf3 over {path}: {report['error']}")
        end = report["end"]
        return {"bits_per_second": end["sum_received"]["bits_per_second"],
                "retransmits": end["sum_sent"].get("retransmits"), "cpu": cpu}

    def cps(self, path: str, seconds: float) -> dict[str, Any]:
        instance, address = self.world.route(path)
        with cpu_meter(self.proxy_pids(path)) as cpu:
            found = run_json(load(instance, "cps", "--host", address, "--port", str(ECHO_PORT),
                                  "--seconds", f"{seconds:g}",
                                  "--concurrency", str(self.args.concurrency)),
                             timeout=seconds + 60)
        found["cpu"] = cpu
        return found

    def latency(self, path: str, mode: str, count: int) -> list[int]:
        instance, address = self.world.route(path)
        found = run_json(load(instance, "latency", "--host", address, "--port", str(ECHO_PORT),
                              "--count", str(count), "--mode", mode),
                         timeout=60 + count * 0.05)
        return found["samples_us"]

    def preflight(self) -> None:
        """Each path answers (security groups and listeners may need a moment), and is
        warmed up: connections on new flows and a short burst of bytes."""
        for path in PATHS:
            def answers(p: str = path) -> bool:
                try:
                    self.latency(p, "new", 20)
                    return True
                except (RuntimeError, subprocess.TimeoutExpired):
                    return False
            wait_for(answers, f"the {LABELS[path]} path answering", timeout=60, every=1.0)
            self.latency(path, "new", 200)
            self.iperf(path, 1)

    def rounds(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        for index in range(self.args.rounds):
            shift = index % len(PATHS)
            yield index, PATHS[shift:] + PATHS[:shift]

    def measure(self) -> None:
        a = self.args
        per_path: dict[str, dict[str, Any]] = {p: {"throughput": [], "cps": [],
                                                   "kept_us": [], "new_us": []} for p in PATHS}
        for index, order in self.rounds():
            for path in order:
                say(f"  round {index + 1}/{a.rounds}: throughput over {LABELS[path]} "
                    f"({a.seconds:g} s)")
                per_path[path]["throughput"].append(self.iperf(path, a.seconds))
        for index, order in self.rounds():
            for path in order:
                say(f"  round {index + 1}/{a.rounds}: connections/s over {LABELS[path]} "
                    f"({a.cps_seconds:g} s, {a.concurrency} workers)")
                per_path[path]["cps"].append(self.cps(path, a.cps_seconds))
        for index, order in self.rounds():
            for path in order:
                say(f"  round {index + 1}/{a.rounds}: latency over {LABELS[path]} "
                    f"({a.requests} kept + {a.requests} new)")
                per_path[path]["kept_us"] += self.latency(path, "kept", a.requests)
                per_path[path]["new_us"] += self.latency(path, "new", a.requests)
        self.results["paths"] = {p: summarize(v) | {"rounds": {
            "throughput": v["throughput"], "cps": v["cps"]}} for p, v in per_path.items()}

    def calibrate(self, instance: str, address: str) -> float:
        """Open fds the daemon holds per held flow, measured on CALIBRATE flows held for a
        moment (a pump may lend pipes only while bytes move: no guessing)."""
        pid = self.daemon.pid
        before = open_fds(pid)
        generator = subprocess.Popen(
            load(instance, "hold", "--host", address, "--port", str(ECHO_PORT),
                 "--count", str(CALIBRATE), "--seconds", "1.5"),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        held, per_flow = 0, 0.0
        try:
            assert generator.stdout is not None
            for line in generator.stdout:
                event = json.loads(line)
                if event.get("event") == "held":
                    time.sleep(0.5)
                    held = event["held"]
                    per_flow = (open_fds(pid) - before) / max(held, 1)
            generator.wait(timeout=60)
        finally:
            if generator.poll() is None:
                generator.kill()  # our own subprocess, by its pid
                generator.wait(timeout=30)
        if held < CALIBRATE:
            raise RuntimeError(f"only {held} of {CALIBRATE} calibration flows held")
        time.sleep(0.5)
        return per_flow

    def hold(self) -> dict[str, Any]:
        """``--hold`` connections through the endpoint, held ``--hold-seconds``."""
        a, pid = self.args, self.daemon.pid
        instance, address = self.world.route("pocketlink")
        per_flow = self.calibrate(instance, address)
        soft, hard = nofile_limits(pid)
        rss_before, fds_before = rss_kib(pid), open_fds(pid)
        found: dict[str, Any] = {
            "requested": a.hold, "hold_seconds": a.hold_seconds, "daemon_nofile": soft,
            "daemon_nofile_hard": hard, "daemon_nofile_inherited": self.results["nofile"][
                "inherited"], "rss_before_kib": rss_before, "fds_before": fds_before,
            "calibrated_fds_per_flow": per_flow}
        needed = fds_before + per_flow * a.hold
        if soft < needed:
            capacity = int((soft - fds_before) / per_flow) if per_flow else 0
            note = (f"the daemon's open-files limit ({soft}) is below the ~{needed:.0f} fds that "
                    f"{a.hold} held flows need ({per_flow:.2f} a flow, measured on {CALIBRATE} "
                    f"held ones, plus the {fds_before} it has open): expect failures from about "
                    f"{capacity} flows on; the fd limit, not the byte pump, is then the bottleneck")
            found["warning"] = note
            say(f"  warning: {note}")
        at_start = self.results["daemon_fds_start"]
        if fds_before > at_start + 256:
            note = (f"with no flow open the daemon holds {fds_before} fds, {fds_before - at_start} "
                    f"more than once the world was built ({at_start}): descriptors kept beyond "
                    "their flows (a pool or a leak) count against its limit")
            found["kept_fds_note"] = note
            say(f"  note: {note}")
        argv = load(instance, "hold", "--host", address, "--port", str(ECHO_PORT),
                    "--count", str(a.hold), "--seconds", f"{a.hold_seconds:g}")
        say(f"  holding {a.hold} connections through the endpoint for {a.hold_seconds:g} s")
        errors = self.services.folder / "hold.stderr"
        with errors.open("w") as stderr:
            generator = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr,
                                         stdin=subprocess.DEVNULL, text=True)
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert generator.stdout is not None
            for line in generator.stdout:
                lines.put(line)
            lines.put(None)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + a.hold_seconds + 180 + a.hold / 100
        peak_rss = peak_fds = 0
        cpu_before = cpu_ticks(pid)
        held_at: float | None = None
        final: dict[str, Any] | None = None
        try:
            while True:
                try:
                    line = lines.get(timeout=0.5)
                except queue.Empty:
                    line = ""
                if line is None:
                    break
                if line.strip():
                    event = json.loads(line)
                    if event.get("event") == "held":
                        held_at = time.perf_counter()
                        cpu_before = cpu_ticks(pid)
                        found.update(rss_held_kib=rss_kib(pid), fds_held=open_fds(pid))
                        say(f"  {event['held']} held after {event['ramp_seconds']:.1f} s "
                            f"(errors: {event['errors'] or 'none'})")
                    elif event.get("event") == "checking":
                        if held_at is not None:
                            found["daemon_cpu_while_held"] = 100.0 * (
                                cpu_ticks(pid) - cpu_before) / TICK / (time.perf_counter() - held_at)
                    elif event.get("event") == "error":
                        raise RuntimeError(f"the hold generator: {event['error']}")
                    elif "event" not in event:
                        final = event
                peak_rss, peak_fds = max(peak_rss, rss_kib(pid)), max(peak_fds, open_fds(pid))
                if time.monotonic() > deadline:
                    raise TimeoutError("the hold did not finish in time")
        finally:
            if generator.poll() is None:
                generator.kill()  # our own subprocess, by its pid
            generator.wait(timeout=30)
        if final is None:
            raise RuntimeError(f"the hold generator gave no result: {errors.read_text()[-1500:]}")
        time.sleep(1.0)
        found.update(final)
        found.update(peak_rss_kib=peak_rss, peak_fds=peak_fds, rss_after_kib=rss_kib(pid),
                     fds_after=open_fds(pid))
        held = max(found["held"], 1)
        found["rss_per_connection_kib"] = (found.get("rss_held_kib", peak_rss) - rss_before) / held
        found["fds_per_flow"] = (found.get("fds_held", peak_fds) - fds_before) / held
        found["inherited_would_suffice"] = (
            found["daemon_nofile_inherited"] >= fds_before + found["fds_per_flow"] * a.hold)
        with self.daemon.log.open(errors="replace") as log:  # may be large: read it a line at a time
            emfile = sum("Too many open files" in line for line in log)
        found["daemon_log_emfile"] = emfile
        failed = bool(found["open_errors"] or found["lost_during_hold"] or found["final_errors"])
        found["fd_limit_bottleneck"] = failed and (
            emfile > 0 or found.get("fds_held", peak_fds) >= soft - 2 * FDS_PER_FLOW_ROOM)
        found["ok"] = (found["held"] == a.hold and not found["open_errors"]
                       and not found["lost_during_hold"] and not found["final_errors"]
                       and found["answered_after_hold"] == a.hold)
        return found

    def profile(self, folder: Path) -> dict[str, Any]:
        """py-spy on the daemon during one more (unmeasured) throughput and connections/s
        run through the endpoint: where the daemon's CPU time goes."""
        spy = shutil.which("py-spy")
        if spy is None:
            say("  (--profile: py-spy is not installed: pip install py-spy)")
            return {}
        folder.mkdir(parents=True, exist_ok=True)
        summaries = {}
        for name, work in (("throughput", lambda: self.iperf("pocketlink", self.args.seconds)),
                           ("cps", lambda: self.cps("pocketlink", self.args.cps_seconds))):
            output = folder / f"{name}.txt"
            spy_process = subprocess.Popen(
                [spy, "record", "--pid", str(self.daemon.pid), "--rate", "250", "--nonblocking",
                 "--format", "raw", "--output", str(output)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            time.sleep(1.0)
            try:
                say(f"  profiling the daemon during {name} through the endpoint -> {output}")
                work()
            finally:
                spy_process.send_signal(signal.SIGINT)  # our py-spy, by its pid: writes, exits
                try:
                    spy_process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    spy_process.kill()
                    spy_process.wait(timeout=10)
            if output.exists():
                summaries[name] = collapsed_summary(output)
                summaries[name]["file"] = str(output)
        return summaries


def summarize(values: dict[str, Any]) -> dict[str, Any]:
    throughput = [r["bits_per_second"] for r in values["throughput"]]
    cps = [r["per_second"] for r in values["cps"]]
    errors: Counter[str] = Counter()
    for r in values["cps"]:
        errors.update(r["errors"])
    return {
        "throughput_bps": statistics.mean(throughput),
        "cps": statistics.mean(cps),
        "cps_errors": dict(errors),
        "kept_p50_us": quantile(values["kept_us"], 0.50),
        "kept_p99_us": quantile(values["kept_us"], 0.99),
        "new_p50_us": quantile(values["new_us"], 0.50),
        "new_p99_us": quantile(values["new_us"], 0.99),
        "latency_samples": {"kept": len(values["kept_us"]), "new": len(values["new_us"])},
        "proxy_cpu_throughput": mean_of(values["throughput"], "proxy"),
        "proxy_cpu_cps": mean_of(values["cps"], "proxy"),
        "server_cpu_cps": mean_of(values["cps"], "server"),
        "client_cpu_cps": statistics.mean(r["client_cpu"] for r in values["cps"]) * 100,
        "machine_cpu_throughput": mean_of(values["throughput"], "machine"),
        "machine_cpu_cps": mean_of(values["cps"], "machine"),
    }


def mean_of(runs: list[dict[str, Any]], name: str) -> float | None:
    found = [r["cpu"][name] for r in runs if name in r["cpu"]]
    return statistics.mean(found) if found else None


_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("/src/pocketlink/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3":
                path = path.split("/", 1)[-1]
            break
    return f"{path}:{match['function']}"


# Frames every sample shares (start-up, the loop's own entry): not where time goes.
_PLUMBING = ("<frozen runpy>", "pocketlink/__main__.py:", "pocketlink/cli/main.py:",
             "uvloop/__init__.py:", "threading.py:")
_LOOP = "asyncio/runners.py:Runner.run"


def collapsed_summary(output: Path, top: int = 12) -> dict[str, Any]:
    """From py-spy's raw (collapsed) stacks: the functions with the most samples on top of
    the stack (self) and anywhere in it (inclusive). Samples whose top is the loop's entry
    are time in uvloop's C code (epoll, callback dispatch, its sock_* helpers), where
    py-spy sees no Python frame."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in output.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame_name(f) for f in stack.split(";") if f.strip()]
        n = int(count)
        total += n
        if frames:
            own["uvloop (C code)" if frames[-1] == _LOOP else frames[-1]] += n
        for name in set(frames):
            if name != _LOOP and not name.startswith(_PLUMBING):
                anywhere[name] += n
    if not total:
        return {"samples": 0, "self": [], "inclusive": []}
    return {"samples": total,
            "self": [(name, n / total) for name, n in own.most_common(top)],
            "inclusive": [(name, n / total) for name, n in anywhere.most_common(top)]}


# --- the report --------------------------------------------------------------------------
def say(line: str) -> None:
    print(line, flush=True)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _x(value: float | None) -> str:
    return "-" if value is None else f"x{value:.2f}"


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


ROWS = [  # key, label, unit scale, format, target on pocketlink/HAProxy
    ("throughput_bps", "throughput (Gbit/s)", 1e-9, "{:.2f}", (">=", 1.0)),
    ("cps", "connections/s", 1.0, "{:.0f}", (">=", 0.5)),
    ("kept_p50_us", "p50 latency, kept conn (us)", 1.0, "{:.0f}", None),
    ("kept_p99_us", "p99 latency, kept conn (us)", 1.0, "{:.0f}", ("<=", 2.0)),
    ("new_p50_us", "p50 latency, new conn (us)", 1.0, "{:.0f}", None),
    ("new_p99_us", "p99 latency, new conn (us)", 1.0, "{:.0f}", ("<=", 2.0)),
]


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    paths = results["paths"]
    found: dict[str, Any] = {}
    for key, _, _, _, target in ROWS:
        if target is None:
            continue
        value = ratio(paths["pocketlink"][key], paths["haproxy"][key])
        sign, limit = target
        met = value is not None and (value >= limit if sign == ">=" else value <= limit)
        found[key] = {"pocketlink_over_haproxy": value, "target": f"{sign} x{limit:g}", "met": met}
    hold = results.get("hold")
    if hold:
        found["hold"] = {"met": hold["ok"], "target": "10000 for 60 s, no error",
                         "full_size": hold["requested"] >= 10000 and hold["hold_seconds"] >= 60}
    return found


def report(results: dict[str, Any]) -> None:
    paths, env = results["paths"], results["environment"]
    say("")
    say(f"data plane: direct vs HAProxy vs pocketlink, {results['settings']['rounds']} "
        f"interleaved round(s) on {env['cpus']} CPUs ({env['kernel']}; {env['haproxy']}, "
        f"{env['haproxy_threads']} thread(s)"
        f"{', splice-auto' if results['settings']['haproxy_splice'] else ''}; {env['iperf3']})")
    say(f"pocketlink: {results['pocketlink']}")
    say(f"latency: {results['settings']['requests']} sequential 64-byte round trips a round, on "
        "one kept connection, and each on a new connection (connect, request, answer, close)")
    say("")
    head = f"{'':30}{'direct':>11}{'HAProxy':>11}{'pocketlink':>12}{'pl/direct':>11}" \
           f"{'pl/HAProxy':>12}   target"
    say(head)
    say("-" * len(head) + "-" * 14)
    checks = verdicts(results)
    for key, label, scale, form, target in ROWS:
        cells = "".join(f"{form.format(paths[p][key] * scale):>{12 if p == 'pocketlink' else 11}}"
                        for p in PATHS)
        mark = ""
        if target is not None:
            met = checks[key]["met"]
            mark = f"   {target[0]} x{target[1]:g}  {'ok' if met else 'MISSED'}"
        say(f"{label:30}{cells}{_x(ratio(paths['pocketlink'][key], paths['direct'][key])):>11}"
            f"{_x(ratio(paths['pocketlink'][key], paths['haproxy'][key])):>12}{mark}")
    say(f"{'proxy CPU, throughput':30}{'-':>11}"
        f"{_cpu(paths['haproxy']['proxy_cpu_throughput']):>11}"
        f"{_cpu(paths['pocketlink']['proxy_cpu_throughput']):>12}   (% of one core)")
    say(f"{'proxy CPU, connections/s':30}{'-':>11}{_cpu(paths['haproxy']['proxy_cpu_cps']):>11}"
        f"{_cpu(paths['pocketlink']['proxy_cpu_cps']):>12}")
    say(f"{'echo server CPU, conn/s':30}"
        + "".join(f"{_cpu(paths[p]['server_cpu_cps']):>{12 if p == 'pocketlink' else 11}}"
                  for p in PATHS))
    say(f"{'client CPU, conn/s':30}"
        + "".join(f"{_cpu(paths[p]['client_cpu_cps']):>{12 if p == 'pocketlink' else 11}}"
                  for p in PATHS))
    say(f"{'machine CPU busy, throughput':30}"
        + "".join(f"{_cpu(paths[p]['machine_cpu_throughput']):>{12 if p == 'pocketlink' else 11}}"
                  for p in PATHS) + "   (% of all CPUs)")
    say("")
    for p in PATHS:
        rounds = paths[p]["rounds"]
        tp = ", ".join(f"{r['bits_per_second'] / 1e9:.2f}" for r in rounds["throughput"])
        cp = ", ".join(f"{r['per_second']:.0f}" for r in rounds["cps"])
        errors = paths[p]["cps_errors"]
        say(f"  {LABELS[p]:11} per round: Gbit/s {tp}; conn/s {cp}; connection errors: "
            f"{sum(errors.values())}{f' {errors}' if errors else ''}")
    nofile = results["nofile"]
    hold = results.get("hold")
    if hold:
        say("")
        say(f"held through the endpoint: {hold['held']}/{hold['requested']} connections opened "
            f"in {hold['ramp_seconds']:.1f} s, held {hold['hold_seconds']:g} s; lost while held: "
            f"{sum(hold['lost_during_hold'].values())}; answered after: "
            f"{hold['answered_after_hold']}; open errors: {hold['open_errors'] or 0}; "
            f"final errors: {hold['final_errors'] or 0}")
        say(f"  daemon VmRSS {hold['rss_before_kib'] / 1024:.1f} -> "
            f"{hold.get('rss_held_kib', 0) / 1024:.1f} MiB held (peak "
            f"{hold['peak_rss_kib'] / 1024:.1f}, {hold['rss_after_kib'] / 1024:.1f} after): "
            f"{hold['rss_per_connection_kib']:.1f} KiB per connection")
        cpu_held = hold.get("daemon_cpu_while_held")
        say(f"  daemon fds {hold['fds_before']} -> {hold.get('fds_held', 0)} held: "
            f"{hold['fds_per_flow']:.2f} per flow; limit {hold['daemon_nofile']} "
            f"(as the daemon started: {hold['daemon_nofile_inherited']}, which "
            f"{'would' if hold['inherited_would_suffice'] else 'would NOT'} suffice for "
            f"{hold['requested']} flows); 'Too many open files' in its log: "
            f"{hold['daemon_log_emfile']}"
            + (f"; daemon CPU while held idle: {cpu_held:.1f}%" if cpu_held is not None else ""))
        for key in ("warning", "kept_fds_note"):
            if hold.get(key):
                say(f"  {'warning' if key == 'warning' else 'note'}: {hold[key]}")
        if hold.get("fd_limit_bottleneck"):
            say(f"  => the daemon ran out of file descriptors (limit {hold['daemon_nofile']}): "
                "its fd limit is the bottleneck of this hold, not its memory or CPU")
    elif nofile:
        say(f"\n(no hold: --hold 0); daemon open-files limit {nofile['in_force']}")
    profile = results.get("profile") or {}
    for name, summary in profile.items():
        say("")
        say(f"where the daemon's CPU went during {name} through the endpoint "
            f"(py-spy, {summary['samples']} samples, {summary['file']}):")
        say("  self:      " + "; ".join(f"{n} {share:.0%}" for n, share in summary["self"][:8]))
        say("  inclusive: " + "; ".join(f"{n} {share:.0%}"
                                        for n, share in summary["inclusive"][:8]))
    say("")
    parts = []
    for key, label in (("throughput_bps", "throughput >= HAProxy"),
                       ("cps", "conn/s >= 1/2 HAProxy"), ("kept_p99_us", "p99 kept <= 2x HAProxy"),
                       ("new_p99_us", "p99 new <= 2x HAProxy")):
        check = checks[key]
        parts.append(f"{label}: {'ok' if check['met'] else 'MISSED'} "
                     f"({_x(check['pocketlink_over_haproxy'])})")
    if hold and "hold" in checks:
        scaled = "" if checks["hold"]["full_size"] else \
            f" (scaled down: {hold['requested']} for {hold['hold_seconds']:g} s)"
        parts.append(f"10,000 held 60 s: {'ok' if checks['hold']['met'] else 'MISSED'}{scaled}")
    say("targets: " + "; ".join(parts))


# --- the run -----------------------------------------------------------------------------
def version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0]


def set_daemon_nofile(daemon: Daemon, choice: str, hold: int) -> dict[str, Any]:
    """The daemon's open-files limit: kept as inherited, or raised with prlimit(2) as
    ``ulimit -n`` before ``pocketlink up`` would. Above the hard limit only a process with
    CAP_SYS_RESOURCE may go; without it, the soft limit goes up to the hard one and no
    further, and the result says so."""
    soft, hard = nofile_limits(daemon.pid)
    found: dict[str, Any] = {"inherited": soft, "inherited_hard": hard, "choice": choice,
                             "capped": None}
    wanted = soft
    if choice == "auto":
        wanted = max(soft, FDS_PER_FLOW_ROOM * hold + 4096)
    elif choice != "inherit":
        wanted = int(choice)
    if wanted != soft:
        try:
            resource.prlimit(daemon.pid, resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
        except PermissionError:
            found["capped"] = (f"cannot raise the daemon's open-files limit above its hard limit "
                               f"{hard} (this machine gives root no CAP_SYS_RESOURCE)")
            if soft < hard:
                resource.prlimit(daemon.pid, resource.RLIMIT_NOFILE, (hard, hard))
    found["in_force"], found["hard_in_force"] = nofile_limits(daemon.pid)
    return found


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    folder.chmod(0o755)
    log = args.daemon_log or folder / "daemon.log"
    daemon = Daemon(state=folder / "state.db", log=log, source=args.daemon_src)
    world = World()
    services = Services(world, folder, splice=args.haproxy_splice)
    results: dict[str, Any] = {"settings": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    down_ok = False
    busy = machine_busy(1.0)
    results["machine_busy_before"] = busy
    say(f"machine busy before the run: {busy:.0f}% of all CPUs, load average "
        f"{os.getloadavg()[0]:.2f}" + ("  <- other work on this machine skews every figure"
                                       if busy > 15 else ""))
    results["pocketlink"] = daemon.describe()
    say(f"pocketlink: {results['pocketlink']}")
    started = time.perf_counter()
    try:
        daemon.start()
        say(f"pocketlink up: pid {daemon.pid}, {daemon.endpoint}, state {daemon.state}")
        results["nofile"] = set_daemon_nofile(daemon, args.daemon_nofile, args.hold)
        nofile = results["nofile"]
        say(f"daemon open-files limit: {nofile['in_force']} (as it started: {nofile['inherited']}"
            f"{'' if nofile['in_force'] == nofile['inherited'] else ', raised by this script'})"
            + (f"; {nofile['capped']}" if nofile["capped"] else ""))
        build(daemon, world)
        services.start()
        healthy = wait_healthy(daemon, world)
        say(f"world built in {time.perf_counter() - started:.1f} s: target {world.target_ip}, "
            f"HAProxy {world.haproxy_ip}, endpoint {world.endpoint_name} -> "
            f"{world.endpoint_ip}; target {'healthy' if healthy else 'NOT yet healthy'}")
        results["daemon_fds_start"] = open_fds(daemon.pid)
        bench = Bench(args, world, services, daemon, results)
        results["environment"] = {
            "cpus": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(), "haproxy": version(["haproxy", "-v"])[:22],
            "haproxy_threads": int(next(
                line.split()[1] for line in Path(
                    f"/proc/{services.pid('haproxy')}/status").read_text().splitlines()
                if line.startswith("Threads:"))),
            "iperf3": version(["iperf3", "--version"]).split(" (")[0]}
        say("warming up each path")
        bench.preflight()
        bench.measure()
        if args.hold:
            results["hold"] = bench.hold()
        if args.profile:
            results["profile"] = bench.profile(args.profile)
        services.stop()
        say("pocketlink down")
        done = daemon.down()
        if done.returncode != 0:
            raise RuntimeError(f"pocketlink down failed ({done.returncode}): "
                               f"{(done.stdout + done.stderr).strip()[-2000:]}")
        if daemon.process is not None:
            daemon.process.wait(timeout=STOP_TIMEOUT)
        daemon.process = None
        down_ok = True
        left = world.namespaces & set(subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True).stdout.split())
        if left:
            say(f"warning: namespaces left after down: {sorted(left)}")
    finally:
        services.stop()
        if not down_ok:
            daemon.tear_down()
    results["seconds"] = time.perf_counter() - started
    results["verdicts"] = verdicts(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 round, 2 s per figure, 200 requests, 500 held 5 s")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="iperf3 seconds per path and round (default 10)")
    parser.add_argument("--cps-seconds", type=float, default=None,
                        help="connections/s seconds per path and round (default 5)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="connections/s workers (default 32)")
    parser.add_argument("--requests", type=int, default=None,
                        help="latency round trips per path, mode and round (default 1000)")
    parser.add_argument("--hold", type=int, default=None,
                        help="connections held through the endpoint (default 10000; 0: none)")
    parser.add_argument("--hold-seconds", type=float, default=None,
                        help="how long they are held (default 60)")
    parser.add_argument("--daemon-nofile", default="auto",
                        help="the daemon's open-files limit: 'auto' (raise it to leave room for "
                             f"{FDS_PER_FLOW_ROOM} fds a held flow), 'inherit' (as started), or a "
                             "number (default auto)")
    parser.add_argument("--daemon-src", type=Path, default=None,
                        help="run the daemon from this pocketlink source folder (the one holding "
                             "pocketlink/) instead of the installed one, e.g. another commit's: "
                             "git archive COMMIT src | tar -x -C DIR, then --daemon-src DIR/src")
    parser.add_argument("--haproxy-splice", action="store_true",
                        help="give HAProxy `option splice-auto` (off by default, as in HAProxy's "
                             "own defaults)")
    parser.add_argument("--json", type=Path, default=None, help="also write every number here")
    parser.add_argument("--daemon-log", type=Path, default=None,
                        help="keep the daemon's log here (default: in the temp dir, deleted)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="after measuring, py-spy the daemon during one more throughput and "
                             "connections/s run through the endpoint; raw stacks into this folder")
    args = parser.parse_args(argv)
    quick = {"rounds": 1, "seconds": 2.0, "cps_seconds": 2.0, "requests": 200, "hold": 500,
             "hold_seconds": 5.0}
    full = {"rounds": 2, "seconds": 10.0, "cps_seconds": 5.0, "requests": 1000, "hold": 10000,
            "hold_seconds": 60.0}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.daemon_nofile not in ("auto", "inherit") and not args.daemon_nofile.isdigit():
        parser.error("--daemon-nofile: auto, inherit or a number")
    if not (1 <= args.rounds <= 10 and 1 <= args.seconds <= 60 and 1 <= args.cps_seconds <= 60
            and 10 <= args.requests <= 100000 and 0 <= args.hold <= 60000
            and 0 <= args.hold_seconds <= 600 and 1 <= args.concurrency <= 1024):
        parser.error("out of range: --rounds 1-10, --seconds/--cps-seconds 1-60, --requests "
                     "10-100000, --hold 0-60000, --hold-seconds 0-600, --concurrency 1-1024")
    if args.daemon_src is not None:
        args.daemon_src = args.daemon_src.resolve()
        if not (args.daemon_src / "pocketlink" / "__init__.py").exists():
            parser.error(f"--daemon-src: no pocketlink/__init__.py in {args.daemon_src}")
    if os.geteuid() != 0:
        print("bench/dataplane.py builds network namespaces: run it as root.", file=sys.stderr)
        return 2
    for tool in ("ip", "nft", "dig", "iperf3", "haproxy"):
        if shutil.which(tool) is None:
            print(f"bench/dataplane.py needs '{tool}' (scripts/setup installs it)",
                  file=sys.stderr)
            return 2
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

    with tempfile.TemporaryDirectory(prefix="pocketlink-dataplane-") as temp:
        results = run(args, Path(temp))
    report(results)
    say(f"(whole run: {results['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
