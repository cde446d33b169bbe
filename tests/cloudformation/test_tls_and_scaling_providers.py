"""The providers of seed 002's certificate, launch template and Auto Scaling group, each
through a stack of the real daemon: the certificate's validation CNAME written into its
zone and the certificate ISSUED before the resource completes (and both gone with the
stack); the launch template's versions; the group's desired capacity InService and
registered before CREATE_COMPLETE, changed by an update, terminated by the delete."""

from __future__ import annotations

import secrets

import pytest
from botocore.exceptions import WaiterError

FAST = {"Delay": 1, "MaxAttempts": 300}

CERTIFICATE = """
Parameters:
  Domain: {Type: String}
  Zone: {Type: AWS::Route53::HostedZone::Id}
Resources:
  Cert:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: !Sub 'app.${Domain}'
      ValidationMethod: DNS
      DomainValidationOptions:
        - DomainName: !Sub 'app.${Domain}'
          HostedZoneId: !Ref Zone
      Tags: [{Key: team, Value: %s}]
Outputs:
  Arn: {Value: !Ref Cert}
"""

SCALING = """
Parameters:
  Desired: {Type: Number, Default: 2}
  Image: {Type: String, Default: ami-0123456789abcdef0}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.40.0.0/16}
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.40.1.0/24
      AvailabilityZone: !Select [0, !GetAZs '']
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.40.2.0/24
      AvailabilityZone: !Select [1, !GetAZs '']
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: web, VpcId: !Ref Vpc}
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: !Ref Image
        InstanceType: t3.micro
        MetadataOptions: {HttpTokens: required}
        SecurityGroupIds: [!Ref Group]
  Targets:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {Port: 80, Protocol: TCP, VpcId: !Ref Vpc}
  Scaling:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: '0'
      MaxSize: '3'
      DesiredCapacity: !Ref Desired
      VPCZoneIdentifier: [!Ref SubnetA, !Ref SubnetB]
      LaunchTemplate:
        LaunchTemplateId: !Ref Template
        Version: !GetAtt Template.LatestVersionNumber
      TargetGroupARNs: [!Ref Targets]
Outputs:
  GroupName: {Value: !Ref Scaling}
  Latest: {Value: !GetAtt Template.LatestVersionNumber}
  Default: {Value: !GetAtt Template.DefaultVersionNumber}
  TemplateId: {Value: !Ref Template}
"""


def outputs(cfn, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_certificate_validated_through_its_zone(cfn, clients):
    acm, route53 = clients("acm"), clients("route53")
    domain = f"c{secrets.token_hex(3)}.example.com"
    zone = route53.create_hosted_zone(Name=domain, CallerReference=domain)["HostedZone"]
    zone_id = zone["Id"].rsplit("/", 1)[-1]
    params = [{"ParameterKey": "Domain", "ParameterValue": domain},
              {"ParameterKey": "Zone", "ParameterValue": zone_id}]
    cfn.create_stack(StackName="cert", TemplateBody=CERTIFICATE % "a", Parameters=params)
    cfn.get_waiter("stack_create_complete").wait(StackName="cert", WaiterConfig=FAST)
    arn = outputs(cfn, "cert")["Arn"]
    assert arn.startswith("arn:aws:acm:us-east-1:")
    detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert detail["Status"] == "ISSUED"
    record = detail["DomainValidationOptions"][0]["ResourceRecord"]
    cnames = [r for r in route53.list_resource_record_sets(HostedZoneId=zone_id)[
        "ResourceRecordSets"] if r["Type"] == "CNAME"]
    assert [(r["Name"], r["ResourceRecords"][0]["Value"]) for r in cnames] == \
        [(record["Name"], record["Value"])]

    # Tags change in place.
    cfn.update_stack(StackName="cert", TemplateBody=CERTIFICATE % "b", Parameters=params)
    cfn.get_waiter("stack_update_complete").wait(StackName="cert", WaiterConfig=FAST)
    assert outputs(cfn, "cert")["Arn"] == arn
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == \
        [{"Key": "team", "Value": "b"}]

    cfn.delete_stack(StackName="cert")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cert", WaiterConfig=FAST)
    assert acm.list_certificates()["CertificateSummaryList"] == []
    assert [r["Type"] for r in route53.list_resource_record_sets(HostedZoneId=zone_id)[
        "ResourceRecordSets"]] == ["NS", "SOA"]


def test_certificate_acm_refuses_fails_the_resource(cfn, clients):
    zone = clients("route53").create_hosted_zone(
        Name="x.example.com", CallerReference=secrets.token_hex(4))["HostedZone"]
    bad = CERTIFICATE.replace("!Sub 'app.${Domain}'\n      Validation",
                              "'-bad-.example'\n      Validation")
    cfn.create_stack(StackName="bad-cert", TemplateBody=bad % "a", Parameters=[
        {"ParameterKey": "Domain", "ParameterValue": "x.example.com"},
        {"ParameterKey": "Zone", "ParameterValue": zone["Id"].rsplit("/", 1)[-1]}])
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="bad-cert", WaiterConfig=FAST)
    events = cfn.describe_stack_events(StackName="bad-cert")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED" and
              e["LogicalResourceId"] == "Cert"]
    assert failed and "ValidationException" in failed[0]["ResourceStatusReason"]
    cfn.delete_stack(StackName="bad-cert")
    cfn.get_waiter("stack_delete_complete").wait(StackName="bad-cert", WaiterConfig=FAST)


def test_launch_template_and_auto_scaling_group(cfn, clients):
    ec2, autoscaling, elbv2 = clients("ec2"), clients("autoscaling"), clients("elbv2")
    cfn.create_stack(StackName="scaling", TemplateBody=SCALING)
    cfn.get_waiter("stack_create_complete").wait(StackName="scaling", WaiterConfig=FAST)
    out = outputs(cfn, "scaling")
    assert (out["Latest"], out["Default"]) == ("1", "1")
    (group,) = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[out["GroupName"]])["AutoScalingGroups"]
    assert group["LaunchTemplate"]["LaunchTemplateId"] == out["TemplateId"]
    assert [i["LifecycleState"] for i in group["Instances"]] == ["InService"] * 2
    instances = sorted(i["InstanceId"] for i in group["Instances"])
    reservations = ec2.describe_instances(InstanceIds=instances)["Reservations"]
    assert {i["MetadataOptions"]["HttpTokens"] for r in reservations
            for i in r["Instances"]} == {"required"}
    targets = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupARNs"][0])
    assert sorted(t["Target"]["Id"] for t in targets["TargetHealthDescriptions"]) == instances

    # A new image: a new template version, the default, that the group launches from; a
    # smaller desired capacity: the group shrinks before UPDATE_COMPLETE.
    cfn.update_stack(StackName="scaling", TemplateBody=SCALING, Parameters=[
        {"ParameterKey": "Desired", "ParameterValue": "1"},
        {"ParameterKey": "Image", "ParameterValue": "ami-0fedcba9876543210"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="scaling", WaiterConfig=FAST)
    out = outputs(cfn, "scaling")
    assert (out["Latest"], out["Default"]) == ("2", "2")
    (group,) = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[out["GroupName"]])["AutoScalingGroups"]
    assert (group["DesiredCapacity"], group["LaunchTemplate"]["Version"]) == (1, "2")
    assert [i["LifecycleState"] for i in group["Instances"]] == ["InService"]

    cfn.delete_stack(StackName="scaling")
    cfn.get_waiter("stack_delete_complete").wait(StackName="scaling", WaiterConfig=FAST)
    assert autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert ec2.describe_launch_templates()["LaunchTemplates"] == []
    states = {i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
              for i in r["Instances"]}
    assert states <= {"terminated"}
