"""Internet gateways, Elastic IPs, public IPs at launch, NAT gateways, and routes to them:
the API alone (the shared ``--no-network`` daemon), errors included. Where AWS's words are
known (its error codes, the messages tools such as Terraform quote) they are asserted; the
network side is tests/network/test_internet.py."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.conftest import wait_for

TEST_NETS = ("198.51.100.", "203.0.113.")


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16")


@pytest.fixture
def subnet(make_subnet, vpc) -> dict:
    return make_subnet(vpc, "10.0.1.0/24")


@pytest.fixture
def attached(ec2, vpc) -> str:
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    return igw


def _nat(ec2, nat_id: str) -> dict:
    [found] = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
    return found


# --- internet gateways -------------------------------------------------------------------
def test_a_gateway_is_made_attached_detached_and_deleted(ec2, vpc):
    created = ec2.create_internet_gateway(TagSpecifications=[{
        "ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "way-out"}]}])
    igw = created["InternetGateway"]
    assert re.fullmatch(r"igw-[0-9a-f]{17}", igw["InternetGatewayId"])
    assert igw["Attachments"] == [] and igw["OwnerId"] == "111111111111"
    gateway_id = igw["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc["VpcId"])
    [described] = ec2.describe_internet_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    assert described["Attachments"] == [{"State": "available", "VpcId": vpc["VpcId"]}]
    assert described["Tags"] == [{"Key": "Name", "Value": "way-out"}]
    with pytest.raises(ClientError) as refused:
        ec2.delete_internet_gateway(InternetGatewayId=gateway_id)
    assert _code(refused) == "DependencyViolation"
    with pytest.raises(ClientError) as refused:
        ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert _code(refused) == "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=gateway_id)
    with pytest.raises(ClientError) as gone:
        ec2.describe_internet_gateways(InternetGatewayIds=[gateway_id])
    assert _code(gone) == "InvalidInternetGatewayID.NotFound"


def test_attach_and_detach_errors_are_awss(ec2, make_vpc, vpc, attached):
    other = make_vpc("10.1.0.0/16")
    with pytest.raises(ClientError) as twice:
        ec2.attach_internet_gateway(InternetGatewayId=attached, VpcId=other["VpcId"])
    assert _code(twice) == "Resource.AlreadyAssociated"
    assert twice.value.response["Error"]["Message"] == \
        f"resource {attached} is already attached to network {vpc['VpcId']}"
    with pytest.raises(ClientError) as elsewhere:
        ec2.detach_internet_gateway(InternetGatewayId=attached, VpcId=other["VpcId"])
    assert _code(elsewhere) == "Gateway.NotAttached"
    assert elsewhere.value.response["Error"]["Message"] == \
        f"resource {attached} is not attached to network {other['VpcId']}"
    second = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    with pytest.raises(ClientError) as one_per_vpc:
        ec2.attach_internet_gateway(InternetGatewayId=second, VpcId=vpc["VpcId"])
    assert _code(one_per_vpc) == "InvalidParameterValue"
    for bad, code in (("igw-deadbeef", "InvalidInternetGatewayID.NotFound"),
                      ("gw-1", "InvalidInternetGatewayID.Malformed")):
        with pytest.raises(ClientError) as error:
            ec2.attach_internet_gateway(InternetGatewayId=bad, VpcId=vpc["VpcId"])
        assert _code(error) == code


def test_gateways_addresses_and_nat_gateways_take_tags(ec2, subnet, attached):
    address = ec2.allocate_address()["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], AllocationId=address)[
        "NatGateway"]["NatGatewayId"]
    ec2.create_tags(Resources=[attached, address, nat], Tags=[{"Key": "team", "Value": "net"}])
    found = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["team"]}])["Tags"]
    assert {(t["ResourceId"], t["ResourceType"]) for t in found} >= {
        (attached, "internet-gateway"), (address, "elastic-ip"), (nat, "natgateway")}
    assert _nat(ec2, nat)["Tags"] == [{"Key": "team", "Value": "net"}]


def test_another_accounts_gateway_is_not_found(ec2, consumer_ec2, attached):
    with pytest.raises(ClientError) as error:
        consumer_ec2.describe_internet_gateways(InternetGatewayIds=[attached])
    assert _code(error) == "InvalidInternetGatewayID.NotFound"


# --- Elastic IPs -------------------------------------------------------------------------
def test_an_elastic_ip_is_allocated_associated_and_released(ec2, subnet, vpc, attached, launch):
    address = ec2.allocate_address(Domain="vpc")
    assert address["PublicIp"].startswith(TEST_NETS)
    assert re.fullmatch(r"eipalloc-[0-9a-f]{17}", address["AllocationId"])
    [instance] = launch(subnet)
    association = ec2.associate_address(AllocationId=address["AllocationId"],
                                        InstanceId=instance["InstanceId"])["AssociationId"]
    [described] = ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"]
    assert described["InstanceId"] == instance["InstanceId"]
    assert described["AssociationId"] == association
    assert described["PrivateIpAddress"] == instance["PrivateIpAddress"]
    assert described["NetworkInterfaceId"] == instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    [reservation] = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"]
    assert reservation["Instances"][0]["PublicIpAddress"] == address["PublicIp"]
    interface = reservation["Instances"][0]["NetworkInterfaces"][0]["Association"]
    assert interface["IpOwnerId"] == "111111111111"
    [eni] = ec2.describe_network_interfaces(NetworkInterfaceIds=[described["NetworkInterfaceId"]])[
        "NetworkInterfaces"]
    assert eni["Association"]["AllocationId"] == address["AllocationId"]
    with pytest.raises(ClientError) as in_use:
        ec2.release_address(AllocationId=address["AllocationId"])
    assert _code(in_use) == "InvalidIPAddress.InUse"
    with pytest.raises(ClientError) as detach:
        ec2.detach_internet_gateway(InternetGatewayId=attached, VpcId=vpc["VpcId"])
    assert _code(detach) == "DependencyViolation"
    ec2.disassociate_address(AssociationId=association)
    assert "InstanceId" not in ec2.describe_addresses(
        PublicIps=[address["PublicIp"]])["Addresses"][0]
    ec2.release_address(AllocationId=address["AllocationId"])
    with pytest.raises(ClientError) as gone:
        ec2.describe_addresses(AllocationIds=[address["AllocationId"]])
    assert _code(gone) == "InvalidAllocationID.NotFound"


def test_an_elastic_ip_needs_an_internet_gateway(ec2, subnet, launch):
    address = ec2.allocate_address(Domain="vpc")
    [instance] = launch(subnet)
    with pytest.raises(ClientError) as refused:
        ec2.associate_address(AllocationId=address["AllocationId"],
                              InstanceId=instance["InstanceId"])
    assert _code(refused) == "Gateway.NotAttached"
    assert refused.value.response["Error"]["Message"] == \
        f"Network {subnet['VpcId']} is not attached to any internet gateway"


def test_an_associated_elastic_ip_moves_only_when_allowed(ec2, subnet, attached, launch):
    address = ec2.allocate_address()["AllocationId"]
    first, second = launch(subnet, 2)
    ec2.associate_address(AllocationId=address, InstanceId=first["InstanceId"])
    with pytest.raises(ClientError) as refused:
        ec2.associate_address(AllocationId=address, InstanceId=second["InstanceId"])
    assert _code(refused) == "Resource.AlreadyAssociated"
    ec2.associate_address(AllocationId=address, InstanceId=second["InstanceId"],
                          AllowReassociation=True)
    [described] = ec2.describe_addresses(AllocationIds=[address])["Addresses"]
    assert described["InstanceId"] == second["InstanceId"]


def test_address_errors(ec2, consumer_ec2):
    for call, code in (
            (lambda: ec2.describe_addresses(AllocationIds=["eipalloc-deadbeef"]),
             "InvalidAllocationID.NotFound"),
            (lambda: ec2.release_address(AllocationId="alloc-1"), "InvalidAllocationID.Malformed"),
            (lambda: ec2.disassociate_address(AssociationId="eipassoc-deadbeef"),
             "InvalidAssociationID.NotFound"),
            (lambda: ec2.describe_addresses(PublicIps=["192.0.2.1"]), "InvalidAddress.NotFound")):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == code
    mine = ec2.allocate_address()["AllocationId"]
    with pytest.raises(ClientError) as theirs:
        consumer_ec2.release_address(AllocationId=mine)
    assert _code(theirs) == "InvalidAllocationID.NotFound"


# --- public IPs at launch ----------------------------------------------------------------
def test_map_public_ip_on_launch_gives_a_public_ip(ec2, subnet, launch):
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    [instance] = launch(subnet)
    [reservation] = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"]
    public_ip = reservation["Instances"][0]["PublicIpAddress"]
    assert public_ip.startswith(TEST_NETS)
    # not an Elastic IP: DescribeAddresses does not list it
    assert public_ip not in {a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]}
    [eni] = ec2.describe_network_interfaces(NetworkInterfaceIds=[
        instance["NetworkInterfaces"][0]["NetworkInterfaceId"]])["NetworkInterfaces"]
    assert eni["Association"]["PublicIp"] == public_ip
    assert eni["Association"]["IpOwnerId"] == "amazon"


def test_associate_public_ip_address_overrides_the_subnet(ec2, subnet):
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    quiet, loud = (ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                     NetworkInterfaces=[{
                                         "DeviceIndex": 0, "SubnetId": subnet["SubnetId"],
                                         "AssociatePublicIpAddress": wanted}])["Instances"][0]
                   for wanted in (False, True))
    described = {i["InstanceId"]: i for r in ec2.describe_instances(
        InstanceIds=[quiet["InstanceId"], loud["InstanceId"]])["Reservations"]
        for i in r["Instances"]}
    assert "PublicIpAddress" not in described[quiet["InstanceId"]]
    assert described[loud["InstanceId"]]["PublicIpAddress"].startswith(TEST_NETS)


def test_public_ips_are_never_handed_out_twice(ec2, make_vpc, make_subnet):
    vpc = make_vpc("10.9.0.0/16")
    subnet = make_subnet(vpc, "10.9.1.0/24")
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    instances = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=3, MaxCount=3,
                                  SubnetId=subnet["SubnetId"])["Instances"]
    elastic = [ec2.allocate_address()["PublicIp"] for _ in range(3)]
    described = [i["PublicIpAddress"] for r in ec2.describe_instances(
        InstanceIds=[i["InstanceId"] for i in instances])["Reservations"] for i in r["Instances"]]
    assert len(set(described + elastic)) == 6


# --- NAT gateways and routes ---------------------------------------------------------------
def test_a_nat_gateway_becomes_available_then_deleted(ec2, subnet, attached, vpc):
    address = ec2.allocate_address()
    created = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"],
                                     AllocationId=address["AllocationId"],
                                     ClientToken="once")
    nat = created["NatGateway"]
    assert re.fullmatch(r"nat-[0-9a-f]{17}", nat["NatGatewayId"])
    assert nat["State"] == "pending" and nat["VpcId"] == vpc["VpcId"]
    again = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"],
                                   AllocationId=address["AllocationId"], ClientToken="once")
    assert again["NatGateway"]["NatGatewayId"] == nat["NatGatewayId"]
    wait_for(lambda: _nat(ec2, nat["NatGatewayId"])["State"] == "available")
    [held] = _nat(ec2, nat["NatGatewayId"])["NatGatewayAddresses"]
    assert held["PublicIp"] == address["PublicIp"] and held["AllocationId"] == address["AllocationId"]
    [eni] = ec2.describe_network_interfaces(NetworkInterfaceIds=[held["NetworkInterfaceId"]])[
        "NetworkInterfaces"]
    assert eni["InterfaceType"] == "nat_gateway" and eni["RequesterManaged"] is True
    assert eni["PrivateIpAddress"] == held["PrivateIp"]
    [described] = ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"]
    assert described["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
    with pytest.raises(ClientError) as taken:
        ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], AllocationId=address["AllocationId"])
    assert _code(taken) == "Resource.AlreadyAssociated"

    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat["NatGatewayId"])
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    wait_for(lambda: _nat(ec2, nat["NatGatewayId"])["State"] == "deleted")
    [route] = [r for r in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0][
        "Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert route["NatGatewayId"] == nat["NatGatewayId"] and route["State"] == "blackhole"
    # the Elastic IP is free again, and the NAT's interface gone
    assert "NetworkInterfaceId" not in ec2.describe_addresses(
        AllocationIds=[address["AllocationId"]])["Addresses"][0]
    with pytest.raises(ClientError) as gone:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[held["NetworkInterfaceId"]])
    assert _code(gone) == "InvalidNetworkInterfaceID.NotFound"


def test_a_nat_gateway_in_a_vpc_with_no_way_out_fails(ec2, subnet, vpc):
    address = ec2.allocate_address()["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], AllocationId=address)[
        "NatGateway"]["NatGatewayId"]
    wait_for(lambda: _nat(ec2, nat)["State"] == "failed")
    failed = _nat(ec2, nat)
    assert failed["FailureCode"] == "Gateway.NotAttached"
    assert failed["FailureMessage"] == f"Network {vpc['VpcId']} has no Internet gateway attached"
    assert "NetworkInterfaceId" not in ec2.describe_addresses(
        AllocationIds=[address])["Addresses"][0]


def test_nat_gateway_errors(ec2, subnet):
    with pytest.raises(ClientError) as malformed:
        ec2.delete_nat_gateway(NatGatewayId="gateway-1")
    assert _code(malformed) == "NatGatewayMalformed"
    with pytest.raises(ClientError) as missing:
        ec2.describe_nat_gateways(NatGatewayIds=["nat-0123456789abcdef0"])
    assert _code(missing) == "NatGatewayNotFound"
    assert missing.value.response["Error"]["Message"] == \
        "NAT gateway nat-0123456789abcdef0 was not found"
    with pytest.raises(ClientError) as no_address:
        ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], AllocationId="eipalloc-deadbeef")
    assert _code(no_address) == "InvalidAllocationID.NotFound"


def test_routes_to_a_gateway_follow_its_attachment(ec2, vpc, make_vpc):
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    with pytest.raises(ClientError) as elsewhere:
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    assert _code(elsewhere) == "InvalidParameterValue"
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)

    def state() -> str:
        [route] = [r for r in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0][
            "Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        assert route["GatewayId"] == igw
        return route["State"]
    assert state() == "active"
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    assert state() == "blackhole"
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    assert state() == "active"
    with pytest.raises(ClientError) as unknown:
        ec2.replace_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                          GatewayId="igw-deadbeef")
    assert _code(unknown) == "InvalidGatewayID.NotFound"
    with pytest.raises(ClientError) as no_nat:
        ec2.replace_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                          NatGatewayId="nat-0123456789abcdef0")
    assert _code(no_nat) == "NatGatewayNotFound"


def test_gateways_and_addresses_survive_a_restart(make_daemon):
    daemon = make_daemon("--no-network")
    ec2 = daemon.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    address = ec2.allocate_address()
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=address["AllocationId"])[
        "NatGateway"]["NatGatewayId"]
    daemon.restart(kill=True)
    ec2 = daemon.client("ec2")
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"][0][
        "Attachments"][0]["VpcId"] == vpc
    assert ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"][0][
        "PublicIp"] == address["PublicIp"]
    wait_for(lambda: _nat(ec2, nat)["State"] == "available")


def test_an_egress_only_gateway_takes_ipv6_routes_only(ec2, make_vpc):
    vpc = make_vpc("10.4.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    created = ec2.create_egress_only_internet_gateway(VpcId=vpc["VpcId"], ClientToken="e1")
    eigw = created["EgressOnlyInternetGateway"]
    assert re.fullmatch(r"eigw-[0-9a-f]{17}", eigw["EgressOnlyInternetGatewayId"])
    assert eigw["Attachments"] == [{"State": "attached", "VpcId": vpc["VpcId"]}]
    gateway_id = eigw["EgressOnlyInternetGatewayId"]
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    with pytest.raises(ClientError) as ipv4:
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                         EgressOnlyInternetGatewayId=gateway_id)
    assert _code(ipv4) == "InvalidParameterValue"
    ec2.create_route(RouteTableId=table, DestinationIpv6CidrBlock="::/0",
                     EgressOnlyInternetGatewayId=gateway_id)
    with pytest.raises(ClientError) as busy:
        ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert _code(busy) == "DependencyViolation"
    assert ec2.delete_egress_only_internet_gateway(
        EgressOnlyInternetGatewayId=gateway_id)["ReturnCode"] is True
    [route] = [r for r in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0][
        "Routes"] if r.get("DestinationIpv6CidrBlock") == "::/0"]
    assert route["EgressOnlyInternetGatewayId"] == gateway_id and route["State"] == "blackhole"
    for bad, code in ((gateway_id, "InvalidGatewayID.NotFound"),
                      ("gateway-1", "InvalidEgressOnlyInternetGatewayId.Malformed")):
        with pytest.raises(ClientError) as error:
            ec2.describe_egress_only_internet_gateways(EgressOnlyInternetGatewayIds=[bad])
        assert _code(error) == code
