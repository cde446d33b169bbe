"""Addresses assigned to an instance's ENI after launch are on its eth0 at once, and
answer; unassigned, they are gone."""

from __future__ import annotations

from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, curl, dual_stack_vpc, launch, run_in, web_group


def test_secondary_addresses_reach_the_instance(network_daemon):
    ec2 = network_daemon.client("ec2", PROVIDER, "us-west-2")
    vpc, subnet = dual_stack_vpc(ec2)
    [web] = launch(ec2, subnet, SecurityGroupIds=[web_group(ec2, vpc["VpcId"], ipv6=True)],
                   UserData=WEB_USER_DATA)
    [client] = launch(ec2, subnet, Ipv6AddressCount=1)
    eni = web["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.assign_private_ip_addresses(NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.200"])
    [six] = ec2.assign_ipv6_addresses(NetworkInterfaceId=eni,
                                      Ipv6AddressCount=1)["AssignedIpv6Addresses"]
    wait_for(lambda: "10.0.1.200/24" in run_in(web["InstanceId"], "ip", "-o", "addr").stdout)
    assert six in run_in(web["InstanceId"], "ip", "-o", "addr").stdout
    wait_for(lambda: "Hello World" in curl(client["InstanceId"],
                                           f"http://10.0.1.200:{WEB_PORT}/").stdout)
    wait_for(lambda: "Hello World" in curl(client["InstanceId"],
                                           f"http://[{six}]:{WEB_PORT}/").stdout)
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.200"])
    wait_for(lambda: "10.0.1.200" not in run_in(web["InstanceId"], "ip", "-o", "addr").stdout)
    assert curl(client["InstanceId"], f"http://10.0.1.200:{WEB_PORT}/").returncode != 0
