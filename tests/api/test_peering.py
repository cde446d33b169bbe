"""VPC peering connections through boto3: each operation, its states and AWS's errors.

The states and messages are AWS's (VpcPeeringConnectionStateReason; "Pending Acceptance
by ...", and for an overlapping pair "Failed due to incorrect VPC-ID, Account ID, or
overlapping CIDR range", as AWS and terraform users report it). The network tests carry
traffic through one (tests/network/test_peering_network.py).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import wait_for

A, B = "111111111111", "222222222222"


@pytest.fixture
def b_ec2(client):
    return client("ec2", B)


def _error(call, code: str) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]
    return raised.value.response["Error"]["Message"]


def _peering(ec2, peering_id: str) -> dict:
    return ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering_id])[
        "VpcPeeringConnections"][0]


def _wait_status(ec2, peering_id: str, code: str) -> dict:
    return wait_for(lambda: (p := _peering(ec2, peering_id))["Status"]["Code"] == code and p)


@pytest.fixture
def pair(ec2, b_ec2, make_vpc) -> tuple[str, str]:
    mine = make_vpc("10.10.0.0/16")["VpcId"]
    theirs = b_ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    return mine, theirs


def _request(ec2, pair, **params) -> dict:
    return ec2.create_vpc_peering_connection(VpcId=pair[0], PeerVpcId=pair[1], PeerOwnerId=B,
                                             **params)["VpcPeeringConnection"]


def test_a_request_goes_pending_and_both_owners_see_it(ec2, b_ec2, pair):
    created = _request(ec2, pair, TagSpecifications=[
        {"ResourceType": "vpc-peering-connection", "Tags": [{"Key": "Name", "Value": "ab"}]}])
    assert created["Status"] == {"Code": "initiating-request",
                                 "Message": f"Initiating Request to {B}"}
    assert created["VpcPeeringConnectionId"].startswith("pcx-")
    assert created["RequesterVpcInfo"]["CidrBlock"] == "10.10.0.0/16"
    assert created["AccepterVpcInfo"] == {"OwnerId": B, "VpcId": pair[1], "Region": "us-east-1"}
    assert created["Tags"] == [{"Key": "Name", "Value": "ab"}]
    shown = _wait_status(b_ec2, created["VpcPeeringConnectionId"], "pending-acceptance")
    assert shown["Status"]["Message"] == f"Pending Acceptance by {B}"
    assert "ExpirationTime" in shown
    assert "Tags" not in shown  # the requester's tags
    found = ec2.describe_vpc_peering_connections(Filters=[
        {"Name": "accepter-vpc-info.vpc-id", "Values": [pair[1]]},
        {"Name": "status-code", "Values": ["pending-acceptance"]}])["VpcPeeringConnections"]
    assert [p["VpcPeeringConnectionId"] for p in found] == [created["VpcPeeringConnectionId"]]


def test_accepting_makes_it_active_with_options_and_the_accepters_cidr(ec2, b_ec2, pair):
    peering_id = _request(ec2, pair)["VpcPeeringConnectionId"]
    _wait_status(ec2, peering_id, "pending-acceptance")
    _error(lambda: ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id),
           "OperationNotPermitted")
    accepted = b_ec2.accept_vpc_peering_connection(
        VpcPeeringConnectionId=peering_id)["VpcPeeringConnection"]
    assert accepted["Status"] == {"Code": "provisioning", "Message": "Provisioning"}
    shown = _wait_status(ec2, peering_id, "active")
    assert shown["Status"]["Message"] == "Active"
    assert shown["AccepterVpcInfo"]["CidrBlock"] == "10.20.0.0/16"
    assert shown["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False
    _error(lambda: b_ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id),
           "InvalidStateTransition")
    changed = b_ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=peering_id,
        AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    assert changed["AccepterPeeringConnectionOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    _error(lambda: b_ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=peering_id,
        RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True}),
        "OperationNotPermitted")
    shown = _peering(ec2, peering_id)
    assert shown["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True


def test_reject_and_delete_end_it_in_aws_words(ec2, b_ec2, pair, make_vpc):
    peering_id = _request(ec2, pair)["VpcPeeringConnectionId"]
    _wait_status(ec2, peering_id, "pending-acceptance")
    # Before acceptance the accepter rejects, it does not delete.
    _error(lambda: b_ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=peering_id),
           "OperationNotPermitted")
    assert b_ec2.reject_vpc_peering_connection(VpcPeeringConnectionId=peering_id)["Return"]
    assert _peering(ec2, peering_id)["Status"] == {"Code": "rejected",
                                                  "Message": f"Rejected by {B}"}
    _error(lambda: ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=peering_id),
           "InvalidStateTransition")
    again = _request(ec2, pair)["VpcPeeringConnectionId"]
    _wait_status(ec2, again, "pending-acceptance")
    assert ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=again)["Return"]
    assert _peering(b_ec2, again)["Status"] == {"Code": "deleted", "Message": f"Deleted by {A}"}


def test_an_overlapping_or_missing_peer_fails(ec2, b_ec2, pair, make_vpc):
    overlapping = b_ec2.create_vpc(CidrBlock="10.10.128.0/17")["Vpc"]["VpcId"]
    failed = _request(ec2, (pair[0], overlapping))["VpcPeeringConnectionId"]
    message = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"
    assert _wait_status(ec2, failed, "failed")["Status"]["Message"] == message
    # Another account's VPC that is not there: the request is made, then fails.
    missing = ec2.create_vpc_peering_connection(
        VpcId=pair[0], PeerVpcId="vpc-0123456789abcdef0",
        PeerOwnerId=B)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    assert _wait_status(ec2, missing, "failed")["Status"]["Message"] == message
    # The caller's own: checked at once.
    _error(lambda: ec2.create_vpc_peering_connection(VpcId=pair[0],
                                                     PeerVpcId="vpc-0123456789abcdef0"),
           "InvalidVpcID.NotFound")
    # The right VPC named under the wrong account fails too.
    wrong = ec2.create_vpc_peering_connection(VpcId=pair[0], PeerVpcId=pair[1],
                                              PeerOwnerId="333333333333")["VpcPeeringConnection"]
    assert _wait_status(ec2, wrong["VpcPeeringConnectionId"], "failed")


def test_errors_of_the_ids_and_of_a_second_request(ec2, b_ec2, pair, client):
    _error(lambda: ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=["pcx-nope"]),
           "InvalidVpcPeeringConnectionId.Malformed")
    _error(lambda: ec2.accept_vpc_peering_connection(
        VpcPeeringConnectionId="pcx-0123456789abcdef0"), "InvalidVpcPeeringConnectionID.NotFound")
    _error(lambda: ec2.create_vpc_peering_connection(VpcId=pair[0], PeerVpcId=pair[0]),
           "InvalidParameterValue")
    peering_id = _request(ec2, pair)["VpcPeeringConnectionId"]
    _error(lambda: _request(ec2, pair), "VpcPeeringConnectionAlreadyExists")
    # A third account sees nothing of it.
    stranger = client("ec2", "333333333333")
    _error(lambda: stranger.describe_vpc_peering_connections(
        VpcPeeringConnectionIds=[peering_id]), "InvalidVpcPeeringConnectionID.NotFound")
    _error(lambda: ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=peering_id,
        RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True}),
        "OperationNotPermitted")  # not active yet


def test_routes_through_a_peering_follow_its_state(ec2, b_ec2, pair):
    peering_id = _request(ec2, pair)["VpcPeeringConnectionId"]
    _wait_status(ec2, peering_id, "pending-acceptance")
    table = ec2.create_route_table(VpcId=pair[0])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="10.20.0.0/16",
                     VpcPeeringConnectionId=peering_id)

    def state() -> str:
        routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
        return next(r["State"] for r in routes if r.get("VpcPeeringConnectionId") == peering_id)

    assert state() == "blackhole"
    b_ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    _wait_status(ec2, peering_id, "active")
    assert state() == "active"
    found = ec2.describe_route_tables(Filters=[
        {"Name": "route.vpc-peering-connection-id", "Values": [peering_id]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [table]
    other = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    elsewhere = ec2.create_route_table(VpcId=other)["RouteTable"]["RouteTableId"]
    _error(lambda: ec2.create_route(RouteTableId=elsewhere, DestinationCidrBlock="10.20.0.0/16",
                                    VpcPeeringConnectionId=peering_id),
           "InvalidVpcPeeringConnectionID.NotFound")
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    assert state() == "blackhole"


def test_a_rule_may_name_a_group_across_an_active_peering_only(ec2, b_ec2, pair):
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=pair[0])["GroupId"]
    theirs = b_ec2.create_security_group(GroupName="t", Description="t",
                                         VpcId=pair[1])["GroupId"]
    permission = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                   "UserIdGroupPairs": [{"GroupId": theirs, "UserId": B}]}]
    message = _error(lambda: ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=permission), "InvalidGroup.NotFound")
    assert message == "You have specified two resources that belong to different networks."
    peering_id = _request(ec2, pair)["VpcPeeringConnectionId"]
    _wait_status(ec2, peering_id, "pending-acceptance")
    b_ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    _wait_status(ec2, peering_id, "active")
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=permission)
    peered = {"GroupId": theirs, "UserId": B, "VpcId": pair[1],
              "VpcPeeringConnectionId": peering_id, "PeeringStatus": "active"}
    rules = ec2.describe_security_group_rules(Filters=[
        {"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    assert any(r.get("ReferencedGroupInfo") == peered for r in rules)
    # The peering gone, the reference stays, stale: its peering's status says so.
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    [shown] = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    assert shown["IpPermissions"][0]["UserIdGroupPairs"] == [
        {**peered, "PeeringStatus": "deleted"}]


def test_deleting_a_vpc_deletes_its_peerings(ec2, b_ec2, pair):
    peering_id = _request(ec2, pair)["VpcPeeringConnectionId"]
    _wait_status(ec2, peering_id, "pending-acceptance")
    b_ec2.delete_vpc(VpcId=pair[1])
    shown = _wait_status(ec2, peering_id, "deleted")
    assert shown["Status"]["Message"] == f"Deleted by {B}"
