"""A hostile tenant next to a quiet one: the world, the attack, and what the victim sees.

Shared by tests/security/test_hostile_tenant.py (which asserts that the victim loses
nothing) and bench/hostile_tenant.py (which compares the victim's latencies quiet and under
attack). The world is built through the API with the helpers the other network tests use
(tests/reconcile/web.py, tests/network/conftest.py), in us-west-2:

- the provider (111111111111): a web server behind an NLB, an endpoint service open to all;
- the *victim*, an account of its own: a VPC, an instance, an interface endpoint to the
  service. Its instance asks for the page through the endpoint by its DNS name, one new
  connection per request, and its API client keeps calling (reads and a write);
- the *attacker*, another account: a VPC with an instance of its own. For a bounded time it
  at once (each part stops by itself):

  - floods DNS: thousands of TCP connections held idle and a UDP query flood, at its own
    VPC's resolver (from inside its instance) and at the public DNS on 127.0.0.1;
  - abuses the API on 127.0.0.1: bodies over the size limit, endless headers, and
    requests as fast as a few connections carry them, far past its rate limit;
  - fills its VPC: instances in a /28 and network interfaces in a /24 until the
    addresses run out, and security groups up to a bound.

Traffic goes only to 127.0.0.1 and to addresses inside the namespaces the daemon made.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from pocketlink.polling import PATIENCE
from tests.network.conftest import WEB_PORT, launch
from tests.reconcile.web import consumer_vpc, endpoint, service_of_a_web_server

REGION = "us-west-2"
VICTIM = "310000000001"
ATTACKER = "320000000002"
HOST = "127.0.0.1"
PARTS = ("dns", "api", "fill")
ROOT = Path(__file__).resolve().parents[2]  # tests.security.hostile runs as a module from here

# Runs inside the victim's instance: one GET through the endpoint after another, each
# resolving the endpoint's name at the VPC's resolver and on a new connection (as curl
# does), for a while; prints each success's latency and the part of it the name lookup
# took, and the failures.
PROBE = """
import json, socket, sys, time
name, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
request = b"GET / HTTP/1.0\\r\\nHost: victim\\r\\n\\r\\n"
latencies, lookups, failures = [], [], []
end = time.monotonic() + seconds
while time.monotonic() < end:
    begun = time.perf_counter()
    try:
        address = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4]
        looked_up = time.perf_counter()
        with socket.create_connection(address, timeout=10) as s:
            s.sendall(request)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        if not answer.startswith(b"HTTP/1.0 200") or b"Hello World" not in answer:
            raise ConnectionError(answer[:80].decode(errors="replace") or "empty answer")
        latencies.append(time.perf_counter() - begun)
        lookups.append(looked_up - begun)
    except (OSError, ConnectionError) as error:
        failures.append(f"{type(error).__name__}: {error}")
    time.sleep(0.01)
print(json.dumps({"latencies": latencies, "lookups": lookups, "failures": failures}))
"""


# Floods one DNS server: opens up to ``count`` TCP connections and holds them idle (for at
# most half the time), then sends some 5,000 UDP queries a second until ``seconds`` are up;
# prints how many connections it opened, how many of them the server had closed by then,
# and how many queries it sent.
DNS_FLOOD = """
import json, os, resource, socket, sys, time
host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
if host == "resolver":
    host = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]
query = bytes.fromhex("abcd01000001000000000000") + b"\\x05flood\\x07invalid\\x00\\x00\\x01\\x00\\x01"
begun = time.monotonic()
end = begun + seconds
held, refused = [], 0
for _ in range(count):
    if time.monotonic() > begun + seconds / 2:
        break
    try:
        held.append(socket.create_connection((host, port), timeout=2))
    except OSError:
        refused += 1
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setblocking(False)
sent = 0
while time.monotonic() < end:
    for _ in range(100):
        try:
            udp.sendto(query, (host, port))
            sent += 1
        except BlockingIOError:
            break
    time.sleep(0.02)  # a flood of some 5,000 queries a second, not a spin of this core
    try:
        while udp.recv(4096):
            pass
    except BlockingIOError:
        pass
closed = 0
for s in held:
    s.setblocking(False)
    try:
        closed += s.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
    s.close()
print(json.dumps({"opened": len(held), "refused": refused, "closed_by_server": closed,
                  "udp_sent": sent}))
"""


def exec_in(instance_id: str, *command: str) -> subprocess.Popen[str]:
    """``pocketlink exec INSTANCE -- COMMAND``, not waited for."""
    return subprocess.Popen([sys.executable, "-m", "pocketlink", "exec", instance_id, "--",
                             *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def last_json(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0 or not out.strip():
        raise RuntimeError(f"exit {process.returncode}: {err[-2000:]}")
    return json.loads(out.splitlines()[-1])


# --- the world ------------------------------------------------------------------------------
@dataclass
class World:
    victim_instance: str
    victim_vpc: str
    endpoint_name: str
    attacker_instance: str
    attacker_vpc: str
    attacker_subnet: str


def build(daemon) -> World:
    """The provider's service, the victim's endpoint carrying a first request, and the
    attacker's VPC with a running instance."""
    service, zone = service_of_a_web_server(daemon)
    victim = daemon.client("ec2", VICTIM, REGION)
    vpc, subnet = consumer_vpc(victim, "10.1.0.0/16", zone)
    [instance] = launch(victim, subnet)
    endpoint_id = victim.create_vpc_endpoint(
        VpcId=vpc, ServiceName=service, VpcEndpointType="Interface",
        SubnetIds=[subnet])["VpcEndpoint"]["VpcEndpointId"]
    attacker = daemon.client("ec2", ATTACKER, REGION)
    attacker_vpc, attacker_subnet = consumer_vpc(attacker, "10.2.0.0/16", zone)
    [bad] = launch(attacker, attacker_subnet)
    deadline = time.monotonic() + PATIENCE
    while endpoint(victim, endpoint_id)["State"] != "available":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{endpoint_id} did not turn available")
        time.sleep(0.1)
    world = World(instance["InstanceId"], vpc,
                  endpoint(victim, endpoint_id)["DnsEntries"][0]["DnsName"],
                  bad["InstanceId"], attacker_vpc, attacker_subnet)
    deadline = time.monotonic() + PATIENCE
    while victim_traffic(world, 0.2)["failures"] or not victim_traffic(world, 0.2)["latencies"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the endpoint does not carry the victim's requests")
    return world


def victim_traffic(world: World, seconds: float) -> dict[str, Any]:
    """Runs the victim's prober for ``seconds`` and gives what it saw."""
    return last_json(start_victim_traffic(world, seconds), seconds + 60)


def start_victim_traffic(world: World, seconds: float) -> subprocess.Popen[str]:
    return exec_in(world.victim_instance, "python3", "-c", PROBE, world.endpoint_name,
                   str(WEB_PORT), str(seconds))


# --- the victim's API calls -----------------------------------------------------------------
@dataclass
class ApiCalls:
    """The victim's API client, calling one read or write after another for a while."""

    daemon: Any
    world: World
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def run(self, seconds: float) -> None:
        ec2 = self.daemon.client("ec2", VICTIM, REGION)
        calls = [
            lambda n: ec2.describe_vpcs(VpcIds=[self.world.victim_vpc]),
            lambda n: ec2.describe_instances(InstanceIds=[self.world.victim_instance]),
            lambda n: ec2.describe_vpc_endpoints(),
            lambda n: ec2.create_tags(Resources=[self.world.victim_vpc],
                                      Tags=[{"Key": "probe", "Value": str(n)}]),
        ]
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            begun = time.perf_counter()
            try:
                calls[n % len(calls)](n)
                self.latencies.append(time.perf_counter() - begun)
            except (ClientError, BotoCoreError) as error:
                self.failures.append(f"{type(error).__name__}: {error}")
            n += 1
            time.sleep(0.02)


# --- the attack -------------------------------------------------------------------------------
@dataclass
class Attack:
    """Everything the attacker does at once, for ``seconds``; ``results`` says what it got."""

    daemon: Any
    world: World
    seconds: float
    tcp_connections: int = 3000
    parts: tuple[str, ...] = PARTS
    results: dict[str, Any] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)
    _floods: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def start(self) -> None:
        """The floods and the API abuse run in processes of their own (so that they take
        no interpreter time from the victim's client in this one); the filling here."""
        seconds = str(self.seconds)
        if "dns" in self.parts:
            self._floods["vpc_resolver"] = exec_in(
                self.world.attacker_instance, "python3", "-c", DNS_FLOOD, "resolver", "53",
                str(self.tcp_connections), seconds)
            self._floods["public_dns"] = subprocess.Popen(
                [sys.executable, "-c", DNS_FLOOD, HOST, str(self.daemon.dns_port),
                 str(self.tcp_connections), seconds],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if "api" in self.parts:
            self._floods["api"] = subprocess.Popen(
                [sys.executable, "-m", "tests.security.hostile", str(self.daemon.port), seconds],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        if "fill" in self.parts:
            thread = threading.Thread(target=self._record, args=("fill", self._fill),
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def wait(self) -> dict[str, Any]:
        for thread in self._threads:
            thread.join(self.seconds + 120)
        for name, process in self._floods.items():
            try:
                self.results[name] = last_json(process, self.seconds + 60)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                process.kill()
                process.wait()
                self.results[name] = {"error": str(error)}
        return self.results

    def _record(self, name: str, job) -> None:
        try:
            self.results[name] = job(time.monotonic() + self.seconds)
        except Exception as error:  # the attack's own bug is a result too
            self.results[name] = {"error": f"{type(error).__name__}: {error}"}

    # the VPC's limits
    def _fill(self, end: float) -> dict[str, Any]:
        """Instances in a /28, then network interfaces and security groups, each until
        refused; throttled calls (its own flood throttles it) are tried again."""
        ec2 = self.daemon.client("ec2", ATTACKER, REGION)
        vpc = self.world.attacker_vpc
        small = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.9.0/28")["Subnet"]["SubnetId"]
        made: Counter[str] = Counter()
        refused: dict[str, str] = {}

        def until_refused(kind: str, call, bound: int) -> None:
            while made[kind] < bound and time.monotonic() < end:
                try:
                    call()
                    made[kind] += 1
                except ClientError as error:
                    code = error.response["Error"]["Code"]
                    if code != "RequestLimitExceeded":
                        refused[kind] = code
                        return
                    time.sleep(0.05)

        until_refused("instances", lambda: ec2.run_instances(
            ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1, SubnetId=small), 64)
        until_refused("network_interfaces", lambda: ec2.create_network_interface(
            SubnetId=self.world.attacker_subnet), 300)
        until_refused("security_groups", lambda: ec2.create_security_group(
            GroupName=f"g{made['security_groups']}", Description="fill", VpcId=vpc), 300)
        return {"made": dict(made), "refused": refused}


# --- the API's front door (a process of its own: ``python -m tests.security.hostile PORT S``) ---
def _raw(port: int, head: bytes, feed: bytes, end: float) -> str:
    """Sends ``head``, then ``feed`` over and over until the daemon answers or hangs up (or
    the time is up); gives the status line's code, or how it ended."""
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        while time.monotonic() < end:
            try:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
                if b"\r\n" in answer:
                    break
            except BlockingIOError:
                pass
            try:
                sock.send(feed)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as error:
                return f"send: {type(error).__name__}"
        return answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "none"


def _signed(port: int, body: bytes, length: int | None = None) -> bytes:
    """A whole DescribeVpcs request of the attacker's, signed once (the default mode does
    not check signatures; the rate limit keys on the access key all the same), claiming
    ``length`` bytes of body when given."""
    request = AWSRequest("POST", f"http://{HOST}:{port}/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(ATTACKER, "secret"), "ec2", REGION).add_auth(request)
    head = ["POST / HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {length or len(body)}",
            *(f"{k}: {v}" for k, v in request.headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def oversized_bodies(port: int, end: float) -> dict[str, int]:
    head = _signed(port, b"", length=64 << 20)
    statuses: Counter[str] = Counter()
    while time.monotonic() < end:
        statuses[_raw(port, head, b"x" * 65536, end)] += 1
    return dict(statuses)


def endless_headers(port: int, end: float) -> dict[str, int]:
    statuses: Counter[str] = Counter()
    while time.monotonic() < end:
        statuses[_raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Pad: " + b"a" * 8000 + b"\r\n",
                      end)] += 1
    return dict(statuses)


STATUS = re.compile(rb"HTTP/1\.1 (\d{3}) ")


def past_the_rate(port: int, end: float, pipeline: int = 64) -> dict[str, int]:
    """DescribeVpcs, ``pipeline`` requests sent at a time on a keep-alive connection, the
    answers counted by status as they come (until the end, a batch's answers or not)."""
    batch = _signed(port, b"Action=DescribeVpcs&Version=2016-11-15") * pipeline
    statuses: Counter[str] = Counter()
    while time.monotonic() < end:
        try:
            with socket.create_connection((HOST, port), timeout=10) as sock:
                while time.monotonic() < end:
                    sock.sendall(batch)
                    seen, buffer = 0, b""
                    while seen < pipeline and time.monotonic() < end:
                        sock.settimeout(max(0.05, min(10.0, end - time.monotonic())))
                        try:
                            chunk = sock.recv(1 << 20)
                        except TimeoutError:
                            continue  # silence: wait on, until the end
                        if not chunk:
                            raise ConnectionError("closed")
                        buffer += chunk
                        found = STATUS.findall(buffer)
                        statuses.update(code.decode() for code in found[seen:])
                        seen = len(found)
        except (OSError, ConnectionError) as error:
            statuses[type(error).__name__] += 1
    return dict(statuses)


def abuse_api(port: int, seconds: float) -> dict[str, Any]:
    end = time.monotonic() + seconds
    jobs = {"oversized_bodies": oversized_bodies, "endless_headers": endless_headers,
            "rate": past_the_rate, "rate_2": past_the_rate}
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        results[name] = jobs[name](port, end)

    threads = [threading.Thread(target=run, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return results


def p99(values: list[float]) -> float:
    """Nearest-rank 99th percentile, in ms."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


if __name__ == "__main__":
    print(json.dumps(abuse_api(int(sys.argv[1]), float(sys.argv[2]))))
