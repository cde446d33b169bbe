"""Each failure mode on a real network: the world built (seed 000's shape: a web server
behind an NLB offered as an endpoint service, a client and an interface endpoint in another
account; the NLB has a security group), one thing broken, ``pocketlink diagnose`` (verdict
and probe) names the hop and prints the fix; the printed command, run as printed (the AWS
CLI against the daemon, as the account it names, or ``pocketlink fault clear``), makes the
probe pass again.

The walk's every failure mode is in test_walk.py's table (a store, no network); this one
proves the fixes the walk prints on the world itself. A break is applied and then waited
for until verdict and probe agree it broke (the reconciler takes a moment to render a
change), and the fix the same way until they agree it is mended.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pocketlink.diagnose import listening
from pocketlink.diagnose.walk import Diagnosis
from tests.conftest import CONSUMER, PROVIDER, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, launch, web_group

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the probe needs namespaces (root)")
REGION = "us-west-2"
FAILING = re.compile(r"^  FAIL  (.{20}) ")
FIX = re.compile(r"fix \[account (\S+)\] (.+)$")


@dataclass
class World:
    daemon: object
    zone: str  # the web server's zone id
    web: str
    client: str
    name: str  # the endpoint's zonal DNS name in the client's zone
    balancer_arn: str
    endpoint_id: str
    consumer_vpc: str
    consumer_group: str  # the consumer VPC's default group: the client's and the endpoint's
    web_group: str
    listener_arn: str
    nlb_group: str  # the NLB's: it admits the consumer VPC, on PrivateLink traffic too
    service_id: str
    target_group_arn: str

    def ec2(self, account: str = PROVIDER):
        return self.daemon.client("ec2", account, REGION)

    def diagnose(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pocketlink", "diagnose", "--state", str(self.daemon.state),
             "--from", self.client, "--to", f"{self.name}:{WEB_PORT}"],
            capture_output=True, text=True, timeout=60)

    def broken(self) -> tuple[str, str, str]:
        """Waits until verdict and probe agree the path is broken: the failing hop, the
        account the fix names and the fix."""
        done = wait_for(lambda: (d := self.diagnose()).returncode == 1 and d,
                        "diagnose and the probe agree it is broken", 90)
        lines = done.stdout.splitlines()
        [hop] = [m.group(1).strip() for line in lines if (m := FAILING.match(line))]
        fixes = [m.groups() for line in lines if (m := FIX.search(line))]
        account, command = fixes[0] if fixes else ("", "")
        return hop, account, command

    def run_fix(self, account: str, command: str) -> None:
        words = shlex.split(command)
        if words[0] == "pocketlink":
            argv = [sys.executable, "-m", *words, "--state", str(self.daemon.state)]
            env = os.environ
        else:
            argv = words
            env = {**os.environ, "AWS_ACCESS_KEY_ID": account,
                   "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL": self.daemon.endpoint,
                   "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
                   "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, (command, done.stdout, done.stderr)

    def next_fix(self, done: str) -> tuple[str, str]:
        """After a fix that is the first of two: waits until verdict and probe agree it is
        still broken, with another fix printed; the account it names and that fix."""
        def another() -> tuple[str, str] | None:
            if (found := self.diagnose()).returncode != 1:
                return None
            fixes = [m.groups() for line in found.stdout.splitlines()
                     if (m := FIX.search(line))]
            return fixes[0] if fixes and fixes[0][1] != done else None
        return wait_for(another, "the next fix printed", 90)

    def mended(self) -> str:
        done = wait_for(lambda: (d := self.diagnose()).returncode == 0 and d,
                        "diagnose and the probe agree it is mended", 90)
        return done.stdout


def _vpc(ec2, cidr: str, zones: list[str]) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    base = cidr.rsplit(".", 2)[0]
    return vpc, [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.{n + 1}.0/24",
                                   AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
                 for n, zone in enumerate(zones)]


@pytest.fixture(scope="module")
def world(make_daemon) -> World:
    """The web server in the first zone, the client and its endpoint ENI in the second:
    its flows cross zones, so cross-zone load balancing is on (and is a failure mode)."""
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, REGION)
    elb = daemon.client("elbv2", PROVIDER, REGION)
    zones = sorted((z["ZoneId"], z["ZoneName"]) for z in ec2.describe_availability_zones()[
        "AvailabilityZones"])[:2]
    vpc, subnets = _vpc(ec2, "10.0.0.0/16", [z for z, _ in zones])
    group = web_group(ec2, vpc)
    web = launch(ec2, subnets[0], SecurityGroupIds=[group],
                 UserData=WEB_USER_DATA)[0]["InstanceId"]
    nlb_group = ec2.create_security_group(GroupName="nlb", Description="the NLB's",
                                          VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=nlb_group, IpProtocol="tcp",
                                         FromPort=WEB_PORT, ToPort=WEB_PORT,
                                         CidrIp="10.1.0.0/16")
    balancer = elb.create_load_balancer(Name="diagnose", Type="network", Scheme="internal",
                                        Subnets=subnets, SecurityGroups=[nlb_group]
                                        )["LoadBalancers"][0]
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
    target_group = elb.create_target_group(
        Name="diagnose", Protocol="TCP", Port=WEB_PORT, VpcId=vpc, HealthCheckIntervalSeconds=5,
        HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
        UnhealthyThresholdCount=2)["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=target_group["TargetGroupArn"], Targets=[{"Id": web}])
    listener = elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=WEB_PORT,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group["TargetGroupArn"]}]
    )["Listeners"][0]
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]],
        AcceptanceRequired=False)["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"],
                                                AddAllowedPrincipals=["*"])
    theirs = daemon.client("ec2", CONSUMER, REGION)
    consumer_vpc, consumer_subnets = _vpc(theirs, "10.1.0.0/16", [z for z, _ in zones])
    client = launch(theirs, consumer_subnets[1])[0]["InstanceId"]
    endpoint = theirs.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=consumer_vpc, ServiceName=service["ServiceName"],
        SubnetIds=consumer_subnets)["VpcEndpoint"]
    # The second zone's own name: its ENI alone, whatever the regional name's order.
    [name] = [e["DnsName"] for e in endpoint["DnsEntries"]
              if e["DnsName"].split(".")[0].endswith(f"-{zones[1][1]}")]
    [default] = theirs.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [consumer_vpc]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    made = World(daemon, zones[0][0], web, client, name, balancer["LoadBalancerArn"],
                 endpoint["VpcEndpointId"], consumer_vpc, default["GroupId"], group,
                 listener["ListenerArn"], nlb_group, service["ServiceId"],
                 target_group["TargetGroupArn"])
    made.mended()
    return made


def _endpoint_group_closed(world: World) -> None:
    theirs = world.ec2(CONSUMER)
    closed = theirs.create_security_group(GroupName="closed", Description="no ingress",
                                          VpcId=world.consumer_vpc)["GroupId"]
    theirs.modify_vpc_endpoint(VpcEndpointId=world.endpoint_id, AddSecurityGroupIds=[closed],
                               RemoveSecurityGroupIds=[world.consumer_group])


def _listener_moved(world: World) -> None:
    world.daemon.client("elbv2", PROVIDER, REGION).modify_listener(
        ListenerArn=world.listener_arn, Port=WEB_PORT + 1)


def _target_group_closed(world: World) -> None:
    world.ec2().revoke_security_group_ingress(
        GroupId=world.web_group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])


def _nlb_group_closed(world: World) -> None:
    """The NLB enforces its inbound rules on PrivateLink traffic (the default): without
    the rule for the consumer VPC, the client's SYN is dropped in the consumer's router."""
    world.ec2().revoke_security_group_ingress(
        GroupId=world.nlb_group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
            "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])


def _dns_support_off(world: World) -> Callable[[], None]:
    """Turning support off turns enableDnsHostnames off too (as at AWS), which the printed
    fix (support on) does not turn back on: undone after the case, for private DNS."""
    theirs = world.ec2(CONSUMER)
    theirs.modify_vpc_attribute(VpcId=world.consumer_vpc, EnableDnsSupport={"Value": False})
    return lambda: theirs.modify_vpc_attribute(VpcId=world.consumer_vpc,
                                               EnableDnsHostnames={"Value": True})


def _fault(args: Callable[[World], list[str]]) -> Callable[[World], None]:
    def inject(world: World) -> None:
        done = subprocess.run([sys.executable, "-m", "pocketlink", "fault", *args(world),
                               "--state", str(world.daemon.state)],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    return inject


def _client_egress_closed(world: World) -> None:
    """The client's group (the consumer VPC's default) lets nothing out."""
    world.ec2(CONSUMER).revoke_security_group_egress(
        GroupId=world.consumer_group, IpPermissions=[{
            "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _nlb_egress_closed(world: World) -> None:
    """The NLB's group lets nothing out: its flows to the target and its health checks
    leave through its outbound rules."""
    world.ec2().revoke_security_group_egress(
        GroupId=world.nlb_group, IpPermissions=[{
            "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _cross_zone_off(world: World) -> None:
    world.daemon.client("elbv2", PROVIDER, REGION).modify_load_balancer_attributes(
        LoadBalancerArn=world.balancer_arn,
        Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "false"}])


def _awaiting_acceptance(world: World) -> Callable[[], None]:
    """A second endpoint, asked for once the service requires acceptance: the client
    dials its zonal name until the provider accepts. Undone after the case: the world's
    own endpoint and name back, the service auto-accepting again."""
    theirs, name = world.ec2(CONSUMER), world.name
    world.ec2().modify_vpc_endpoint_service_configuration(ServiceId=world.service_id,
                                                          AcceptanceRequired=True)
    [first] = theirs.describe_vpc_endpoints(VpcEndpointIds=[world.endpoint_id])["VpcEndpoints"]
    zone = name.split(".")[0].rsplit("-", 3)[-3:]  # the zone name the first name ends with
    endpoint = theirs.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=world.consumer_vpc,
        ServiceName=first["ServiceName"], SubnetIds=first["SubnetIds"])["VpcEndpoint"]
    assert endpoint["State"] == "pendingAcceptance", endpoint["State"]
    [world.name] = [e["DnsName"] for e in endpoint["DnsEntries"]
                    if e["DnsName"].split(".")[0].endswith("-" + "-".join(zone))]

    def undo() -> None:
        world.name = name
        theirs.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
        world.ec2().modify_vpc_endpoint_service_configuration(ServiceId=world.service_id,
                                                              AcceptanceRequired=False)
    return undo


def _private_dns_name(world: World, verify: bool) -> Callable[[], None]:
    """Seed 000 section 3 on the world's service: a name in a public zone of the provider's
    own, its TXT record published, verified if ``verify``; the client dials that name.
    Undone after the case: private DNS off, the name removed, the zonal name back."""
    ec2, route53 = world.ec2(), world.daemon.client("route53", PROVIDER, REGION)
    zone = route53.create_hosted_zone(Name=f"t{secrets.token_hex(4)}.example.com",
                                      CallerReference=secrets.token_hex(8))["HostedZone"]
    private, name = "demoprivatelink." + zone["Name"].rstrip("."), world.name
    ec2.modify_vpc_endpoint_service_configuration(ServiceId=world.service_id,
                                                  PrivateDnsName=private)
    [service] = ec2.describe_vpc_endpoint_service_configurations(
        ServiceIds=[world.service_id])["ServiceConfigurations"]
    config = service["PrivateDnsNameConfiguration"]
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"{config['Name']}.{private}", "Type": "TXT", "TTL": 300,
            "ResourceRecords": [{"Value": f'"{config["Value"]}"'}]}}]})
    if verify:
        ec2.start_vpc_endpoint_service_private_dns_verification(ServiceId=world.service_id)
        wait_for(lambda: ec2.describe_vpc_endpoint_service_configurations(
            ServiceIds=[world.service_id])["ServiceConfigurations"][0][
            "PrivateDnsNameConfiguration"]["State"] == "verified", "the name verified")
    world.name = private

    def undo() -> None:
        world.name = name
        world.ec2(CONSUMER).modify_vpc_endpoint(VpcEndpointId=world.endpoint_id,
                                                PrivateDnsEnabled=False)
        ec2.modify_vpc_endpoint_service_configuration(ServiceId=world.service_id,
                                                      RemovePrivateDnsName=True)
    return undo


def _hostnames_off(world: World) -> Callable[[], None]:
    """The verified name, private DNS off, and the consumer VPC's enableDnsHostnames off,
    which private DNS needs first."""
    undo = _private_dns_name(world, verify=True)
    world.ec2(CONSUMER).modify_vpc_attribute(VpcId=world.consumer_vpc,
                                             EnableDnsHostnames={"Value": False})
    return undo


def _rejected(world: World) -> Callable[[], None]:
    """The verified name, the service requiring acceptance, and a second endpoint with
    private DNS on, which the provider rejects. Undone after the case: whatever endpoint
    the fixes made deleted, the service auto-accepting again, the name removed."""
    undo_name, theirs = _private_dns_name(world, verify=True), world.ec2(CONSUMER)
    world.ec2().modify_vpc_endpoint_service_configuration(ServiceId=world.service_id,
                                                          AcceptanceRequired=True)
    [first] = theirs.describe_vpc_endpoints(VpcEndpointIds=[world.endpoint_id])["VpcEndpoints"]
    endpoint = theirs.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=world.consumer_vpc, PrivateDnsEnabled=True,
        ServiceName=first["ServiceName"], SubnetIds=first["SubnetIds"])["VpcEndpoint"]
    assert not world.ec2().reject_vpc_endpoint_connections(
        ServiceId=world.service_id, VpcEndpointIds=[endpoint["VpcEndpointId"]])["Unsuccessful"]

    def undo() -> None:
        made = [e["VpcEndpointId"] for e in theirs.describe_vpc_endpoints(Filters=[
            {"Name": "vpc-id", "Values": [world.consumer_vpc]}])["VpcEndpoints"]
            if e["VpcEndpointId"] != world.endpoint_id
            and e["State"] not in ("deleting", "deleted")]
        if made:
            theirs.delete_vpc_endpoints(VpcEndpointIds=made)
        world.ec2().modify_vpc_endpoint_service_configuration(ServiceId=world.service_id,
                                                              AcceptanceRequired=False)
        undo_name()
    return undo


def _target_deregistered(world: World) -> None:
    """The only target deregistered: it drains (300 s, the default), and takes no flow."""
    world.daemon.client("elbv2", PROVIDER, REGION).deregister_targets(
        TargetGroupArn=world.target_group_arn, Targets=[{"Id": world.web}])


# failure mode: (how to break it (it may return how to undo the rest of what it built,
# once mended), the hops that may name it, how its fix begins)
CASES = {
    "endpoint SG": (_endpoint_group_closed, {"endpoint SG ingress"},
                    "aws ec2 authorize-security-group-ingress --group-id sg-"),
    "NLB SG": (_nlb_group_closed, {"NLB SG ingress"},
               "aws ec2 authorize-security-group-ingress --group-id sg-"),
    "listener port": (_listener_moved, {"NLB listener"},
                      "aws elbv2 modify-listener --listener-arn"),
    # The health checks fail it a few seconds later: either hop names the group's fix.
    "target SG": (_target_group_closed, {"target SG ingress", "target health"},
                  "aws ec2 authorize-security-group-ingress --group-id sg-"),
    "cross-zone off, no target in the zone": (
        _cross_zone_off, {"cross-zone"}, "aws elbv2 modify-load-balancer-attributes "
        "--load-balancer-arn arn:aws:elasticloadbalancing:"),
    "VPC DNS support off": (_dns_support_off, {"DNS"},
                            "aws ec2 modify-vpc-attribute --vpc-id vpc-"),
    "zone lost (fault)": (_fault(lambda w: ["lose-az", "--zone", w.zone]), {"fault"},
                          "pocketlink fault clear fault-"),
    "the only target killed (fault)": (
        _fault(lambda w: ["kill-target", "--instance", w.web]), {"fault"},
        "pocketlink fault clear fault-"),
    "the consumer VPC's resolver stopped (fault)": (
        _fault(lambda w: ["stop-resolver", "--vpc", w.consumer_vpc]), {"fault"},
        "pocketlink fault clear fault-"),
    # The health checks fail it a few seconds later: either hop names the group's fix.
    "NLB SG egress": (_nlb_egress_closed, {"NLB SG egress", "target health"},
                      "aws ec2 authorize-security-group-egress --group-id sg-"),
    "endpoint awaiting acceptance": (
        _awaiting_acceptance, {"endpoint state"},
        "aws ec2 accept-vpc-endpoint-connections --service-id vpce-svc-"),
    "no registered target (the last one draining)": (
        _target_deregistered, {"target group"},
        "aws elbv2 register-targets --target-group-arn arn:aws:elasticloadbalancing:"),
    "private DNS off": (
        lambda w: _private_dns_name(w, verify=True), {"DNS"},
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-"),
    # Two fixes, each printed in turn: verify the name, then turn private DNS on.
    "private DNS name not verified": (
        lambda w: _private_dns_name(w, verify=False), {"DNS"},
        ("aws ec2 start-vpc-endpoint-service-private-dns-verification --service-id vpce-svc-",
         "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-")),
    # Two fixes: enableDnsHostnames on, then private DNS on.
    "private DNS off, and enableDnsHostnames off": (
        _hostnames_off, {"DNS"},
        ("aws ec2 modify-vpc-attribute --vpc-id vpc-",
         "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-")),
    # Two: a rejected endpoint cannot be accepted again: delete it; then the world's own
    # endpoint of the service may take the name, with private DNS on.
    "endpoint rejected": (
        _rejected, {"DNS"},
        ("aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-",
         "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-")),
    # Its kernel still completes handshakes (a TCP health check passes, as at AWS).
    "the only target hung (fault)": (
        _fault(lambda w: ["hang-target", "--instance", w.web]), {"fault"},
        "pocketlink fault clear fault-"),
    # Last: its fix opens the one port to the one address, which the cases before need not.
    "instance SG egress": (_client_egress_closed, {"instance SG egress"},
                           "aws ec2 authorize-security-group-egress --group-id sg-"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_printed_fix_makes_the_probe_pass(world, case):
    breaks, hops, fix = CASES[case]
    undo = breaks(world)
    try:
        hop, account, command = world.broken()
        assert hop in hops, (hop, command)
        *steps, last = (fix,) if isinstance(fix, str) else fix
        for step in steps:
            assert command.startswith(step), command
            world.run_fix(account, command)
            account, command = world.next_fix(command)
        assert command.startswith(last), command
        world.run_fix(account, command)
        assert "verdict: reachable" in world.mended()
    finally:
        if undo is not None:
            undo()


def test_a_port_nothing_listens_on_is_seen_in_the_targets_namespace(world):
    assert re.search(rf"^  ok +target listening +a process listens on {world.web}:{WEB_PORT}",
                     world.mended(), re.M)
    assert "::" in (listening.listening(world.web, WEB_PORT) or [])
    assert listening.listening(world.web, WEB_PORT + 7) == []
    found = listening.observe(Diagnosis(world.client, world.name, WEB_PORT + 7,
                                        targets=[(world.web, WEB_PORT + 7)]))
    assert found.failure is not None and found.failure.name == "target listening"
    assert f"nothing listens on {world.web}:{WEB_PORT + 7}" in found.failure.detail
