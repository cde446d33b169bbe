"""What enforcing an endpoint policy costs a request: the gateway forwarding ``GetParameter``
and an S3 ``GetObject`` to the backend (moto) with no path (the host's :4566) against the same
requests with a path through an endpoint, under the default policy and under a
three-statement policy with conditions, interleaved per round, in one run; and the policy
check alone.

Why: every request through an interface endpoint is read (operation, resources) and evaluated
before it is forwarded; the number worth knowing is what that adds to a request's own time.
The gateway runs in this process (the service front's TLS and the data plane are not in the
figures: bench/front.py measures the whole path), the backend is a real moto child.

Run: ``python3 bench/endpoint_policy.py [--rounds N]`` (no root needed: no namespaces).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pocketlink.daemon import KINDS
from pocketlink.gateway.dispatch import Gateway
from pocketlink.gateway.paths import NetworkPath
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.services.backend import Backend
from pocketlink.services.operations import call_of
from pocketlink.store import Store
from pocketlink.wire.message import HttpRequest

ACCOUNT, REGION = "111122223333", "us-west-2"
DEFAULT = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
CONDITIONS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": ["ssm:Get*", "s3:GetObject"],
     "Resource": ["arn:aws:ssm:*:*:parameter/app/*", "arn:aws:s3:::bench-bucket/*"],
     "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0bench", "aws:PrincipalAccount": ACCOUNT}}},
    {"Effect": "Deny", "Principal": "*", "Action": "ssm:PutParameter", "Resource": "*"},
    {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def signed(service: str, method: str, path: str, headers: dict[str, str], body: bytes = b""
           ) -> HttpRequest:
    """A request as the SDK sends it; the gateway runs without --strict-auth, so the scope
    routes it and the signature is not checked."""
    scope = f"{ACCOUNT}/20261201/{REGION}/{service}/aws4_request"
    return HttpRequest(method, path, "", {
        "host": f"{service}.{REGION}.amazonaws.com", "x-amz-date": "20261201T000000Z",
        "authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0",
        **headers}, body)


def ssm(operation: str, params: dict) -> HttpRequest:
    return signed("ssm", "POST", "/", {"x-amz-target": f"AmazonSSM.{operation}",
                                        "content-type": "application/x-amz-json-1.1"},
                  json.dumps(params).encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "state.db", KINDS)
        backend = Backend(Path(folder) / "backend")
        gateway = Gateway(store, backend=backend)
        with store.transaction() as tx:
            for name, policy in (("vpce-0default", DEFAULT), ("vpce-0conditions", CONDITIONS)):
                tx.put(VpcEndpoint(id=name, account=ACCOUNT, region=REGION, vpc_id="vpc-0bench",
                                   service_name=f"com.amazonaws.{REGION}.ssm", service_id=None,
                                   service_owner="amazon", endpoint_type="Interface",
                                   state="available", policy_document=json.dumps(policy)))

        def send(request: HttpRequest, path: NetworkPath | None) -> float:
            started = time.perf_counter()
            response = loop.run_until_complete(gateway.forwarding(request, "10.0.1.5", path))
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"{response.status} {response.body[:300]!r}")
            return elapsed

        try:
            send(ssm("PutParameter", {"Name": "/app/db-host", "Value": "db", "Type": "String"}), None)
            send(signed("s3", "PUT", "/bench-bucket", {}, (
                b'<CreateBucketConfiguration><LocationConstraint>us-west-2</LocationConstraint>'
                b'</CreateBucketConfiguration>')), None)
            send(signed("s3", "PUT", "/bench-bucket/k", {}, b"x" * 1024), None)
            requests = {"GetParameter": ssm("GetParameter", {"Name": "/app/db-host"}),
                        "GetObject": signed("s3", "GET", "/bench-bucket/k", {})}
            paths = {"host (no policy)": None,
                     "default policy": NetworkPath("10.0.1.5", "vpce-0default", "vpc-0bench"),
                     "3 statements": NetworkPath("10.0.1.5", "vpce-0conditions", "vpc-0bench")}
            times = {(op, name): [] for op in requests for name in paths}
            order = list(paths.items())
            for round_ in range(args.rounds + 20):
                for op, request in requests.items():
                    for name, path in order:
                        elapsed = send(request, path)
                        if round_ >= 20:  # the first rounds warm up
                            times[(op, name)].append(elapsed)
                order.reverse()
            for op, request in requests.items():
                base = statistics.median(times[(op, "host (no policy)")])
                for name in paths:
                    median = statistics.median(times[(op, name)])
                    print(f"{op:13} {name:17} p50 {median * 1e3:7.2f} ms  x{median / base:.3f}")
                check = _check(gateway, "ssm" if op == "GetParameter" else "s3", request,
                               paths["3 statements"], args.rounds)
                print(f"{op:13} the check alone (3 statements): {check * 1e6:.0f} us, "
                      f"{check / base * 100:.1f}% of the request's p50 from the host")
        finally:
            loop.run_until_complete(backend.stop())
            loop.close()
            store.close()
    return 0


def _check(gateway: Gateway, service: str, request: HttpRequest, path: NetworkPath | None,
           rounds: int) -> float:
    """The median time of the endpoint policy check alone (reading the request included)."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        gateway.endpoint_policies.authorize(path, lambda: call_of(service, request), ACCOUNT,
                                            REGION)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


if __name__ == "__main__":
    sys.exit(main())
