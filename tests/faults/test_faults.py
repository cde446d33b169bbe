"""``pocketlink fault``, on a real network: a provider with a web server in each of two
zones behind an NLB offered as an endpoint service, and a consumer with an endpoint ENI and
a client in each zone. Each test breaks something through the CLI, watches AWS's behaviour
under it, clears it and watches everything recover. Times are printed (``-s``), never
asserted: the machine is shared.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from pocketlink.faults.kernel import netem_missing
from tests.conftest import CONSUMER, PROVIDER, ipv6_subnet, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, launch, run_in, web_group

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="faults need namespaces (root)")
REGION = "us-west-2"


@dataclass
class World:
    daemon: object
    zones: list[str]  # zone ids, the first the one the tests lose
    webs: list[str]  # web server instance per zone
    clients: list[str]  # consumer instance per zone
    endpoint_addresses: list[str]  # endpoint ENI address per zone
    url: str  # the endpoint's regional name
    name: str
    balancer_arn: str
    group_arn: str
    consumer_vpc: str

    def fault(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pocketlink", "fault", *args, "--state",
                               str(self.daemon.state)], capture_output=True, text=True,
                              timeout=30)

    def served_by(self, client: int) -> int | None:
        """Which zone's web server answered client ``client``'s request, None if none."""
        done = run_in(self.clients[client], "curl", "-s", "-m", "5", self.url)
        for zone, web in enumerate(self.web_names):
            if f"from {web}<" in done.stdout:
                return zone
        return None

    @functools.cached_property
    def web_names(self) -> list[str]:
        """Each web server's host name, which it puts in its page."""
        ec2 = self.daemon.client("ec2", PROVIDER, REGION)
        found = ec2.describe_instances(InstanceIds=self.webs)["Reservations"]
        by_id = {i["InstanceId"]: i["PrivateDnsName"].split(".")[0]
                 for r in found for i in r["Instances"]}
        return [by_id[w] for w in self.webs]

    def resolved(self, client: int) -> set[str]:
        done = run_in(self.clients[client], "dig", "+short", "+time=2", "+tries=2", self.name)
        return set(done.stdout.split()) if done.returncode == 0 else set()

    def health(self) -> dict[str, str]:
        elb = self.daemon.client("elbv2", PROVIDER, REGION)
        return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in
                elb.describe_target_health(TargetGroupArn=self.group_arn)[
                    "TargetHealthDescriptions"]}

    def cross_zone(self, on: bool) -> None:
        self.daemon.client("elbv2", PROVIDER, REGION).modify_load_balancer_attributes(
            LoadBalancerArn=self.balancer_arn, Attributes=[
                {"Key": "load_balancing.cross_zone.enabled", "Value": str(on).lower()}])


def _two_zone_vpc(ec2, cidr: str, zones: list[str]) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    base = cidr.rsplit(".", 2)[0]
    return vpc["VpcId"], [ec2.create_subnet(
        VpcId=vpc["VpcId"], CidrBlock=f"{base}.{n + 1}.0/24", Ipv6CidrBlock=ipv6_subnet(block, n + 1),
        AvailabilityZoneId=zone)["Subnet"]["SubnetId"] for n, zone in enumerate(zones)]


@pytest.fixture(scope="module")
def world(make_daemon) -> World:
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, REGION)
    elb = daemon.client("elbv2", PROVIDER, REGION)
    zones = sorted(z["ZoneId"] for z in ec2.describe_availability_zones()[
        "AvailabilityZones"])[:2]
    vpc, subnets = _two_zone_vpc(ec2, "10.0.0.0/16", zones)
    group = web_group(ec2, vpc)
    webs = [launch(ec2, s, SecurityGroupIds=[group], UserData=WEB_USER_DATA)[0]["InstanceId"]
            for s in subnets]
    balancer = elb.create_load_balancer(Name="faults", Type="network", Scheme="internal",
                                        Subnets=subnets)["LoadBalancers"][0]
    target_group = elb.create_target_group(
        Name="faults", Protocol="TCP", Port=WEB_PORT, VpcId=vpc, HealthCheckIntervalSeconds=5,
        HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
        UnhealthyThresholdCount=2)["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=target_group["TargetGroupArn"],
                         Targets=[{"Id": w} for w in webs])
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP",
                        Port=WEB_PORT, DefaultActions=[
                            {"Type": "forward", "TargetGroupArn": target_group["TargetGroupArn"]}])
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]],
        AcceptanceRequired=False)["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"],
                                                AddAllowedPrincipals=["*"])
    theirs = daemon.client("ec2", CONSUMER, REGION)
    consumer_vpc, consumer_subnets = _two_zone_vpc(theirs, "10.1.0.0/16", zones)
    clients = [launch(theirs, s)[0]["InstanceId"] for s in consumer_subnets]
    endpoint_id = theirs.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=consumer_vpc, ServiceName=service["ServiceName"],
        SubnetIds=consumer_subnets)["VpcEndpoint"]["VpcEndpointId"]
    found = wait_for(lambda: (e := theirs.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])[
        "VpcEndpoints"][0])["State"] == "available" and e, "the endpoint available")
    enis = theirs.describe_network_interfaces(
        NetworkInterfaceIds=found["NetworkInterfaceIds"])["NetworkInterfaces"]
    by_subnet = {e["SubnetId"]: e["PrivateIpAddress"] for e in enis}
    name = found["DnsEntries"][0]["DnsName"]
    made = World(daemon, zones, webs, clients, [by_subnet[s] for s in consumer_subnets],
                 f"http://{name}:{WEB_PORT}/", name, balancer["LoadBalancerArn"],
                 target_group["TargetGroupArn"], consumer_vpc)
    wait_for(lambda: set(made.health().values()) == {"healthy"}, "both targets healthy", 60)
    wait_for(lambda: made.served_by(0) is not None and made.served_by(1) is not None,
             "both clients served")
    return made


@pytest.fixture(autouse=True)
def cleared(world: World):
    yield
    world.fault("clear")
    wait_for(lambda: set(world.health().values()) == {"healthy"}, "both targets healthy", 60)


def _since(start: float) -> str:
    return f"{time.monotonic() - start:.1f} s"


def _steadily(world: World, client: int, zones: set[int], times: int = 5) -> bool:
    """``times`` requests in a row from ``client``, each served from one of ``zones``."""
    return all(world.served_by(client) in zones for _ in range(times))


def _steady_after(start: float, world: World, clients: list[int], zones: set[int],
                  what: str, timeout: float = 60) -> str:
    """Waits until ``clients`` are steadily served from ``zones``: the time from ``start``
    to the first request of that steady run (not to the end of the checking)."""
    began = 0.0

    def steady() -> bool:
        nonlocal began
        began = time.monotonic()
        return all(_steadily(world, client, zones) for client in clients)

    wait_for(steady, what, timeout)
    return f"{began - start:.1f} s"


@pytest.mark.parametrize("cross_zone", [False, True], ids=["cross-zone-off", "cross-zone-on"])
def test_losing_a_zone(world: World, cross_zone: bool) -> None:
    world.cross_zone(cross_zone)
    if cross_zone:  # before the loss, the zone-2 client is served from both zones
        wait_for(lambda: {world.served_by(1) for _ in range(12)} == {0, 1},
                 "cross-zone: both zones serve the zone-2 client")
    else:  # zonal affinity: each client is served from its own zone
        assert _steadily(world, 0, {0}) and _steadily(world, 1, {1})
    assert world.resolved(1) == set(world.endpoint_addresses)

    start = time.monotonic()
    done = world.fault("lose-az", "--zone", world.zones[0])
    assert done.returncode == 0, done.stderr
    assert world.zones[0] in done.stdout
    wait_for(lambda: world.resolved(1) == {world.endpoint_addresses[1]},
             "the regional name drops the lost zone's ENI")
    print(f"\n[{'on' if cross_zone else 'off'}] DNS dropped the lost zone after {_since(start)}")
    took = _steady_after(start, world, [1], {1}, "the zone-2 client served by zone 2 alone")
    print(f"[{'on' if cross_zone else 'off'}] zone-2 client steadily served by zone 2 from "
          f"{took}; target health {world.health()}")
    assert world.served_by(0) is None  # the lost zone's client is down with its zone
    wait_for(lambda: world.health()[world.webs[0]] == "unhealthy",
             "the lost zone's target unhealthy", 60)
    print(f"[{'on' if cross_zone else 'off'}] the lost zone's target unhealthy after "
          f"{_since(start)}")
    assert _steadily(world, 1, {1})
    assert world.fault("list").stdout.count("lose-az") == 1

    start = time.monotonic()
    assert world.fault("clear").returncode == 0
    wait_for(lambda: world.served_by(0) is not None, "the zone-1 client served again", 60)
    print(f"[{'on' if cross_zone else 'off'}] zone-1 client served again after "
          f"{_since(start)}")
    wait_for(lambda: world.resolved(1) == set(world.endpoint_addresses),
             "the regional name has both ENIs again")
    wait_for(lambda: set(world.health().values()) == {"healthy"}, "both targets healthy", 60)
    print(f"[{'on' if cross_zone else 'off'}] all recovered (DNS, targets healthy) after "
          f"{_since(start)}")
    assert world.fault("list").stdout.strip() == "no faults"


def test_a_killed_target_fails_its_health_checks_and_traffic_moves(world: World) -> None:
    world.cross_zone(True)
    start = time.monotonic()
    assert world.fault("kill-target", "--instance", world.webs[0]).returncode == 0
    wait_for(lambda: world.health()[world.webs[0]] == "unhealthy", "the killed target unhealthy",
             60)
    print(f"\n[kill] target unhealthy after {_since(start)}")
    took = _steady_after(start, world, [0, 1], {1}, "both clients served by the other target")
    print(f"[kill] every flow on the other target from {took}")
    start = time.monotonic()
    assert world.fault("clear").returncode == 0
    wait_for(lambda: world.health()[world.webs[0]] == "healthy", "the target healthy again", 60)
    print(f"[kill] target healthy again after {_since(start)}")


def test_a_hung_target_stops_its_processes_until_cleared(world: World) -> None:
    from pocketlink.instances import processes
    from pocketlink.network import names

    def states() -> set[str]:
        found = set()
        for pid in processes.pids_in(names.namespace(world.webs[0])):
            with open(f"/proc/{pid}/stat") as stat:
                found.add(stat.read().rsplit(")", 1)[1].split()[0])
        return found

    world.cross_zone(False)  # the zone-1 client's flows go to the zone-1 target alone
    assert _steadily(world, 0, {0})
    assert world.fault("hang-target", "--instance", world.webs[0]).returncode == 0
    wait_for(lambda: states() == {"T"}, "the target's processes stopped")
    # The kernel still completes the handshake: the request is taken, and hangs.
    hung = run_in(world.clients[0], "curl", "-s", "-m", "3", world.url)
    assert hung.returncode == 28, (hung.returncode, hung.stdout, hung.stderr)  # a timeout
    assert world.fault("clear").returncode == 0
    wait_for(lambda: "T" not in states(), "the target's processes running again")
    wait_for(lambda: world.served_by(0) == 0, "the zone-1 client served again")


def _curl_seconds(world: World, client: int) -> float:
    done = run_in(world.clients[client], "curl", "-s", "-o", "/dev/null", "-m", "10", "-w",
                  "%{time_total}", world.url)
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


def _client_eni(world: World, client: int) -> str:
    ec2 = world.daemon.client("ec2", CONSUMER, REGION)
    [found] = ec2.describe_instances(InstanceIds=[world.clients[client]])["Reservations"][0][
        "Instances"]
    return found["NetworkInterfaces"][0]["NetworkInterfaceId"]


def test_latency_on_an_eni(world: World) -> None:
    eni = _client_eni(world, 1)
    if (missing := netem_missing()) is not None:
        done = world.fault("latency", "--eni", eni, "--ms", "300")
        assert done.returncode == 1 and missing in done.stderr
        pytest.skip(missing)
    before = _curl_seconds(world, 1)
    assert world.fault("latency", "--eni", eni, "--ms", "300").returncode == 0
    wait_for(lambda: _curl_seconds(world, 1) > 0.3, "a request slower than the delay")
    print(f"\n[latency] a request took {before:.3f} s, {_curl_seconds(world, 1):.3f} s with 300 ms")


def test_loss_on_an_eni(world: World) -> None:
    eni = _client_eni(world, 1)
    assert world.fault("loss", "--eni", eni, "--percent", "100").returncode == 0
    wait_for(lambda: world.served_by(1) is None, "nothing gets through 100% loss")
    assert world.fault("clear").returncode == 0
    wait_for(lambda: world.served_by(1) is not None, "served again")
    assert world.fault("loss", "--eni", eni, "--percent", "30").returncode == 0
    served = [world.served_by(1) is not None for _ in range(10)]
    print(f"\n[loss] 30%: {sum(served)} of 10 requests served within 5 s each")


def test_refused_faults_say_why(world: World) -> None:
    done = world.fault("latency", "--eni", "eni-0123456789abcdef0", "--ms", "10")
    assert done.returncode == 1 and "no eni 'eni-0123456789abcdef0'" in done.stderr
    endpoint_eni = world.daemon.client("ec2", CONSUMER, REGION).describe_network_interfaces(
        Filters=[{"Name": "addresses.private-ip-address",
                  "Values": [world.endpoint_addresses[0]]}])["NetworkInterfaces"][0]
    done = world.fault("loss", "--eni", endpoint_eni["NetworkInterfaceId"], "--percent", "5")
    assert done.returncode == 1 and "need an instance's ENI" in done.stderr
    done = world.fault("lose-az", "--zone", "nowhere")
    assert done.returncode == 1 and "not a zone id" in done.stderr
    done = world.fault("clear", "fault-0123456789abcdef0")
    assert done.returncode == 1 and "no fault" in done.stderr


def test_a_stopped_resolver_times_out_and_faults_survive_a_restart(world: World) -> None:
    assert world.resolved(1)
    done = world.fault("stop-resolver", "--vpc", world.consumer_vpc)
    assert done.returncode == 0, done.stderr
    fault_id = done.stdout.split()[0]
    wait_for(lambda: not world.resolved(1), "dig times out")
    world.daemon.restart()
    listed = world.fault("list").stdout
    assert fault_id in listed and "stop-resolver" in listed
    assert not world.resolved(1)
    assert world.fault("clear", fault_id).returncode == 0
    wait_for(lambda: world.resolved(1) == set(world.endpoint_addresses), "dig answers again")
    assert world.fault("list").stdout.strip() == "no faults"
