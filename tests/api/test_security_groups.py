"""Security groups: create, describe, delete; ingress and egress rules with every kind of peer."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.conftest import settled

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16")


@pytest.fixture
def group(ec2, vpc) -> str:
    return ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="web",
                                     Description="web servers")["GroupId"]


def describe(ec2, group_id: str) -> dict:
    [found] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return found


def rules(ec2, group_id: str) -> list[dict]:
    return ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]


def test_create_describe_delete(ec2, vpc):
    created = ec2.create_security_group(
        VpcId=vpc["VpcId"], GroupName="app", Description="the app",
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": "team", "Value": "blue"}]}])
    group_id = created["GroupId"]
    assert re.fullmatch(r"sg-[0-9a-f]{17}", group_id)
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    group = describe(ec2, group_id)
    assert (group["GroupName"], group["Description"], group["VpcId"], group["OwnerId"]) == \
        ("app", "the app", vpc["VpcId"], "111111111111")
    assert group["IpPermissions"] == []
    [outbound] = group["IpPermissionsEgress"]
    assert outbound["IpProtocol"] == "-1"
    assert outbound["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert ec2.delete_security_group(GroupId=group_id)["Return"] is True
    with pytest.raises(ClientError) as err:
        ec2.describe_security_groups(GroupIds=[group_id])
    assert err.value.response["Error"]["Code"] == "InvalidGroup.NotFound"


def test_the_default_group_cannot_be_deleted(ec2, vpc):
    [default] = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupId=default["GroupId"])
    assert err.value.response["Error"]["Code"] == "CannotDelete"
    assert describe(ec2, default["GroupId"])["GroupName"] == "default"


def test_group_names_are_unique_per_vpc(ec2, vpc, group, make_vpc):
    with pytest.raises(ClientError) as err:
        ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="web", Description="again")
    assert err.value.response["Error"]["Code"] == "InvalidGroup.Duplicate"
    other = make_vpc("10.0.0.0/16")
    assert ec2.create_security_group(VpcId=other["VpcId"], GroupName="web",
                                     Description="elsewhere")["GroupId"] != group


def test_authorize_ingress_with_a_cidr(ec2, group):
    answer = ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8",
                                                            "Description": "office"}]}])
    assert answer["Return"] is True
    [rule] = answer["SecurityGroupRules"]
    assert re.fullmatch(r"sgr-[0-9a-f]{17}", rule["SecurityGroupRuleId"])
    assert (rule["IsEgress"], rule["IpProtocol"], rule["FromPort"], rule["ToPort"],
            rule["CidrIpv4"]) == (False, "tcp", 22, 22, "10.0.0.0/8")
    [permission] = describe(ec2, group)["IpPermissions"]
    assert (permission["IpProtocol"], permission["FromPort"], permission["ToPort"]) == \
        ("tcp", 22, 22)
    assert permission["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "office"}]
    described = {r["SecurityGroupRuleId"]: r for r in rules(ec2, group)}
    assert described[rule["SecurityGroupRuleId"]]["CidrIpv4"] == "10.0.0.0/8"
    assert described[rule["SecurityGroupRuleId"]]["IsEgress"] is False


def test_authorize_ingress_with_ipv6_prefix_list_and_group_peers(ec2, vpc, group):
    peer = ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="peer",
                                     Description="peer")["GroupId"]
    # A prefix list a rule names must exist (InvalidPrefixListId.NotFound otherwise).
    prefix_list = ec2.create_managed_prefix_list(PrefixListName="peers", AddressFamily="IPv4",
                                                 MaxEntries=1)["PrefixList"]["PrefixListId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "Ipv6Ranges": [{"CidrIpv6": "fd00::/8"}],
        "PrefixListIds": [{"PrefixListId": prefix_list}],
        "UserIdGroupPairs": [{"GroupId": peer}],
    }])
    [permission] = describe(ec2, group)["IpPermissions"]
    assert permission["Ipv6Ranges"] == [{"CidrIpv6": "fd00::/8"}]
    assert permission["PrefixListIds"] == [{"PrefixListId": prefix_list}]
    assert [(p["GroupId"], p["UserId"]) for p in permission["UserIdGroupPairs"]] == \
        [(peer, "111111111111")]
    kinds = {(r.get("CidrIpv6"), r.get("PrefixListId"),
              r.get("ReferencedGroupInfo", {}).get("GroupId"))
             for r in rules(ec2, group) if not r["IsEgress"]}
    assert kinds == {("fd00::/8", None, None), (None, prefix_list, None),
                     (None, None, peer)}


def test_a_group_in_another_vpc_cannot_be_a_peer(ec2, group, make_vpc):
    other = make_vpc("10.0.0.0/16")
    stranger = ec2.create_security_group(VpcId=other["VpcId"], GroupName="stranger",
                                         Description="elsewhere")["GroupId"]
    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {**SSH, "UserIdGroupPairs": [{"GroupId": stranger}]}])
    assert err.value.response["Error"]["Code"] == "InvalidGroup.NotFound"


@pytest.mark.parametrize(("peer", "code"), [("sg-0123456789abcdef0", "InvalidGroup.NotFound"),
                                            ("nonsense", "InvalidGroupId.Malformed")])
def test_an_unknown_peer_group(ec2, group, peer, code):
    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {**SSH, "UserIdGroupPairs": [{"GroupId": peer}]}])
    assert err.value.response["Error"]["Code"] == code


def test_authorize_and_revoke_egress(ec2, group):
    ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.2/32"}],
         "Ipv6Ranges": [{"CidrIpv6": "fd00:ec2::253/128"}]}])
    egress = {(p["IpProtocol"], p.get("FromPort")) for p in describe(ec2, group)["IpPermissionsEgress"]}
    assert egress == {("-1", None), ("udp", 53)}
    revoked = ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert revoked["Return"] is True
    assert [p["IpProtocol"] for p in describe(ec2, group)["IpPermissionsEgress"]] == ["udp"]
    assert describe(ec2, group)["IpPermissions"] == []


def test_the_same_rule_twice_is_a_duplicate(ec2, group):
    permission = {**SSH, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]}
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    assert err.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"
    with pytest.raises(ClientError) as err:  # every new group already allows all egress
        ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert err.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"
    assert len([r for r in rules(ec2, group) if not r["IsEgress"]]) == 1


def test_revoking_a_rule_that_is_not_there(ec2, group):
    with pytest.raises(ClientError) as err:
        ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[
            {**SSH, "IpRanges": [{"CidrIp": "172.16.0.0/12"}]}])
    assert err.value.response["Error"]["Code"] == "InvalidPermission.NotFound"


def test_revoke_ingress_by_permission(ec2, group):
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8"}, {"CidrIp": "172.16.0.0/12"}]}])
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[
        {**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    [permission] = describe(ec2, group)["IpPermissions"]
    assert permission["IpRanges"] == [{"CidrIp": "172.16.0.0/12"}]


def test_revoke_by_rule_id(ec2, group):
    answer = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}, {"CidrIp": "172.16.0.0/12"}]}])
    first, second = (r["SecurityGroupRuleId"] for r in answer["SecurityGroupRules"])
    ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=[first])
    ingress = {r["SecurityGroupRuleId"] for r in rules(ec2, group) if not r["IsEgress"]}
    assert ingress == {second}
    with pytest.raises(ClientError) as err:
        ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=[first])
    assert err.value.response["Error"]["Code"] == "InvalidSecurityGroupRuleId.NotFound"


def test_describe_security_group_rules_by_id(ec2, group):
    [egress] = rules(ec2, group)
    found = ec2.describe_security_group_rules(SecurityGroupRuleIds=[egress["SecurityGroupRuleId"]])
    assert found["SecurityGroupRules"] == [egress]
    assert egress["IsEgress"] is True and egress["CidrIpv4"] == "0.0.0.0/0"
    assert egress["GroupId"] == group and egress["GroupOwnerId"] == "111111111111"


def test_describe_security_group_rules_with_an_unknown_id(ec2, group):
    with pytest.raises(ClientError) as err:
        ec2.describe_security_group_rules(SecurityGroupRuleIds=["sgr-0123456789abcdef0"])
    assert err.value.response["Error"]["Code"] == "InvalidSecurityGroupRuleId.NotFound"


def test_a_group_in_use_by_an_instance_cannot_be_deleted(ec2, vpc, group, make_subnet, launch):
    subnet = make_subnet(vpc, "10.0.1.0/24")
    [instance] = launch(subnet, SecurityGroupIds=[group])
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupId=group)
    assert err.value.response["Error"]["Code"] == "DependencyViolation"
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    settled(ec2, [instance["InstanceId"]])
    ec2.delete_security_group(GroupId=group)


def test_a_group_referenced_by_another_cannot_be_deleted(ec2, vpc, group):
    other = ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="db",
                                      Description="db")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=other, IpPermissions=[
        {**SSH, "UserIdGroupPairs": [{"GroupId": group}]}])
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupId=group)
    assert err.value.response["Error"]["Code"] == "DependencyViolation"


@pytest.mark.parametrize(("group_id", "code"), [("sg-0123456789abcdef0", "InvalidGroup.NotFound"),
                                                ("sg-nothex", "InvalidGroupId.Malformed")])
def test_unknown_and_malformed_group_ids(ec2, group_id, code):
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupId=group_id)
    assert err.value.response["Error"]["Code"] == code


def test_revoking_a_group_reference_reports_the_referenced_group(ec2, vpc, group):
    peer = ec2.create_security_group(GroupName="peer", Description="peer",
                                     VpcId=vpc["VpcId"])["GroupId"]
    rule = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "UserIdGroupPairs": [{"GroupId": peer}]}]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rule)
    [revoked] = ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=rule)[
        "RevokedSecurityGroupRules"]
    assert revoked["ReferencedGroupId"] == peer


def test_icmp_type_and_code_must_be_in_range(ec2, group):
    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": 300, "ToPort": 0,
             "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_a_group_id_filter_of_the_wrong_shape_is_malformed(ec2, group):
    """moto's aws_verified test_invalid_security_group_id_in_rules_search
    (tests/test_ec2/test_security_groups.py): AWS refuses a malformed id in the group-id
    filter of DescribeSecurityGroupRules; a well-formed unknown one matches nothing."""
    with pytest.raises(ClientError) as err:
        ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": ["foobar"]}])
    assert err.value.response["Error"] == {
        "Code": "InvalidGroupId.Malformed", "Message": "The security group ID 'foobar' is malformed"}
    assert rules(ec2, "sg-005216b55886f0fdc") == []


def test_rules_are_tagged_by_their_own_ids(ec2, group):
    """CreateTags takes a rule's sgr- id (the CreateTags reference lists security group rules
    among its resources), and DescribeSecurityGroupRules filters by tag:KEY and tag-key
    (moto's test_security_group_rule_filtering_tags in test_security_groups.py:
    TagSpecifications, then the tag filters)."""
    made = ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
        TagSpecifications=[{"ResourceType": "security-group-rule",
                            "Tags": [{"Key": "Partner", "Value": "test"}]}])
    [ssh] = made["SecurityGroupRules"]
    assert ssh["Tags"] == [{"Key": "Partner", "Value": "test"}]
    [egress] = [r for r in rules(ec2, group) if r["IsEgress"]]
    ec2.create_tags(Resources=[egress["SecurityGroupRuleId"]],
                    Tags=[{"Key": "Name", "Value": "out"}])

    def tagged(*filters: tuple[str, str]) -> set[str]:
        answer = ec2.describe_security_group_rules(Filters=[
            {"Name": "group-id", "Values": [group]},
            *({"Name": name, "Values": [value]} for name, value in filters)])
        return {r["SecurityGroupRuleId"] for r in answer["SecurityGroupRules"]}

    assert tagged(("tag:Partner", "test")) == {ssh["SecurityGroupRuleId"]}
    assert tagged(("tag:Name", "out")) == {egress["SecurityGroupRuleId"]}
    assert tagged(("tag-key", "*")) == {ssh["SecurityGroupRuleId"], egress["SecurityGroupRuleId"]}
    [described] = ec2.describe_security_group_rules(
        SecurityGroupRuleIds=[egress["SecurityGroupRuleId"]])["SecurityGroupRules"]
    assert described["Tags"] == [{"Key": "Name", "Value": "out"}]
    listed = ec2.describe_tags(Filters=[{"Name": "resource-id",
                                         "Values": [egress["SecurityGroupRuleId"]]}])["Tags"]
    assert listed == [{"ResourceId": egress["SecurityGroupRuleId"],
                       "ResourceType": "security-group-rule", "Key": "Name", "Value": "out"}]
    ec2.delete_tags(Resources=[egress["SecurityGroupRuleId"]], Tags=[{"Key": "Name"}])
    assert tagged(("tag:Name", "out")) == set()
    assert "Tags" not in describe(ec2, group)  # the group's own tags were never touched
    with pytest.raises(ClientError) as err:
        ec2.create_tags(Resources=["sgr-0123456789abcdef0"], Tags=[{"Key": "k", "Value": "v"}])
    assert err.value.response["Error"]["Code"] == "InvalidSecurityGroupRuleId.NotFound"


def test_a_group_without_a_description(ec2, vpc):
    """AWS: MissingParameter, "The request must contain the parameter GroupDescription"
    (its answer quoted in getmoto/moto#112)."""
    with pytest.raises(ClientError) as err:
        ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="bare", Description="")
    assert err.value.response["Error"] == {
        "Code": "MissingParameter",
        "Message": "The request must contain the parameter GroupDescription"}


def test_cidr_host_bits_are_cleared_and_a_bare_address_refused(ec2, group):
    """AWS keeps 10.8.0.0/16 for 10.8.10.0/16 (hashicorp/terraform#9237) and refuses an
    address without a prefix length: "CIDR block ... is malformed" (aws/aws-cli#2428)."""
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.8.10.0/16"}]}])
    [permission] = describe(ec2, group)["IpPermissions"]
    assert permission["IpRanges"] == [{"CidrIp": "10.8.0.0/16"}]
    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "123.123.123.123"}]}])
    assert err.value.response["Error"] == {
        "Code": "InvalidParameterValue", "Message": "CIDR block 123.123.123.123 is malformed"}
