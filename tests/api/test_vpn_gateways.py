"""Site-to-Site VPN's API: virtual private gateways, their attachments and routes, route
propagation, customer gateways and VPN connections with static routes, errors included
(the shared ``--no-network`` daemon). Where AWS's words are known they are asserted and
their source named; the network side (a vgw route drops) is tests/network/test_vpn.py."""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from tests.conftest import wait_for


def _error(error: pytest.ExceptionInfo) -> tuple[str, str]:
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def _gateway(ec2, gateway_id: str) -> dict:
    [found] = ec2.describe_vpn_gateways(VpnGatewayIds=[gateway_id])["VpnGateways"]
    return found


def _connection(ec2, connection_id: str) -> dict:
    [found] = ec2.describe_vpn_connections(VpnConnectionIds=[connection_id])["VpnConnections"]
    return found


def _table(ec2, table_id: str) -> dict:
    [found] = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
    return found


def _main_table(ec2, vpc: dict) -> str:
    return ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16")


@pytest.fixture
def vgw(ec2) -> str:
    return ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]


def _attach(ec2, gateway_id: str, vpc: dict) -> None:
    ec2.attach_vpn_gateway(VpnGatewayId=gateway_id, VpcId=vpc["VpcId"])
    wait_for(lambda: _gateway(ec2, gateway_id)["VpcAttachments"] ==
             [{"VpcId": vpc["VpcId"], "State": "attached"}])


@pytest.fixture
def cgw(ec2) -> str:
    return ec2.create_customer_gateway(Type="ipsec.1", IpAddress="198.18.0.10",
                                       BgpAsn=65010)["CustomerGateway"]["CustomerGatewayId"]


# --- virtual private gateways ------------------------------------------------------------
def test_a_gateway_is_made_attached_detached_and_deleted(ec2, vpc):
    made = ec2.create_vpn_gateway(
        Type="ipsec.1", AvailabilityZone="us-east-1a", TagSpecifications=[
            {"ResourceType": "vpn-gateway", "Tags": [{"Key": "Name", "Value": "to-office"}]}],
    )["VpnGateway"]
    gateway_id = made["VpnGatewayId"]
    assert re.fullmatch(r"vgw-[0-9a-f]{17}", gateway_id)
    # AWS CLI reference's create-vpn-gateway example: available at once, ASN 64512
    assert made["State"] == "available" and made["Type"] == "ipsec.1"
    assert made["AmazonSideAsn"] == 64512 and made["AvailabilityZone"] == "us-east-1a"
    assert made["VpcAttachments"] == []

    attached = ec2.attach_vpn_gateway(VpnGatewayId=gateway_id, VpcId=vpc["VpcId"])
    # attach-vpn-gateway's example answers "attaching"; the gateway then shows "attached"
    assert attached["VpcAttachment"] == {"VpcId": vpc["VpcId"], "State": "attaching"}
    wait_for(lambda: _gateway(ec2, gateway_id)["VpcAttachments"] ==
             [{"VpcId": vpc["VpcId"], "State": "attached"}])
    with pytest.raises(ClientError) as refused:  # Terraform's sweeper met these words (#5831)
        ec2.delete_vpn_gateway(VpnGatewayId=gateway_id)
    assert _error(refused) == ("IncorrectState", "The VPN gateway is in use.")

    ec2.detach_vpn_gateway(VpnGatewayId=gateway_id, VpcId=vpc["VpcId"])
    assert _gateway(ec2, gateway_id)["VpcAttachments"][0]["State"] in ("detaching", "detached")
    wait_for(lambda: _gateway(ec2, gateway_id)["VpcAttachments"] ==
             [{"VpcId": vpc["VpcId"], "State": "detached"}])
    ec2.delete_vpn_gateway(VpnGatewayId=gateway_id)
    gone = _gateway(ec2, gateway_id)  # still described for a while, as AWS does
    assert gone["State"] == "deleted" and gone["Tags"] == [{"Key": "Name", "Value": "to-office"}]
    with pytest.raises(ClientError) as refused:
        ec2.attach_vpn_gateway(VpnGatewayId=gateway_id, VpcId=vpc["VpcId"])
    assert _error(refused)[0] == "InvalidVpnGatewayID.NotFound"


def test_filters_and_asn(ec2, make_vpc):
    vpc = make_vpc("10.1.0.0/16")
    mine = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=65001)["VpnGateway"]
    other = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]
    _attach(ec2, mine["VpnGatewayId"], vpc)

    def ids(*filters: tuple[str, str]) -> set[str]:
        found = ec2.describe_vpn_gateways(
            Filters=[{"Name": n, "Values": [v]} for n, v in filters])["VpnGateways"]
        return {g["VpnGatewayId"] for g in found} & {mine["VpnGatewayId"], other["VpnGatewayId"]}

    assert mine["AmazonSideAsn"] == 65001
    assert ids(("attachment.vpc-id", vpc["VpcId"])) == {mine["VpnGatewayId"]}
    assert ids(("attachment.state", "attached")) == {mine["VpnGatewayId"]}
    assert ids(("amazon-side-asn", "65001")) == {mine["VpnGatewayId"]}
    assert ids(("type", "ipsec.1"), ("state", "available")) == {
        mine["VpnGatewayId"], other["VpnGatewayId"]}
    assert ids(("vpn-gateway-id", other["VpnGatewayId"])) == {other["VpnGatewayId"]}
    ec2.create_tags(Resources=[other["VpnGatewayId"]], Tags=[{"Key": "team", "Value": "net"}])
    assert ids(("tag:team", "net")) == {other["VpnGatewayId"]}
    assert ids(("tag-key", "team")) == {other["VpnGatewayId"]}
    described = ec2.describe_tags(Filters=[
        {"Name": "resource-id", "Values": [other["VpnGatewayId"]]}])["Tags"]
    assert described[0]["ResourceType"] == "vpn-gateway"


def test_unknown_gateways_are_refused(ec2, vpc):
    # AWS's words, as Terraform's issue #4894 quotes DetachVpnGateway's answer
    for call in (lambda: ec2.delete_vpn_gateway(VpnGatewayId="vgw-0123456789abcdef0"),
                 lambda: ec2.attach_vpn_gateway(VpnGatewayId="vgw-0123456789abcdef0",
                                                VpcId=vpc["VpcId"]),
                 lambda: ec2.detach_vpn_gateway(VpnGatewayId="vgw-0123456789abcdef0",
                                                VpcId=vpc["VpcId"]),
                 lambda: ec2.describe_vpn_gateways(VpnGatewayIds=["vgw-0123456789abcdef0"])):
        with pytest.raises(ClientError) as refused:
            call()
        assert _error(refused) == ("InvalidVpnGatewayID.NotFound",
                                   "The vpnGateway ID 'vgw-0123456789abcdef0' does not exist")


def test_one_vpc_per_gateway_and_one_gateway_per_vpc(ec2, make_vpc, vgw):
    first, second = make_vpc("10.2.0.0/16"), make_vpc("10.3.0.0/16")
    _attach(ec2, vgw, first)
    for vpc in (first, second):  # attached twice, or to another VPC while attached
        with pytest.raises(ClientError) as refused:
            ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc["VpcId"])
        assert _error(refused)[0] == "VpnGatewayAttachmentLimitExceeded"
    another = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    with pytest.raises(ClientError) as refused:
        ec2.attach_vpn_gateway(VpnGatewayId=another, VpcId=first["VpcId"])
    assert _error(refused)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as refused:  # the code is AWS's (its EC2 error list)
        ec2.detach_vpn_gateway(VpnGatewayId=vgw, VpcId=second["VpcId"])
    assert _error(refused)[0] == "InvalidVpnGatewayAttachment.NotFound"
    ec2.attach_vpn_gateway(VpnGatewayId=another, VpcId=second["VpcId"])


def test_wrong_type_and_asn_are_refused(ec2):
    for params in ({"Type": "ipsec.2"}, {"Type": "ipsec.1", "AmazonSideAsn": 100},
                   {"Type": "ipsec.1", "AvailabilityZone": "eu-west-1a"}):
        with pytest.raises(ClientError) as refused:
            ec2.create_vpn_gateway(**params)
        assert _error(refused)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as refused:
        ec2.create_customer_gateway(Type="ipsec.2", IpAddress="198.18.0.1", BgpAsn=65000)
    assert _error(refused)[0] == "InvalidParameterValue"


# --- routes to a gateway -----------------------------------------------------------------
def test_a_route_to_a_gateway_is_active_while_it_is_attached(ec2, make_vpc, vgw):
    vpc = make_vpc("10.4.0.0/16")
    table = _main_table(ec2, vpc)
    # moto's test_routes_vpn_gateway: a route to a gateway attached nowhere is taken
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="172.16.0.0/16", GatewayId=vgw)
    [route] = [r for r in _table(ec2, table)["Routes"] if r.get("GatewayId") == vgw]
    assert route == {"DestinationCidrBlock": "172.16.0.0/16", "GatewayId": vgw,
                     "Origin": "CreateRoute", "State": "blackhole"}
    _attach(ec2, vgw, vpc)
    [route] = [r for r in _table(ec2, table)["Routes"] if r.get("GatewayId") == vgw]
    assert route["State"] == "active"
    found = ec2.describe_route_tables(Filters=[
        {"Name": "route.gateway-id", "Values": [vgw]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [table]
    ec2.replace_route(RouteTableId=table, DestinationCidrBlock="172.16.0.0/16", GatewayId=vgw)
    ec2.detach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc["VpcId"])
    [route] = [r for r in _table(ec2, table)["Routes"] if r.get("GatewayId") == vgw]
    assert route["State"] == "blackhole"
    with pytest.raises(ClientError) as refused:
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="172.17.0.0/16",
                         GatewayId="vgw-0123456789abcdef0")
    assert _error(refused)[0] == "InvalidGatewayID.NotFound"


# --- customer gateways and VPN connections -----------------------------------------------
def test_a_customer_gateway_is_made_described_and_deleted(ec2):
    made = ec2.create_customer_gateway(Type="ipsec.1", IpAddress="198.18.1.1", BgpAsn=65020,
                                       DeviceName="office-router")["CustomerGateway"]
    gateway_id = made["CustomerGatewayId"]
    assert re.fullmatch(r"cgw-[0-9a-f]{17}", gateway_id)
    assert made["State"] == "available" and made["BgpAsn"] == "65020"
    assert made["IpAddress"] == "198.18.1.1" and made["DeviceName"] == "office-router"
    again = ec2.create_customer_gateway(Type="ipsec.1", IpAddress="198.18.1.1", BgpAsn=65020)
    assert again["CustomerGateway"]["CustomerGatewayId"] == gateway_id  # AWS: the same one
    found = ec2.describe_customer_gateways(Filters=[
        {"Name": "ip-address", "Values": ["198.18.1.1"]}])["CustomerGateways"]
    assert [g["CustomerGatewayId"] for g in found] == [gateway_id]
    ec2.delete_customer_gateway(CustomerGatewayId=gateway_id)
    [gone] = ec2.describe_customer_gateways(CustomerGatewayIds=[gateway_id])["CustomerGateways"]
    assert gone["State"] == "deleted"


def test_unknown_customer_gateways_and_connections_are_refused(ec2, vgw):
    # AWS's words (moto's AWS-verified test_create_vpn_connection_to_unknown_customer_gateway)
    with pytest.raises(ClientError) as refused:
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId="cgw-0123abcd",
                                  VpnGatewayId=vgw)
    assert _error(refused) == ("InvalidCustomerGatewayID.NotFound",
                               "The customerGateway ID 'cgw-0123abcd' does not exist")
    with pytest.raises(ClientError) as refused:
        ec2.delete_customer_gateway(CustomerGatewayId="cgw-0123abcd")
    assert _error(refused)[0] == "InvalidCustomerGatewayID.NotFound"
    for call in (lambda: ec2.delete_vpn_connection(VpnConnectionId="vpn-0123abcd"),
                 lambda: ec2.describe_vpn_connections(VpnConnectionIds=["vpn-0123abcd"]),
                 lambda: ec2.create_vpn_connection_route(
                     VpnConnectionId="vpn-0123abcd", DestinationCidrBlock="10.9.0.0/16")):
        with pytest.raises(ClientError) as refused:
            call()
        assert _error(refused) == ("InvalidVpnConnectionID.NotFound",
                                   "The vpnConnection ID 'vpn-0123abcd' does not exist")
    with pytest.raises(ClientError) as refused:  # moto's AWS-verified test: AWS's words
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId="cgw-0123abcd",
                                  VpnGatewayId=vgw, TransitGatewayId="tgw-0123abcd")
    assert _error(refused) == (
        "InvalidParameterValue",
        "The request must not contain both parameter vpnGatewayId and transitGatewayId")
    cgw = ec2.create_customer_gateway(Type="ipsec.1", IpAddress="198.18.3.1",
                                      BgpAsn=65040)["CustomerGateway"]["CustomerGatewayId"]
    with pytest.raises(ClientError) as refused:  # moto's AWS-verified test: AWS's words
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw,
                                  TransitGatewayId="tgw-abcdefghij0123456")
    assert _error(refused) == ("InvalidTransitGatewayID.NotFound",
                               "The transitGateway ID 'tgw-abcdefghij0123456' does not exist")


def test_a_connection_with_static_routes_propagates_them(ec2, make_vpc, vgw, cgw):
    vpc = make_vpc("10.5.0.0/16")
    table = _main_table(ec2, vpc)
    _attach(ec2, vgw, vpc)
    made = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw, VpnGatewayId=vgw,
                                     Options={"StaticRoutesOnly": True})["VpnConnection"]
    connection_id = made["VpnConnectionId"]
    assert re.fullmatch(r"vpn-[0-9a-f]{17}", connection_id)
    assert made["State"] == "pending" and made["Options"]["StaticRoutesOnly"] is True
    config = ET.fromstring(made["CustomerGatewayConfiguration"])
    assert config.get("id") == connection_id
    outside = [t["OutsideIpAddress"] for t in made["Options"]["TunnelOptions"]]
    assert len(outside) == 2 and all(
        ipaddress.ip_address(a) in ipaddress.ip_network("192.0.2.0/24") for a in outside)
    assert [e.text for e in config.iter("ip_address")].count(outside[0]) == 1
    assert all(t["Status"] == "DOWN" for t in made["VgwTelemetry"])
    wait_for(lambda: _connection(ec2, connection_id)["State"] == "available")
    with pytest.raises(ClientError) as refused:
        ec2.delete_vpn_gateway(VpnGatewayId=vgw)
    assert _error(refused)[0] == "IncorrectState"
    with pytest.raises(ClientError) as refused:
        ec2.delete_customer_gateway(CustomerGatewayId=cgw)
    assert _error(refused)[0] == "IncorrectState"

    ec2.enable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)
    ec2.create_vpn_connection_route(VpnConnectionId=connection_id,
                                    DestinationCidrBlock="192.168.10.0/24")
    wait_for(lambda: _connection(ec2, connection_id)["Routes"] == [
        {"DestinationCidrBlock": "192.168.10.0/24", "Source": "Static", "State": "available"}])
    described = _table(ec2, table)
    assert described["PropagatingVgws"] == [{"GatewayId": vgw}]
    assert {"DestinationCidrBlock": "192.168.10.0/24", "GatewayId": vgw,
            "Origin": "EnableVgwRoutePropagation", "State": "active"} in described["Routes"]
    with pytest.raises(ClientError) as refused:
        ec2.delete_route(RouteTableId=table, DestinationCidrBlock="192.168.10.0/24")
    assert _error(refused)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as refused:
        ec2.create_vpn_connection_route(VpnConnectionId=connection_id,
                                        DestinationCidrBlock="192.168.10.0/24")
    assert _error(refused)[0] == "RouteAlreadyExists"

    ec2.disable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)
    described = _table(ec2, table)
    assert described["PropagatingVgws"] == []
    assert not [r for r in described["Routes"] if r.get("GatewayId") == vgw]
    ec2.enable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)
    ec2.delete_vpn_connection_route(VpnConnectionId=connection_id,
                                    DestinationCidrBlock="192.168.10.0/24")
    wait_for(lambda: _connection(ec2, connection_id)["Routes"] == [])
    assert not [r for r in _table(ec2, table)["Routes"] if r.get("GatewayId") == vgw]

    ec2.delete_vpn_connection(VpnConnectionId=connection_id)
    wait_for(lambda: _connection(ec2, connection_id)["State"] == "deleted")
    assert "CustomerGatewayConfiguration" not in _connection(ec2, connection_id)
    with pytest.raises(ClientError) as refused:
        ec2.delete_vpn_connection(VpnConnectionId=connection_id)
    assert _error(refused)[0] == "InvalidVpnConnectionID.NotFound"


def test_propagation_needs_the_gateway_in_the_tables_vpc(ec2, make_vpc, vgw):
    vpc = make_vpc("10.6.0.0/16")
    table = _main_table(ec2, vpc)
    with pytest.raises(ClientError) as refused:
        ec2.enable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)
    assert _error(refused)[0] == "Gateway.NotAttached"
    _attach(ec2, vgw, vpc)
    ec2.enable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)
    ec2.detach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc["VpcId"])
    assert _table(ec2, table)["PropagatingVgws"] == [{"GatewayId": vgw}]  # kept, as asked
    ec2.disable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)  # detached: still off
    assert _table(ec2, table)["PropagatingVgws"] == []
    with pytest.raises(ClientError) as refused:
        ec2.enable_vgw_route_propagation(GatewayId="vgw-0123456789abcdef0",
                                         RouteTableId=_main_table(ec2, vpc))
    assert _error(refused)[0] == "InvalidVpnGatewayID.NotFound"


def test_a_vpc_with_an_attached_gateway_is_not_deleted(ec2, make_vpc, vgw):
    vpc = make_vpc("10.7.0.0/16")
    _attach(ec2, vgw, vpc)
    with pytest.raises(ClientError) as refused:
        ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert _error(refused)[0] == "DependencyViolation"
    ec2.detach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc["VpcId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])


def test_a_new_connection_takes_inside_cidrs_no_live_one_holds(ec2, vgw, cgw):
    def made() -> dict:
        return ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw,
                                         VpnGatewayId=vgw)["VpnConnection"]

    def inside(connection: dict) -> set[str]:
        return {t["TunnelInsideCidr"] for t in connection["Options"]["TunnelOptions"]}

    first, second = made(), made()
    ec2.delete_vpn_connection(VpnConnectionId=first["VpnConnectionId"])
    wait_for(lambda: _connection(ec2, first["VpnConnectionId"])["State"] == "deleted")
    third = made()
    assert len(inside(third)) == 2 and not inside(third) & inside(second)
