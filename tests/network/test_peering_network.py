"""VPC peering with traffic: two VPCs of two accounts peered, each side's routes, the
peering's DNS resolution option, a security group rule that names the peer's group, and
an overlapping pair refused. Nothing crosses before both the peering and the routes say so.
"""

from __future__ import annotations

import pytest

from tests.conftest import CONSUMER, PROVIDER, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, curl, launch, run_in

REGION = "us-west-2"


ZONE_ID = "usw2-az1"  # the same zone for both accounts (zone names differ per account)


def _vpc(ec2, cidr: str) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    base = ".".join(cidr.split(".")[:2])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.1.0/24",
                               AvailabilityZoneId=ZONE_ID)["Subnet"]["SubnetId"]
    return vpc, subnet


def _open_to(ec2, vpc: str, cidr: str) -> str:
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT,
         "IpRanges": [{"CidrIp": cidr}]}])
    return group


def _status(ec2, peering_id: str) -> str:
    return ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering_id])[
        "VpcPeeringConnections"][0]["Status"]["Code"]


def _main_table(ec2, vpc: str) -> str:
    return ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}])[
        "RouteTables"][0]["RouteTableId"]


@pytest.fixture(scope="module")
def world(network_daemon):
    """Account A: VPC 10.0.0.0/16 with a web instance and a client. Account B: VPC
    10.1.0.0/16 with a web instance. Both web groups admit the other VPC's CIDR."""
    a = network_daemon.client("ec2", PROVIDER, REGION)
    b = network_daemon.client("ec2", CONSUMER, REGION)
    vpc_a, subnet_a = _vpc(a, "10.0.0.0/16")
    vpc_b, subnet_b = _vpc(b, "10.1.0.0/16")
    [web_a] = launch(a, subnet_a, SecurityGroupIds=[_open_to(a, vpc_a, "10.1.0.0/16")],
                     UserData=WEB_USER_DATA)
    web_group_b = _open_to(b, vpc_b, "10.0.0.0/16")
    [web_b] = launch(b, subnet_b, SecurityGroupIds=[web_group_b], UserData=WEB_USER_DATA)
    [client_a] = launch(a, subnet_a)
    return {"a": a, "b": b, "vpc_a": vpc_a, "vpc_b": vpc_b, "web_a": web_a, "web_b": web_b,
            "client_a": client_a, "web_group_b": web_group_b, "subnet_a": subnet_a}


@pytest.fixture(scope="module")
def peering(world):
    a, b = world["a"], world["b"]
    created = a.create_vpc_peering_connection(VpcId=world["vpc_a"], PeerVpcId=world["vpc_b"],
                                              PeerOwnerId=CONSUMER)["VpcPeeringConnection"]
    peering_id = created["VpcPeeringConnectionId"]
    assert created["Status"]["Code"] == "initiating-request"
    wait_for(lambda: _status(b, peering_id) == "pending-acceptance")
    # Not accepted yet: a route through it is a blackhole, and nothing crosses.
    table_a = _main_table(a, world["vpc_a"])
    a.create_route(RouteTableId=table_a, DestinationCidrBlock="10.1.0.0/16",
                   VpcPeeringConnectionId=peering_id)
    b.accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    wait_for(lambda: _status(a, peering_id) == "active")
    return {"id": peering_id, "table_a": table_a, "table_b": _main_table(b, world["vpc_b"])}


def _web(world, side: str) -> str:
    return f"http://{world[f'web_{side}']['PrivateIpAddress']}:{WEB_PORT}/"


def test_the_accepted_peering_carries_only_what_both_route_tables_say(world, peering):
    a, b, client = world["a"], world["b"], world["client_a"]["InstanceId"]
    # A routes to B, B has no route back: the SYN arrives, the answer has nowhere to go.
    assert curl(client, _web(world, "b")).returncode == 28
    b.create_route(RouteTableId=peering["table_b"], DestinationCidrBlock="10.0.0.0/16",
                   VpcPeeringConnectionId=peering["id"])
    routes = a.describe_route_tables(RouteTableIds=[peering["table_a"]])["RouteTables"][0]
    assert {"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": peering["id"],
            "Origin": "CreateRoute", "State": "active"} in routes["Routes"]
    wait_for(lambda: "Hello World" in curl(client, _web(world, "b")).stdout)
    # Both ways: B's instance reaches A's web server the same way.
    assert "Hello World" in curl(world["web_b"]["InstanceId"], _web(world, "a")).stdout


def test_dns_names_resolve_across_only_with_the_option(world, peering):
    a, b = world["a"], world["b"]
    name_b = world["web_b"]["PrivateDnsName"]
    client = world["client_a"]["InstanceId"]
    assert run_in(client, "dig", "+short", name_b).stdout.strip() == ""
    # The accepter's owner lets the requester's VPC resolve the accepter's names.
    with pytest.raises(a.exceptions.ClientError) as refused:
        a.modify_vpc_peering_connection_options(
            VpcPeeringConnectionId=peering["id"],
            AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    assert refused.value.response["Error"]["Code"] == "OperationNotPermitted"
    b.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=peering["id"],
        AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    wait_for(lambda: run_in(client, "dig", "+short", name_b).stdout.strip() ==
             world["web_b"]["PrivateIpAddress"])
    answer = curl(client, f"http://{name_b}:{WEB_PORT}/")
    assert "Hello World" in answer.stdout
    # Only that way: B's VPC does not resolve A's names until A says so.
    name_a = world["web_a"]["PrivateDnsName"]
    assert run_in(world["web_b"]["InstanceId"], "dig", "+short", name_a).stdout.strip() == ""


def test_a_rule_naming_the_peers_group_admits_its_members_only(world, peering):
    a, b = world["a"], world["b"]
    web_b = world["web_b"]
    run_in(web_b["InstanceId"], "sh", "-c", "nohup python3 -m http.server 9393 >/dev/null 2>&1 &")
    callers = a.create_security_group(GroupName="callers", Description="callers",
                                      VpcId=world["vpc_a"])["GroupId"]
    b.authorize_security_group_ingress(GroupId=world["web_group_b"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 9393, "ToPort": 9393,
         "UserIdGroupPairs": [{"GroupId": callers, "UserId": PROVIDER}]}])
    shown = b.describe_security_groups(GroupIds=[world["web_group_b"]])["SecurityGroups"][0]
    assert any(p.get("UserIdGroupPairs") == [{
        "GroupId": callers, "UserId": PROVIDER, "VpcId": world["vpc_a"],
        "VpcPeeringConnectionId": peering["id"], "PeeringStatus": "active"}]
        for p in shown["IpPermissions"])
    url = f"http://{web_b['PrivateIpAddress']}:9393/"
    wait_for(lambda: run_in(web_b["InstanceId"], "ss", "-ltn").stdout.count(":9393") > 0)
    _route_back(b, peering)
    assert curl(world["client_a"]["InstanceId"], url).returncode == 28  # not a member
    [member] = launch(a, world["subnet_a"], SecurityGroupIds=[callers])
    wait_for(lambda: curl(member["InstanceId"], url).returncode == 0)


def _route_back(b, peering) -> None:
    """B's route to A through the peering (the first test makes it)."""
    table = b.describe_route_tables(RouteTableIds=[peering["table_b"]])["RouteTables"][0]
    if not any(r.get("VpcPeeringConnectionId") == peering["id"] for r in table["Routes"]):
        b.create_route(RouteTableId=peering["table_b"], DestinationCidrBlock="10.0.0.0/16",
                       VpcPeeringConnectionId=peering["id"])


# A TCP server that says who connected (the socket's peer) and, when the connection
# starts with a PROXY protocol v2 header (TCP over IPv4), whom the header names.
WHO = """
import socket
server = socket.socket(socket.AF_INET6)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("::", 9494))
server.listen()
while True:
    conn, peer = server.accept()
    try:
        conn.settimeout(2)
        data = conn.recv(4096)
        proxied = data.startswith(b"\\r\\n\\r\\n\\x00\\r\\nQUIT\\n") and data[13] == 0x11
        named = socket.inet_ntoa(data[16:20]) if proxied else "-"
        conn.sendall(f"peer={peer[0].removeprefix('::ffff:')} proxy={named}\\n".encode())
    except Exception:
        pass
    conn.close()
"""
ASK = ("import socket,sys; s=socket.create_connection((sys.argv[1], 9494), 3); "
       "s.sendall(b'hello'); print(s.recv(200).decode().strip())")


def _ask(instance_id: str, host: str) -> str:
    return run_in(instance_id, "python3", "-c", ASK, host).stdout.strip()


@pytest.fixture(scope="module")
def endpoint(world, network_daemon):
    """Seed 002's other way: B offers its server as an endpoint service behind an NLB
    (proxy protocol v2 on), A reaches it through an interface endpoint in its own VPC."""
    a, b = world["a"], world["b"]
    elbv2 = network_daemon.client("elbv2", CONSUMER, REGION)
    web_b = world["web_b"]
    b.authorize_security_group_ingress(GroupId=world["web_group_b"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 9494, "ToPort": 9494,
         "IpRanges": [{"CidrIp": "10.0.0.0/16"}, {"CidrIp": "10.1.0.0/16"}]}])
    run_in(web_b["InstanceId"], "sh", "-c", 'nohup python3 -c "$0" >/dev/null 2>&1 &', WHO)
    [balancer] = elbv2.create_load_balancer(Name="who", Type="network", Scheme="internal",
                                            Subnets=[web_b["SubnetId"]])["LoadBalancers"]
    [group] = elbv2.create_target_group(Name="who", Protocol="TCP", Port=9494,
                                        VpcId=world["vpc_b"], TargetType="instance")[
        "TargetGroups"]
    elbv2.modify_target_group_attributes(TargetGroupArn=group["TargetGroupArn"], Attributes=[
        {"Key": "proxy_protocol_v2.enabled", "Value": "true"}])
    elbv2.register_targets(TargetGroupArn=group["TargetGroupArn"],
                           Targets=[{"Id": web_b["InstanceId"]}])
    elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP",
                          Port=9494, DefaultActions=[{"Type": "forward",
                                                      "TargetGroupArn": group["TargetGroupArn"]}])
    service = b.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]],
        AcceptanceRequired=False)["ServiceConfiguration"]
    b.modify_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"],
                                              AddAllowedPrincipals=[f"arn:aws:iam::{PROVIDER}:root"])
    guard = a.create_security_group(GroupName="endpoint", Description="endpoint",
                                    VpcId=world["vpc_a"])["GroupId"]
    a.authorize_security_group_ingress(GroupId=guard, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 9494, "ToPort": 9494,
         "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    created = a.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=world["vpc_a"],
                                    ServiceName=service["ServiceName"],
                                    SubnetIds=[world["subnet_a"]],
                                    SecurityGroupIds=[guard])["VpcEndpoint"]
    wait_for(lambda: a.describe_vpc_endpoints(VpcEndpointIds=[created["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"] == "available")
    [eni] = a.describe_network_interfaces(
        NetworkInterfaceIds=created["NetworkInterfaceIds"])["NetworkInterfaces"]
    return {"address": eni["PrivateIpAddress"]}


def test_seed002_peering_and_privatelink_side_by_side(world, peering, endpoint):
    """What seed 002 weighs, shown: through the peering A's client talks to B's server
    directly (the server sees the client's own address, and B can call back into A); through
    the endpoint service it talks to an address of its own VPC, the server sees the NLB's
    node, and the PROXY v2 header names the client; B has no way into A."""
    _route_back(world["b"], peering)
    client = world["client_a"]
    own = client["PrivateIpAddress"]
    web_b = world["web_b"]
    direct = wait_for(lambda: (said := _ask(client["InstanceId"], web_b["PrivateIpAddress"]))
                      .startswith("peer=") and said)
    assert direct == f"peer={own} proxy=-"
    through = wait_for(lambda: (said := _ask(client["InstanceId"], endpoint["address"]))
                       .startswith("peer=") and said)
    node, named = through.removeprefix("peer=").split(" proxy=")
    assert named == own
    assert node != own and node.startswith("10.1.")  # the NLB's node, in B's VPC
    assert endpoint["address"].startswith("10.0.")  # the endpoint: an address of A's own VPC
    # Peering is both ways: B reaches A's web server. PrivateLink gives B nothing in A.
    assert "Hello World" in curl(web_b["InstanceId"], _web(world, "a")).stdout


def test_deleting_the_peering_cuts_the_link_and_blackholes_its_routes(world, peering):
    a, b = world["a"], world["b"]
    _route_back(b, peering)
    client = world["client_a"]["InstanceId"]
    wait_for(lambda: "Hello World" in curl(client, _web(world, "b")).stdout)
    b.delete_vpc_peering_connection(VpcPeeringConnectionId=peering["id"])
    assert _status(a, peering["id"]) == "deleted"
    table = a.describe_route_tables(RouteTableIds=[peering["table_a"]])["RouteTables"][0]
    assert [r["State"] for r in table["Routes"]
            if r.get("VpcPeeringConnectionId") == peering["id"]] == ["blackhole"]
    wait_for(lambda: curl(client, _web(world, "b")).returncode == 28)


def test_an_overlapping_pair_fails_in_aws_words(world):
    a, b = world["a"], world["b"]
    overlapping, _ = _vpc(b, "10.0.0.0/16")
    peering_id = a.create_vpc_peering_connection(
        VpcId=world["vpc_a"], PeerVpcId=overlapping,
        PeerOwnerId=CONSUMER)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    wait_for(lambda: _status(a, peering_id) == "failed")
    status = a.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering_id])[
        "VpcPeeringConnections"][0]["Status"]
    assert status["Message"] == \
        "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"
    with pytest.raises(b.exceptions.ClientError) as refused:
        b.accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    assert refused.value.response["Error"]["Code"] == "InvalidStateTransition"
