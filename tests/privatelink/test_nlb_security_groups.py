"""An NLB's security groups, with real traffic (AWS: "Update the security groups for your
Network Load Balancer", docs.aws.amazon.com/elasticloadbalancing/latest/network/
load-balancer-security-groups.html):

- inbound rules filter the clients of its listeners; outbound rules what it sends to its
  targets;
- PrivateLink traffic passes them unless the NLB enforces its inbound rules on it (the
  default, ``on``), and then the rules see the client's own private address, "not the
  endpoint interface";
- a target's rule naming the NLB's group admits the NLB (its traffic and its health
  checks) and nothing else.

The world is seed 000's (tests/dataplane/test_seed000.py), plus a second NLB in the
provider's VPC made with a security group of its own, in front of the seed's plain httpd,
behind an endpoint service of its own that the consumer's instance reaches through an
endpoint. The provider's other httpd instance ("proxy") is the client inside the VPC.
Refused flows hang, as at AWS: curl gives up (exit 28).
"""

from __future__ import annotations

import os

import pytest

from pocketlink.polling import wait_for
from pocketlink.seeds.seed000 import PROVIDER, Seed000

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="real traffic needs root")

HANGS = 28  # curl: operation timed out
PORT = 80


def _rule(cidr: str) -> list[dict]:
    return [{"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT,
             "IpRanges": [{"CidrIp": cidr}]}]


@pytest.fixture(scope="module")
def world(make_daemon) -> Seed000:
    daemon = make_daemon()
    seed = Seed000(daemon.endpoint, say=lambda line: None)
    seed.build_provider()
    seed.build_consumer()
    ec2, elb = seed.provider, seed.client("elbv2", PROVIDER)
    vpc = seed.ids["provider_vpc"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    group = ec2.create_security_group(GroupName="nlb", Description="the NLB's own",
                                      VpcId=vpc)["GroupId"]
    [balancer] = elb.create_load_balancer(Name="guarded", Type="network", Scheme="internal",
                                          Subnets=subnets, SecurityGroups=[group]
                                          )["LoadBalancers"]
    [target_group] = elb.create_target_group(
        Name="guarded", Protocol="TCP", Port=PORT, VpcId=vpc, TargetType="instance",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2)["TargetGroups"]
    elb.register_targets(TargetGroupArn=target_group["TargetGroupArn"],
                         Targets=[{"Id": seed.ids["plain"]}])
    # The endpoint's zone may have no target of its own: cross-zone, as the seed's NLB.
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=PORT,
                        DefaultActions=[{"Type": "forward",
                                         "TargetGroupArn": target_group["TargetGroupArn"]}])
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]],
        AcceptanceRequired=False)["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service["ServiceId"], AddAllowedPrincipals=["*"])
    endpoint = seed.consumer.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=seed.ids["consumer_vpc"],
        ServiceName=service["ServiceName"], SubnetIds=[seed.ids["consumer_subnet"]],
        SecurityGroupIds=[seed.ids["endpoint_group"]])["VpcEndpoint"]
    instances = {i["InstanceId"]: i for r in ec2.describe_instances()["Reservations"]
                 for i in r["Instances"]}
    seed.ids.update(
        nlb_group=group, guarded=balancer["LoadBalancerArn"], nlb_name=balancer["DNSName"],
        guarded_targets=target_group["TargetGroupArn"],
        guarded_endpoint=endpoint["VpcEndpointId"],
        endpoint_name=endpoint["DnsEntries"][0]["DnsName"],
        client_ipv4=instances[seed.ids["proxy"]]["PrivateIpAddress"],
        plain_ipv4=instances[seed.ids["plain"]]["PrivateIpAddress"],
        plain_eni=instances[seed.ids["plain"]]["NetworkInterfaces"][0]["NetworkInterfaceId"],
        httpd_group=instances[seed.ids["plain"]]["SecurityGroups"][0]["GroupId"])
    wait_for(lambda: elb.describe_load_balancers(LoadBalancerArns=[balancer[
        "LoadBalancerArn"]])["LoadBalancers"][0]["State"]["Code"] == "active")
    wait_for(lambda: seed.consumer.describe_vpc_endpoints(VpcEndpointIds=[
        endpoint["VpcEndpointId"]])["VpcEndpoints"][0]["State"] == "available")
    return seed


def _from_provider(world: Seed000, url: str) -> int:
    """curl's exit status from inside the provider's VPC (the "proxy" instance)."""
    return world.run("curl", "-sS", "-o", "/dev/null", "-m", "3", url, on="proxy").returncode


def _through_endpoint(world: Seed000) -> int:
    """curl's exit status from the consumer's instance, through the endpoint."""
    return world.run("curl", "-sS", "-o", "/dev/null", "-m", "3",
                     f"http://{world.ids['endpoint_name']}/").returncode


def _set(world: Seed000, enforce: str) -> None:
    world.client("elbv2", PROVIDER).set_security_groups(
        LoadBalancerArn=world.ids["guarded"], SecurityGroups=[world.ids["nlb_group"]],
        EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic=enforce)


def test_inbound_rules_filter_the_listeners_clients(world):
    ec2, url = world.provider, f"http://{world.ids['nlb_name']}/"
    # The group has no inbound rule yet: nothing reaches the listener.
    wait_for(lambda: _from_provider(world, url) == HANGS, "the NLB refuses the client")
    ec2.authorize_security_group_ingress(GroupId=world.ids["nlb_group"],
                                         IpPermissions=_rule(f"{world.ids['client_ipv4']}/32"))
    wait_for(lambda: _from_provider(world, url) == 0, "the NLB admits the client")
    ec2.revoke_security_group_ingress(GroupId=world.ids["nlb_group"],
                                      IpPermissions=_rule(f"{world.ids['client_ipv4']}/32"))
    wait_for(lambda: _from_provider(world, url) == HANGS, "the NLB refuses the client again")
    ec2.authorize_security_group_ingress(GroupId=world.ids["nlb_group"],
                                         IpPermissions=_rule(f"{world.ids['client_ipv4']}/32"))
    wait_for(lambda: _from_provider(world, url) == 0)


def test_privatelink_traffic_is_filtered_only_while_enforced(world):
    # The group admits the provider's client alone; the consumer's instance shares the
    # VPC's CIDR (seed 000), so this test needs their addresses to differ.
    assert world.ids["instance_ipv4"] != world.ids["client_ipv4"]
    wait_for(lambda: _through_endpoint(world) == HANGS, "enforced (the default): refused")
    _set(world, "off")
    wait_for(lambda: _through_endpoint(world) == 0, "not enforced: PrivateLink passes")
    _set(world, "on")
    wait_for(lambda: _through_endpoint(world) == HANGS, "enforced again: refused")
    # The rules see the consumer's own address, not the endpoint's.
    world.provider.authorize_security_group_ingress(
        GroupId=world.ids["nlb_group"], IpPermissions=_rule(f"{world.ids['instance_ipv4']}/32"))
    wait_for(lambda: _through_endpoint(world) == 0, "a rule for the consumer's address")
    world.provider.revoke_security_group_ingress(
        GroupId=world.ids["nlb_group"], IpPermissions=_rule(f"{world.ids['instance_ipv4']}/32"))
    wait_for(lambda: _through_endpoint(world) == HANGS)


def test_a_targets_rule_naming_the_nlbs_group_admits_the_nlb_alone(world):
    ec2, elb = world.provider, world.client("elbv2", PROVIDER)
    behind = ec2.create_security_group(GroupName="behind-nlb", Description="from the NLB",
                                       VpcId=world.ids["provider_vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=behind, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT,
         "UserIdGroupPairs": [{"GroupId": world.ids["nlb_group"]}]}])
    ec2.modify_network_interface_attribute(NetworkInterfaceId=world.ids["plain_eni"],
                                           Groups=[behind])
    try:
        wait_for(lambda: _from_provider(world, f"http://{world.ids['plain_ipv4']}/") == HANGS,
                 "the target refuses a direct client")
        wait_for(lambda: _from_provider(world, f"http://{world.ids['nlb_name']}/") == 0,
                 "the target admits the NLB")
        # The health checks come from the nodes too, and pass.
        wait_for(lambda: elb.describe_target_health(
            TargetGroupArn=world.ids["guarded_targets"])["TargetHealthDescriptions"][0][
            "TargetHealth"]["State"] == "healthy", "the target is healthy", timeout=120)
    finally:
        ec2.modify_network_interface_attribute(NetworkInterfaceId=world.ids["plain_eni"],
                                               Groups=[world.ids["httpd_group"]])


def test_outbound_rules_filter_what_the_nlb_sends(world):
    ec2, url = world.provider, f"http://{world.ids['nlb_name']}/"
    wait_for(lambda: _from_provider(world, url) == 0)
    everything = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    ec2.revoke_security_group_egress(GroupId=world.ids["nlb_group"], IpPermissions=everything)
    try:
        # The client gets in, the node's connection to the target does not get out.
        wait_for(lambda: _from_provider(world, url) != 0, "the node cannot reach its target")
    finally:
        ec2.authorize_security_group_egress(GroupId=world.ids["nlb_group"],
                                            IpPermissions=everything)
    wait_for(lambda: _from_provider(world, url) == 0, "out again")
