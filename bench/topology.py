"""A real topology, end to end: 20 VPCs x 5 instances, from API calls to every instance
running and reachable, what it costs in memory, and how long ``pocketlink down`` takes.

Why: pocketlink's promise is a network that really exists, not just API records. The number
a developer feels is how long a realistic topology takes from the first CreateVpc until every
instance answers on its own network, what each instance costs the machine, and how fast it
all goes away again. The API alone is measured by api_vs_moto.py; this measures the
reconciler, the kernel work (namespaces, veths, bridges, routes, nftables) and the VPC
resolvers behind it.

What counts as reachable is checked from inside each instance, as a program there would see
it: ``ip netns exec pl-<id> dig +short +time=1 +tries=1 <its PrivateDnsName>`` must answer
with its own private IP. That query leaves through eth0 (the veth), crosses the subnet's
bridge and the default route to the VPC router, and is answered by the VPC's resolver
(base + 2) from what the API holds: namespace, veth, bridge, route and resolver, all proven.

Run as root (it builds namespaces): ``sudo python3 bench/topology.py [--vpcs 20]
[--instances 5] [--timeout 300] [--json FILE] [--daemon-log FILE] [--profile FILE]``.
The daemon is started on free loopback ports with a fresh state file in a temp dir, and
always stopped by its own pid; its namespaces are always removed (``pocketlink down`` with
its own --port and --state, which removes that daemon's namespaces and unowned ones).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import STOP_TIMEOUT, Daemon, preflight, rss_kib

ACCOUNT = "123456789012"  # a 12-digit access key id is the account id for pocketlink
AMI = "ami-0123456789abcdef0"  # pocketlink checks only the id's shape
PROBE_WORKERS = 8  # concurrent dig probes: modest, the daemon shares the machine's cores
PROBE_TIMEOUT = 10.0
PROBE_RETRY = 0.5  # seconds before a failed probe of an instance is tried again
POLL = 0.25  # seconds between DescribeInstances polls



def mem_available_kib() -> int:
    """The machine's MemAvailable, in KiB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def namespaces() -> set[str]:
    """Every network namespace on the machine, as ``ip netns list`` names them."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                            timeout=30, check=True).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


@dataclass
class Topology:
    """What the API calls made, for the checks and the clean-up."""

    vpc_ids: list[str] = field(default_factory=list)
    instance_ids: list[str] = field(default_factory=list)
    calls: int = 0

    @property
    def namespaces(self) -> set[str]:
        return {f"pl-{i}" for i in self.vpc_ids + self.instance_ids}


def build(ec2: Any, vpcs: int, per_vpc: int, made: Topology) -> None:
    """Per VPC: CreateVpc 10.<n>.0.0/16, enableDnsHostnames on, one subnet 10.<n>.1.0/24,
    and one RunInstances of ``per_vpc`` instances in it (default security group)."""
    for n in range(vpcs):
        vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
        made.vpc_ids.append(vpc)
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.1.0/24")["Subnet"]["SubnetId"]
        instances = ec2.run_instances(ImageId=AMI, MinCount=per_vpc, MaxCount=per_vpc,
                                      InstanceType="t3.micro", SubnetId=subnet)["Instances"]
        made.instance_ids += [i["InstanceId"] for i in instances]
        made.calls += 4


def describe(ec2: Any, instance_ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"InstanceIds": instance_ids}
    while True:
        page = ec2.describe_instances(**params)
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                found[instance["InstanceId"]] = instance
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]


def probe(instance_id: str, name: str, address: str) -> tuple[bool, float, str]:
    """From inside the instance: does its resolver give its own name its own address?
    Gives whether it did, when the answer came (perf_counter) and what dig said."""
    try:
        done = subprocess.run(["ip", "netns", "exec", f"pl-{instance_id}", "dig", "+short",
                               "+time=1", "+tries=1", name], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False, time.perf_counter(), "timed out"
    answer = done.stdout.split()
    said = (done.stdout + done.stderr).strip().replace("\n", " ")[:200]
    return done.returncode == 0 and answer == [address], time.perf_counter(), said


@dataclass
class Watch:
    """When each instance was first seen running, and first answered its own name."""

    running: dict[str, float] = field(default_factory=dict)  # seconds since the first call
    reachable: dict[str, float] = field(default_factory=dict)
    probes: int = 0
    failed_probes: int = 0
    describes: int = 0
    last_failure: dict[str, str] = field(default_factory=dict)


def watch(ec2: Any, instance_ids: list[str], started: float, timeout: float) -> Watch:
    """Polls DescribeInstances until every instance is running, and probes each running one
    from inside (PROBE_WORKERS at a time, a failed one again after PROBE_RETRY) until every
    one answers; TimeoutError after ``timeout`` seconds."""
    seen = Watch()
    deadline = time.perf_counter() + timeout
    targets: dict[str, tuple[str, str]] = {}  # instance -> (PrivateDnsName, PrivateIpAddress)
    in_flight: dict[Future[tuple[bool, float, str]], str] = {}
    retry_at: dict[str, float] = {}
    with ThreadPoolExecutor(PROBE_WORKERS, thread_name_prefix="probe") as pool:
        try:
            while len(seen.reachable) < len(instance_ids):
                now = time.perf_counter()
                if len(seen.running) < len(instance_ids):
                    states = describe(ec2, instance_ids)
                    answered = time.perf_counter()  # when a client could know it
                    seen.describes += 1
                    for instance_id, item in states.items():
                        state = item["State"]["Name"]
                        if state == "running" and instance_id not in seen.running:
                            seen.running[instance_id] = answered - started
                            targets[instance_id] = (item["PrivateDnsName"],
                                                    item["PrivateIpAddress"])
                        elif state not in ("pending", "running"):
                            raise RuntimeError(f"{instance_id} went {state}")
                for future in [f for f in in_flight if f.done()]:
                    instance_id = in_flight.pop(future)
                    ok, when, said = future.result()
                    seen.probes += 1
                    if ok:
                        seen.reachable[instance_id] = when - started
                    else:
                        seen.failed_probes += 1
                        seen.last_failure[instance_id] = said
                        retry_at[instance_id] = when + PROBE_RETRY
                busy = set(in_flight.values())
                for instance_id, (name, address) in targets.items():
                    if (instance_id in seen.reachable or instance_id in busy
                            or retry_at.get(instance_id, 0.0) > now):
                        continue
                    in_flight[pool.submit(probe, instance_id, name, address)] = instance_id
                if len(seen.reachable) == len(instance_ids):
                    break
                if now > deadline:
                    raise TimeoutError(
                        f"after {timeout:.0f} s: {len(seen.running)}/{len(instance_ids)} running, "
                        f"{len(seen.reachable)}/{len(instance_ids)} reachable; last probe "
                        f"failures: {dict(list(seen.last_failure.items())[:5])}")
                time.sleep(POLL if len(seen.running) < len(instance_ids) else 0.05)
        finally:
            for future in in_flight:
                future.cancel()
    return seen


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"first": ordered[0], "median": statistics.median(ordered), "last": ordered[-1]}


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the daemon without pausing it, or None without py-spy: every thread,
    idle ones too (``--idle --threads``), so waits on ``nft`` and netlink show as time."""
    spy = shutil.which("py-spy")
    if spy is None:
        print("(--profile: py-spy is not installed; no profile)", file=sys.stderr)
        return None
    process = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "100",
                                "--nonblocking", "--idle", "--threads", "--format", "raw",
                                "--output", str(output)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach before the work starts
    return process


def stop_profiler(process: subprocess.Popen[bytes] | None) -> None:
    """SIGINT to our own py-spy by its pid: it writes its file and exits."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def report(results: dict[str, Any]) -> None:
    n, vpcs = results["instances"], results["vpcs"]
    running, reachable = results["running_spread_s"], results["reachable_spread_s"]
    memory = results["memory"]
    print(f"\ntopology: {vpcs} VPCs x {results['instances_per_vpc']} instances = {n} instances "
          f"({results['namespaces']} namespaces)\n")
    print(f"API calls          {results['api_seconds']:8.2f} s   ({results['api_calls']} calls, "
          f"{results['api_calls'] / results['api_seconds']:.0f}/s)")
    print(f"all running        {results['all_running_seconds']:8.2f} s   (first "
          f"{running['first']:.2f} s, median {running['median']:.2f} s; "
          f"{results['describes']} DescribeInstances polls)")
    print(f"all reachable      {results['all_reachable_seconds']:8.2f} s   (first "
          f"{reachable['first']:.2f} s, median {reachable['median']:.2f} s; "
          f"{results['probes']} dig probes, {results['failed_probes']} failed)")
    print("                   (times from the first API call)")
    print(f"daemon RSS         {memory['rss_before_kib'] / 1024:8.1f} -> "
          f"{memory['rss_after_kib'] / 1024:.1f} MiB: "
          f"{memory['rss_per_instance_kib']:.0f} KiB per instance")
    print(f"MemAvailable drop  {memory['available_drop_kib'] / 1024:8.1f} MiB: "
          f"{memory['available_drop_per_instance_kib']:.0f} KiB per instance "
          "(machine-wide: includes the kernel's namespaces, links and nftables)")
    down = results["down"]
    print(f"pocketlink down    {down['seconds']:8.2f} s   (removed {down['removed']} namespaces; "
          f"daemon exited {down['daemon_exit_seconds']:.2f} s after down started)")
    print(f"\nfrom the first API call to {n} instances reachable: "
          f"{results['all_reachable_seconds']:.1f} s; down: {down['seconds']:.1f} s")


def removed_by(output: str) -> list[str]:
    """The namespaces ``pocketlink down`` says it removed."""
    for line in output.splitlines():
        if line.startswith("*** removed") and ":" in line:
            return [name.strip() for name in line.split(":", 1)[1].split(",") if name.strip()]
    return []


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    log = args.daemon_log or folder / "daemon.log"
    daemon = Daemon(state=folder / "state.db", log=log)
    made = Topology()
    profiler: subprocess.Popen[bytes] | None = None
    down_ok = False
    try:
        daemon.start()
        print(f"pocketlink up: pid {daemon.pid}, {daemon.endpoint}, state {daemon.state}, "
              f"log {log}", flush=True)
        if args.profile:
            profiler = start_profiler(daemon.pid, args.profile)
        ec2 = daemon.client("ec2", ACCOUNT)
        ec2.describe_vpcs()  # one call first, so the client's own start-up is not measured
        rss_before, available_before = rss_kib(daemon.pid), mem_available_kib()

        started = time.perf_counter()
        build(ec2, args.vpcs, args.instances, made)
        api_seconds = time.perf_counter() - started
        print(f"API calls done in {api_seconds:.2f} s; waiting for running and reachable",
              flush=True)
        seen = watch(ec2, made.instance_ids, started, args.timeout)
        rss_after, available_after = rss_kib(daemon.pid), mem_available_kib()
        stop_profiler(profiler)
        profiler = None
        missing = made.namespaces - namespaces()
        if missing:
            raise RuntimeError(f"reachable, yet namespaces are missing: {sorted(missing)[:5]}")

        print("all reachable; pocketlink down", flush=True)
        down_started = time.perf_counter()
        done = daemon.down()
        down_seconds = time.perf_counter() - down_started
        if done.returncode != 0:
            raise RuntimeError(f"pocketlink down failed ({done.returncode}): "
                               f"{(done.stdout + done.stderr).strip()[-2000:]}")
        if daemon.process is not None:
            daemon.process.wait(timeout=STOP_TIMEOUT)  # down asked it to stop: it did
        exit_seconds = time.perf_counter() - down_started
        daemon.process = None
        down_ok = True
        left = made.namespaces & namespaces()
        if left:
            raise AssertionError(f"pocketlink down left namespaces of this daemon: {sorted(left)}")
        left_config = [n for n in made.namespaces if (Path("/etc/netns") / n).exists()]
        if left_config:
            raise AssertionError(f"pocketlink down left /etc/netns folders: {left_config[:5]}")
        if daemon.state.exists():
            raise AssertionError("pocketlink down --purge left the state file")
        removed = removed_by(done.stdout)
        foreign = sorted(set(removed) - made.namespaces)
        if foreign:
            print(f"note: pocketlink down also removed {len(foreign)} namespaces no daemon "
                  f"claimed: {', '.join(foreign)}", file=sys.stderr)
    finally:
        stop_profiler(profiler)
        if not down_ok:
            daemon.tear_down()
            left = made.namespaces & namespaces()
            if left:
                print(f"clean-up: namespaces left: {sorted(left)}", file=sys.stderr)

    n = len(made.instance_ids)
    return {
        "vpcs": args.vpcs, "instances_per_vpc": args.instances, "instances": n,
        "namespaces": len(made.namespaces),
        "api_calls": made.calls, "api_seconds": api_seconds,
        "all_running_seconds": max(seen.running.values()),
        "all_reachable_seconds": max(seen.reachable.values()),
        "running_spread_s": spread(list(seen.running.values())),
        "reachable_spread_s": spread(list(seen.reachable.values())),
        "describes": seen.describes, "probes": seen.probes, "failed_probes": seen.failed_probes,
        "memory": {
            "rss_before_kib": rss_before, "rss_after_kib": rss_after,
            "rss_per_instance_kib": (rss_after - rss_before) / n,
            "available_before_kib": available_before, "available_after_kib": available_after,
            "available_drop_kib": available_before - available_after,
            "available_drop_per_instance_kib": (available_before - available_after) / n,
        },
        "down": {"seconds": down_seconds, "daemon_exit_seconds": exit_seconds,
                 "removed": len(removed), "removed_not_ours": foreign},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vpcs", type=int, default=20, help="VPCs (default 20)")
    parser.add_argument("--instances", type=int, default=5,
                        help="instances per VPC (default 5)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for all running and reachable (default 300)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--daemon-log", type=Path, default=None,
                        help="keep the daemon's log here (default: in the temp dir, deleted)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record the daemon with py-spy (raw collapsed stacks) into this file")
    args = parser.parse_args(argv)
    if not 1 <= args.vpcs <= 250 or not 1 <= args.instances <= 250:
        parser.error("--vpcs and --instances must be between 1 and 250")
    if not preflight("topology.py", ("ip", "dig", "nft", "nsenter")):
        return 2

    with tempfile.TemporaryDirectory(prefix="pocketlink-topology-") as temp:
        results = run(args, Path(temp))
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
