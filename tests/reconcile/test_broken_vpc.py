"""One VPC whose network the kernel refuses to build: its endpoint turns ``failed`` with
the kernel's reason and its new instance stays ``pending`` with one, while another VPC in
the same daemon keeps converging; once repaired, both recover by themselves.

The break is real: IPv6 turned off inside the VPC's router namespace behind pocketlink's
back, so that the kernel refuses every IPv6 address pocketlink puts on the router's
links (EACCES)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest

from pocketlink.network import names
from tests.conftest import CONSUMER, PROVIDER, ipv6_subnet, settled, wait_for
from tests.network.conftest import AMI, WEB_PORT, WEB_USER_DATA, curl, dual_stack_vpc, launch

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="builds namespaces: needs root")


def ipv6(namespace: str, on: bool) -> None:
    value = "0" if on else "1"
    subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-q", "-w",
                    f"net.ipv6.conf.all.disable_ipv6={value}",
                    f"net.ipv6.conf.default.disable_ipv6={value}"], check=True)


def consumer_vpc(ec2, cidr: str, zone_id: str) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    base = cidr.rsplit(".", 2)[0]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"{base}.1.0/24",
                               Ipv6CidrBlock=ipv6_subnet(block, 1), AvailabilityZoneId=zone_id)
    return vpc["VpcId"], subnet["Subnet"]["SubnetId"]


def service_of_a_web_server(daemon) -> tuple[str, str]:
    """A provider VPC with a web server behind an NLB, offered as an endpoint service that
    accepts everyone: (service name, the zone id it is in)."""
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    elb = daemon.client("elbv2", PROVIDER, "us-west-2")
    vpc, subnet = dual_stack_vpc(ec2)
    group = ec2.create_security_group(GroupName="web", Description="web",
                                      VpcId=vpc["VpcId"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
         "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    [web] = launch(ec2, subnet, SecurityGroupIds=[group], UserData=WEB_USER_DATA)
    balancer = elb.create_load_balancer(Name="web", Type="network", Scheme="internal",
                                        Subnets=[subnet])["LoadBalancers"][0]
    target_group = elb.create_target_group(Name="web", Protocol="TCP", Port=WEB_PORT,
                                           VpcId=vpc["VpcId"])["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=target_group["TargetGroupArn"],
                         Targets=[{"Id": web["InstanceId"]}])
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP",
                        Port=WEB_PORT, DefaultActions=[
                            {"Type": "forward", "TargetGroupArn": target_group["TargetGroupArn"]}])
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]], AcceptanceRequired=False)
    config = service["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=config["ServiceId"],
                                                AddAllowedPrincipals=["*"])
    return config["ServiceName"], config["AvailabilityZoneIds"][0]


def status(daemon) -> dict:
    """What ``pocketlink status`` reads."""
    with urllib.request.urlopen(f"{daemon.endpoint}/_pocketlink/status", timeout=5) as answer:
        return json.load(answer)


def endpoint(ec2, endpoint_id: str) -> dict:
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]


def endpoint_address(ec2, endpoint_id: str) -> str:
    [eni] = endpoint(ec2, endpoint_id)["NetworkInterfaceIds"]
    return ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["PrivateIpAddress"]


def instance(ec2, instance_id: str) -> dict:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def test_a_broken_vpc_shows_why_and_holds_up_no_other(make_daemon) -> None:
    daemon = make_daemon()
    service, zone = service_of_a_web_server(daemon)
    ec2 = daemon.client("ec2", CONSUMER, "us-west-2")
    broken_vpc, broken_subnet = consumer_vpc(ec2, "10.1.0.0/16", zone)
    healthy_vpc, healthy_subnet = consumer_vpc(ec2, "10.2.0.0/16", zone)
    [broken_client] = launch(ec2, broken_subnet)
    router = names.namespace(broken_vpc)
    ipv6(router, on=False)
    try:
        broken = ec2.create_vpc_endpoint(VpcId=broken_vpc, ServiceName=service,
                                         VpcEndpointType="Interface",
                                         SubnetIds=[broken_subnet])["VpcEndpoint"]["VpcEndpointId"]
        [stuck] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                    SubnetId=broken_subnet)["Instances"]

        failed = wait_for(lambda: (e := endpoint(ec2, broken))["State"] == "failed" and e)
        assert failed["LastError"]["Code"] == "InternalError"
        assert broken_vpc in failed["LastError"]["Message"]
        assert "Permission denied" in failed["LastError"]["Message"]
        reason = wait_for(lambda: instance(ec2, stuck["InstanceId"]).get("StateReason"))
        assert reason["Code"] == "Server.InternalError"
        assert "Permission denied" in reason["Message"]
        assert instance(ec2, stuck["InstanceId"])["State"]["Name"] == "pending"
        assert {f["id"] for f in status(daemon)["failures"]} >= {broken, stuck["InstanceId"]}

        # Meanwhile the other VPC converges: a new instance runs, a new endpoint carries bytes.
        [client] = launch(ec2, healthy_subnet)
        healthy = ec2.create_vpc_endpoint(VpcId=healthy_vpc, ServiceName=service,
                                          VpcEndpointType="Interface",
                                          SubnetIds=[healthy_subnet])["VpcEndpoint"]["VpcEndpointId"]
        wait_for(lambda: endpoint(ec2, healthy)["State"] == "available")
        page = curl(client["InstanceId"], f"http://{endpoint_address(ec2, healthy)}:{WEB_PORT}/")
        assert "Hello World" in page.stdout, page
        assert endpoint(ec2, broken)["State"] == "failed"
    finally:
        ipv6(router, on=True)

    # Repaired behind pocketlink's back too: the retries find the kernel willing again.
    wait_for(lambda: endpoint(ec2, broken)["State"] == "available", timeout=60)
    assert "LastError" not in endpoint(ec2, broken)
    assert settled(ec2, [stuck["InstanceId"]], timeout=60) == {stuck["InstanceId"]: "running"}
    assert "StateReason" not in instance(ec2, stuck["InstanceId"])
    page = curl(broken_client["InstanceId"], f"http://{endpoint_address(ec2, broken)}:{WEB_PORT}/")
    assert "Hello World" in page.stdout, page
    assert status(daemon)["failures"] == []
