"""The providers of the internet's and peering's resources, through a stack of the real
daemon: an internet gateway attached to a VPC and a default route to it, an Elastic IP
held by a NAT gateway (complete once ``available``) and a private route through it, and
a same-account peering accepted by the stack (``active``) with a route through it; tags
changed in place; the delete leaves no gateway, address or live peering."""

from __future__ import annotations

FAST = {"Delay": 1, "MaxAttempts": 300}

NETWORK = """
Parameters:
  Team: {Type: String, Default: a}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.60.0.0/16}
  Other:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.61.0.0/16}
  Public:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.60.0.0/24}
  Private:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.60.1.0/24}
  Gateway:
    Type: AWS::EC2::InternetGateway
    Properties:
      Tags: [{Key: team, Value: !Ref Team}]
  Attachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Gateway}
  PublicRoutes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  PublicDefault:
    Type: AWS::EC2::Route
    DependsOn: Attachment
    Properties:
      RouteTableId: !Ref PublicRoutes
      DestinationCidrBlock: 0.0.0.0/0
      GatewayId: !Ref Gateway
  PublicAssociation:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Public, RouteTableId: !Ref PublicRoutes}
  Address:
    Type: AWS::EC2::EIP
    DependsOn: Attachment
    Properties: {Domain: vpc}
  Nat:
    Type: AWS::EC2::NatGateway
    Properties:
      SubnetId: !Ref Public
      AllocationId: !GetAtt Address.AllocationId
  PrivateRoutes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  PrivateDefault:
    Type: AWS::EC2::Route
    Properties:
      RouteTableId: !Ref PrivateRoutes
      DestinationCidrBlock: 0.0.0.0/0
      NatGatewayId: !Ref Nat
  ToOther:
    Type: AWS::EC2::Route
    Properties:
      RouteTableId: !Ref PrivateRoutes
      DestinationCidrBlock: 10.61.0.0/16
      VpcPeeringConnectionId: !Ref Peering
  PrivateAssociation:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Private, RouteTableId: !Ref PrivateRoutes}
  Peering:
    Type: AWS::EC2::VPCPeeringConnection
    Properties: {VpcId: !Ref Vpc, PeerVpcId: !Ref Other}
Outputs:
  Ip: {Value: !Ref Address}
  Allocation: {Value: !GetAtt Address.AllocationId}
  Nat: {Value: !Ref Nat}
  Gateway: {Value: !Ref Gateway}
  Peering: {Value: !GetAtt Peering.Id}
"""


def outputs(cfn, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_gateways_addresses_and_peering(cfn, clients):
    ec2 = clients("ec2")
    cfn.create_stack(StackName="net", TemplateBody=NETWORK)
    cfn.get_waiter("stack_create_complete").wait(StackName="net", WaiterConfig=FAST)
    out = outputs(cfn, "net")
    (address,) = ec2.describe_addresses()["Addresses"]
    assert (address["PublicIp"], address["AllocationId"]) == (out["Ip"], out["Allocation"])
    (nat,) = ec2.describe_nat_gateways(NatGatewayIds=[out["Nat"]])["NatGateways"]
    assert nat["State"] == "available"
    assert nat["NatGatewayAddresses"][0]["PublicIp"] == out["Ip"]
    (gateway,) = ec2.describe_internet_gateways(InternetGatewayIds=[out["Gateway"]])[
        "InternetGateways"]
    assert [a["State"] for a in gateway["Attachments"]] == ["available"]
    assert gateway["Tags"] == [{"Key": "team", "Value": "a"}]
    (peering,) = ec2.describe_vpc_peering_connections(
        VpcPeeringConnectionIds=[out["Peering"]])["VpcPeeringConnections"]
    assert peering["Status"]["Code"] == "active"
    attachment = next(r for r in cfn.describe_stack_resources(StackName="net")[
        "StackResources"] if r["LogicalResourceId"] == "Attachment")
    assert attachment["PhysicalResourceId"].startswith("IGW|vpc-")
    routes = {r.get("DestinationCidrBlock"): r for t in ec2.describe_route_tables()[
        "RouteTables"] for r in t["Routes"]}
    assert routes["10.61.0.0/16"]["State"] == "active"

    cfn.update_stack(StackName="net", TemplateBody=NETWORK,
                     Parameters=[{"ParameterKey": "Team", "ParameterValue": "b"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="net", WaiterConfig=FAST)
    (gateway,) = ec2.describe_internet_gateways(InternetGatewayIds=[out["Gateway"]])[
        "InternetGateways"]
    assert gateway["Tags"] == [{"Key": "team", "Value": "b"}]

    cfn.delete_stack(StackName="net")
    cfn.get_waiter("stack_delete_complete").wait(StackName="net", WaiterConfig=FAST)
    assert ec2.describe_addresses()["Addresses"] == []
    # What is left is the account's default VPC's (pocketlink makes it on first use).
    assert out["Gateway"] not in [g["InternetGatewayId"] for g in
                                  ec2.describe_internet_gateways()["InternetGateways"]]
    assert {n["State"] for n in ec2.describe_nat_gateways()["NatGateways"]} <= {"deleted"}
    assert {p["Status"]["Code"] for p in ec2.describe_vpc_peering_connections()[
        "VpcPeeringConnections"]} <= {"deleted"}
    assert {v["IsDefault"] for v in ec2.describe_vpcs()["Vpcs"]} <= {True}
