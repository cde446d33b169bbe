"""Transit gateways through boto3: gateways, VPC attachments, route tables, routes, and
VPC routes to a gateway, with AWS's errors.

The NotFound messages are AWS's ("Transit Gateway tgw-... was deleted or does not exist.",
as AWS answers and moto copies; "The transitGateway ID '...' does not exist." for a VPC
route that outruns its attachment, as Terraform users meet it). The network tests carry
traffic through one (tests/network/test_transit_gateway_network.py).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import wait_for


def _error(call, code: str) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]
    return raised.value.response["Error"]["Message"]


def _gateway(ec2, gateway_id: str) -> dict:
    return ec2.describe_transit_gateways(TransitGatewayIds=[gateway_id])["TransitGateways"][0]


def _attachment_state(ec2, attachment_id: str) -> str:
    return ec2.describe_transit_gateway_vpc_attachments(
        TransitGatewayAttachmentIds=[attachment_id])["TransitGatewayVpcAttachments"][0]["State"]


@pytest.fixture
def gateway(ec2) -> dict:
    made = ec2.create_transit_gateway(Description="hub", TagSpecifications=[
        {"ResourceType": "transit-gateway", "Tags": [{"Key": "Name", "Value": "hub"}]}])
    gateway_id = made["TransitGateway"]["TransitGatewayId"]
    return wait_for(lambda: (g := _gateway(ec2, gateway_id))["State"] == "available" and g)


@pytest.fixture
def attached(ec2, gateway, make_vpc, make_subnet):
    """``attached(cidr)``: a VPC with a subnet, attached to ``gateway``: (vpc, attachment)."""

    def make(cidr: str) -> tuple[dict, dict]:
        vpc = make_vpc(cidr)
        subnet = make_subnet(vpc, cidr.replace("0.0/16", "1.0/24"))
        attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=gateway["TransitGatewayId"], VpcId=vpc["VpcId"],
            SubnetIds=[subnet["SubnetId"]])["TransitGatewayVpcAttachment"]
        wait_for(lambda: _attachment_state(ec2, attachment["TransitGatewayAttachmentId"])
                 == "available")
        return vpc, attachment

    return make


def test_a_gateway_is_pending_then_available_with_its_default_route_table(ec2):
    made = ec2.create_transit_gateway(Options={"AmazonSideAsn": 64600, "DnsSupport": "enable"}
                                      )["TransitGateway"]
    assert made["State"] == "pending"
    assert made["TransitGatewayId"].startswith("tgw-")
    assert made["TransitGatewayArn"] == \
        f"arn:aws:ec2:us-east-1:111111111111:transit-gateway/{made['TransitGatewayId']}"
    options = made["Options"]
    assert options["AmazonSideAsn"] == 64600
    assert options["DefaultRouteTableAssociation"] == "enable"
    assert options["DefaultRouteTablePropagation"] == "enable"
    table_id = options["AssociationDefaultRouteTableId"]
    assert table_id.startswith("tgw-rtb-") and options["PropagationDefaultRouteTableId"] == table_id
    wait_for(lambda: _gateway(ec2, made["TransitGatewayId"])["State"] == "available")
    tables = ec2.describe_transit_gateway_route_tables(Filters=[
        {"Name": "transit-gateway-id", "Values": [made["TransitGatewayId"]]}])[
        "TransitGatewayRouteTables"]
    assert [(t["TransitGatewayRouteTableId"], t["DefaultAssociationRouteTable"],
             t["DefaultPropagationRouteTable"]) for t in tables] == [(table_id, True, True)]
    wait_for(lambda: ec2.describe_transit_gateway_route_tables(
        TransitGatewayRouteTableIds=[table_id])["TransitGatewayRouteTables"][0]["State"]
        == "available")


def test_without_the_default_options_there_is_no_default_table(ec2):
    made = ec2.create_transit_gateway(Options={"DefaultRouteTableAssociation": "disable",
                                               "DefaultRouteTablePropagation": "disable"}
                                      )["TransitGateway"]
    assert "AssociationDefaultRouteTableId" not in made["Options"]
    assert ec2.describe_transit_gateway_route_tables(Filters=[
        {"Name": "transit-gateway-id", "Values": [made["TransitGatewayId"]]}])[
        "TransitGatewayRouteTables"] == []


def test_bad_options_and_unknown_ids_are_refused(ec2):
    _error(lambda: ec2.create_transit_gateway(Options={"AmazonSideAsn": 100}),
           "InvalidParameterValue")
    message = _error(lambda: ec2.describe_transit_gateways(
        TransitGatewayIds=["tgw-0123456789abcdef0"]), "InvalidTransitGatewayID.NotFound")
    assert message == "Transit Gateway tgw-0123456789abcdef0 was deleted or does not exist."
    _error(lambda: ec2.delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId="tgw-attach-0123456789abcdef0"),
        "InvalidTransitGatewayAttachmentID.NotFound")
    _error(lambda: ec2.create_transit_gateway_route_table(
        TransitGatewayId="tgw-0123456789abcdef0"), "InvalidTransitGatewayID.NotFound")


def test_another_account_sees_no_gateway_of_mine(client, gateway):
    other = client("ec2", "222222222222")
    _error(lambda: other.describe_transit_gateways(
        TransitGatewayIds=[gateway["TransitGatewayId"]]), "InvalidTransitGatewayID.NotFound")
    vpc = other.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    subnet = other.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]
    _error(lambda: other.create_transit_gateway_vpc_attachment(
        TransitGatewayId=gateway["TransitGatewayId"], VpcId=vpc["VpcId"],
        SubnetIds=[subnet["SubnetId"]]), "InvalidTransitGatewayID.NotFound")


def test_an_attachment_holds_an_eni_per_subnet_and_joins_the_default_table(ec2, gateway,
                                                                            attached):
    vpc, attachment = attached("10.61.0.0/16")
    assert attachment["State"] == "pending"
    assert attachment["TransitGatewayAttachmentId"].startswith("tgw-attach-")
    assert attachment["VpcOwnerId"] == "111111111111"
    enis = ec2.describe_network_interfaces(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NetworkInterfaces"]
    assert [e["SubnetId"] for e in enis] == attachment["SubnetIds"]
    assert enis[0]["Description"] == \
        f"Network Interface for Transit Gateway Attachment {attachment['TransitGatewayAttachmentId']}"
    table_id = gateway["Options"]["AssociationDefaultRouteTableId"]
    listed = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[
        attachment["TransitGatewayAttachmentId"]])["TransitGatewayAttachments"][0]
    assert listed["ResourceType"] == "vpc" and listed["ResourceId"] == vpc["VpcId"]
    assert listed["Association"] == {"TransitGatewayRouteTableId": table_id,
                                     "State": "associated"}
    by_table = ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "association.transit-gateway-route-table-id", "Values": [table_id]}])[
        "TransitGatewayAttachments"]
    assert [a["TransitGatewayAttachmentId"] for a in by_table] == \
        [attachment["TransitGatewayAttachmentId"]]
    associations = ec2.get_transit_gateway_route_table_associations(
        TransitGatewayRouteTableId=table_id)["Associations"]
    assert [a["ResourceId"] for a in associations] == [vpc["VpcId"]]
    propagations = ec2.get_transit_gateway_route_table_propagations(
        TransitGatewayRouteTableId=table_id)["TransitGatewayRouteTablePropagations"]
    assert [(p["ResourceId"], p["State"]) for p in propagations] == [(vpc["VpcId"], "enabled")]
    routes = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table_id, Filters=[
        {"Name": "type", "Values": ["propagated"]}])["Routes"]
    assert [(r["DestinationCidrBlock"], r["State"]) for r in routes] == \
        [("10.61.0.0/16", "active")]


def test_attachment_errors(ec2, gateway, make_vpc, make_subnet):
    vpc = make_vpc("10.62.0.0/16")
    one = make_subnet(vpc, "10.62.1.0/24", AvailabilityZone="us-east-1a")
    two = make_subnet(vpc, "10.62.2.0/24", AvailabilityZone="us-east-1a")
    gateway_id = gateway["TransitGatewayId"]
    _error(lambda: ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=gateway_id, VpcId=vpc["VpcId"], SubnetIds=[one["SubnetId"],
                                                                    two["SubnetId"]]),
        "DuplicateSubnetsInSameZone")
    _error(lambda: ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=gateway_id, VpcId=vpc["VpcId"], SubnetIds=["subnet-0123456789abcdef0"]),
        "InvalidSubnetID.NotFound")
    other = make_vpc("10.63.0.0/16")
    _error(lambda: ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=gateway_id, VpcId=other["VpcId"], SubnetIds=[one["SubnetId"]]),
        "InvalidParameterValue")


def test_a_gateway_with_attachments_cannot_be_deleted(ec2, gateway, attached):
    vpc, attachment = attached("10.64.0.0/16")
    gateway_id = gateway["TransitGatewayId"]
    table_id = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="10.0.0.0/8",
                     TransitGatewayId=gateway_id)
    message = _error(lambda: ec2.delete_transit_gateway(TransitGatewayId=gateway_id),
                     "IncorrectState")
    assert attachment["TransitGatewayAttachmentId"] in message
    attachment_id = attachment["TransitGatewayAttachmentId"]
    deleting = ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
    assert deleting["TransitGatewayVpcAttachment"]["State"] == "deleting"
    wait_for(lambda: _attachment_state(ec2, attachment_id) == "deleted")
    # The VPC's route to the gateway leads nowhere now, as AWS shows it.
    routes = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]["Routes"]
    assert [r["State"] for r in routes if r.get("TransitGatewayId")] == ["blackhole"]
    assert ec2.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [f"*{attachment_id}"]}])["NetworkInterfaces"] == []
    assert ec2.delete_transit_gateway(TransitGatewayId=gateway_id)["TransitGateway"]["State"] \
        == "deleting"
    wait_for(lambda: _gateway(ec2, gateway_id)["State"] == "deleted")
    _error(lambda: ec2.delete_transit_gateway(TransitGatewayId=gateway_id),
           "InvalidTransitGatewayID.NotFound")


def test_route_tables_associations_and_propagations(ec2, gateway, attached):
    _, attachment = attached("10.65.0.0/16")
    attachment_id = attachment["TransitGatewayAttachmentId"]
    gateway_id = gateway["TransitGatewayId"]
    default = gateway["Options"]["AssociationDefaultRouteTableId"]
    table = ec2.create_transit_gateway_route_table(TransitGatewayId=gateway_id)[
        "TransitGatewayRouteTable"]
    table_id = table["TransitGatewayRouteTableId"]
    assert table["State"] == "pending" and table["DefaultAssociationRouteTable"] is False
    message = _error(lambda: ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=attachment_id),
        "Resource.AlreadyAssociated")
    assert attachment_id in message
    ec2.disassociate_transit_gateway_route_table(TransitGatewayRouteTableId=default,
                                                 TransitGatewayAttachmentId=attachment_id)
    _error(lambda: ec2.disassociate_transit_gateway_route_table(
        TransitGatewayRouteTableId=default, TransitGatewayAttachmentId=attachment_id),
        "InvalidAssociation.NotFound")
    association = ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=attachment_id)[
        "Association"]
    assert association["State"] == "associating" and association["ResourceType"] == "vpc"
    propagation = ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=attachment_id)[
        "Propagation"]
    assert propagation["State"] == "enabling"
    _error(lambda: ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=attachment_id),
        "TransitGatewayRouteTablePropagation.Duplicate")
    ec2.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=default, TransitGatewayAttachmentId=attachment_id)
    assert ec2.get_transit_gateway_route_table_propagations(TransitGatewayRouteTableId=default)[
        "TransitGatewayRouteTablePropagations"] == []
    _error(lambda: ec2.delete_transit_gateway_route_table(TransitGatewayRouteTableId=table_id),
           "IncorrectState")
    _error(lambda: ec2.delete_transit_gateway_route_table(TransitGatewayRouteTableId=default),
           "IncorrectState")


def test_static_and_blackhole_routes_and_their_search(ec2, gateway, attached):
    vpc, attachment = attached("10.66.0.0/16")
    attachment_id = attachment["TransitGatewayAttachmentId"]
    table_id = gateway["Options"]["AssociationDefaultRouteTableId"]
    route = ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="192.168.0.0/16",
        TransitGatewayAttachmentId=attachment_id)["Route"]
    assert route == {"DestinationCidrBlock": "192.168.0.0/16", "Type": "static",
                     "State": "active", "TransitGatewayAttachments": [{
                         "ResourceId": vpc["VpcId"], "TransitGatewayAttachmentId": attachment_id,
                         "ResourceType": "vpc"}]}
    hole = ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table_id,
                                            DestinationCidrBlock="10.99.0.0/16",
                                            Blackhole=True)["Route"]
    assert hole["State"] == "blackhole" and "TransitGatewayAttachments" not in hole
    _error(lambda: ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.99.0.0/16",
        Blackhole=True), "RouteAlreadyExists")
    _error(lambda: ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.98.0.0/16"),
        "InvalidParameterCombination")
    _error(lambda: ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table_id,
                                                     Filters=[]), "MissingParameter")
    found = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table_id, Filters=[
        {"Name": "route-search.longest-prefix-match", "Values": ["10.66.3.4/32"]}])["Routes"]
    assert [r["DestinationCidrBlock"] for r in found] == ["10.66.0.0/16"]
    found = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table_id, Filters=[
        {"Name": "state", "Values": ["blackhole"]}])["Routes"]
    assert [r["DestinationCidrBlock"] for r in found] == ["10.99.0.0/16"]
    ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table_id,
                                     DestinationCidrBlock="10.99.0.0/16")
    _error(lambda: ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table_id,
                                                    DestinationCidrBlock="10.99.0.0/16"),
           "InvalidRoute.NotFound")


def test_a_vpc_route_to_a_gateway_needs_the_vpc_attached(ec2, gateway, attached, make_vpc):
    vpc, _ = attached("10.67.0.0/16")
    gateway_id = gateway["TransitGatewayId"]
    loose = make_vpc("10.68.0.0/16")
    table = ec2.create_route_table(VpcId=loose["VpcId"])["RouteTable"]
    message = _error(lambda: ec2.create_route(
        RouteTableId=table["RouteTableId"], DestinationCidrBlock="10.0.0.0/8",
        TransitGatewayId=gateway_id), "InvalidTransitGatewayID.NotFound")
    assert message == f"The transitGateway ID '{gateway_id}' does not exist."
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="10.0.0.0/8",
                     TransitGatewayId=gateway_id)
    found = ec2.describe_route_tables(Filters=[
        {"Name": "route.transit-gateway-id", "Values": [gateway_id]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [table["RouteTableId"]]
    route = next(r for r in found[0]["Routes"] if r.get("DestinationCidrBlock") == "10.0.0.0/8")
    assert route["TransitGatewayId"] == gateway_id and route["State"] == "active"


def test_an_attachment_takes_subnets_and_options_after_creation(ec2, attached, make_subnet):
    vpc, attachment = attached("10.69.0.0/16")
    attachment_id = attachment["TransitGatewayAttachmentId"]
    [first] = attachment["SubnetIds"]
    zone = ec2.describe_subnets(SubnetIds=[first])["Subnets"][0]["AvailabilityZone"]
    other_zone = next(z for z in ("us-east-1a", "us-east-1b") if z != zone)
    second = make_subnet(vpc, "10.69.2.0/24", AvailabilityZone=other_zone)["SubnetId"]
    same_zone = make_subnet(vpc, "10.69.3.0/24", AvailabilityZone=zone)["SubnetId"]
    _error(lambda: ec2.modify_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment_id, AddSubnetIds=[same_zone]),
        "DuplicateSubnetsInSameZone")
    modified = ec2.modify_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment_id, AddSubnetIds=[second],
        RemoveSubnetIds=[first], Options={"Ipv6Support": "enable"})[
        "TransitGatewayVpcAttachment"]
    assert modified["SubnetIds"] == [second]
    assert modified["Options"]["Ipv6Support"] == "enable"
    enis = ec2.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [f"*{attachment_id}"]}])["NetworkInterfaces"]
    assert [e["SubnetId"] for e in enis] == [second]


def test_modify_a_gateway_and_its_default_tables(ec2, gateway, attached):
    gateway_id = gateway["TransitGatewayId"]
    old = gateway["Options"]["AssociationDefaultRouteTableId"]
    table_id = ec2.create_transit_gateway_route_table(TransitGatewayId=gateway_id)[
        "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    modified = ec2.modify_transit_gateway(
        TransitGatewayId=gateway_id, Description="hub 2",
        Options={"AssociationDefaultRouteTableId": table_id,
                 "DefaultRouteTablePropagation": "disable"})["TransitGateway"]
    assert modified["Description"] == "hub 2"
    assert modified["Options"]["AssociationDefaultRouteTableId"] == table_id
    assert modified["Options"]["DefaultRouteTablePropagation"] == "disable"
    flags = {t["TransitGatewayRouteTableId"]: t["DefaultAssociationRouteTable"]
             for t in ec2.describe_transit_gateway_route_tables(TransitGatewayRouteTableIds=[
                 old, table_id])["TransitGatewayRouteTables"]}
    assert flags == {old: False, table_id: True}
    # A new attachment joins the new default table, and propagates nowhere.
    _, attachment = attached("10.60.0.0/16")
    listed = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[
        attachment["TransitGatewayAttachmentId"]])["TransitGatewayAttachments"][0]
    assert listed["Association"]["TransitGatewayRouteTableId"] == table_id
    assert ec2.get_transit_gateway_route_table_propagations(TransitGatewayRouteTableId=old)[
        "TransitGatewayRouteTablePropagations"] == []
    _error(lambda: ec2.modify_transit_gateway(TransitGatewayId=gateway_id, Options={
        "AssociationDefaultRouteTableId": "tgw-rtb-0123456789abcdef0"}),
        "InvalidRouteTableID.NotFound")
