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


def test_an_attached_interface_is_eth1_with_its_own_groups(network_daemon):
    """An ENI of another subnet (same zone) attached as eth1: a client of that subnet
    reaches the instance on it, as the ENI's own group allows; detached, eth1 is gone."""
    ec2 = network_daemon.client("ec2", PROVIDER, "us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    first, second = (ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                       AvailabilityZone="us-west-2a")["Subnet"]["SubnetId"]
                     for n in (1, 2))
    [web] = launch(ec2, first, UserData=WEB_USER_DATA)  # the default group: nothing from 10.0.2
    group = ec2.create_security_group(GroupName="eth1", Description="eth1",
                                      VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
         "IpRanges": [{"CidrIp": "10.0.2.0/24"}]}])
    eni = ec2.create_network_interface(SubnetId=second, Groups=[group])["NetworkInterface"]
    callers = ec2.create_security_group(GroupName="callers", Description="callers",
                                        VpcId=vpc)["GroupId"]
    [client] = launch(ec2, second, SecurityGroupIds=[callers])
    attachment = ec2.attach_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                              InstanceId=web["InstanceId"],
                                              DeviceIndex=1)["AttachmentId"]
    address = eni["PrivateIpAddress"]
    wait_for(lambda: f"{address}/24" in run_in(web["InstanceId"], "ip", "-o", "addr", "show",
                                                "dev", "eth1").stdout)
    link = run_in(web["InstanceId"], "ip", "-o", "link", "show", "dev", "eth1").stdout
    assert eni["MacAddress"] in link
    wait_for(lambda: "Hello World" in curl(client["InstanceId"],
                                           f"http://{address}:{WEB_PORT}/").stdout)
    # eth0's group (the VPC's default: its own members only) does not let it in there.
    assert curl(client["InstanceId"],
                f"http://{web['PrivateIpAddress']}:{WEB_PORT}/").returncode == 28
    ec2.detach_network_interface(AttachmentId=attachment)
    wait_for(lambda: "eth1" not in run_in(web["InstanceId"], "ip", "-o", "link").stdout)
