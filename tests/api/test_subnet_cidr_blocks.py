"""Subnet CIDR reservations (Create/Get/DeleteSubnetCidrReservation: the allocator keeps
out of them) and DisassociateSubnetCidrBlock, through boto3 with EC2's errors."""

from __future__ import annotations

import ipaddress

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ipv6_subnets


def _error(call, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)


@pytest.fixture
def subnet(make_subnet, vpc) -> dict:
    return make_subnet(vpc, "10.0.1.0/28", Ipv6CidrBlock=ipv6_subnets(vpc)[1])


def test_a_reservation_keeps_the_allocator_out(ec2, subnet):
    created = ec2.create_subnet_cidr_reservation(
        SubnetId=subnet["SubnetId"], Cidr="10.0.1.0/29", ReservationType="explicit",
        Description="appliances")["SubnetCidrReservation"]
    assert created["SubnetCidrReservationId"].startswith("scr-")
    assert (created["Cidr"], created["ReservationType"], created["Description"]) == \
        ("10.0.1.0/29", "explicit", "appliances")
    # A /28 has 11 usable addresses; the reservation leaves the allocator 10.0.1.8-14.
    picked = [ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"][
        "PrivateIpAddress"] for _ in range(7)]
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.0.1.8/29") for a in picked)
    _error(lambda: ec2.create_network_interface(SubnetId=subnet["SubnetId"]),
           "InsufficientFreeAddressesInSubnet")
    named = ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                         PrivateIpAddress="10.0.1.5")["NetworkInterface"]
    assert named["PrivateIpAddress"] == "10.0.1.5"  # explicit: given when named
    found = ec2.get_subnet_cidr_reservations(SubnetId=subnet["SubnetId"])
    assert [r["SubnetCidrReservationId"] for r in found["SubnetIpv4CidrReservations"]] == \
        [created["SubnetCidrReservationId"]]
    assert found["SubnetIpv6CidrReservations"] == []
    deleted = ec2.delete_subnet_cidr_reservation(
        SubnetCidrReservationId=created["SubnetCidrReservationId"])
    assert deleted["DeletedSubnetCidrReservation"]["Cidr"] == "10.0.1.0/29"
    ec2.create_network_interface(SubnetId=subnet["SubnetId"])  # room again


def test_reservation_refusals(ec2, subnet):
    block = subnet["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    six = str(next(ipaddress.ip_network(block).subnets(new_prefix=80)))
    ec2.create_subnet_cidr_reservation(SubnetId=subnet["SubnetId"], Cidr=six,
                                       ReservationType="prefix")
    found = ec2.get_subnet_cidr_reservations(SubnetId=subnet["SubnetId"], Filters=[
        {"Name": "reservationType", "Values": ["prefix"]}])
    assert [r["Cidr"] for r in found["SubnetIpv6CidrReservations"]] == [six]
    for cidr, kind, code in (("10.0.2.0/29", "explicit", "InvalidParameterValue"),
                             ("10.0.1.0/29", "sometimes", "InvalidParameterValue"),
                             (six, "explicit", "InvalidSubnetCidrReservation.Conflict")):
        _error(lambda c=cidr, k=kind: ec2.create_subnet_cidr_reservation(
            SubnetId=subnet["SubnetId"], Cidr=c, ReservationType=k), code)
    _error(lambda: ec2.delete_subnet_cidr_reservation(
        SubnetCidrReservationId="scr-0123456789abcdef0"),
        "InvalidSubnetCidrReservationID.NotFound")
    _error(lambda: ec2.get_subnet_cidr_reservations(SubnetId="subnet-0123456789abcdef0"),
           "InvalidSubnetID.NotFound")


def test_disassociate_an_ipv6_block(ec2, subnet):
    association = subnet["Ipv6CidrBlockAssociationSet"][0]
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"],
                                       Ipv6AddressCount=1)["NetworkInterface"]
    _error(lambda: ec2.disassociate_subnet_cidr_block(
        AssociationId=association["AssociationId"]), "DependencyViolation")
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    answer = ec2.disassociate_subnet_cidr_block(AssociationId=association["AssociationId"])
    assert answer["Ipv6CidrBlockAssociation"]["Ipv6CidrBlockState"]["State"] == "disassociating"
    shown = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]
    assert not shown.get("Ipv6CidrBlockAssociationSet")
    _error(lambda: ec2.disassociate_subnet_cidr_block(
        AssociationId=association["AssociationId"]),
        "InvalidSubnetCidrBlockAssociationID.NotFound")
    # Associated again, as before.
    ec2.associate_subnet_cidr_block(SubnetId=subnet["SubnetId"],
                                    Ipv6CidrBlock=association["Ipv6CidrBlock"])
