"""Custom::VpcRestrictDefaultSG without node: what CDK's Lambda handler does, done by
pocketlink's provider. Its ServiceToken is never invoked, so a literal ARN does here."""

from __future__ import annotations

import pytest
from botocore.exceptions import WaiterError

from tests.cloudformation.test_stack_behaviour import FAST, created

WITH = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.9.0.0/16}
  Restrict:
    Type: Custom::VpcRestrictDefaultSG
    Properties:
      ServiceToken: !Sub 'arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:handler'
      DefaultSecurityGroupId: !GetAtt Vpc.DefaultSecurityGroup
      Account: !Ref AWS::AccountId
Outputs:
  Group: {Value: !GetAtt Vpc.DefaultSecurityGroup}
"""
WITHOUT = WITH.split("  Restrict:")[0] + "Outputs:" + WITH.split("Outputs:")[1]


def rules(ec2, group: str) -> tuple[list, list]:
    found = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
    return found["IpPermissions"], found["IpPermissionsEgress"]


def test_the_default_groups_rules_go_and_come_back(cfn, clients):
    ec2 = clients("ec2")
    cfn.create_stack(StackName="restrict", TemplateBody=WITH)
    created(cfn, "restrict")
    stack = cfn.describe_stacks(StackName="restrict")["Stacks"][0]
    group = stack["Outputs"][0]["OutputValue"]
    assert rules(ec2, group) == ([], [])

    cfn.update_stack(StackName="restrict", TemplateBody=WITHOUT)  # the resource deleted
    cfn.get_waiter("stack_update_complete").wait(StackName="restrict", WaiterConfig=FAST)
    ingress, egress = rules(ec2, group)
    assert [(p["IpProtocol"], [g["GroupId"] for g in p["UserIdGroupPairs"]])
            for p in ingress] == [("-1", [group])]
    assert [(p["IpProtocol"], [r["CidrIp"] for r in p["IpRanges"]])
            for p in egress] == [("-1", ["0.0.0.0/0"])]
    cfn.delete_stack(StackName="restrict")
    cfn.get_waiter("stack_delete_complete").wait(StackName="restrict", WaiterConfig=FAST)


def test_a_service_token_is_required(cfn):
    template = WITH.replace("      ServiceToken: !Sub 'arn:aws:lambda:${AWS::Region}:"
                            "${AWS::AccountId}:function:handler'\n", "")
    assert template != WITH
    cfn.create_stack(StackName="tokenless", TemplateBody=template)
    with pytest.raises(WaiterError):  # ROLLBACK_COMPLETE is the waiter's failure
        cfn.get_waiter("stack_create_complete").wait(StackName="tokenless", WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName="tokenless")["Stacks"][0][
        "StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(
        StackName="tokenless")["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert any("ServiceToken" in r for r in reasons)
