"""What EC2 makes for you: each VPC's main route table and default security group, and each
account's default VPC in each region.

Every AWS account has a default VPC in every region: 172.31.0.0/16, DNS hostnames on, a /20
default subnet per availability zone (172.31.0.0/20, 172.31.16.0/20, ... in zone order) that
gives instances a public address, its default security group, main route table and default
network ACL (an id here: pocketlink has no network ACLs), and an internet gateway attached
to it, the main route table's ``0.0.0.0/0`` leading there. pocketlink makes it on first use,
in the store only: ``ensure`` is called by the calls that list or need it (DescribeVpcs,
DescribeSubnets, DescribeSecurityGroups, DescribeRouteTables, DescribeInternetGateways,
DescribeAccountAttributes,
RunInstances without a subnet, CreateSecurityGroup without a VpcId, CreateDefaultVpc,
CreateDefaultSubnet), and its namespace comes only once something holds an address in it
(``network.topology.inputs``), so an account that never uses it costs a few rows. An account
that deletes it has none until CreateDefaultVpc, as at AWS: ``AccountAttributes`` remembers.
"""

from __future__ import annotations

import hashlib
import ipaddress

from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.model import ids, regions
from pocketlink.model.ec2 import (
    AccountAttributes,
    CidrAssociation,
    Route,
    RouteTable,
    RouteTableAssociation,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    Vpc,
)
from pocketlink.model.internet import InternetGateway
from pocketlink.store import Transaction

DEFAULT_VPC_CIDR = "172.31.0.0/16"
DEFAULT_SUBNET_PREFIX = 20
DEFAULT_GROUP_DESCRIPTION = "default VPC security group"


def dhcp_options_id(account: str, region: str) -> str:
    """Each account's default DHCP option set, one per region, as EC2 has it."""
    digest = hashlib.sha256(f"dopt/{account}/{region}".encode()).hexdigest()
    return f"dopt-{digest[:17]}"


def new_vpc(context: RequestContext, cidr: str, **fields) -> Vpc:
    """A VPC with its primary CIDR block, before its main route table and default group."""
    vpc = Vpc(id=ids.new_id("vpc"), account=context.account, region=context.region,
              cidr_block=cidr, dhcp_options_id=dhcp_options_id(context.account, context.region),
              default_network_acl_id=ids.new_id("acl"), **fields)
    vpc.cidr_associations.append(CidrAssociation(association_id=ids.new_id("vpc-cidr-assoc"),
                                                 cidr=cidr))
    return vpc


def local_routes(vpc: Vpc) -> list[Route]:
    routes = [Route(destination_cidr_block=a.cidr, gateway_id="local", origin="CreateRouteTable")
              for a in vpc.cidr_associations]
    routes += [Route(destination_ipv6_cidr_block=a.cidr, gateway_id="local",
                     origin="CreateRouteTable") for a in vpc.ipv6_associations]
    return routes


def default_egress(vpc: Vpc) -> list[SecurityGroupRule]:
    """What every new group allows out: all IPv4, and all IPv6 when the VPC has IPv6."""
    rules = [SecurityGroupRule(rule_id=ids.new_id("sgr"), egress=True, ip_protocol="-1",
                               cidr_ipv4="0.0.0.0/0")]
    if vpc.ipv6_associations:
        rules.append(SecurityGroupRule(rule_id=ids.new_id("sgr"), egress=True, ip_protocol="-1",
                                       cidr_ipv6="::/0"))
    return rules


def vpc_parts(vpc: Vpc) -> tuple[RouteTable, SecurityGroup]:
    """The main route table and default security group every VPC is born with (their ids
    written into ``vpc``): the group lets its own members in and everything out."""
    table = RouteTable(id=ids.new_id("rtb"), account=vpc.account, region=vpc.region,
                       vpc_id=vpc.id, routes=local_routes(vpc),
                       associations=[RouteTableAssociation(
                           association_id=ids.new_id("rtbassoc"), main=True)])
    group_id = ids.new_id("sg")
    rules = [SecurityGroupRule(rule_id=ids.new_id("sgr"), egress=False, ip_protocol="-1",
                               referenced_group_id=group_id, referenced_user_id=vpc.account),
             *default_egress(vpc)]
    group = SecurityGroup(id=group_id, account=vpc.account, region=vpc.region, vpc_id=vpc.id,
                          group_name="default", description=DEFAULT_GROUP_DESCRIPTION,
                          rules=rules)
    vpc.main_route_table_id = table.id
    vpc.default_security_group_id = group.id
    return table, group


def _attributes_id(context: RequestContext) -> str:
    return f"{context.account}/{context.region}"


def ensure(context: RequestContext) -> Vpc | None:
    """The caller's default VPC in this region, made now if the account never had one;
    None once it was deleted."""
    record = context.store.get(AccountAttributes, _attributes_id(context))
    if record is None:
        with context.store.transaction() as tx:
            return make_default_vpc(context, tx)
    return context.store.get(Vpc, record.default_vpc)


def make_default_vpc(context: RequestContext, tx: Transaction) -> Vpc:
    """A default VPC with a default subnet in each zone, written in ``tx`` and remembered."""
    vpc = new_vpc(context, DEFAULT_VPC_CIDR, is_default=True, enable_dns_hostnames=True)
    table, group = vpc_parts(vpc)
    gateway = InternetGateway(id=ids.new_id("igw"), account=vpc.account, region=vpc.region,
                              vpc_id=vpc.id)
    table.routes.append(Route(destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id))
    for resource in (vpc, table, group, gateway):
        tx.put(resource)
    taken: list[Subnet] = []
    for zone in regions.zones(context.account, context.region):
        subnet = default_subnet(vpc, zone, taken)
        taken.append(subnet)
        tx.put(subnet)
    tx.put(AccountAttributes(id=_attributes_id(context), account=context.account,
                             region=context.region, default_vpc=vpc.id))
    return vpc


def forget_default_vpc(context: RequestContext, tx: Transaction) -> None:
    """The default VPC is being deleted: no default VPC until CreateDefaultVpc."""
    record = tx.get(AccountAttributes, _attributes_id(context))
    if record is not None:
        record.default_vpc = "none"


def default_subnet(vpc: Vpc, zone: regions.Zone, existing: list[Subnet]) -> Subnet:
    """A default subnet in ``zone``: the lowest /20 of the VPC's block that no subnet of
    ``existing`` overlaps (CreateDefaultSubnet: "a size /20 IPv4 CIDR block")."""
    used = [ipaddress.IPv4Network(s.cidr_block) for s in existing if s.cidr_block]
    block = ipaddress.IPv4Network(vpc.cidr_block)
    free = next((n for n in block.subnets(new_prefix=DEFAULT_SUBNET_PREFIX)
                 if not any(n.overlaps(u) for u in used)), None)
    if free is None:  # AWS's answer here is not documented: a guess in its vocabulary
        raise ec2.InvalidSubnetConflict(f"{vpc.cidr_block} has no free /20 for a default subnet")
    return Subnet(id=ids.new_id("subnet"), account=vpc.account, region=vpc.region,
                  vpc_id=vpc.id, cidr_block=str(free), availability_zone=zone.name,
                  availability_zone_id=zone.zone_id, default_for_az=True,
                  map_public_ip_on_launch=True)


def default_subnets(context: RequestContext, vpc: Vpc) -> list[Subnet]:
    """The default VPC's default subnets, in zone order."""
    order = {z.name: n for n, z in enumerate(regions.zones(context.account, context.region))}
    found = [s for s in context.store.all(Subnet) if s.vpc_id == vpc.id and s.default_for_az]
    return sorted(found, key=lambda s: order.get(s.availability_zone, len(order)))


def launch_subnet(context: RequestContext, zone: str | None) -> Subnet:
    """Where RunInstances without a subnet puts an instance: the default subnet of the zone
    it names (Placement.AvailabilityZone), or of the first zone that has one."""
    vpc = ensure(context)
    if vpc is None:
        raise ec2.VPCIdNotSpecified("No default VPC for this user")
    subnets = default_subnets(context, vpc)
    if zone:
        subnets = [s for s in subnets if zone in (s.availability_zone, s.availability_zone_id)]
    if not subnets:
        where = f"availability zone {zone}" if zone else f"the default VPC '{vpc.id}'"
        raise ec2.MissingInput(f"No subnets found for {where}. Please specify a subnet.")
    return subnets[0]
