"""A web server offered as an endpoint service, and consumer VPCs to reach it: what the
tests that carry bytes through endpoints share (root: they build namespaces)."""

from __future__ import annotations

from tests.conftest import PROVIDER, ipv6_subnet
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, dual_stack_vpc, launch, web_group


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
    group = web_group(ec2, vpc["VpcId"])
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


def endpoint(ec2, endpoint_id: str) -> dict:
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]


def endpoint_address(ec2, endpoint_id: str) -> str:
    [eni] = endpoint(ec2, endpoint_id)["NetworkInterfaceIds"]
    return ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["PrivateIpAddress"]


