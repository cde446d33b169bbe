"""TLS listeners beside TCP ones, side by side in one run: what terminating TLS costs a new
connection, and whether a TLS listener on the same NLB costs the TCP path anything.

The world is seed 000's (bench-free of its own: pocketlink.seeds.seed000): an NLB behind
an endpoint service, httpd targets, a consumer instance, the private DNS name verified.
From inside the consumer instance, C client threads make one HTTP/1.0 request per new
connection for S seconds, counting answered requests, and the p50 of one request's time:

1. ``tcp-before``: port 80 (TCP listener), before any TLS listener exists (after a round
   of warm-up);
2. an ACM certificate for the private DNS name is issued, a TLS:443 listener added (the
   same target group, ``ELBSecurityPolicy-TLS13-1-2-2021-06``);
3. rounds, interleaved: ``tcp`` (port 80 again) and ``tls`` (https://, verified against
   the instance's CA store, a full handshake each: no session resumption).

It prints connections/s and p50 per path and two ratios: tcp/tcp-before (x1 means a TLS
listener costs the TCP path nothing) and tls/tcp (what a handshake costs); then, as a
client that costs less than Python's, ``openssl s_time -new`` (one connection after
another, a full handshake and a GET each) through the TLS listener, beside the same
against a TLS server of the same kind with no data plane in between (asyncio on uvloop,
on loopback, a certificate of the same authority): the ratio is what the path costs. Run as root:
``sudo .venv/bin/python bench/tls_listener.py [--seconds S] [--concurrency C] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pocketlink.harness import PROVIDER, Daemon, free_port
from pocketlink.instances import processes
from pocketlink.network import netns
from pocketlink.polling import wait_for
from pocketlink.seeds.seed000 import PLAIN_PORT, PRIVATE_NAME, Seed000
from pocketlink.services.acm_authority import AcmAuthority

# Runs inside the consumer instance: python3 -c LOADER host port tls seconds concurrency.
LOADER = r"""
import socket, ssl, sys, threading, time, json
host, port, tls, seconds, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", \
    float(sys.argv[4]), int(sys.argv[5])
address = socket.getaddrinfo(host, port, socket.AF_INET)[0][4]
context = ssl.create_default_context()
request = f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
done, errors, times = [0], [0], []
lock = threading.Lock()
deadline = time.monotonic() + seconds
def work():
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            sock = socket.create_connection(address, timeout=5)
            if tls:
                sock = context.wrap_socket(sock, server_hostname=host)
            sock.sendall(request)
            while sock.recv(65536):
                pass
            sock.close()
        except OSError:
            with lock:
                errors[0] += 1
            continue
        with lock:
            done[0] += 1
            times.append(time.monotonic() - started)
threads = [threading.Thread(target=work) for _ in range(workers)]
[t.start() for t in threads]
[t.join() for t in threads]
times.sort()
print(json.dumps({"cps": done[0] / seconds, "errors": errors[0],
                  "p50_ms": 1000 * times[len(times) // 2] if times else None}))
"""


def measure(world: Seed000, port: int, tls: bool, args: argparse.Namespace) -> dict:
    done = world.run("python3", "-c", LOADER, PRIVATE_NAME, str(port), "1" if tls else "0",
                     str(args.seconds), str(args.concurrency), timeout=args.seconds + 60)
    if done.returncode != 0:
        raise SystemExit(f"the load failed: {done.stderr}")
    return json.loads(done.stdout)


def s_time(world: Seed000, seconds: float) -> float:
    """Full handshakes (and a GET) per second, one after another, by openssl's C client."""
    done = world.run("openssl", "s_time", "-connect", f"{PRIVATE_NAME}:443", "-new",
                     "-time", f"{seconds:g}", "-www", "/", timeout=seconds + 60)
    found = re.search(r"(\d+) connections in ([\d.]+) real seconds", done.stdout)
    if found is None:
        raise SystemExit(f"s_time failed: {done.stdout} {done.stderr}")
    return int(found.group(1)) / float(found.group(2))


# A TLS server as the workers' (uvloop, ssl, an RSA 2048 ACM certificate), answering one
# small HTTP/1.0 response a connection: python3 SERVER CHAIN KEY PORT.
SERVER = r"""
import asyncio, ssl, sys, uvloop
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
    def data_received(self, data):
        self.transport.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
        self.transport.close()
async def main():
    await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", int(sys.argv[3]),
                                                   ssl=context)
    print("ready", flush=True)
    await asyncio.Event().wait()
uvloop.run(main())
"""


def direct_s_time(folder: Path, seconds: float) -> float:
    """``s_time`` against ``SERVER`` on loopback: TLS with no data plane in between."""
    authority = AcmAuthority(folder / "direct")
    arn = "arn:aws:acm:us-west-2:111111111111:certificate/00000000-0000-0000-0000-000000000001"
    authority.issue(arn, [PRIVATE_NAME], "RSA_2048")
    chain, key = authority.files(arn)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(chain), str(key), str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        done = subprocess.run(["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new",
                               "-time", f"{seconds:g}", "-www", "/"], capture_output=True,
                              text=True, timeout=seconds + 60)
    finally:
        server.terminate()
        server.wait()
    found = re.search(r"(\d+) connections in ([\d.]+) real seconds", done.stdout)
    if found is None:
        raise SystemExit(f"s_time failed: {done.stdout} {done.stderr}")
    return int(found.group(1)) / float(found.group(2))


def add_tls_listener(world: Seed000) -> None:
    acm = world.client("acm", PROVIDER)
    route53 = world.client("route53", PROVIDER)
    arn = acm.request_certificate(DomainName=PRIVATE_NAME, ValidationMethod="DNS")[
        "CertificateArn"]
    record = acm.describe_certificate(CertificateArn=arn)["Certificate"][
        "DomainValidationOptions"][0]["ResourceRecord"]
    [zone] = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "shiun.me."]
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": record["Name"], "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": record["Value"]}]}}]})
    wait_for(lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
             == "ISSUED", "the certificate issued")
    elb = world.client("elbv2", PROVIDER)
    [group] = elb.describe_target_groups(Names=["seed-plain"])["TargetGroups"]
    elb.create_listener(LoadBalancerArn=world.ids["balancer"], Protocol="TLS", Port=443,
                        Certificates=[{"CertificateArn": arn}],
                        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                        DefaultActions=[{"Type": "forward",
                                         "TargetGroupArn": group["TargetGroupArn"]}])
    world.consumer.authorize_security_group_ingress(
        GroupId=world.ids["endpoint_group"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    wait_for(lambda: world.curl(f"https://{PRIVATE_NAME}/").returncode == 0, "TLS answering")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-tls-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log", args=[])
    daemon.start()
    try:
        world = Seed000(daemon.endpoint, say=lambda line: None)
        world.build_provider()
        world.build_consumer()
        world.section1_create_and_accept()
        world.section3_private_dns()
        measure(world, PLAIN_PORT, False, args)  # a warm-up round, not counted
        before = [measure(world, PLAIN_PORT, False, args) for _ in range(args.rounds)]
        add_tls_listener(world)
        results: dict[str, list[dict]] = {"tcp": [], "tls": []}
        for index in range(args.rounds):
            for path in (("tcp", "tls") if index % 2 == 0 else ("tls", "tcp")):
                results[path].append(measure(world, 443 if path == "tls" else PLAIN_PORT,
                                             path == "tls", args))
        results["tcp-before"] = before
        summary = {}
        for path in ("tcp-before", "tcp", "tls"):
            runs = results[path]
            summary[path] = {"cps": statistics.mean(r["cps"] for r in runs),
                             "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                             "errors": sum(r["errors"] for r in runs)}
            print(f"{path:>10}: {summary[path]['cps']:8.1f} requests/s on new connections, "
                  f"p50 {summary[path]['p50_ms']:.2f} ms, {summary[path]['errors']} errors")
        print(f"tcp/tcp-before: x{summary['tcp']['cps'] / summary['tcp-before']['cps']:.2f} "
              f"requests/s; tls/tcp: x{summary['tls']['cps'] / summary['tcp']['cps']:.2f} "
              f"requests/s, p50 x{summary['tls']['p50_ms'] / summary['tcp']['p50_ms']:.2f}")
        through, direct = s_time(world, args.seconds), direct_s_time(folder, args.seconds)
        print(f"openssl s_time -new: through the TLS listener {through:.1f} connections/s, "
              f"direct to a TLS server of the same kind {direct:.1f}: x{through / direct:.2f}")
    finally:
        daemon.stop()
        for namespace in netns.ours(str(daemon.state.resolve())):  # this daemon's only
            processes.stop_all(namespace)
            netns.remove(namespace)


if __name__ == "__main__":
    main()
