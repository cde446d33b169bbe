"""Route 53 health checks probed for real, from the internet namespace, and the public DNS
answering a failover record by them.

An instance in a public subnet (a public IP, its VPC's internet gateway) serves HTTP on
WEB_PORT; its security group lets the internet in. The checks reach it by its public IP as
Route 53's checkers would; a check of a public address nobody owns, or of a port the
security group closes, fails. Revoking the rule turns the PRIMARY of a failover pair
unhealthy, and the public DNS then answers its SECONDARY.
"""

from __future__ import annotations

import secrets
import subprocess

import pytest

from pocketlink.model.aws_services import ROUTE53_CHECKER_IPV4
from pocketlink.polling import NotYet
from tests.conftest import wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, launch

UNOWNED = "203.0.113.250"  # a public address of pocketlink's pool that no one holds


@pytest.fixture(scope="module")
def world(network_daemon, public_subnet):
    ec2 = network_daemon.client("ec2")
    vpc, igw, subnet = public_subnet.vpc, public_subnet.igw, public_subnet.subnet
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    permission = {"IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
                  "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    [instance] = launch(ec2, subnet, UserData=WEB_USER_DATA, SecurityGroupIds=[group])
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])
    public_ip = described["Reservations"][0]["Instances"][0]["PublicIpAddress"]
    return {"ec2": ec2, "vpc": vpc, "igw": igw, "subnet": subnet, "group": group,
            "permission": permission, "ip": public_ip,
            "route53": network_daemon.client("route53"), "daemon": network_daemon}


def check(world, **config) -> str:
    config = {"Type": "HTTP", "IPAddress": world["ip"], "Port": WEB_PORT,
              "RequestInterval": 10, "FailureThreshold": 1, **config}
    config = {k: v for k, v in config.items() if v is not None}
    return world["route53"].create_health_check(CallerReference=secrets.token_hex(8),
                                                HealthCheckConfig=config)["HealthCheck"]["Id"]


def status(world, check_id: str) -> str:
    observed = world["route53"].get_health_check_status(HealthCheckId=check_id)[
        "HealthCheckObservations"]
    return observed[0]["StatusReport"]["Status"] if observed else ""


def until(world, check_id: str, prefix: str, what: str) -> None:
    """Waits for the check's last status to start with ``prefix``."""
    seen = [""]

    def probed() -> bool:
        seen[0] = status(world, check_id)
        return seen[0].startswith(prefix)
    try:
        wait_for(lambda: probed() and seen[0], what, timeout=60, every=0.5)
    except NotYet:
        raise AssertionError(f"{what}: the last status is {seen[0]!r}") from None


def test_an_http_check_reaches_the_public_instance(world):
    check_id = check(world, ResourcePath="/")
    until(world, check_id, "Success: HTTP Status Code 200", "the checker's first probe succeeds")
    observed = world["route53"].get_health_check_status(HealthCheckId=check_id)[
        "HealthCheckObservations"][0]
    assert observed["IPAddress"] == ROUTE53_CHECKER_IPV4
    matched = check(world, Type="HTTP_STR_MATCH", SearchString="Hello World")
    missing = check(world, Type="HTTP_STR_MATCH", SearchString="not in the page")
    tcp = check(world, Type="TCP")
    until(world, matched, "Success", "the string is found")
    until(world, missing, "Failure: Search string", "the string is not found")
    until(world, tcp, "Success", "TCP connects")


def test_what_the_internet_cannot_reach_fails(world):
    unowned = check(world, IPAddress=UNOWNED)
    closed = check(world, Type="TCP", Port=WEB_PORT + 1)  # the group lets no one in there
    until(world, unowned, "Failure", "nobody holds it")
    until(world, closed, "Failure", "the group drops it")


def dig(world, name: str) -> list[str]:
    done = subprocess.run(["dig", "@127.0.0.1", "-p", str(world["daemon"].dns_port), "+short",
                           "+time=2", "+tries=2", name, "A"], capture_output=True, text=True,
                          timeout=30)
    return done.stdout.split()


def test_failover_follows_the_check(world):
    route53 = world["route53"]
    primary = check(world, ResourcePath="/")
    zone = route53.create_hosted_zone(Name=f"t{secrets.token_hex(4)}.example.com",
                                      CallerReference=secrets.token_hex(8))["HostedZone"]
    name = "www." + zone["Name"]
    sets = [{"Name": name, "Type": "A", "TTL": 1, "SetIdentifier": "primary",
             "Failover": "PRIMARY", "HealthCheckId": primary,
             "ResourceRecords": [{"Value": world["ip"]}]},
            {"Name": name, "Type": "A", "TTL": 1, "SetIdentifier": "secondary",
             "Failover": "SECONDARY", "ResourceRecords": [{"Value": UNOWNED}]}]
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": s} for s in sets]})
    until(world, primary, "Success", "the primary is healthy")
    assert dig(world, name) == [world["ip"]]
    world["ec2"].revoke_security_group_ingress(GroupId=world["group"],
                                               IpPermissions=[world["permission"]])
    try:
        wait_for(lambda: dig(world, name) == [UNOWNED], "the DNS fails over", timeout=90, every=0.5)
        assert status(world, primary).startswith("Failure")
    finally:
        world["ec2"].authorize_security_group_ingress(GroupId=world["group"],
                                                      IpPermissions=[world["permission"]])
    wait_for(lambda: dig(world, name) == [world["ip"]], "the DNS fails back", timeout=90, every=0.5)


def test_ingress_routing_through_a_gateway_route_table(world):
    """A gateway route table that sends the public subnet's traffic to another ENI (an
    appliance that forwards nothing) takes the internet's way to the instance: the check
    fails while the table is the gateway's, and passes again once it is not."""
    ec2 = world["ec2"]
    appliance_subnet = ec2.create_subnet(VpcId=world["vpc"], CidrBlock="10.0.2.0/24")[
        "Subnet"]["SubnetId"]
    [appliance] = launch(ec2, appliance_subnet)
    edge = ec2.create_route_table(VpcId=world["vpc"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=edge, DestinationCidrBlock="10.0.1.0/24",
                     NetworkInterfaceId=appliance["NetworkInterfaces"][0]["NetworkInterfaceId"])
    check_id = check(world, ResourcePath="/")
    until(world, check_id, "Success", "the instance answers straight from the internet")
    association = ec2.associate_route_table(RouteTableId=edge, GatewayId=world["igw"])
    try:
        until(world, check_id, "Failure", "the appliance takes the traffic and drops it")
    finally:
        ec2.disassociate_route_table(AssociationId=association["AssociationId"])
    until(world, check_id, "Success", "straight to the instance again")


def test_an_https_check_of_an_aws_service_name(world):
    """A FullyQualifiedDomainName is resolved in the public DNS; HTTPS speaks TLS (with SNI,
    or, EnableSNI off, without) to the service front on the AWS public range. Whatever the
    front answers a bare GET, an HTTP status read back means TLS got through."""
    by_name = check(world, Type="HTTPS", IPAddress=None, Port=443,
                    FullyQualifiedDomainName="sts.us-east-1.amazonaws.com")
    until(world, by_name, "", "probed")
    assert "HTTP Status Code" in status(world, by_name), status(world, by_name)
    [address] = dig(world, "sts.us-east-1.amazonaws.com")
    by_address = check(world, Type="HTTPS", IPAddress=address, Port=443, EnableSNI=False)
    until(world, by_address, "", "probed")
    assert "HTTP Status Code" in status(world, by_address), status(world, by_address)
