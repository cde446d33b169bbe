"""The providers of Site-to-Site VPN's resources, through a stack of the real daemon: a
virtual private gateway attached to a VPC (``VGW|vpc-...``, complete once ``attached``),
propagating into a route table, a customer gateway and a VPN connection between them
(complete once ``available``) with a static route, which shows in the table as
propagated; tags changed in place; the delete leaves every record ``deleted``."""

from __future__ import annotations

from tests.conftest import wait_for

FAST = {"Delay": 1, "MaxAttempts": 300}

VPN = """
Parameters:
  Team: {Type: String, Default: a}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.62.0.0/16}
  Routes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  Gateway:
    Type: AWS::EC2::VPNGateway
    Properties:
      Type: ipsec.1
      AmazonSideAsn: 65100
      Tags: [{Key: team, Value: !Ref Team}]
  Attachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref Vpc, VpnGatewayId: !Ref Gateway}
  Propagation:
    Type: AWS::EC2::VPNGatewayRoutePropagation
    DependsOn: Attachment
    Properties:
      VpnGatewayId: !Ref Gateway
      RouteTableIds: [!Ref Routes]
  Office:
    Type: AWS::EC2::CustomerGateway
    Properties: {Type: ipsec.1, IpAddress: 198.18.5.1, BgpAsn: 65200}
  Connection:
    Type: AWS::EC2::VPNConnection
    Properties:
      Type: ipsec.1
      CustomerGatewayId: !Ref Office
      VpnGatewayId: !Ref Gateway
      StaticRoutesOnly: true
  OfficeRoute:
    Type: AWS::EC2::VPNConnectionRoute
    Properties: {VpnConnectionId: !Ref Connection, DestinationCidrBlock: 192.168.50.0/24}
Outputs:
  Gateway: {Value: !GetAtt Gateway.VPNGatewayId}
  Routes: {Value: !Ref Routes}
  Office: {Value: !GetAtt Office.CustomerGatewayId}
  Connection: {Value: !Ref Connection}
"""


def outputs(cfn, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_gateway_attached_and_propagating(cfn, clients):
    ec2 = clients("ec2")
    cfn.create_stack(StackName="vpn", TemplateBody=VPN)
    cfn.get_waiter("stack_create_complete").wait(StackName="vpn", WaiterConfig=FAST)
    out = outputs(cfn, "vpn")
    (gateway,) = ec2.describe_vpn_gateways(VpnGatewayIds=[out["Gateway"]])["VpnGateways"]
    assert [a["State"] for a in gateway["VpcAttachments"]] == ["attached"]
    assert gateway["AmazonSideAsn"] == 65100
    assert gateway["Tags"] == [{"Key": "team", "Value": "a"}]
    attachment = next(r for r in cfn.describe_stack_resources(StackName="vpn")[
        "StackResources"] if r["LogicalResourceId"] == "Attachment")
    assert attachment["PhysicalResourceId"].startswith("VGW|vpc-")
    (table,) = ec2.describe_route_tables(RouteTableIds=[out["Routes"]])["RouteTables"]
    assert table["PropagatingVgws"] == [{"GatewayId": out["Gateway"]}]
    (connection,) = ec2.describe_vpn_connections(VpnConnectionIds=[out["Connection"]])[
        "VpnConnections"]
    assert connection["State"] == "available"
    assert connection["CustomerGatewayId"] == out["Office"]
    wait_for(lambda: {"DestinationCidrBlock": "192.168.50.0/24", "GatewayId": out["Gateway"],
                      "Origin": "EnableVgwRoutePropagation", "State": "active"} in
             ec2.describe_route_tables(RouteTableIds=[out["Routes"]])["RouteTables"][0][
                 "Routes"])

    cfn.update_stack(StackName="vpn", TemplateBody=VPN,
                     Parameters=[{"ParameterKey": "Team", "ParameterValue": "b"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="vpn", WaiterConfig=FAST)
    (gateway,) = ec2.describe_vpn_gateways(VpnGatewayIds=[out["Gateway"]])["VpnGateways"]
    assert gateway["Tags"] == [{"Key": "team", "Value": "b"}]

    cfn.delete_stack(StackName="vpn")
    cfn.get_waiter("stack_delete_complete").wait(StackName="vpn", WaiterConfig=FAST)
    (gateway,) = ec2.describe_vpn_gateways(VpnGatewayIds=[out["Gateway"]])["VpnGateways"]
    assert gateway["State"] == "deleted"
    (office,) = ec2.describe_customer_gateways(CustomerGatewayIds=[out["Office"]])[
        "CustomerGateways"]
    assert office["State"] == "deleted"
    (connection,) = ec2.describe_vpn_connections(VpnConnectionIds=[out["Connection"]])[
        "VpnConnections"]
    assert connection["State"] == "deleted"
