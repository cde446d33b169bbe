"""Changing rules in place: ModifySecurityGroupRules (a rule keeps its id and tags) and
UpdateSecurityGroupRuleDescriptionsIngress/Egress (by rule id or by IpPermissions)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}


@pytest.fixture
def group(ec2, make_vpc) -> str:
    vpc = make_vpc("10.0.0.0/16")
    return ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="web",
                                     Description="web")["GroupId"]


def _error(call, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]


def _rule(ec2, group: str, rule_id: str) -> dict:
    return ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])[
        "SecurityGroupRules"][0]


def _authorize(ec2, group: str, cidr: str = "10.0.0.0/8", **extra) -> str:
    return ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{**SSH, "IpRanges": [{"CidrIp": cidr, **extra}]}],
        TagSpecifications=[{"ResourceType": "security-group-rule",
                            "Tags": [{"Key": "k", "Value": "v"}]}])[
        "SecurityGroupRules"][0]["SecurityGroupRuleId"]


def test_modify_replaces_a_rule_in_place(ec2, group):
    rule_id = _authorize(ec2, group)
    assert ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule_id,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                              "CidrIpv6": "fd00::/8", "Description": "https"}}])["Return"]
    rule = _rule(ec2, group, rule_id)
    assert (rule["FromPort"], rule["CidrIpv6"], rule["Description"]) == (443, "fd00::/8", "https")
    assert "CidrIpv4" not in rule
    assert rule["Tags"] == [{"Key": "k", "Value": "v"}]


def test_modify_refuses_what_authorize_would(ec2, group):
    rule_id = _authorize(ec2, group)
    other = _authorize(ec2, group, "192.0.2.0/24")
    _error(lambda: ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": "sgr-0123456789abcdef0",
        "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "0.0.0.0/0"}}]),
        "InvalidSecurityGroupRuleId.NotFound")
    _error(lambda: ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule_id,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                              "CidrIpv4": "192.0.2.0/24"}}]), "InvalidPermission.Duplicate")
    _error(lambda: ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule_id,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 21,
                              "CidrIpv4": "10.0.0.0/8"}}]), "InvalidParameterValue")
    _error(lambda: ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule_id,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                              "CidrIpv4": "10.0.0.0/8", "CidrIpv6": "::/0"}}]),
        "InvalidParameterCombination")
    assert _rule(ec2, group, other)["CidrIpv4"] == "192.0.2.0/24"


@pytest.mark.parametrize(("rule", "code", "message"), [
    ({"FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/8"}, "InvalidParameterValue",
     "Invalid value 'null' for protocol. VPC security group rules must specify protocols "
     "explicitly."),
    ({"IpProtocol": "udp", "ToPort": 22, "CidrIpv4": "10.0.0.0/8"}, "InvalidParameterValue",
     "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."),
    ({"IpProtocol": "udp", "FromPort": 22, "ToPort": 22}, "MissingParameter",
     "The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId, or "
     "referencedGroupId"),
    ({"IpProtocol": "udp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/8",
      "CidrIpv6": "2001:db8::/32"}, "InvalidParameterCombination",
     "Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified"),
])
def test_modify_refusals_in_aws_words(ec2, group, rule, code, message):
    """The words of moto's test_modify_security_group_rules, marked aws_verified (run
    against AWS itself)."""
    rule_id = _authorize(ec2, group)
    with pytest.raises(ClientError) as err:
        ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[
            {"SecurityGroupRuleId": rule_id, "SecurityGroupRule": rule}])
    assert err.value.response["Error"] == {"Code": code, "Message": message}


def test_descriptions_by_permission_and_by_rule_id(ec2, group):
    rule_id = _authorize(ec2, group, Description="old")
    ec2.update_security_group_rule_descriptions_ingress(GroupId=group, IpPermissions=[
        {**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "new"}]}])
    assert _rule(ec2, group, rule_id)["Description"] == "new"
    ec2.update_security_group_rule_descriptions_ingress(
        GroupId=group, SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": rule_id,
                                                       "Description": "by id"}])
    assert _rule(ec2, group, rule_id)["Description"] == "by id"
    [egress] = [r for r in ec2.describe_security_group_rules(Filters=[
        {"Name": "group-id", "Values": [group]}])["SecurityGroupRules"] if r["IsEgress"]]
    ec2.update_security_group_rule_descriptions_egress(GroupId=group, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "out"}]}])
    assert _rule(ec2, group, egress["SecurityGroupRuleId"])["Description"] == "out"
    _error(lambda: ec2.update_security_group_rule_descriptions_ingress(GroupId=group, IpPermissions=[
        {**SSH, "IpRanges": [{"CidrIp": "172.16.0.0/12", "Description": "none"}]}]),
        "InvalidPermission.NotFound")
    _error(lambda: ec2.update_security_group_rule_descriptions_egress(
        GroupId=group, SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": rule_id,
                                                       "Description": "wrong way"}]),
        "InvalidSecurityGroupRuleId.NotFound")
