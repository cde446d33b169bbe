"""What the data-plane benchmarks share: the world they measure, built through pocketlink's
own API, the servers in it, and readers of /proc.

Three benchmarks measure one namespace path three ways, side by side in one run: direct,
through HAProxy, and through a pocketlink interface endpoint (the only fair yardstick is
the same path on the same machine at the same time). Each measures one thing:
dataplane_throughput.py (bulk bytes), dataplane_connections.py (new connections per
second, and the latency of a small request on kept and new connections) and
dataplane_held.py (10,000 connections held 60 s). bench/README.md says how to read them.

The world, built through pocketlink's own API (boto3 against a daemon the script starts):

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
   resolve to it) -> the daemon's data-plane workers -> NLB node address -> target.

Traffic stays inside the namespaces the run made; the API and the daemon's DNS are on
127.0.0.1. Every process a run starts is stopped by its pid, and the world goes with
``pocketlink down --port P --state FILE --purge`` (never --all).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import REGION, STOP_TIMEOUT, Daemon, preflight

from pocketlink.harness import data_plane_workers
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
             "the provider's instances running", READY_TIMEOUT, every=0.25)
    wait_for(lambda: _running(consumer, [world.consumer]), "the consumer instance running",
             READY_TIMEOUT, every=0.25)

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
        "VpcEndpoints"][0]["State"] == "available", "the endpoint available", READY_TIMEOUT,
        every=0.25)
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
                             f"{name}'s pidfile", timeout=10, every=0.05)[0])
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
def cpu_meter(pids: dict[str, list[int]]) -> Iterator[dict[str, float]]:
    """CPU used by each named set of processes (in % of one core, every thread: pocketlink's
    proxy is the daemon and its workers) and by the machine (% of all cores) over the
    block; filled in when it ends."""
    used: dict[str, float] = {}
    before = {name: sum(cpu_ticks(pid) for pid in group) for name, group in pids.items()}
    busy, total = machine_ticks()
    started = time.perf_counter()
    yield used
    elapsed = time.perf_counter() - started
    for name, group in pids.items():
        used[name] = 100.0 * (sum(cpu_ticks(pid) for pid in group) - before[name]) / TICK \
            / elapsed
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




# --- a run -------------------------------------------------------------------------------
def say(line: str) -> None:
    print(line, flush=True)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def times(value: float | None) -> str:
    return "-" if value is None else f"x{value:.2f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0]


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every data-plane benchmark takes; each adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smoke run: short and small")
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
    return parser


def checked_arguments(parser: argparse.ArgumentParser, argv: list[str] | None,
                      quick: dict[str, Any], full: dict[str, Any]) -> argparse.Namespace:
    args = parser.parse_args(argv)
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.daemon_src is not None:
        args.daemon_src = args.daemon_src.resolve()
        if not (args.daemon_src / "pocketlink" / "__init__.py").exists():
            parser.error(f"--daemon-src: no pocketlink/__init__.py in {args.daemon_src}")
    return args


@dataclass
class Rig:
    """A built world with its servers running, for one benchmark."""

    args: argparse.Namespace
    daemon: Daemon
    world: World
    services: Services
    results: dict[str, Any]

    def proxy_pids(self, path: str) -> dict[str, list[int]]:
        pids = {"server": [self.services.echo_pid()]}
        if path == "haproxy":
            pids["proxy"] = [self.services.pid("haproxy")]
        elif path == "pocketlink":
            pids["proxy"] = [self.daemon.pid, *data_plane_workers(self.daemon.pid)]
        return pids

    def rounds(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """Round i runs every path; the order rotates every round."""
        for index in range(self.args.rounds):
            shift = index % len(PATHS)
            yield index, PATHS[shift:] + PATHS[:shift]

    def latency(self, path: str, mode: str, count: int) -> list[int]:
        instance, address = self.world.route(path)
        found = run_json(load(instance, "latency", "--host", address, "--port", str(ECHO_PORT),
                              "--count", str(count), "--mode", mode),
                         timeout=60 + count * 0.05)
        return found["samples_us"]

    def warm_up(self, paths: tuple[str, ...] = PATHS) -> None:
        """Each path answers (security groups and listeners may need a moment), warmed up
        with a few hundred connections."""
        for path in paths:
            def answers(p: str = path) -> bool:
                try:
                    self.latency(p, "new", 20)
                    return True
                except (RuntimeError, subprocess.TimeoutExpired):
                    return False
            wait_for(answers, f"the {LABELS[path]} path answering", timeout=60, every=1.0)
            self.latency(path, "new", 200)


def environment(services: Services) -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(), "haproxy": version(["haproxy", "-v"])[:22],
            "haproxy_threads": int(next(
                line.split()[1] for line in Path(
                    f"/proc/{services.pid('haproxy')}/status").read_text().splitlines()
                if line.startswith("Threads:"))),
            "iperf3": version(["iperf3", "--version"]).split(" (")[0]}


def main(name: str, args: argparse.Namespace, measure: Callable[[Rig], None],
         report: Callable[[dict[str, Any]], None]) -> int:
    """Checks the machine, builds the world, runs ``measure``, tears it all down, then
    ``report``s (and writes --json)."""
    if not preflight(name, ("ip", "nft", "dig", "iperf3", "haproxy")):
        return 2
    with tempfile.TemporaryDirectory(prefix="pocketlink-dataplane-") as temp:
        results = _run(args, Path(temp), measure)
    report(results)
    say(f"(whole run: {results['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _run(args: argparse.Namespace, folder: Path, measure: Callable[[Rig], None]
         ) -> dict[str, Any]:
    folder.chmod(0o755)
    daemon = Daemon(state=folder / "state.db", log=args.daemon_log or folder / "daemon.log",
                    source=args.daemon_src)
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
        build(daemon, world)
        services.start()
        healthy = wait_healthy(daemon, world)
        workers = data_plane_workers(daemon.pid)
        say(f"world built in {time.perf_counter() - started:.1f} s: target {world.target_ip}, "
            f"HAProxy {world.haproxy_ip}, endpoint {world.endpoint_name} -> "
            f"{world.endpoint_ip}; target {'healthy' if healthy else 'NOT yet healthy'}; "
            f"{len(workers)} data-plane workers")
        results["environment"] = environment(services) | {"workers": len(workers)}
        measure(Rig(args, daemon, world, services, results))
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
    return results


def header(results: dict[str, Any], what: str) -> None:
    env = results["environment"]
    say("")
    say(f"{what}: direct vs HAProxy vs pocketlink, {results['settings']['rounds']} "
        f"interleaved round(s) on {env['cpus']} CPUs ({env['kernel']}; {env['haproxy']}, "
        f"{env['haproxy_threads']} thread(s)"
        f"{', splice-auto' if results['settings']['haproxy_splice'] else ''}; {env['iperf3']}; "
        f"pocketlink: {env['workers']} data-plane workers)")
    say(f"pocketlink: {results['pocketlink']}")


Row = tuple[str, str, float, str, tuple[str, float] | None]  # key, label, scale, format, target


def verdicts(paths: dict[str, Any], rows: list[Row]) -> dict[str, Any]:
    """Each target, on the pocketlink/HAProxy ratio."""
    found: dict[str, Any] = {}
    for key, _, _, _, target in rows:
        if target is None:
            continue
        value = ratio(paths["pocketlink"][key], paths["haproxy"][key])
        sign, limit = target
        met = value is not None and (value >= limit if sign == ">=" else value <= limit)
        found[key] = {"pocketlink_over_haproxy": value, "target": f"{sign} x{limit:g}", "met": met}
    return found


def table(paths: dict[str, Any], rows: list[Row], checks: dict[str, Any]) -> None:
    head = f"{'':30}{'direct':>11}{'HAProxy':>11}{'pocketlink':>12}{'pl/direct':>11}" \
           f"{'pl/HAProxy':>12}   target"
    say(head)
    say("-" * len(head) + "-" * 14)
    for key, label, scale, form, target in rows:
        cells = "".join(f"{form.format(paths[p][key] * scale):>{12 if p == 'pocketlink' else 11}}"
                        for p in PATHS)
        mark = ""
        if target is not None:
            mark = f"   {target[0]} x{target[1]:g}  {'ok' if checks[key]['met'] else 'MISSED'}"
        say(f"{label:30}{cells}{times(ratio(paths['pocketlink'][key], paths['direct'][key])):>11}"
            f"{times(ratio(paths['pocketlink'][key], paths['haproxy'][key])):>12}{mark}")


def cpu_rows(paths: dict[str, Any], key: str, label: str) -> None:
    """The proxy's CPU (% of one core) and the machine's (% of all CPUs) during a figure."""
    say(f"{'proxy CPU, ' + label:30}{'-':>11}{percent(paths['haproxy'][f'proxy_cpu_{key}']):>11}"
        f"{percent(paths['pocketlink'][f'proxy_cpu_{key}']):>12}   (% of one core)")
    say(f"{'machine CPU busy, ' + label:30}"
        + "".join(f"{percent(paths[p][f'machine_cpu_{key}']):>{12 if p == 'pocketlink' else 11}}"
                  for p in PATHS) + "   (% of all CPUs)")


def mean_cpu(runs: list[dict[str, Any]], name: str) -> float | None:
    found = [r["cpu"][name] for r in runs if name in r["cpu"]]
    return sum(found) / len(found) if found else None


def targets_line(checks: dict[str, Any], labels: dict[str, str]) -> None:
    say("targets: " + "; ".join(
        f"{label}: {'ok' if checks[key]['met'] else 'MISSED'} "
        f"({times(checks[key].get('pocketlink_over_haproxy'))})"
        for key, label in labels.items() if key in checks))
