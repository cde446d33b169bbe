"""A route to a virtual private gateway drops its traffic in the VPC router: pocketlink has
no on-premises network, and what a VPN would carry must not leak by any other way out.

A public subnet reaches checkip.amazonaws.com through its internet gateway; a more specific
route to checkip's address through an attached virtual private gateway (static, then
propagated from a VPN connection's static route) makes the same request time out (the
router's blackhole sends no ICMP), and removing it brings the way back.
"""

from __future__ import annotations

import pytest

from pocketlink.model.aws_services import CHECKIP_IPV4
from tests.conftest import wait_for
from tests.network.conftest import curl, launch

CHECKIP = "http://checkip.amazonaws.com"
CURL_TIMEOUT_EXIT = 28


@pytest.fixture(scope="module")
def world(network_daemon, public_subnet):
    ec2 = network_daemon.client("ec2")
    vpc = public_subnet.vpc
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc)
    instance = launch(ec2, public_subnet.subnet)[0]["InstanceId"]
    return {"ec2": ec2, "vpc": vpc, "table": public_subnet.table, "vgw": vgw,
            "instance": instance}


def _reaches(world) -> bool:
    return curl(world["instance"], CHECKIP).returncode == 0


def test_a_static_route_to_the_gateway_drops_its_traffic(world):
    ec2, table = world["ec2"], world["table"]
    wait_for(lambda: _reaches(world))
    ec2.create_route(RouteTableId=table, DestinationCidrBlock=f"{CHECKIP_IPV4}/32",
                     GatewayId=world["vgw"])
    wait_for(lambda: curl(world["instance"], CHECKIP).returncode == CURL_TIMEOUT_EXIT)
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock=f"{CHECKIP_IPV4}/32")
    wait_for(lambda: _reaches(world))


def test_a_propagated_route_drops_its_traffic_too(world):
    ec2, table, vgw = world["ec2"], world["table"], world["vgw"]
    wait_for(lambda: _reaches(world))
    wait_for(lambda: ec2.describe_vpn_gateways(VpnGatewayIds=[vgw])["VpnGateways"][0][
        "VpcAttachments"][0]["State"] == "attached")
    cgw = ec2.create_customer_gateway(Type="ipsec.1", IpAddress="198.18.0.20",
                                      BgpAsn=65030)["CustomerGateway"]["CustomerGatewayId"]
    connection = ec2.create_vpn_connection(
        Type="ipsec.1", CustomerGatewayId=cgw, VpnGatewayId=vgw,
        Options={"StaticRoutesOnly": True})["VpnConnection"]["VpnConnectionId"]
    wait_for(lambda: ec2.describe_vpn_connections(VpnConnectionIds=[connection])[
        "VpnConnections"][0]["State"] == "available")
    ec2.enable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)
    ec2.create_vpn_connection_route(VpnConnectionId=connection,
                                    DestinationCidrBlock=f"{CHECKIP_IPV4}/32")
    wait_for(lambda: curl(world["instance"], CHECKIP).returncode == CURL_TIMEOUT_EXIT)
    ec2.disable_vgw_route_propagation(GatewayId=vgw, RouteTableId=table)
    wait_for(lambda: _reaches(world))
