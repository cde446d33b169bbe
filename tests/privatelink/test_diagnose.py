"""``pocketlink diagnose``, one failure mode at a time, on seed 000's world: each case
breaks the world the way the seed's readers break theirs, checks that diagnose names the
hop and gives the fix (the AWS CLI command, and the account that must run it), runs that
very command with the AWS CLI, and checks that the verdict and the real probe from the
consumer's instance then both say reachable.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pocketlink.seeds.seed000 import (
    CONSUMER,
    PLAIN_PORT,
    PRIVATE_NAME,
    PROVIDER,
    PROXY_PORT,
    Seed000,
)
from tests.conftest import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="diagnose's probe needs root")


@pytest.fixture(scope="module")
def seed(make_daemon) -> Seed000:
    daemon = make_daemon()
    world = Seed000(daemon.endpoint, say=lambda line: None)
    world.daemon = daemon  # type: ignore[attr-defined]
    world.build_provider()
    world.build_consumer()
    elb = world.client("elbv2", PROVIDER)
    plain = next(g for g in elb.describe_target_groups()["TargetGroups"]
                 if g["TargetGroupName"] == "seed-plain")
    # Quick checks, so that a target turns unhealthy (and back) within seconds.
    elb.modify_target_group(TargetGroupArn=plain["TargetGroupArn"], HealthCheckIntervalSeconds=5,
                            HealthCheckTimeoutSeconds=2,
                            HealthyThresholdCount=2, UnhealthyThresholdCount=2)
    world.section1_create_and_accept()
    world.section3_private_dns()
    [instance] = world.consumer.describe_instances(InstanceIds=[world.ids["instance"]])[
        "Reservations"][0]["Instances"]
    world.ids.update(instance_group=instance["SecurityGroups"][0]["GroupId"],
                     plain_group=plain["TargetGroupArn"])
    wait_for(lambda: _health(world) == "healthy", "the plain target healthy")
    return world


def _health(seed: Seed000) -> str:
    [found] = seed.client("elbv2", PROVIDER).describe_target_health(
        TargetGroupArn=seed.ids["plain_group"])["TargetHealthDescriptions"]
    return found["TargetHealth"]["State"]


@dataclass
class Run:
    code: int
    lines: list[str]

    def hop(self, name: str) -> str:
        return next(line for line in self.lines if line.split()[1:2] == [name.split()[0]]
                    and name in line)

    @property
    def fix(self) -> tuple[str, list[str]]:
        """The first fix line: (account, argv)."""
        line = next(line.strip() for line in self.lines if line.strip().startswith("fix "))
        account, command = line.removeprefix("fix [account ").split("] ", 1)
        return account, shlex.split(command)


def diagnose(seed: Seed000, to: str) -> Run:
    done = subprocess.run([sys.executable, "-m", "pocketlink", "diagnose", "--state",
                           str(seed.daemon.state), "--from", seed.ids["instance"], "--to", to],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 3: the probe disagrees
    return Run(done.returncode, done.stdout.splitlines())


def aws(seed: Seed000, account: str, argv: list[str]) -> None:
    assert argv[0] == "aws"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_ENDPOINT_URL": seed.daemon.endpoint, "AWS_PAGER": "",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_working_world_is_reachable_and_the_probe_agrees(seed):
    run = diagnose(seed, f"{PRIVATE_NAME}:{PLAIN_PORT}")
    assert run.code == 0, "\n".join(run.lines)
    assert "verdict: reachable" in run.lines
    assert run.lines[-1].endswith("agrees with the verdict")
    dns = run.hop("DNS")
    assert "answered from the zone demoprivatelink.shiun.me." in dns
    assert not any(line.split()[0] == "FAIL" for line in run.lines[1:] if line.strip())


def test_proxy_protocol_on_is_a_note_on_a_reachable_path(seed):
    run = diagnose(seed, f"{seed.ids['regional_name']}:{PROXY_PORT}")
    assert run.code == 0, "\n".join(run.lines)
    assert run.hop("proxy protocol v2").split()[0] == "note"
    assert "must parse it" in run.hop("proxy protocol v2")


@dataclass
class Case:
    name: str
    hop: str
    account: str
    command: str  # the fix's verb
    to: Callable[[Seed000], str]
    breaks: Callable[[Seed000], None]
    settles: Callable[[Seed000], object] = lambda seed: True  # what the fix waits on


def _revoke_endpoint_port(seed: Seed000) -> None:
    seed.consumer.revoke_security_group_ingress(
        GroupId=seed.ids["endpoint_group"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": PLAIN_PORT, "ToPort": PLAIN_PORT,
             "UserIdGroupPairs": [{"GroupId": seed.ids["instance_group"]}]}])


def _second_endpoint(seed: Seed000) -> None:
    made = seed.consumer.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=seed.ids["consumer_vpc"],
        ServiceName=seed.ids["service_name"], SubnetIds=[seed.ids["consumer_subnet"]],
        SecurityGroupIds=[seed.ids["endpoint_group"]], PrivateDnsEnabled=False)["VpcEndpoint"]
    seed.ids["second"] = made["VpcEndpointId"]
    seed.ids["second_name"] = made["DnsEntries"][0]["DnsName"]


def _second_available(seed: Seed000) -> bool:
    [found] = seed.consumer.describe_vpc_endpoints(VpcEndpointIds=[seed.ids["second"]])[
        "VpcEndpoints"]
    return found["State"] == "available"


def _private_dns_off(seed: Seed000) -> None:
    seed.consumer.modify_vpc_endpoint(VpcEndpointId=seed.ids["endpoint"],
                                      PrivateDnsEnabled=False)


def _listener_moved(seed: Seed000) -> None:
    elb = seed.client("elbv2", PROVIDER)
    [listener] = [x for x in elb.describe_listeners(LoadBalancerArn=seed.ids["balancer"])[
        "Listeners"] if x["Port"] == PLAIN_PORT]
    elb.modify_listener(ListenerArn=listener["ListenerArn"], Port=PLAIN_PORT + 1)


def _cross_zone_off(seed: Seed000) -> None:
    [instance] = seed.provider.describe_instances(InstanceIds=[seed.ids["plain"]])[
        "Reservations"][0]["Instances"]
    target_zone = next(z["ZoneId"] for z in seed.provider.describe_availability_zones()[
        "AvailabilityZones"] if z["ZoneName"] == instance["Placement"]["AvailabilityZone"])
    [subnet] = seed.consumer.describe_subnets(SubnetIds=[seed.ids["consumer_subnet"]])["Subnets"]
    assert subnet["AvailabilityZoneId"] != target_zone, \
        "the case needs the endpoint in a zone without a target"
    seed.client("elbv2", PROVIDER).modify_load_balancer_attributes(
        LoadBalancerArn=seed.ids["balancer"],
        Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "false"}])


def _target_unhealthy(seed: Seed000) -> None:
    [group] = seed.provider.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["httpd"]}])["SecurityGroups"]
    seed.provider.revoke_security_group_ingress(GroupId=group["GroupId"],
                                                IpPermissions=group["IpPermissions"])
    wait_for(lambda: _health(seed) == "unhealthy", "the plain target unhealthy")


CASES = [
    Case("endpoint SG missing the port", "endpoint SG ingress", CONSUMER,
         "authorize-security-group-ingress", lambda s: f"{PRIVATE_NAME}:{PLAIN_PORT}",
         _revoke_endpoint_port),
    Case("endpoint pendingAcceptance", "endpoint state", PROVIDER,
         "accept-vpc-endpoint-connections", lambda s: s.ids["second_name"], _second_endpoint,
         _second_available),
    Case("private DNS off", "DNS", CONSUMER, "modify-vpc-endpoint",
         lambda s: PRIVATE_NAME, _private_dns_off),
    Case("listener port wrong", "NLB listener", PROVIDER, "modify-listener",
         lambda s: s.ids["regional_name"], _listener_moved),
    Case("cross-zone off, no target in the endpoint's zone", "cross-zone", PROVIDER,
         "modify-load-balancer-attributes", lambda s: s.ids["regional_name"], _cross_zone_off),
    Case("target unhealthy (its SG drops the NLB)", "target health", PROVIDER,
         "authorize-security-group-ingress", lambda s: s.ids["regional_name"],
         _target_unhealthy, lambda s: _health(s) == "healthy"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_diagnose_names_the_hop_and_its_fix_makes_the_probe_pass(seed, case):
    case.breaks(seed)
    to = case.to(seed)
    broken = diagnose(seed, to)
    page = "\n".join(broken.lines)
    assert broken.code == 1, page
    assert f"verdict: unreachable at '{case.hop}'" in broken.lines, page
    assert broken.hop(case.hop).split()[0] == "FAIL", page
    assert broken.lines[-1].endswith("agrees with the verdict"), page
    account, argv = broken.fix
    assert (account, argv[2]) == (case.account, case.command), page

    aws(seed, account, argv)
    wait_for(lambda: case.settles(seed), f"{case.name}: the fix settled")
    fixed = wait_for(lambda: (run := diagnose(seed, to)).code == 0 and run,
                     f"{case.name}: reachable after the fix", timeout=90)
    assert fixed.lines[-1].endswith("agrees with the verdict"), "\n".join(fixed.lines)
    assert "connected" in fixed.lines[-1]
