"""The emulated internet, end to end: an internet gateway, a public subnet whose instance has
a public IP, a private subnet behind a NAT gateway with an Elastic IP, an isolated subnet.

What the internet sees is read where it sees it: checkip.amazonaws.com (served in the
internet namespace) answers the address a request arrived from, and the service front logs
the source of each request that came through the internet (aws:SourceIp). The isolated
subnet reaches nothing (a timeout, as the router's blackhole makes it), and neither does the
private one once its route to the NAT gateway is gone. The internet namespace itself reaches
nothing outside pocketlink's namespaces and is reached from nowhere else.
"""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pocketlink.gateway import control
from pocketlink.harness import REGION
from pocketlink.network import names, netns
from pocketlink.network.internet import nat_gateway_traffic
from tests.conftest import ipv6_subnet, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, curl, launch, run_in

CHECKIP = "http://checkip.amazonaws.com"
CURL_TIMEOUT_EXIT = 28
CONNECTIONS = 5


@pytest.fixture(scope="module")
def world(network_daemon, public_subnet):
    ec2 = network_daemon.client("ec2")
    vpc, igw = public_subnet.vpc, public_subnet.igw
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = {"public": public_subnet.subnet, **{
        name: ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")["Subnet"]["SubnetId"]
        for n, name in ((2, "private"), (3, "isolated"))}}
    tables = {"public": public_subnet.table,
              "private": ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]}
    ec2.associate_route_table(RouteTableId=tables["private"], SubnetId=subnets["private"])
    eip = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=subnets["public"],
                                 AllocationId=eip["AllocationId"])["NatGateway"]["NatGatewayId"]
    ec2.get_waiter("nat_gateway_available").wait(
        NatGatewayIds=[nat], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ec2.create_route(RouteTableId=tables["private"], DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat)
    instances = {name: launch(ec2, subnets[name], **(
        {"UserData": WEB_USER_DATA} if name == "private" else {}))[0] for name in subnets}
    return {"ec2": ec2, "vpc": vpc, "igw": igw, "eip": eip, "nat": nat, "tables": tables,
            "subnets": subnets, "instances": instances, "daemon": network_daemon}


def _id(world, name: str) -> str:
    return world["instances"][name]["InstanceId"]


def _checkip(world, name: str) -> subprocess.CompletedProcess:
    return curl(_id(world, name), CHECKIP)


def test_the_public_instance_has_a_public_ip_and_name(world):
    [reservation] = world["ec2"].describe_instances(InstanceIds=[_id(world, "public")])[
        "Reservations"]
    instance = reservation["Instances"][0]
    public_ip = instance["PublicIpAddress"]
    assert public_ip.startswith(("198.51.100.", "203.0.113."))
    assert instance["PublicDnsName"] == f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com"
    assert instance["NetworkInterfaces"][0]["Association"]["IpOwnerId"] == "amazon"
    private = world["ec2"].describe_instances(InstanceIds=[_id(world, "private")])
    assert "PublicIpAddress" not in private["Reservations"][0]["Instances"][0]


def test_through_the_internet_gateway_the_source_is_the_public_ip(world):
    [reservation] = world["ec2"].describe_instances(InstanceIds=[_id(world, "public")])[
        "Reservations"]
    public_ip = reservation["Instances"][0]["PublicIpAddress"]
    wait_for(lambda: _checkip(world, "public").stdout == f"{public_ip}\n",
             "checkip answers the instance's public IP")


def test_through_the_nat_gateway_the_source_is_its_elastic_ip(world):
    eip = world["eip"]["PublicIp"]
    wait_for(lambda: _checkip(world, "private").stdout == f"{eip}\n",
             "checkip answers the NAT gateway's Elastic IP")
    [nat] = world["ec2"].describe_nat_gateways(NatGatewayIds=[world["nat"]])["NatGateways"]
    assert nat["State"] == "available"
    assert nat["NatGatewayAddresses"][0]["PublicIp"] == eip
    traffic = nat_gateway_traffic(world["nat"])
    assert traffic is not None
    assert traffic.bytes_out_to_destination > 0 and traffic.bytes_in_from_destination > 0


def _nat_metric(world, name: str) -> float:
    """The NAT gateway's ``name``, summed over its whole life, as GetMetricData gives it."""
    now = datetime.now(UTC)
    [result] = world["daemon"].client("cloudwatch").get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {
            "Namespace": "AWS/NATGateway", "MetricName": name,
            "Dimensions": [{"Name": "NatGatewayId", "Value": world["nat"]}]},
            "Period": 60, "Stat": "Sum"}}],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=1))[
        "MetricDataResults"]
    return sum(result["Values"])


def _nat_connections_settled(world):
    """The NAT gateway's counters once CloudWatch holds all they counted (the daemon and
    the NAT gateway were made in this module: CloudWatch's sums are their counts)."""
    def settled():
        counted = nat_gateway_traffic(world["nat"])
        assert counted is not None
        return counted if (_nat_metric(world, "ConnectionAttemptCount"),
                           _nat_metric(world, "ConnectionEstablishedCount")) == \
            (counted.connection_attempt_count, counted.connection_established_count) else None
    return wait_for(settled, "CloudWatch's NAT connection counts caught up", every=0.5)


def test_the_nat_gateway_counts_its_connections_as_cloudwatch_does(world):
    """N curls through the NAT gateway: N connections attempted and established (AWS's
    ConnectionAttemptCount and ConnectionEstablishedCount); one to a port the internet drops
    is attempted (its SYN sent again and again) and never established."""
    before = _nat_connections_settled(world)
    for _ in range(CONNECTIONS):
        assert _checkip(world, "private").returncode == 0
    dropped = curl(_id(world, "private"), "http://checkip.amazonaws.com:8080")
    assert dropped.returncode == CURL_TIMEOUT_EXIT
    after = _nat_connections_settled(world)
    assert after.connection_attempt_count - before.connection_attempt_count == CONNECTIONS + 1
    assert after.connection_established_count - before.connection_established_count == \
        CONNECTIONS
    assert after.active_connection_count == 0  # each curl closed its connection


def test_the_service_front_sees_the_nat_gateways_elastic_ip(world):
    """The real AWS CLI in the private instance, no endpoint URL: STS's public name, through
    the NAT and the internet to the service front, which sees the EIP as aws:SourceIp."""
    eip = world["eip"]["PublicIp"]
    answer = run_in(_id(world, "private"), "env", "AWS_ACCESS_KEY_ID=111111111111",
                    "AWS_SECRET_ACCESS_KEY=x", f"AWS_DEFAULT_REGION={REGION}",
                    "AWS_STS_REGIONAL_ENDPOINTS=regional", "aws", "sts",
                    "get-caller-identity", "--output", "json", timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["Account"] == "111111111111"
    assert f"via the internet from {eip}" in world["daemon"].log.read_text()


def test_the_isolated_subnet_reaches_nothing(world):
    answer = _checkip(world, "isolated")
    assert answer.returncode == CURL_TIMEOUT_EXIT, (answer.returncode, answer.stdout)


def test_without_its_route_the_private_subnet_times_out_again(world):
    ec2, table = world["ec2"], world["tables"]["private"]
    eip = world["eip"]["PublicIp"]
    wait_for(lambda: _checkip(world, "private").stdout == f"{eip}\n", "through the NAT")
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    wait_for(lambda: _checkip(world, "private").returncode == CURL_TIMEOUT_EXIT,
             "a timeout once the route is gone")
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=world["nat"])
    wait_for(lambda: _checkip(world, "private").stdout == f"{eip}\n", "back through the NAT")


def test_the_vpcs_own_traffic_stays_inside_it(world):
    """The local route wins over 0.0.0.0/0: the public instance reaches the private one's
    web server directly (the default group lets its members in), not through the internet."""
    private_ip = world["instances"]["private"]["PrivateIpAddress"]
    wait_for(lambda: "Hello" in curl(_id(world, "public"),
                                     f"http://{private_ip}:{WEB_PORT}/").stdout,
             "the private instance's web server, from the public subnet")


def test_the_internet_namespace_reaches_nothing_outside_pocketlink(world):
    namespace = names.internet(str(world["daemon"].state.resolve()))
    assert namespace in netns.ours()
    links = json.loads(subprocess.run(["ip", "-n", namespace, "-j", "link"], capture_output=True,
                                      text=True, check=True).stdout)
    assert {link["ifname"] for link in links} == {"lo", names.downlink(world["vpc"])}
    for family in ("-4", "-6"):
        routes = json.loads(subprocess.run(
            ["ip", "-n", namespace, family, "-j", "route", "show", "table", "all"],
            capture_output=True, text=True, check=True).stdout)
        for route in routes:
            assert route.get("dst") != "default", route
            assert route.get("dev") in ("lo", names.downlink(world["vpc"])), route
    # A listener on the host: nothing in the internet namespace connects to it, whatever
    # address of the host it tries.
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        addresses = json.loads(subprocess.run(["ip", "-4", "-j", "addr"], capture_output=True,
                                              text=True, check=True).stdout)
        hosts = [a["local"] for link in addresses for a in link.get("addr_info", [])]
        probe = ("import socket, sys\n"
                 "for host in sys.argv[2:]:\n"
                 "    try:\n"
                 "        socket.create_connection((host, int(sys.argv[1])), timeout=2).close()\n"
                 "        print('reached', host)\n"
                 "    except OSError as error:\n"
                 "        print('unreached', host, error)\n")
        done = subprocess.run(["ip", "netns", "exec", namespace, "python3", "-c", probe,
                               str(port), *hosts], capture_output=True, text=True, timeout=60)
        lines = done.stdout.splitlines()
        assert len(lines) == len(hosts) and all(a.startswith("unreached ") for a in lines), lines
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_a_gateway_with_mapped_addresses_stays_attached(world):
    ec2 = world["ec2"]
    with pytest.raises(ec2.exceptions.ClientError) as refused:
        ec2.detach_internet_gateway(InternetGatewayId=world["igw"], VpcId=world["vpc"])
    assert refused.value.response["Error"]["Code"] == "DependencyViolation"


def test_an_egress_only_gateway_lets_ipv6_out_and_not_ipv4(world):
    """A dual-stack VPC with only an egress-only internet gateway: its instance reaches STS's
    dual-stack name over IPv6, the front sees the instance's own IPv6 address (no NAT in
    IPv6), and IPv4 gets nowhere (no internet gateway)."""
    ec2 = world["ec2"]
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.7.1.0/24",
                               Ipv6CidrBlock=ipv6_subnet(block, 1))["Subnet"]["SubnetId"]
    eigw = ec2.create_egress_only_internet_gateway(VpcId=vpc["VpcId"])[
        "EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    ec2.create_route(RouteTableId=table, DestinationIpv6CidrBlock="::/0",
                     EgressOnlyInternetGatewayId=eigw)
    [instance] = launch(ec2, subnet, Ipv6AddressCount=1)
    address = instance["NetworkInterfaces"][0]["Ipv6Addresses"][0]["Ipv6Address"]
    answer = wait_for(lambda: (lambda done: done.stdout if done.stdout not in ("", "000")
                               else None)(curl(instance["InstanceId"],
                                               f"https://sts.{REGION}.api.aws/", "-6", "-o",
                                               "/dev/null", "-w", "%{http_code}")),
                      "STS's dual-stack name over IPv6")
    assert answer.isdigit()
    assert f"via the internet from {address}" in world["daemon"].log.read_text()
    assert curl(instance["InstanceId"], CHECKIP).returncode == CURL_TIMEOUT_EXIT


def test_after_a_crash_the_way_out_is_still_there(world):
    """SIGKILL and start again: the gateways, addresses and NAT gateway are all in the
    store, the namespaces outlived the daemon, the NAT's counters kept counting."""
    counted = nat_gateway_traffic(world["nat"])
    world["daemon"].restart(kill=True)
    eip = world["eip"]["PublicIp"]
    wait_for(lambda: _checkip(world, "private").stdout == f"{eip}\n", "through the NAT again")
    after = nat_gateway_traffic(world["nat"])
    assert counted is not None and after is not None
    assert after.bytes_out_to_destination > counted.bytes_out_to_destination
    ec2 = world["daemon"].client("ec2")
    [nat] = ec2.describe_nat_gateways(NatGatewayIds=[world["nat"]])["NatGateways"]
    assert nat["State"] == "available"


def _nat_totals(world) -> dict[str, float]:
    """The NAT gateway's counters on the Prometheus page (the daemon's running totals, the
    console's topology figures), read on the control socket."""
    record = control.RuntimeRecord.read(world["daemon"].state)
    connection = control._UnixConnection(record.socket, 10)
    connection.request("GET", "/_pocketlink/metrics")
    page = connection.getresponse().read().decode()
    connection.close()
    return {sample.name: sample.value for family in text_string_to_metric_families(page)
            for sample in family.samples if sample.name.endswith("_total")
            and sample.labels.get("nat_gateway_id") == world["nat"]}


def test_a_deleted_nat_gateways_totals_are_dropped(world):
    """Its counts since the daemon started are there while it is, and go with it: a daemon
    whose resources come and go keeps the totals of those that are there."""
    def counted() -> float | None:
        # A curl each time: one made before a restarted daemon's first look (the test
        # before restarts it) is part of that look's baseline, never a count (metrics/nat.py).
        assert _checkip(world, "private").returncode == 0
        return _nat_totals(world).get("aws_natgateway_connection_established_count_total")
    wait_for(counted, "a curl in the totals", every=1.0)
    ec2 = world["ec2"]
    ec2.delete_nat_gateway(NatGatewayId=world["nat"])
    ec2.get_waiter("nat_gateway_deleted").wait(
        NatGatewayIds=[world["nat"]], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    wait_for(lambda: not _nat_totals(world), "the deleted NAT gateway's totals dropped")
