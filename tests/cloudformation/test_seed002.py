"""Seed 002's template (tests/cloudformation/seed002.yaml: the seed's text, its indentation
restored, its elided parts filled minimally: the group's sizes and subnets, the launch
template's image and type, and only the three ingress rules the seed shows).

Its certificate (ACM), launch template and Auto Scaling group have no provider yet: the
change set fails naming exactly those, and nothing is made. The rest of it, with the TLS
listener as a TCP one, deploys into a VPC, subnets and hosted zone given as parameters,
updates (a changed listener port modifies; a changed target group Name replaces) and
deletes, leaving nothing behind, once its NLB's deletion protection (the seed sets it) is
lifted: until then the delete fails, saying so, as at AWS."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from botocore.exceptions import WaiterError

from pocketlink.cloudformation.template import load_text

SEED = (Path(__file__).parent / "seed002.yaml").read_text()
FAST = {"Delay": 1, "MaxAttempts": 300}
WAITING_FOR_OTHERS = ["AWS::AutoScaling::AutoScalingGroup",
                      "AWS::CertificateManager::Certificate", "AWS::EC2::LaunchTemplate"]


@pytest.fixture
def world(clients):
    """The seed's parameters: a VPC, three private subnets in three zones, a hosted zone."""
    ec2, route53 = clients("ec2"), clients("route53")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=zones[i])["Subnet"]["SubnetId"]
               for i in range(3)]
    domain = f"seed-{secrets.token_hex(3)}.example.com"
    zone = route53.create_hosted_zone(Name=domain, CallerReference=domain)["HostedZone"]
    return {"vpc": vpc, "subnets": subnets, "zone": zone["Id"].rsplit("/", 1)[-1],
            "domain": domain}


def parameters(world: dict) -> list[dict]:
    given = {"Application": "shop", "VpcId": world["vpc"],
             "PrivateSubnetIds": ",".join(world["subnets"]), "HostedZoneId": world["zone"],
             "HostedZoneDomainName": world["domain"], "LogBucketName": "shop-logs"}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]


def today(port: int = 443, group_suffix: str = "") -> str:
    """The seed's template without the resources other providers will bring, its listener
    TCP, as a JSON template (the same data as the YAML's)."""
    body = load_text(SEED)
    for name in ("EndpointServiceNetworkLoadBalancerCert", "EC2AutoScalingGroup",
                 "Ec2ServiceLaunchTemplate"):
        del body["Resources"][name]
    listener = body["Resources"]["EndpointServiceNetworkLoadBalancerListener"]["Properties"]
    del listener["Certificates"], listener["SslPolicy"]
    listener.update(Protocol="TCP", Port=port)
    group = body["Resources"]["EndpointServiceTargetGroup"]["Properties"]
    group["Name"] = {"Fn::Sub": "endpointsrv-${Application}-tg-cf" + group_suffix}
    return json.dumps(body, indent=1)


def test_seed_template_fails_naming_what_is_missing(cfn, world):
    cfn.create_change_set(StackName="seed", ChangeSetName="whole", ChangeSetType="CREATE",
                          TemplateBody=SEED, Parameters=parameters(world))
    with pytest.raises(WaiterError):
        cfn.get_waiter("change_set_create_complete").wait(
            StackName="seed", ChangeSetName="whole", WaiterConfig=FAST)
    reason = cfn.describe_change_set(StackName="seed", ChangeSetName="whole")["StatusReason"]
    assert f"[{', '.join(WAITING_FOR_OTHERS)}]" in reason
    assert cfn.list_stack_resources(StackName="seed")["StackResourceSummaries"] == []
    cfn.delete_stack(StackName="seed")


def test_seed_template_today(cfn, clients, world):
    elbv2, ec2 = clients("elbv2"), clients("ec2")
    cfn.create_stack(StackName="seed-today", TemplateBody=today(), Parameters=parameters(world))
    cfn.get_waiter("stack_create_complete").wait(StackName="seed-today", WaiterConfig=FAST)
    balancer = elbv2.describe_load_balancers(Names=["endpointsrv-shop-nlb-cfn"])[
        "LoadBalancers"][0]
    assert (balancer["Scheme"], balancer["State"]["Code"]) == ("internal", "active")
    assert len(balancer["AvailabilityZones"]) == 3
    service = ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"][0]
    assert service["AcceptanceRequired"] is True
    assert service["NetworkLoadBalancerArns"] == [balancer["LoadBalancerArn"]]
    principals = ec2.describe_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"])
    assert [p["Principal"] for p in principals["AllowedPrincipals"]] == \
        ["arn:aws:iam::123456789012:root"]
    group = ec2.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["shop-sg-cfn"]}])["SecurityGroups"][0]
    assert sorted(r["CidrIp"] for p in group["IpPermissions"] for r in p["IpRanges"]) == \
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]

    def update(template: str) -> list[dict]:
        name = f"cs-{secrets.token_hex(3)}"
        cfn.create_change_set(StackName="seed-today", ChangeSetName=name, TemplateBody=template,
                              Parameters=[{"ParameterKey": p["ParameterKey"],
                                           "UsePreviousValue": True}
                                          for p in parameters(world)])
        cfn.get_waiter("change_set_create_complete").wait(
            StackName="seed-today", ChangeSetName=name, WaiterConfig=FAST)
        changes = cfn.describe_change_set(StackName="seed-today", ChangeSetName=name)["Changes"]
        cfn.execute_change_set(StackName="seed-today", ChangeSetName=name)
        cfn.get_waiter("stack_update_complete").wait(StackName="seed-today", WaiterConfig=FAST)
        return [c["ResourceChange"] for c in changes]

    (port,) = update(today(port=8443))
    assert (port["LogicalResourceId"], port["Replacement"]) == \
        ("EndpointServiceNetworkLoadBalancerListener", "False")
    renamed = {c["LogicalResourceId"]: c["Replacement"] for c in
               update(today(port=8443, group_suffix="2"))}
    assert renamed["EndpointServiceTargetGroup"] == "True"
    assert [g["TargetGroupName"] for g in elbv2.describe_target_groups()["TargetGroups"]] == \
        ["endpointsrv-shop-tg-cf2"]

    # Deletion protection holds the stack's delete, as at AWS, until the template lifts it.
    cfn.delete_stack(StackName="seed-today")
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_delete_complete").wait(StackName="seed-today", WaiterConfig=FAST)
    stack = cfn.describe_stacks(StackName="seed-today")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert "EndpointServiceNetworkLoadBalancer" in stack["StackStatusReason"]
    events = cfn.describe_stack_events(StackName="seed-today")["StackEvents"]
    assert "deletion protection" in next(
        e for e in events if e["ResourceStatus"] == "DELETE_FAILED" and
        e["LogicalResourceId"] == "EndpointServiceNetworkLoadBalancer")["ResourceStatusReason"]
    # A DELETE_FAILED stack can only be deleted again: the protection goes by hand first.
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])
    cfn.delete_stack(StackName="seed-today")
    cfn.get_waiter("stack_delete_complete").wait(StackName="seed-today", WaiterConfig=FAST)
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert elbv2.describe_target_groups()["TargetGroups"] == []
    assert ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"] == []
    assert [g["GroupName"] for g in ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [world["vpc"]]}])["SecurityGroups"]] == ["default"]
