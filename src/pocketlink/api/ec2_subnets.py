"""Subnets: IPv4, dual-stack and IPv6-only, placed in an availability zone of the VPC's region."""

from __future__ import annotations

import ipaddress
import secrets

from pocketlink.api import addresses, filters, pages, tags
from pocketlink.api import ec2_defaults as defaults
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value, ipv4_network, ipv6_network
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.model import ids, regions
from pocketlink.model.ec2 import CidrAssociation, NetworkInterface, RouteTable, Subnet, Vpc
from pocketlink.model.subnet_reservations import SubnetCidrReservation
from pocketlink.wire.errors import ServiceError

# A subnet's IPv6 block: /44 to /64 (CreateSubnet's reference), inside one of the VPC's.
IPV6_PREFIXES = (44, 64)

SUBNET_FILTERS: dict[str, filters.Field] = {
    "subnet-id": lambda s: s.id,
    "vpc-id": lambda s: s.vpc_id,
    "cidr-block": lambda s: s.cidr_block,
    "cidr": lambda s: s.cidr_block,
    "cidrBlock": lambda s: s.cidr_block,
    "availability-zone": lambda s: s.availability_zone,
    "availabilityZone": lambda s: s.availability_zone,
    "availability-zone-id": lambda s: s.availability_zone_id,
    "state": lambda s: s.state,
    "default-for-az": lambda s: s.default_for_az,
    "defaultForAz": lambda s: s.default_for_az,
    "ipv6-cidr-block-association.ipv6-cidr-block": lambda s: [
        a.cidr for a in s.ipv6_associations],
    "ipv6-cidr-block-association.association-id": lambda s: [
        a.association_id for a in s.ipv6_associations],
    "ipv6-native": lambda s: s.ipv6_native,
    "map-public-ip-on-launch": lambda s: s.map_public_ip_on_launch,
    "owner-id": lambda s: s.account,
    "subnet-arn": lambda s: subnet_arn(s),
}


def subnet_arn(subnet: Subnet) -> str:
    return f"arn:aws:ec2:{subnet.region}:{subnet.account}:subnet/{subnet.id}"


def describe_subnet(context: RequestContext, subnet: Subnet) -> dict:
    item = {
        "SubnetId": subnet.id,
        "SubnetArn": subnet_arn(subnet),
        "VpcId": subnet.vpc_id,
        "OwnerId": subnet.account,
        "State": subnet.state,
        "AvailabilityZone": subnet.availability_zone,
        "AvailabilityZoneId": subnet.availability_zone_id,
        "AvailableIpAddressCount": addresses.available_ipv4_count(context.store, subnet),
        "DefaultForAz": subnet.default_for_az,
        "MapPublicIpOnLaunch": subnet.map_public_ip_on_launch,
        "AssignIpv6AddressOnCreation": subnet.assign_ipv6_address_on_creation,
        "Ipv6Native": subnet.ipv6_native,
        "EnableDns64": False,
        "MapCustomerOwnedIpOnLaunch": False,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": "resource-name" if subnet.ipv6_native else "ip-name",
            "EnableResourceNameDnsARecord": subnet.enable_resource_name_dns_a_record,
            "EnableResourceNameDnsAAAARecord": subnet.enable_resource_name_dns_aaaa_record,
        },
        "Ipv6CidrBlockAssociationSet": [
            {"AssociationId": a.association_id, "Ipv6CidrBlock": a.cidr,
             "Ipv6CidrBlockState": {"State": a.state}} for a in subnet.ipv6_associations
        ],
    }
    if subnet.cidr_block:
        item["CidrBlock"] = subnet.cidr_block
    if subnet.tags:
        item["Tags"] = tags.tag_set(subnet.tags)
    return item


def _zone(context: RequestContext, params: dict) -> regions.Zone:
    name, zone_id = params.get("AvailabilityZone"), params.get("AvailabilityZoneId")
    if name and zone_id:
        raise ec2.InvalidParameterCombination(
            "Only one of availabilityZone or availabilityZoneId may be specified.")
    zones = regions.zones(context.account, context.region)
    wanted = name or zone_id
    if not wanted:
        return secrets.choice(zones)
    for zone in zones:
        if wanted in (zone.name, zone.zone_id):
            return zone
    parameter = "availabilityZone" if name else "availabilityZoneId"
    raise invalid_value(parameter, wanted, "Subnets can currently only be created in the "
                        "following availability zones: "
                        + ", ".join(z.name if name else z.zone_id for z in zones) + ".")


def _check_ipv4(context: RequestContext, vpc: Vpc, value: str) -> str:
    network = ipv4_network(value)
    if not 16 <= network.prefixlen <= 28 or not any(
        network.subnet_of(ipaddress.IPv4Network(a.cidr)) for a in vpc.cidr_associations
    ):
        raise ec2.InvalidSubnetRange(value)
    for other in context.store.all(Subnet):
        if other.vpc_id == vpc.id and other.cidr_block and network.overlaps(
                ipaddress.IPv4Network(other.cidr_block)):
            raise ec2.InvalidSubnetConflict(value)
    return str(network)


def _check_ipv6(context: RequestContext, vpc: Vpc, value: str) -> str:
    network = ipv6_network(value)
    if not vpc.ipv6_associations:
        raise ec2.InvalidParameterValue(f"The VPC {vpc.id} does not have an IPv6 CIDR block associated")
    if not IPV6_PREFIXES[0] <= network.prefixlen <= IPV6_PREFIXES[1] or not any(
        network.subnet_of(ipaddress.IPv6Network(a.cidr)) for a in vpc.ipv6_associations
    ):
        raise ec2.InvalidSubnetRange(value)
    for other in context.store.all(Subnet):
        if other.vpc_id == vpc.id and any(
                network.overlaps(ipaddress.IPv6Network(a.cidr)) for a in other.ipv6_associations):
            raise ec2.InvalidSubnetConflict(value)
    return str(network)


@operation("ec2", "CreateSubnet")
def create_subnet(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    ipv6_native = bool(params.get("Ipv6Native"))
    cidr, cidr6 = params.get("CidrBlock"), params.get("Ipv6CidrBlock")
    # The three refusals and their words are AWS's (moto's aws_verified
    # test_create_ipv6native_subnet_* in tests/test_ec2/test_subnets.py).
    if ipv6_native:
        if not cidr6:
            raise ServiceError("Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided.",
                               code="MissingParameter")
        if cidr:
            raise ec2.InvalidParameterCombination(
                "When specifying ipv4 parameters, cidrBlock or ipv4IpamPoolId, you cannot set "
                "ipv6Native to true.")
    elif not cidr:
        raise ServiceError("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.",
                           code="MissingParameter")
    zone = _zone(context, params)
    subnet_tags = tags.from_specifications(params, "subnet")
    subnet = Subnet(
        id=ids.new_id("subnet"), account=context.account, region=context.region, vpc_id=vpc.id,
        cidr_block=_check_ipv4(context, vpc, cidr) if cidr else None,
        availability_zone=zone.name, availability_zone_id=zone.zone_id,
        ipv6_native=ipv6_native, assign_ipv6_address_on_creation=ipv6_native, tags=subnet_tags,
    )
    if cidr6:
        subnet.ipv6_associations.append(CidrAssociation(
            association_id=ids.new_id("subnet-cidr-assoc"), cidr=_check_ipv6(context, vpc, cidr6)))
    with context.store.transaction() as tx:
        tx.put(subnet)
    return {"Subnet": describe_subnet(context, subnet)}


@operation("ec2", "CreateDefaultSubnet")
def create_default_subnet(context: RequestContext, params: dict) -> dict:
    if not params.get("AvailabilityZone") and not params.get("AvailabilityZoneId"):
        raise ec2.MissingParameter("AvailabilityZone")
    zone = _zone(context, params)
    vpc = defaults.ensure(context)
    if vpc is None:
        raise ec2.DefaultVpcDoesNotExist()
    existing = next((s for s in defaults.default_subnets(context, vpc)
                     if s.availability_zone == zone.name), None)
    if existing is not None:
        raise ec2.DefaultSubnetAlreadyExistsInAvailabilityZone(existing.id, zone.name)
    if params.get("Ipv6Native"):
        raise ec2.InvalidParameterValue(
            "pocketlink does not make IPv6-only default subnets yet: create an IPv6-only "
            "subnet with CreateSubnet (Ipv6Native)")
    subnet = defaults.default_subnet(
        vpc, zone, [s for s in context.store.all(Subnet) if s.vpc_id == vpc.id])
    with context.store.transaction() as tx:
        tx.put(subnet)
    return {"Subnet": describe_subnet(context, subnet)}


@operation("ec2", "DescribeSubnets")
def describe_subnets(context: RequestContext, params: dict) -> dict:
    defaults.ensure(context)
    subnets = select(context, Subnet, params.get("SubnetIds"))
    subnets = filters.apply(subnets, params.get("Filters"), SUBNET_FILTERS)
    chunk, more = pages.page(subnets, params, ids_param="SubnetIds")
    return {"Subnets": [describe_subnet(context, s) for s in chunk], **more}


@operation("ec2", "DeleteSubnet")
def delete_subnet(context: RequestContext, params: dict) -> dict:
    subnet = require(context, Subnet, params["SubnetId"])
    if any(eni.subnet_id == subnet.id for eni in context.store.all(NetworkInterface)):
        raise ec2.DependencyViolation(f"The subnet '{subnet.id}' has dependencies and cannot be deleted.")
    with context.store.transaction() as tx:
        for table in owned(context, RouteTable):
            if any(a.subnet_id == subnet.id for a in table.associations):
                mine = tx.edit(RouteTable, table.id)
                mine.associations = [a for a in mine.associations if a.subnet_id != subnet.id]
        for reservation in context.store.all(SubnetCidrReservation):
            if reservation.subnet_id == subnet.id:
                tx.delete(reservation)
        tx.delete(subnet)
    return {}


_SUBNET_ATTRIBUTES = {
    "MapPublicIpOnLaunch": "map_public_ip_on_launch",
    "AssignIpv6AddressOnCreation": "assign_ipv6_address_on_creation",
    "EnableResourceNameDnsARecordOnLaunch": "enable_resource_name_dns_a_record",
    "EnableResourceNameDnsAAAARecordOnLaunch": "enable_resource_name_dns_aaaa_record",
}


@operation("ec2", "ModifySubnetAttribute")
def modify_subnet_attribute(context: RequestContext, params: dict) -> dict:
    subnet = require(context, Subnet, params["SubnetId"])
    unsupported = sorted(set(params) - set(_SUBNET_ATTRIBUTES) - {"SubnetId"})
    if unsupported:  # answering success without applying it would mislead the caller
        raise ec2.InvalidParameterValue(
            f"pocketlink does not support the subnet attribute {unsupported[0]} yet")
    changes = {field: params[member].get("Value") for member, field in _SUBNET_ATTRIBUTES.items()
               if member in params}
    if changes.get("assign_ipv6_address_on_creation") and not subnet.ipv6_associations:
        raise ec2.InvalidParameterValue(f"Subnet {subnet.id} does not have an IPv6 CIDR block")
    with context.store.transaction() as tx:
        mine = tx.edit(Subnet, subnet.id)
        for field, value in changes.items():
            if value is not None:
                setattr(mine, field, value)
    return {}


@operation("ec2", "AssociateSubnetCidrBlock")
def associate_subnet_cidr_block(context: RequestContext, params: dict) -> dict:
    subnet = require(context, Subnet, params["SubnetId"])
    if "Ipv6CidrBlock" not in params:
        raise ec2.MissingParameter("Ipv6CidrBlock")
    if subnet.ipv6_associations:
        raise ec2.InvalidParameterValue(f"The subnet {subnet.id} already has an IPv6 CIDR block associated")
    vpc = require(context, Vpc, subnet.vpc_id)
    association = CidrAssociation(association_id=ids.new_id("subnet-cidr-assoc"),
                                  cidr=_check_ipv6(context, vpc, params["Ipv6CidrBlock"]))
    with context.store.transaction() as tx:
        mine = tx.edit(Subnet, subnet.id)
        mine.ipv6_associations.append(association)
    return {"SubnetId": subnet.id, "Ipv6CidrBlockAssociation": {
        "AssociationId": association.association_id, "Ipv6CidrBlock": association.cidr,
        "Ipv6CidrBlockState": {"State": "associated"}}}


@operation("ec2", "DisassociateSubnetCidrBlock")
def disassociate_subnet_cidr_block(context: RequestContext, params: dict) -> dict:
    association_id = params["AssociationId"]
    found = next(((s, a) for s in owned(context, Subnet) for a in s.ipv6_associations
                  if a.association_id == association_id), None)
    if found is None:
        raise ServiceError(f"The subnet CIDR block with association ID '{association_id}' "
                           "does not exist", code="InvalidSubnetCidrBlockAssociationID.NotFound")
    subnet, association = found
    if subnet.ipv6_native:  # pocketlink's words: AWS documents none for this
        raise ec2.InvalidParameterValue(f"The IPv6 CIDR block of IPv6-only subnet {subnet.id} "
                                        "cannot be disassociated.")
    holders = sorted(e.id for e in context.store.all(NetworkInterface)
                     if e.subnet_id == subnet.id and e.ipv6_addresses)
    if holders:
        raise ec2.DependencyViolation(
            f"The subnet CIDR block {association.cidr} has IPv6 addresses assigned to "
            f"{holders[0]}: unassign them first.")
    with context.store.transaction() as tx:
        mine = tx.edit(Subnet, subnet.id)
        mine.ipv6_associations = [a for a in mine.ipv6_associations
                                  if a.association_id != association_id]
        mine.assign_ipv6_address_on_creation = False
    return {"SubnetId": subnet.id, "Ipv6CidrBlockAssociation": {
        "AssociationId": association_id, "Ipv6CidrBlock": association.cidr,
        "Ipv6CidrBlockState": {"State": "disassociating"}}}
