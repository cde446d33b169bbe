"""Managed prefix lists through boto3: the customer's (create, versions, modify, restore,
associations, delete) beside AWS's, with EC2's errors. Their effect on traffic:
tests/network/test_prefix_lists_network.py."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _error(call, code: str) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]
    return raised.value.response["Error"]["Message"]


def _create(ec2, family: str = "IPv4", entries: list[dict] | None = None, **params) -> dict:
    params.setdefault("MaxEntries", 3)
    return ec2.create_managed_prefix_list(
        PrefixListName="office", AddressFamily=family,
        Entries=entries if entries is not None else [{"Cidr": "192.0.2.0/24",
                                                      "Description": "office"}],
        **params)["PrefixList"]


def _entries(ec2, prefix_list_id: str, **params) -> list[dict]:
    return ec2.get_managed_prefix_list_entries(PrefixListId=prefix_list_id, **params)["Entries"]


def test_create_and_describe_beside_awss_own(ec2):
    created = _create(ec2, TagSpecifications=[{"ResourceType": "prefix-list",
                                                "Tags": [{"Key": "Name", "Value": "office"}]}])
    assert created["State"] == "create-in-progress"
    assert created["PrefixListId"].startswith("pl-")
    assert (created["Version"], created["MaxEntries"], created["OwnerId"]) == \
        (1, 3, "111111111111")
    assert created["PrefixListArn"].endswith(f":111111111111:prefix-list/{created['PrefixListId']}")
    lists = ec2.describe_managed_prefix_lists()["PrefixLists"]
    mine = next(p for p in lists if p["PrefixListId"] == created["PrefixListId"])
    assert mine["State"] == "create-complete"
    assert mine["Tags"] == [{"Key": "Name", "Value": "office"}]
    assert any(p["OwnerId"] == "AWS" for p in lists)  # the gateway services' lists
    found = ec2.describe_managed_prefix_lists(Filters=[
        {"Name": "owner-id", "Values": ["111111111111"]},
        {"Name": "prefix-list-id", "Values": [created["PrefixListId"]]}])["PrefixLists"]
    assert [p["PrefixListId"] for p in found] == [created["PrefixListId"]]
    assert _entries(ec2, created["PrefixListId"]) == [{"Cidr": "192.0.2.0/24",
                                                       "Description": "office"}]


def test_modify_makes_versions_and_restore_brings_one_back(ec2):
    prefix_list = _create(ec2)["PrefixListId"]
    changed = ec2.modify_managed_prefix_list(
        PrefixListId=prefix_list, CurrentVersion=1, AddEntries=[{"Cidr": "198.51.100.0/24"}],
        RemoveEntries=[{"Cidr": "192.0.2.0/24"}])["PrefixList"]
    assert (changed["State"], changed["Version"]) == ("modify-in-progress", 2)
    assert _entries(ec2, prefix_list) == [{"Cidr": "198.51.100.0/24"}]
    assert _entries(ec2, prefix_list, TargetVersion=1)[0]["Cidr"] == "192.0.2.0/24"
    renamed = ec2.modify_managed_prefix_list(PrefixListId=prefix_list, CurrentVersion=2,
                                             PrefixListName="branch")["PrefixList"]
    assert (renamed["PrefixListName"], renamed["Version"]) == ("branch", 2)
    message = _error(lambda: ec2.modify_managed_prefix_list(
        PrefixListId=prefix_list, CurrentVersion=1, AddEntries=[{"Cidr": "10.0.0.0/8"}]),
        "PrefixListVersionMismatch")
    assert message == "The prefix list has the incorrect version number."
    restored = ec2.restore_managed_prefix_list_version(
        PrefixListId=prefix_list, PreviousVersion=1, CurrentVersion=2)["PrefixList"]
    assert restored["Version"] == 3
    assert [e["Cidr"] for e in _entries(ec2, prefix_list)] == ["192.0.2.0/24"]


def test_max_entries_and_families_are_enforced(ec2):
    _error(lambda: _create(ec2, entries=[{"Cidr": f"10.0.{i}.0/24"} for i in range(4)]),
           "InvalidParameterValue")
    _error(lambda: _create(ec2, "IPv6"), "InvalidParameterValue")
    _error(lambda: _create(ec2, "IPv5"), "InvalidParameterValue")
    _error(lambda: _create(ec2, MaxEntries=0), "InvalidParameterValue")
    _error(lambda: ec2.create_managed_prefix_list(PrefixListName="com.amazonaws.mine",
                                                  AddressFamily="IPv4", MaxEntries=1),
           "InvalidParameterValue")
    six = _create(ec2, "IPv6", [{"Cidr": "2001:db8::/32"}])
    assert six["AddressFamily"] == "IPv6"
    prefix_list = _create(ec2, MaxEntries=1)["PrefixListId"]
    _error(lambda: ec2.modify_managed_prefix_list(PrefixListId=prefix_list,
                                                  AddEntries=[{"Cidr": "10.0.0.0/8"}]),
           "InvalidParameterValue")
    _error(lambda: ec2.modify_managed_prefix_list(PrefixListId=prefix_list, MaxEntries=5,
                                                  AddEntries=[{"Cidr": "10.0.0.0/8"}]),
           "InvalidParameterCombination")
    ec2.modify_managed_prefix_list(PrefixListId=prefix_list, MaxEntries=5)
    ec2.modify_managed_prefix_list(PrefixListId=prefix_list, AddEntries=[{"Cidr": "10.0.0.0/8"}])


def test_rules_and_routes_name_a_list_and_hold_it(ec2, make_vpc):
    vpc = make_vpc("10.0.0.0/16")
    prefix_list = _create(ec2)["PrefixListId"]
    group = ec2.create_security_group(GroupName="g", Description="g",
                                      VpcId=vpc["VpcId"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "PrefixListIds": [{"PrefixListId": prefix_list}]}])
    _error(lambda: ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "PrefixListIds": [{"PrefixListId": "pl-0123456789abcdef0"}]}]),
        "InvalidPrefixListId.NotFound")
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationPrefixListId=prefix_list,
                     NetworkInterfaceId=eni["NetworkInterfaceId"])
    associations = ec2.get_managed_prefix_list_associations(
        PrefixListId=prefix_list)["PrefixListAssociations"]
    assert sorted(a["ResourceId"] for a in associations) == sorted([group, table])
    _error(lambda: ec2.delete_managed_prefix_list(PrefixListId=prefix_list),
           "DependencyViolation")
    ec2.delete_route(RouteTableId=table, DestinationPrefixListId=prefix_list)
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "PrefixListIds": [{"PrefixListId": prefix_list}]}])
    deleted = ec2.delete_managed_prefix_list(PrefixListId=prefix_list)["PrefixList"]
    assert deleted["State"] == "delete-in-progress"
    _error(lambda: _entries(ec2, prefix_list), "InvalidPrefixListId.NotFound")


def test_awss_lists_and_others_lists_are_not_the_callers(ec2, client):
    aws = next(p for p in ec2.describe_managed_prefix_lists()["PrefixLists"]
               if p["OwnerId"] == "AWS")
    assert _entries(ec2, aws["PrefixListId"])
    _error(lambda: ec2.modify_managed_prefix_list(PrefixListId=aws["PrefixListId"],
                                                  PrefixListName="mine"),
           "UnauthorizedOperation")
    _error(lambda: ec2.delete_managed_prefix_list(PrefixListId=aws["PrefixListId"]),
           "UnauthorizedOperation")
    prefix_list = _create(ec2)["PrefixListId"]
    other = client("ec2", "222222222222")
    _error(lambda: other.get_managed_prefix_list_entries(PrefixListId=prefix_list),
           "InvalidPrefixListId.NotFound")
    _error(lambda: ec2.describe_managed_prefix_lists(PrefixListIds=["pl-nope"]),
           "InvalidPrefixListID.Malformed")
