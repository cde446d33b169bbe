"""Seed 000 end to end, byte for byte where the seed prints bytes: the consumer's curl
through the endpoint reaches the provider's httpd, over IPv4 and IPv6, by the endpoint's
names and by the verified private DNS name; with proxy protocol v2 on, httpd logs the
consumer instance's own addresses. The sections run in the seed's order, on one world.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from pocketlink.seeds.seed000 import PLAIN_PORT, PRIVATE_NAME, PROXY_PORT, Seed000
from tests.conftest import wait_for

PAGE = re.compile(r"^<h1>Hello World from ip-10-0-\d+-\d+\.us-west-2\.compute\.internal</h1>$")
ACCESS = re.compile(r'^(\S+) - - \[[^]]+\] "GET / HTTP/1\.1" 200 \d+ "-" "curl/[\d.]+"$')


@pytest.fixture(scope="module")
def seed(make_daemon) -> Seed000:
    daemon = make_daemon()
    world = Seed000(daemon.endpoint, say=lambda line: None)
    world.daemon = daemon  # type: ignore[attr-defined]
    world.build_provider()
    world.build_consumer()
    return world


def _page(answer: subprocess.CompletedProcess) -> str:
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.strip()


def _clients(seed: Seed000, kind: str) -> list[str]:
    return [m.group(1) for line in seed.access_log(kind) if (m := ACCESS.match(line))]


def test_section1_pending_acceptance_carries_nothing_then_accepted_it_does(seed):
    endpoint = seed.consumer.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=seed.ids["consumer_vpc"],
        ServiceName=seed.ids["service_name"], SubnetIds=[seed.ids["consumer_subnet"]],
        SecurityGroupIds=[seed.ids["endpoint_group"]])["VpcEndpoint"]
    assert endpoint["State"] == "pendingAcceptance"
    name = endpoint["DnsEntries"][0]["DnsName"]
    # The name resolves already, but nothing answers: the client hangs, as at AWS.
    address = seed.run("dig", "+short", name).stdout.strip()
    assert address
    assert seed.curl(f"http://{name}/").returncode == 28
    seed.consumer.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    wait_for(lambda: seed.consumer.describe_vpc_endpoints(VpcEndpointIds=[
        endpoint["VpcEndpointId"]])["VpcEndpoints"][0]["State"] == "deleted")

    created = seed.section1_create_and_accept()
    eni = seed.consumer.describe_network_interfaces(
        NetworkInterfaceIds=created["NetworkInterfaceIds"])["NetworkInterfaces"][0]
    assert seed.run("dig", "+short", seed.ids["regional_name"]).stdout.split() == \
        [eni["PrivateIpAddress"]]  # seed 001's check
    for name in (seed.ids["regional_name"], seed.ids["zonal_name"]):
        assert PAGE.match(_page(seed.curl(name)))
    # The target sees the NLB's address, not the consumer's (the seed's first access log).
    assert set(_clients(seed, "plain")) <= {
        a["PrivateIPv4Address"] for z in seed.client("elbv2", "111111111111")
        .describe_load_balancers()["LoadBalancers"][0]["AvailabilityZones"]
        for a in z["LoadBalancerAddresses"]}
    assert seed.ids["instance_ipv4"] not in _clients(seed, "plain")


def test_the_endpoint_names_resolve_from_anywhere(seed):
    public = subprocess.run(["dig", "+short", "@127.0.0.1", "-p", str(seed.daemon.dns_port),
                             seed.ids["regional_name"]], capture_output=True, text=True)
    assert public.stdout.strip() == seed.run("dig", "+short",
                                             seed.ids["regional_name"]).stdout.strip()


def test_section2_ipv6_needs_the_service_and_the_endpoint_dual_stack(seed):
    name = seed.ids["regional_name"]
    assert seed.run("dig", "+short", "AAAA", name).stdout.strip() == ""  # no AAAA records
    assert seed.curl("-6", f"http://{name}/").returncode != 0
    seed.section2_dual_stack()
    assert seed.run("dig", "+short", "AAAA", name).stdout.strip()
    assert PAGE.match(_page(seed.curl("-6", f"http://{name}/")))
    assert PAGE.match(_page(seed.curl("-4", f"http://{name}/")))


def test_section3_the_private_name_answers_inside_the_consumer_vpc_only(seed):
    assert seed.curl(f"http://{PRIVATE_NAME}/").returncode != 0  # before: no such name
    seed.section3_private_dns()
    for family in ("-4", "-6"):
        assert PAGE.match(_page(seed.curl(family, f"http://{PRIVATE_NAME}/")))
    outside = subprocess.run(["dig", "@127.0.0.1", "-p", str(seed.daemon.dns_port),
                              PRIVATE_NAME, "A"], capture_output=True, text=True).stdout
    assert "ANSWER: 0" in outside  # the internet knows the zone, not this name's address


def test_proxy_protocol_v2_shows_the_consumer_instance_to_httpd(seed):
    for family in ("-4", "-6"):
        for name in (seed.ids["regional_name"], PRIVATE_NAME):
            assert PAGE.match(_page(seed.curl(family, f"http://{name}:{PROXY_PORT}/")))
    clients = _clients(seed, "proxy")
    assert clients.count(seed.ids["instance_ipv4"]) == 2
    assert clients.count(seed.ids["instance_ipv6"]) == 2
    assert len(clients) == 4


def test_without_the_inbound_rule_curl_hangs(seed):
    ec2 = seed.consumer
    rule = [{"IpProtocol": "tcp", "FromPort": PLAIN_PORT, "ToPort": PLAIN_PORT,
             "UserIdGroupPairs": [{"GroupId": g["GroupId"]} for g in ec2.describe_security_groups(
                 Filters=[{"Name": "group-name", "Values": ["private-instance"]},
                          {"Name": "vpc-id", "Values": [seed.ids["consumer_vpc"]]}])[
                 "SecurityGroups"]]}]
    ec2.revoke_security_group_ingress(GroupId=seed.ids["endpoint_group"], IpPermissions=rule)
    wait_for(lambda: seed.curl(f"http://{seed.ids['regional_name']}/").returncode == 28)
    ec2.authorize_security_group_ingress(GroupId=seed.ids["endpoint_group"], IpPermissions=rule)
    wait_for(lambda: seed.curl(f"http://{seed.ids['regional_name']}/").returncode == 0)


def test_the_provider_cannot_reach_into_the_consumer_vpc(seed):
    endpoint_address = seed.run("dig", "+short", seed.ids["regional_name"]).stdout.split()[0]
    provider_side = subprocess.run(
        ["ip", "netns", "exec", f"pl-{seed.ids['plain']}", "curl", "-sS", "-m", "3",
         f"http://{endpoint_address}/"], capture_output=True, text=True)
    # The same address exists in the provider's VPC or not at all: never the consumer's ENI.
    assert "Hello World" not in provider_side.stdout or endpoint_address not in \
        seed.run("ip", "-o", "addr").stdout
    into_instance = subprocess.run(
        ["ip", "netns", "exec", f"pl-{seed.ids['plain']}", "curl", "-sS", "-m", "3",
         f"http://[{seed.ids['instance_ipv6']}]:22/"], capture_output=True, text=True)
    assert into_instance.returncode != 0


def test_rejecting_an_available_endpoint_stops_new_connections(seed):
    seed.provider.reject_vpc_endpoint_connections(ServiceId=seed.ids["service"],
                                                  VpcEndpointIds=[seed.ids["endpoint"]])
    assert seed.endpoint_state() == "rejected"
    wait_for(lambda: seed.curl(f"http://{seed.ids['regional_name']}/").returncode == 28)
