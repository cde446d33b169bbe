"""VPCs: create (with their main route table, default security group and network ACL id),
describe, delete, attributes and secondary CIDR blocks; the default VPC made again
(CreateDefaultVpc; ``ec2_defaults`` makes it the first time)."""

from __future__ import annotations

import dataclasses
import ipaddress

from pocketlink.api import addresses, filters, pages, tags
from pocketlink.api import ec2_defaults as defaults
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value, ipv4_network
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.model import ids
from pocketlink.model.ec2 import (
    CidrAssociation,
    Instance,
    NetworkInterface,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from pocketlink.model.internet import EgressOnlyInternetGateway, InternetGateway, NatGateway
from pocketlink.model.vpn import VpnGateway
from pocketlink.store import Transaction
from pocketlink.wire.errors import ServiceError

MAX_CIDR_BLOCKS = 5  # of each family

VPC_FILTERS: dict[str, filters.Field] = {
    "vpc-id": lambda v: v.id,
    "cidr": lambda v: v.cidr_block,
    "cidr-block-association.cidr-block": lambda v: [a.cidr for a in v.cidr_associations],
    "cidr-block-association.association-id": lambda v: [
        a.association_id for a in v.cidr_associations],
    "cidr-block-association.state": lambda v: [a.state for a in v.cidr_associations],
    "ipv6-cidr-block-association.ipv6-cidr-block": lambda v: [
        a.cidr for a in v.ipv6_associations],
    "ipv6-cidr-block-association.association-id": lambda v: [
        a.association_id for a in v.ipv6_associations],
    "ipv6-cidr-block-association.state": lambda v: [a.state for a in v.ipv6_associations],
    "ipv6-cidr-block-association.ipv6-pool": lambda v: ["Amazon" for _ in v.ipv6_associations],
    "dhcp-options-id": lambda v: v.dhcp_options_id,
    "is-default": lambda v: v.is_default,
    "owner-id": lambda v: v.account,
    "state": lambda v: v.state,
}


def describe_vpc(vpc: Vpc) -> dict:
    item = {
        "VpcId": vpc.id,
        "OwnerId": vpc.account,
        "InstanceTenancy": vpc.instance_tenancy,
        "CidrBlock": vpc.cidr_block,
        "DhcpOptionsId": vpc.dhcp_options_id,
        "State": vpc.state,
        "IsDefault": vpc.is_default,
        "CidrBlockAssociationSet": [
            {"AssociationId": a.association_id, "CidrBlock": a.cidr,
             "CidrBlockState": {"State": a.state}} for a in vpc.cidr_associations
        ],
    }
    if vpc.ipv6_associations:
        item["Ipv6CidrBlockAssociationSet"] = [
            {"AssociationId": a.association_id, "Ipv6CidrBlock": a.cidr,
             "Ipv6CidrBlockState": {"State": a.state}, "Ipv6Pool": "Amazon",
             "NetworkBorderGroup": vpc.region} for a in vpc.ipv6_associations
        ]
    if vpc.tags:
        item["Tags"] = tags.tag_set(vpc.tags)
    return item


# Ranges no VPC may hold: "this network", loopback, link-local (where the resolver and IMDS
# live), multicast and the reserved 240/4. AWS refuses them; the code is AWS's range error.
_RESERVED = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"))


def _check_vpc_cidr(value: str) -> ipaddress.IPv4Network:
    network = ipv4_network(value)
    if not 16 <= network.prefixlen <= 28 or any(network.overlaps(r) for r in _RESERVED):
        raise ec2.InvalidVpcRange(value)
    return network


@operation("ec2", "CreateVpc")
def create_vpc(context: RequestContext, params: dict) -> dict:
    if "Ipv4IpamPoolId" in params or "Ipv6IpamPoolId" in params or "Ipv6Pool" in params:
        raise ec2.InvalidParameterValue("pocketlink has no IPAM pools: give a CidrBlock")
    if "CidrBlock" not in params:
        raise ServiceError("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.",
                           code="MissingParameter")
    network = _check_vpc_cidr(params["CidrBlock"])
    tenancy = params.get("InstanceTenancy", "default")
    if tenancy not in ("default", "dedicated"):
        raise invalid_value("instanceTenancy", tenancy)
    vpc = defaults.new_vpc(context, str(network), instance_tenancy=tenancy,
                           tags=tags.from_specifications(params, "vpc"))
    if params.get("AmazonProvidedIpv6CidrBlock"):
        vpc.ipv6_associations.append(CidrAssociation(
            association_id=ids.new_id("vpc-cidr-assoc"),
            cidr=addresses.allocate_vpc_ipv6_block(context.store)))
    table, group = defaults.vpc_parts(vpc)
    with context.store.transaction() as tx:
        tx.put(vpc)
        tx.put(table)
        tx.put(group)
    return {"Vpc": describe_vpc(vpc)}


@operation("ec2", "CreateDefaultVpc")
def create_default_vpc(context: RequestContext, params: dict) -> dict:
    if defaults.ensure(context) is not None:
        raise ec2.DefaultVpcAlreadyExists()
    with context.store.transaction() as tx:
        vpc = defaults.make_default_vpc(context, tx)
    return {"Vpc": describe_vpc(vpc)}


@operation("ec2", "DescribeVpcs")
def describe_vpcs(context: RequestContext, params: dict) -> dict:
    defaults.ensure(context)
    vpcs = select(context, Vpc, params.get("VpcIds"))
    vpcs = filters.apply(vpcs, params.get("Filters"), VPC_FILTERS)
    chunk, more = pages.page(vpcs, params, ids_param="VpcIds")
    return {"Vpcs": [describe_vpc(v) for v in chunk], **more}


def _dependents(context: RequestContext, vpc: Vpc) -> list[str]:
    store = context.store
    found = [s.id for s in store.all(Subnet) if s.vpc_id == vpc.id]
    found += [g.id for g in store.all(SecurityGroup)
              if g.vpc_id == vpc.id and g.id != vpc.default_security_group_id]
    found += [t.id for t in store.all(RouteTable)
              if t.vpc_id == vpc.id and t.id != vpc.main_route_table_id]
    found += [e.id for e in store.all(NetworkInterface) if e.vpc_id == vpc.id]
    found += [i.id for i in store.all(Instance) if i.vpc_id == vpc.id and i.state != "terminated"]
    found += [g.id for g in store.all(InternetGateway) if g.vpc_id == vpc.id]
    found += [g.id for g in store.all(EgressOnlyInternetGateway) if g.vpc_id == vpc.id]
    found += [n.id for n in store.all(NatGateway) if n.vpc_id == vpc.id and n.state != "deleted"]
    found += [g.id for g in store.all(VpnGateway) if g.vpc_id == vpc.id]
    return found


@operation("ec2", "DeleteVpc")
def delete_vpc(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    if _dependents(context, vpc):
        raise ec2.DependencyViolation(
            f"The vpc '{vpc.id}' has dependencies and cannot be deleted.")
    with context.store.transaction() as tx:
        for cls, rid in ((RouteTable, vpc.main_route_table_id),
                         (SecurityGroup, vpc.default_security_group_id)):
            resource = context.store.get(cls, rid)
            if resource is not None:
                tx.delete(resource)
        if vpc.is_default:
            defaults.forget_default_vpc(context, tx)
        tx.delete(vpc)
    return {"Return": True}


_ATTRIBUTES = {
    "enableDnsSupport": ("EnableDnsSupport", "enable_dns_support"),
    "enableDnsHostnames": ("EnableDnsHostnames", "enable_dns_hostnames"),
    "enableNetworkAddressUsageMetrics": ("EnableNetworkAddressUsageMetrics",
                                         "enable_network_address_usage_metrics"),
}


@operation("ec2", "DescribeVpcAttribute")
def describe_vpc_attribute(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    attribute = params["Attribute"]
    if attribute not in _ATTRIBUTES:
        raise invalid_value("attribute", attribute, "Unknown attribute.")
    member, field = _ATTRIBUTES[attribute]
    value = getattr(vpc, field)
    return {"VpcId": vpc.id, member: {"Value": value}}


@operation("ec2", "ModifyVpcAttribute")
def modify_vpc_attribute(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    given = [(member, field) for member, field in _ATTRIBUTES.values() if member in params]
    if len(given) != 1:
        raise ec2.InvalidParameterCombination(
            "Fields for multiple attribute types specified: "
            + ", ".join(m for m, _ in given) if given else
            "No attributes specified.")
    member, field = given[0]
    value = params[member].get("Value")
    if value is None:
        raise ec2.MissingParameter(f"{member}.Value")
    if field == "enable_dns_hostnames" and value and not vpc.enable_dns_support:
        raise ec2.InvalidParameterValue(
            "Cannot enable DNS hostnames when DNS support is disabled for "
            f"{vpc.id}.")
    with context.store.transaction() as tx:
        mine = tx.edit(Vpc, vpc.id)
        setattr(mine, field, value)
        if field == "enable_dns_support" and not value:
            mine.enable_dns_hostnames = False
    return {}


@operation("ec2", "ModifyVpcTenancy")
def modify_vpc_tenancy(context: RequestContext, params: dict) -> dict:
    """A dedicated VPC can only go back to default: the API reference says so and botocore's
    VpcTenancy enum holds only `default`. The refusal's code and words are moto's
    (test_vpc_modify_tenancy_unknown); AWS's own were not found, so they are a guess."""
    vpc = require(context, Vpc, params["VpcId"])
    tenancy = params["InstanceTenancy"]
    if tenancy != "default":
        raise ServiceError(f"The tenancy value {tenancy} is not supported.",
                           code="UnsupportedTenancy")
    with context.store.transaction() as tx:
        tx.edit(Vpc, vpc.id).instance_tenancy = tenancy
    return {"ReturnValue": True}


def _add_local_route(tx: Transaction, context: RequestContext, vpc: Vpc, route: Route) -> None:
    for table in context.store.all(RouteTable):
        if table.vpc_id == vpc.id:
            mine = tx.edit(RouteTable, table.id)
            mine.routes.append(dataclasses.replace(route))


@operation("ec2", "AssociateVpcCidrBlock")
def associate_vpc_cidr_block(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    if params.get("AmazonProvidedIpv6CidrBlock"):
        if len(vpc.ipv6_associations) >= MAX_CIDR_BLOCKS:
            raise _cidr_limit(vpc)
        association = CidrAssociation(association_id=ids.new_id("vpc-cidr-assoc"),
                                      cidr=addresses.allocate_vpc_ipv6_block(context.store))
        with context.store.transaction() as tx:
            mine = tx.edit(Vpc, vpc.id)
            mine.ipv6_associations.append(association)
            _add_local_route(tx, context, vpc, Route(
                destination_ipv6_cidr_block=association.cidr, gateway_id="local",
                origin="CreateRouteTable"))
        return {"VpcId": vpc.id, "Ipv6CidrBlockAssociation": {
            "AssociationId": association.association_id, "Ipv6CidrBlock": association.cidr,
            "Ipv6CidrBlockState": {"State": "associating"}, "NetworkBorderGroup": vpc.region,
            "Ipv6Pool": "Amazon"}}
    if "CidrBlock" not in params:
        raise ServiceError(
            "Either 'cidrBlock' or 'amazonProvidedIpv6CidrBlock' should be provided.",
            code="MissingParameter")
    if len(vpc.cidr_associations) >= MAX_CIDR_BLOCKS:  # before the block is even read, as
        raise _cidr_limit(vpc)  # AWS (moto's aws_verified test asks a sixth non-canonical one)
    network = _check_vpc_cidr(params["CidrBlock"])
    for existing in vpc.cidr_associations:
        if network.overlaps(ipaddress.IPv4Network(existing.cidr)):
            raise ec2.InvalidVpcRange(str(network))
    association = CidrAssociation(association_id=ids.new_id("vpc-cidr-assoc"), cidr=str(network))
    with context.store.transaction() as tx:
        mine = tx.edit(Vpc, vpc.id)
        mine.cidr_associations.append(association)
        _add_local_route(tx, context, vpc, Route(destination_cidr_block=association.cidr,
                                                 gateway_id="local", origin="CreateRouteTable"))
    return {"VpcId": vpc.id, "CidrBlockAssociation": {
        "AssociationId": association.association_id, "CidrBlock": association.cidr,
        "CidrBlockState": {"State": "associating"}}}


def _cidr_limit(vpc: Vpc) -> ServiceError:
    """Five IPv4 and five IPv6 blocks per VPC (the VPC quotas' defaults); the message as
    AWS words it (moto's aws_verified test_associate_vpc_ipv4_cidr_block)."""
    return ec2.CidrLimitExceeded(
        f"This network {vpc.id} has met its maximum number of allowed CIDRs: {MAX_CIDR_BLOCKS}")


@operation("ec2", "DisassociateVpcCidrBlock")
def disassociate_vpc_cidr_block(context: RequestContext, params: dict) -> dict:
    association_id = params["AssociationId"]
    for vpc in owned(context, Vpc):
        for family, associations in (("v4", vpc.cidr_associations),
                                     ("v6", vpc.ipv6_associations)):
            for association in associations:
                if association.association_id != association_id:
                    continue
                if family == "v4" and association.cidr == vpc.cidr_block:
                    raise ec2.OperationNotPermitted(
                        f"The vpc CIDR block with association ID {association_id} "
                        "may not be disassociated. It is the primary IPv4 CIDR "
                        "block of the VPC")
                _disassociate(context, vpc, association)
                if family == "v4":
                    return {"VpcId": vpc.id, "CidrBlockAssociation": {
                        "AssociationId": association_id, "CidrBlock": association.cidr,
                        "CidrBlockState": {"State": "disassociating"}}}
                return {"VpcId": vpc.id, "Ipv6CidrBlockAssociation": {
                    "AssociationId": association_id, "Ipv6CidrBlock": association.cidr,
                    "Ipv6CidrBlockState": {"State": "disassociating"}}}
    raise ec2.InvalidVpcCidrBlockAssociationIDNotFound(association_id)


def _disassociate(context: RequestContext, vpc: Vpc, association: CidrAssociation) -> None:
    network = ipaddress.ip_network(association.cidr)
    for subnet in context.store.all(Subnet):
        if subnet.vpc_id != vpc.id:
            continue
        blocks = [subnet.cidr_block] if subnet.cidr_block else []
        blocks += [a.cidr for a in subnet.ipv6_associations]
        if any(ipaddress.ip_network(b).subnet_of(network) for b in blocks  # type: ignore[arg-type]
               if ipaddress.ip_network(b).version == network.version):
            raise ec2.DependencyViolation(
                f"The vpc CIDR block {association.cidr} has subnets and cannot be "
                "disassociated.")
    with context.store.transaction() as tx:
        mine = tx.edit(Vpc, vpc.id)
        mine.cidr_associations = [a for a in mine.cidr_associations
                                  if a.association_id != association.association_id]
        mine.ipv6_associations = [a for a in mine.ipv6_associations
                                  if a.association_id != association.association_id]
        for table in context.store.all(RouteTable):
            if table.vpc_id == vpc.id:
                rt = tx.edit(RouteTable, table.id)
                rt.routes = [r for r in rt.routes
                             if not (r.gateway_id == "local" and r.destination == association.cidr)]
