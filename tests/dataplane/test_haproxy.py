"""HAProxy, the reference reader of the PROXY protocol, behind an endpoint: with
``accept-proxy`` it sees the consumer instance's own addresses, IPv4 and IPv6."""

from __future__ import annotations

import pytest

from tests.conftest import CONSUMER, PROVIDER, ipv6_subnet, wait_for
from tests.network.conftest import dual_stack_vpc, launch, run_in

HAPROXY_USER_DATA = """#!/bin/sh
mkdir -p /tmp/pl-haproxy-$$
cat > /tmp/pl-haproxy-$$/haproxy.cfg <<CFG
global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend tells
    bind :80 accept-proxy
    bind :::80 v6only accept-proxy
    http-request return status 200 content-type text/plain lf-string "client=%[src]"
CFG
exec haproxy -f /tmp/pl-haproxy-$$/haproxy.cfg
"""


@pytest.fixture(scope="module")
def world(make_daemon):
    return build_world(make_daemon())


def build_world(daemon) -> dict:
    """A provider's HAProxy behind an NLB and an endpoint service; a consumer's instance and
    interface endpoint to it, available."""
    ec2, elb = daemon.client("ec2", PROVIDER, "us-west-2"), daemon.client("elbv2", PROVIDER,
                                                                          "us-west-2")
    vpc, subnet = dual_stack_vpc(ec2)
    group = ec2.create_security_group(GroupName="haproxy", Description="haproxy",
                                      VpcId=vpc["VpcId"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    [target] = launch(ec2, subnet, SecurityGroupIds=[group], UserData=HAPROXY_USER_DATA)
    balancer = elb.create_load_balancer(Name="tells", Type="network", Scheme="internal",
                                        Subnets=[subnet], IpAddressType="dualstack")["LoadBalancers"][0]
    target_group = elb.create_target_group(Name="tells", Protocol="TCP", Port=80,
                                           VpcId=vpc["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=target_group, Attributes=[
        {"Key": "proxy_protocol_v2.enabled", "Value": "true"}])
    elb.register_targets(TargetGroupArn=target_group, Targets=[{"Id": target["InstanceId"]}])
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]], AcceptanceRequired=False,
        SupportedIpAddressTypes=["ipv4", "ipv6"])["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"],
                                                AddAllowedPrincipals=["*"])
    consumer = daemon.client("ec2", CONSUMER, "us-west-2")
    consumer_vpc = consumer.create_vpc(CidrBlock="10.0.0.0/16",
                                       AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = consumer_vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    consumer_subnet = consumer.create_subnet(
        VpcId=consumer_vpc["VpcId"], CidrBlock="10.0.5.0/24",
        Ipv6CidrBlock=ipv6_subnet(block, 5),
        AvailabilityZoneId=service["AvailabilityZoneIds"][0])["Subnet"]["SubnetId"]
    [instance] = launch(consumer, consumer_subnet, Ipv6AddressCount=1)
    endpoint = consumer.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=consumer_vpc["VpcId"],
        ServiceName=service["ServiceName"], SubnetIds=[consumer_subnet],
        IpAddressType="dualstack", DnsOptions={"DnsRecordIpType": "dualstack"})["VpcEndpoint"]
    wait_for(lambda: consumer.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"] == "available")
    return {"instance": instance, "name": endpoint["DnsEntries"][0]["DnsName"], "daemon": daemon}


@pytest.mark.parametrize("family,address", [("-4", "PrivateIpAddress"), ("-6", "Ipv6Address")])
def test_haproxy_with_accept_proxy_sees_the_consumer(world, family, address):
    def answer() -> str:
        return run_in(world["instance"]["InstanceId"], "curl", "-s", "-m", "3", family,
                      f"http://{world['name']}/").stdout
    wait_for(lambda: answer().startswith("client="))
    assert answer() == f"client={world['instance'][address]}"
