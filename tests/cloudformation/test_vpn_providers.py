"""The providers of Site-to-Site VPN's resources, through a stack of the real daemon: a
virtual private gateway attached to a VPC (``VGW|vpc-...``, complete once ``attached``),
its routes propagated into a route table, tags changed in place; the delete leaves the
gateway ``deleted`` and the table propagating nothing."""

from __future__ import annotations

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
Outputs:
  Gateway: {Value: !GetAtt Gateway.VPNGatewayId}
  Routes: {Value: !Ref Routes}
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

    cfn.update_stack(StackName="vpn", TemplateBody=VPN,
                     Parameters=[{"ParameterKey": "Team", "ParameterValue": "b"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="vpn", WaiterConfig=FAST)
    (gateway,) = ec2.describe_vpn_gateways(VpnGatewayIds=[out["Gateway"]])["VpnGateways"]
    assert gateway["Tags"] == [{"Key": "team", "Value": "b"}]

    cfn.delete_stack(StackName="vpn")
    cfn.get_waiter("stack_delete_complete").wait(StackName="vpn", WaiterConfig=FAST)
    (gateway,) = ec2.describe_vpn_gateways(VpnGatewayIds=[out["Gateway"]])["VpnGateways"]
    assert gateway["State"] == "deleted"
