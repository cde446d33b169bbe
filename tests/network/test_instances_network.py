"""Instances as namespaces: addresses, reachability, security groups, isolation, DNS."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest

from pocketlink.network import netns
from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import (
    WEB_PORT,
    WEB_USER_DATA,
    curl,
    dual_stack_vpc,
    launch,
    run_in,
    web_group,
)


@pytest.fixture(scope="module")
def world(network_daemon):
    """VPC A with a web instance and a client; VPC B with the same CIDR and one instance."""
    ec2 = network_daemon.client("ec2", PROVIDER, "us-west-2")
    vpc, subnet = dual_stack_vpc(ec2)
    group = web_group(ec2, vpc["VpcId"], ipv6=True)
    [web] = launch(ec2, subnet, SecurityGroupIds=[group], Ipv6AddressCount=1,
                   UserData=WEB_USER_DATA)
    [client] = launch(ec2, subnet, Ipv6AddressCount=1)
    other_vpc, other_subnet = dual_stack_vpc(ec2)
    [stranger] = launch(ec2, other_subnet, Ipv6AddressCount=1)
    wait_for(lambda: "Hello" in curl(client["InstanceId"],
                                     f"http://{web['PrivateIpAddress']}:{WEB_PORT}/").stdout)
    return {"ec2": ec2, "vpc": vpc, "subnet": subnet, "web": web, "client": client,
            "web_group": group, "stranger": stranger, "other_vpc": other_vpc}


def test_an_instance_has_its_eni_addresses_and_mac(world):
    web = world["web"]
    shown = run_in(web["InstanceId"], "ip", "-o", "addr", "show", "dev", "eth0").stdout
    assert f"inet {web['PrivateIpAddress']}/24" in shown
    assert web["Ipv6Address"] in shown
    link = run_in(web["InstanceId"], "ip", "-o", "link", "show", "dev", "eth0").stdout
    assert web["NetworkInterfaces"][0]["MacAddress"] in link


def test_user_data_web_server_answers_another_instance_over_ipv4_and_ipv6(world):
    web, client = world["web"], world["client"]
    assert "Hello World" in curl(client["InstanceId"],
                                 f"http://{web['PrivateIpAddress']}:{WEB_PORT}/").stdout
    assert "Hello World" in curl(client["InstanceId"],
                                 f"http://[{web['Ipv6Address']}]:{WEB_PORT}/").stdout


def test_a_port_no_rule_allows_is_silently_dropped(world):
    web, client = world["web"], world["client"]
    started = run_in(web["InstanceId"], "sh", "-c",
                     "nohup python3 -m http.server 9090 >/dev/null 2>&1 & echo started")
    assert "started" in started.stdout
    answer = curl(client["InstanceId"], f"http://{web['PrivateIpAddress']}:9090/")
    assert answer.returncode == 28  # curl's timeout: dropped, not refused, as at AWS


def test_a_rule_added_works_at_once_and_a_rule_removed_stops_new_connections(world):
    ec2, web, client = world["ec2"], world["web"], world["client"]
    run_in(web["InstanceId"], "sh", "-c", "nohup python3 -m http.server 9191 >/dev/null 2>&1 &")
    rule = [{"IpProtocol": "tcp", "FromPort": 9191, "ToPort": 9191,
             "IpRanges": [{"CidrIp": f"{client['PrivateIpAddress']}/32"}]}]
    ec2.authorize_security_group_ingress(GroupId=world["web_group"], IpPermissions=rule)
    wait_for(lambda: curl(client["InstanceId"],
                          f"http://{web['PrivateIpAddress']}:9191/").returncode == 0)
    ec2.revoke_security_group_ingress(GroupId=world["web_group"], IpPermissions=rule)
    wait_for(lambda: curl(client["InstanceId"],
                          f"http://{web['PrivateIpAddress']}:9191/").returncode == 28)


def test_a_group_reference_follows_membership(world):
    ec2, web, client = world["ec2"], world["web"], world["client"]
    clients = ec2.create_security_group(GroupName="clients", Description="clients",
                                        VpcId=world["vpc"]["VpcId"])["GroupId"]
    run_in(web["InstanceId"], "sh", "-c", "nohup python3 -m http.server 9292 >/dev/null 2>&1 &")
    ec2.authorize_security_group_ingress(GroupId=world["web_group"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 9292, "ToPort": 9292,
         "UserIdGroupPairs": [{"GroupId": clients}]}])
    assert curl(client["InstanceId"], f"http://{web['PrivateIpAddress']}:9292/").returncode == 28
    launched = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                 SubnetId=world["subnet"], SecurityGroupIds=[clients])
    member = launched["Instances"][0]["InstanceId"]
    wait_for(lambda: curl(member, f"http://{web['PrivateIpAddress']}:9292/").returncode == 0)


def test_another_vpc_with_the_same_cidr_reaches_neither(world):
    stranger, web = world["stranger"], world["web"]
    assert ipaddress.ip_address(stranger["PrivateIpAddress"]) in ipaddress.ip_network(
        "10.0.1.0/24")
    assert curl(stranger["InstanceId"],
                f"http://{web['PrivateIpAddress']}:{WEB_PORT}/").returncode != 0
    assert curl(stranger["InstanceId"], f"http://[{web['Ipv6Address']}]:{WEB_PORT}/",
                "-6").returncode != 0


def _host_addresses() -> list[str]:
    out = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        address = parts[3].split("/")[0]
        if not ipaddress.ip_address(address).is_link_local:
            found.append(address)
    return found


def test_nothing_in_a_namespace_reaches_the_root_namespace(world, network_daemon):
    client = world["client"]
    routes = run_in(client["InstanceId"], "ip", "route", "get", "1.1.1.1").stdout
    assert "via 10.0.1.1" in routes  # only ever the VPC's router, which has nowhere to go
    for address in _host_addresses():
        family = "-6" if ":" in address else "-4"
        target = f"[{address}]" if ":" in address else address
        answer = curl(client["InstanceId"], f"http://{target}:{network_daemon.port}/", family)
        if ipaddress.ip_address(address).is_loopback:
            assert answer.returncode == 7  # its own loopback: nothing listens there
        else:
            assert answer.returncode != 0
    root_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert not [line for line in root_links.splitlines() if line.split(":")[1].strip()
                .startswith("pl")]
    router = f"pl-{world['vpc']['VpcId']}"
    assert router in netns.ours()
    router_links = subprocess.run(["ip", "-n", router, "-o", "link"], capture_output=True,
                                  text=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in router_links.splitlines()]
    assert all(n == "lo" or n.startswith("pl") for n in names), names


def test_instance_names_resolve_inside_the_vpc_only(world, network_daemon):
    web, client, stranger = world["web"], world["client"], world["stranger"]
    name = web["PrivateDnsName"]
    assert run_in(client["InstanceId"], "dig", "+short", name).stdout.strip() == \
        web["PrivateIpAddress"]
    assert run_in(client["InstanceId"], "dig", "+short", "-x",
                  web["PrivateIpAddress"]).stdout.strip() == name + "."
    assert run_in(stranger["InstanceId"], "dig", "+short", name).stdout.strip() in (
        "", stranger["PrivateIpAddress"])  # its own VPC knows only its own instances
    outside = subprocess.run(["dig", "@127.0.0.1", "-p", str(network_daemon.dns_port), name],
                             capture_output=True, text=True).stdout
    assert "status: REFUSED" in outside
    there_is_no_internet = run_in(client["InstanceId"], "dig", "example.com").stdout
    assert "status: NXDOMAIN" in there_is_no_internet


def test_the_resolver_answers_on_all_three_addresses(world):
    web, client = world["web"], world["client"]
    for server in ("10.0.0.2", "169.254.169.253", "fd00:ec2::253"):
        answer = run_in(client["InstanceId"], "dig", "+short", f"@{server}",
                        web["PrivateDnsName"]).stdout.strip()
        assert answer == web["PrivateIpAddress"], server
    tcp = run_in(client["InstanceId"], "dig", "+tcp", "+short", web["PrivateDnsName"])
    assert tcp.stdout.strip() == web["PrivateIpAddress"]


def test_dns_support_off_silences_the_resolver(network_daemon):
    ec2 = network_daemon.client("ec2", PROVIDER, "us-west-2")
    vpc, subnet = dual_stack_vpc(ec2, "10.7.0.0/16")
    ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsSupport={"Value": False})
    [instance] = launch(ec2, subnet)
    answer = run_in(instance["InstanceId"], "dig", "+tries=1", "+time=1", instance[
        "PrivateDnsName"])
    assert "connection timed out" in answer.stdout or "no servers could be reached" in \
        answer.stdout


def test_console_output_holds_what_user_data_printed(world):
    ec2, web = world["ec2"], world["web"]
    output = ec2.get_console_output(InstanceId=web["InstanceId"])["Output"]
    assert f"{web['InstanceId']} booted" in output


def test_exec_passes_stdin_stdout_and_the_exit_code_through(world):
    instance = world["client"]["InstanceId"]
    echoed = subprocess.run([sys.executable, "-m", "pocketlink", "exec", instance, "--", "cat"],
                            input="through the namespace\n", capture_output=True, text=True,
                            timeout=20)
    assert echoed.stdout == "through the namespace\n"
    assert run_in(instance, "sh", "-c", "exit 3").returncode == 3
    assert run_in(instance, "cat", "/etc/resolv.conf").stdout.splitlines()[1] == \
        "nameserver 10.0.0.2"
