"""``pocketlink demo``: the seeds replayed against a running pocketlink, narrated.

- 000: sections 1 to 3 of the walkthrough and its proxy protocol part: every API call as
  the console steps stand for it, every ``curl`` the seed runs in the consumer's private
  instance with its answer, and the target's httpd access log.
- 002: the seed's CloudFormation template deployed with ``aws cloudformation deploy`` (its
  parameters made first), the stack's events printed as they happen; the private DNS name
  the template cannot set; a consumer account connecting as the seed's steps say, and
  ``curl https://`` of the private DNS name through the TLS listener, verified against
  pocketlink's ACM root.
- 004: an application in an isolated subnet calling SSM, Secrets Manager and CloudWatch
  Logs with the AWS CLI and pulling its image from ECR (pushed from the host): timing out
  with no endpoint, working through the seed's endpoints, and refused by an endpoint policy.
- 003: an instance in a private subnet copying 200 MB from S3 with ``aws s3 cp`` through a
  NAT gateway, then again once the S3 gateway endpoint is on its route table: the NAT's
  CloudWatch byte count (GetMetricStatistics) and ``pocketlink cost`` after each copy. The
  bill is asked of the daemon of ``state`` (its control socket), the calls go to ``endpoint``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pocketlink.metrics.cost import prices
from pocketlink.polling import NotYet, wait_for
from pocketlink.seeds import seed002
from pocketlink.seeds.seed000 import PRIVATE_NAME, PROXY_PORT, Seed000
from pocketlink.seeds.seed003 import BUCKET, KEY, MEGABYTE, Seed003
from pocketlink.seeds.seed004 import IMAGE, Seed004


def _curl(seed: Seed000, *arguments: str) -> None:
    shown = " ".join(arguments)
    answer = seed.curl(*arguments)
    print(f"[ec2-user@{seed.ids['instance']} ~]$ curl {shown}")
    print((answer.stdout or answer.stderr).rstrip())


def seed000(endpoint: str) -> int:
    seed = Seed000(endpoint, say=lambda line: print(f"*** {line}", flush=True))
    seed.build_provider()
    seed.build_consumer()

    print("\n=== Section 1: PrivateLink")
    seed.section1_create_and_accept()
    _curl(seed, seed.ids["regional_name"])
    _curl(seed, seed.ids["zonal_name"])
    print("\n=== Section 2: dual-stack")
    _curl(seed, "-6", seed.ids["regional_name"])
    seed.section2_dual_stack()
    _curl(seed, "-6", seed.ids["regional_name"])
    print("\n=== Section 3: private DNS name")
    seed.section3_private_dns()
    for family in ("-4", "-6"):
        _curl(seed, family, PRIVATE_NAME)
    print("\n--- the target's httpd access log: the NLB's addresses")
    for line in seed.access_log("plain"):
        print(line)

    print("\n=== Proxy protocol v2 (the target behind port 8080 reads it)")
    for family, name in (("-4", seed.ids["regional_name"]), ("-6", seed.ids["regional_name"]),
                         ("-4", PRIVATE_NAME), ("-6", PRIVATE_NAME)):
        _curl(seed, family, f"http://{name}:{PROXY_PORT}/")
    print("\n--- its httpd access log: the consumer instance's own addresses "
          f"({seed.ids['instance_ipv4']}, {seed.ids['instance_ipv6']})")
    for line in seed.access_log("proxy"):
        print(line)
    return 0


def _event(event: dict) -> None:
    """One stack event, as the console's Events tab lists it."""
    reason = event.get("ResourceStatusReason") or ""
    print(f"  {event['Timestamp']:%H:%M:%S}  {event['LogicalResourceId']:44} "
          f"{event['ResourceStatus']:20} {reason}".rstrip(), flush=True)


def seed002_demo(endpoint: str) -> int:
    seed = seed002.Seed002(endpoint, say=lambda line: print(f"*** {line}", flush=True))
    parameters = seed.build_parameters()
    print("\n=== The template, deployed with the AWS CLI (the stack's events as they happen)")
    deployed = seed.deploy(parameters, _event)
    print((deployed.stdout + deployed.stderr).strip())
    if deployed.returncode != 0:
        return 1
    seed.outputs()
    print("\n=== The seed's caveat: the private DNS name, by hand")
    seed.private_dns_name()
    print("\n=== A consumer account connects, as the seed's steps say")
    seed.build_consumer()
    seed.connect()
    print("\n=== From the consumer's private instance, through the TLS listener (the "
          "certificate verified against pocketlink's ACM root)")
    url = f"https://{seed002.PRIVATE_NAME}/"
    try:  # the group's instance passes its health checks first (3 x 30 s, the template's)
        answer = wait_for(lambda: (a := seed.curl(url)).returncode == 0 and a,
                          "the page through the endpoint", timeout=240, every=2)
    except NotYet:
        answer = seed.curl(url)
    print(f"[ec2-user@{seed.ids['instance']} ~]$ curl {url}")
    print((answer.stdout or answer.stderr).rstrip())
    return 0 if answer.returncode == 0 else 1


def _calls(seed: Seed004) -> tuple[int, int]:
    """The application's calls, each with what it printed: how many, how many failed."""
    answers = seed.calls()
    for shown, answer in answers:
        print(f"[ec2-user@{seed.ids['instance']} ~]$ {shown} ...")
        print((answer.stdout or answer.stderr).strip())
    return len(answers), sum(answer.returncode != 0 for _, answer in answers)


def _pull(seed: Seed004) -> bool:
    """The task's image pull, with what it printed: whether it worked."""
    answer = seed.pull_image()
    print(f"[ec2-user@{seed.ids['instance']} ~]$ skopeo copy --src-creds AWS:$(aws ecr "
          f"get-login-password) docker://{IMAGE} dir:/tmp/image; tar -xzOf ... index.html")
    print((answer.stdout if answer.returncode == 0 else answer.stderr).strip()[-400:])
    return answer.returncode == 0


def seed004(endpoint: str) -> int:
    seed = Seed004(endpoint, say=lambda line: print(f"*** {line}", flush=True))
    seed.build()
    with tempfile.TemporaryDirectory(prefix="pocketlink-image-") as folder:
        pushed = seed.push_image(Path(folder))
    print((pushed.stdout if pushed.returncode == 0 else pushed.stderr).strip())
    print("\n=== No VPC endpoint: the isolated subnet reaches nothing (the seed's "
          "ResourceInitializationError)")
    calls, timed_out = _calls(seed)
    pulled_alone = _pull(seed)
    print("\n=== The seed's endpoints: ecr.api, ecr.dkr, logs, secretsmanager, ssm, "
          "ssmmessages (private DNS on) and the S3 gateway")
    seed.create_endpoints()
    _, failed = _calls(seed)
    pulled = _pull(seed)
    print("\n=== An endpoint policy denying ssm:GetParameter")
    seed.deny_get_parameter()
    _, refused = _calls(seed)
    # The story holds when nothing worked without endpoints (the pull neither), everything
    # with them, and the policy refused the one call it names.
    told = timed_out == calls and failed == 0 and refused == 1 and pushed.returncode == 0 \
        and not pulled_alone and pulled
    return 0 if told else 1


def _copy(seed: Seed003) -> int:
    """The instance's ``aws s3 cp``, with what it printed: the bytes it copied."""
    copy = seed.copy()
    print(f"[ec2-user@{seed.ids['instance']} ~]$ aws s3 cp s3://{BUCKET}/{KEY} - | wc -c")
    print((copy.answer.stdout if copy.bytes else copy.answer.stderr).strip()[-400:])
    if copy.bytes:
        print(f"    ({copy.bytes / MEGABYTE:.1f} MB in {copy.seconds:.1f} s)")
    return copy.bytes


def _nat_bytes(seed: Seed003, before: int) -> int:
    """The NAT gateway's BytesInFromDestination as CloudWatch has it, and its growth since
    ``before``: the figure now."""
    now = seed.settled_nat_metric()
    print(f"$ aws cloudwatch get-metric-statistics --namespace AWS/NATGateway --metric-name "
          f"BytesInFromDestination --dimensions Name=NatGatewayId,Value={seed.ids['nat']} "
          "--statistics Sum --period 60 ...")
    print(f"    Sum {now:,} bytes: {(now - before) / MEGABYTE:+.1f} MB since the copy began")
    return now


def _cost(seed: Seed003, state: str, since: int) -> None:
    answer = seed.cost(state, since)
    print("$ pocketlink cost --since ...")
    print((answer.stdout or answer.stderr).rstrip())


def seed003(endpoint: str, state: str) -> int:
    seed = Seed003(endpoint, say=lambda line: print(f"*** {line}", flush=True))
    since = int(time.time())
    seed.build()
    seed.put_object()
    print("\n=== Through the NAT gateway: the private subnet's one way to S3")
    start = seed.settled_nat_metric()
    through_nat = _copy(seed)
    after_nat = _nat_bytes(seed, start)
    _cost(seed, state, since)
    print("\n=== The S3 gateway endpoint on the private route table (the seed: \"a sudden "
          "change in the NAT gateway's metrics in CloudWatch\")")
    seed.add_s3_gateway_endpoint()
    through_endpoint = _copy(seed)
    after_endpoint = _nat_bytes(seed, after_nat)
    _cost(seed, state, since)
    nat_share = (after_nat - start) / seed.size
    per_gb = prices()["nat_gateway"]["gigabyte_processed"] / prices()["gigabyte"]
    print(f"\n--- the seed's \"change in EC2-Other\": through the NAT gateway its byte count grew "
          f"by {nat_share:.1%} of the object (${(after_nat - start) * per_gb:.6f} of NAT data "
          f"processing), through the gateway endpoint by "
          f"{(after_endpoint - after_nat) / seed.size:.1%} (${(after_endpoint - after_nat) * per_gb:.6f})")
    # The story holds when both copies were whole, the NAT counted the first (headers and
    # TLS on top) and not the second (a stray packet aside).
    told = through_nat == through_endpoint == seed.size and 1 <= nat_share < 1.1 \
        and after_endpoint - after_nat < seed.size // 100
    return 0 if told else 1


def run(endpoint: str, seed: str = "000", state: Path | None = None) -> int:
    if seed == "003":
        return seed003(endpoint, str(state))
    return {"000": seed000, "002": seed002_demo, "004": seed004}[seed](endpoint)
