"""The caller's resources by id, with the error each service gives an id it cannot find.

``require(context, Vpc, vpc_id)`` raises EC2's ``InvalidVpcID.Malformed`` for an id not shaped
``vpc-`` + hex and ``InvalidVpcID.NotFound`` for one the caller has no VPC by in this region;
``require(context, LoadBalancer, arn)`` raises ELBv2's ``LoadBalancerNotFound``. ``LOOKUPS``
says, per kind, what AWS's API references list: the id's prefix and the two errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2, elbv2, route53
from pocketlink.model import ids
from pocketlink.model.base import Resource
from pocketlink.model.dhcp import DhcpOptions
from pocketlink.model.ec2 import Instance, NetworkInterface, RouteTable, SecurityGroup, Subnet, Vpc
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup
from pocketlink.model.flow_logs import FlowLog
from pocketlink.model.internet import (
    Address,
    EgressOnlyInternetGateway,
    InternetGateway,
    NatGateway,
)
from pocketlink.model.network_insights import NetworkInsightsAnalysis, NetworkInsightsPath
from pocketlink.model.peering import VpcPeeringConnection
from pocketlink.model.prefix_lists import ManagedPrefixList
from pocketlink.model.privatelink import ConnectionNotification, EndpointService, VpcEndpoint
from pocketlink.model.route53 import HostedZone
from pocketlink.model.vpn import CustomerGateway, VpnConnection, VpnGateway
from pocketlink.wire.errors import ServiceError

R = TypeVar("R", bound=Resource)
V = TypeVar("V", bound=Resource)


@dataclass(frozen=True)
class Lookup:
    """How one kind is looked up by id, and what its service answers when it is not there."""

    not_found: Callable[[str], ServiceError]
    # The not-found message, for services whose errors take one (EC2's word their own).
    message: str = "{}"
    # EC2's: an id that is not ``prefix-`` + hex is malformed, before any lookup.
    prefix: str = ""
    malformed: Callable[[str], ServiceError] | None = None
    # Route 53's hosted zones are global: any region's endpoint sees them.
    regional: bool = True


LOOKUPS: dict[type[Resource], Lookup] = {
    Vpc: Lookup(ec2.InvalidVpcIDNotFound, prefix="vpc", malformed=ec2.InvalidVpcIDMalformed),
    Subnet: Lookup(ec2.InvalidSubnetIDNotFound, prefix="subnet",
                   malformed=ec2.InvalidSubnetIDMalformed),
    SecurityGroup: Lookup(ec2.InvalidGroupNotFound, prefix="sg",
                          malformed=ec2.InvalidGroupIdMalformed),
    RouteTable: Lookup(ec2.InvalidRouteTableIDNotFound, prefix="rtb",
                       malformed=ec2.InvalidRouteTableIDMalformed),
    NetworkInterface: Lookup(ec2.InvalidNetworkInterfaceIDNotFound, prefix="eni",
                             malformed=ec2.InvalidNetworkInterfaceIDMalformed),
    Instance: Lookup(ec2.InvalidInstanceIDNotFound, prefix="i",
                     malformed=ec2.InvalidInstanceIDMalformed),
    VpcEndpoint: Lookup(ec2.InvalidVpcEndpointIdNotFound, prefix="vpce",
                        malformed=ec2.InvalidVpcEndpointIdMalformed),
    EndpointService: Lookup(ec2.InvalidVpcEndpointServiceIdNotFound, prefix="vpce-svc",
                            malformed=ec2.InvalidVpcEndpointServiceIdMalformed),
    ConnectionNotification: Lookup(ec2.InvalidConnectionNotification),
    LoadBalancer: Lookup(elbv2.LoadBalancerNotFoundException, "Load balancer '{}' not found"),
    TargetGroup: Lookup(elbv2.TargetGroupNotFoundException, "Target groups '{}' not found"),
    Listener: Lookup(elbv2.ListenerNotFoundException, "Listener '{}' not found"),
    DhcpOptions: Lookup(ec2.InvalidDhcpOptionIDNotFound, prefix="dopt",
                        malformed=ec2.InvalidDhcpOptionsIdMalformed),
    ManagedPrefixList: Lookup(ec2.InvalidPrefixListIdNotFound, prefix="pl",
                              malformed=ec2.InvalidPrefixListIDMalformed),
    VpcPeeringConnection: Lookup(ec2.InvalidVpcPeeringConnectionIDNotFound, prefix="pcx",
                                 malformed=ec2.InvalidVpcPeeringConnectionIdMalformed),
    HostedZone: Lookup(route53.NoSuchHostedZone, "No hosted zone found with ID: {}",
                       regional=False),
    InternetGateway: Lookup(ec2.InvalidInternetGatewayIDNotFound, prefix="igw",
                            malformed=ec2.InvalidInternetGatewayIDMalformed),
    Address: Lookup(ec2.InvalidAllocationIDNotFound, prefix="eipalloc",
                    malformed=ec2.InvalidAllocationIDMalformed),
    NatGateway: Lookup(ec2.NatGatewayNotFound, prefix="nat", malformed=ec2.NatGatewayMalformed),
    # Not found, AWS says a gateway id (as for a route's target); malformed is a guess.
    EgressOnlyInternetGateway: Lookup(
        ec2.InvalidGatewayIDNotFound, prefix="eigw",
        malformed=ec2.InvalidEgressOnlyInternetGatewayIdMalformed),
    # Site-to-Site VPN's ids: AWS's Malformed errors for them are not known, so none.
    VpnGateway: Lookup(ec2.InvalidVpnGatewayIDNotFound, prefix="vgw"),
    CustomerGateway: Lookup(ec2.InvalidCustomerGatewayIDNotFound, prefix="cgw"),
    VpnConnection: Lookup(ec2.InvalidVpnConnectionIDNotFound, prefix="vpn"),
    NetworkInsightsPath: Lookup(ec2.InvalidNetworkInsightsPathIdNotFound, prefix="nip",
                                malformed=ec2.InvalidNetworkInsightsPathIdMalformed),
    NetworkInsightsAnalysis: Lookup(ec2.InvalidNetworkInsightsAnalysisIdNotFound, prefix="nia",
                                    malformed=ec2.InvalidNetworkInsightsAnalysisIdMalformed),
    FlowLog: Lookup(ec2.InvalidFlowLogIdNotFound, prefix="fl",
                    malformed=ec2.InvalidFlowLogIdMalformed),
}


def mine(context: RequestContext, resource: Resource | None, regional: bool = True) -> bool:
    """Whether ``resource`` is the caller's (and in the request's region, for regional kinds)."""
    return resource is not None and resource.account == context.account and \
        (not regional or resource.region == context.region)


def find(context: RequestContext, cls: type[R], resource_id: str, regional: bool = True
         ) -> R | None:
    """The caller's ``cls`` by ``resource_id``, or None: for errors other than ``require``'s."""
    found = context.store.get(cls, resource_id)
    return found if mine(context, found, regional) else None


def require(context: RequestContext, cls: type[R], resource_id: str) -> R:
    """The caller's ``cls`` by ``resource_id``, or its service's Malformed / NotFound error."""
    lookup = _well_formed(cls, resource_id)
    found = find(context, cls, resource_id, lookup.regional)
    if found is None:
        raise lookup.not_found(lookup.message.format(resource_id))
    return found


def require_among(cls: type[Resource], resource_id: str, visible: Iterable[V]) -> V:
    """``require`` for kinds the caller sees more of than it owns (a peering it is the
    accepter of, AWS's managed prefix lists) or less (DHCP options it deleted): the one
    of ``visible`` by ``resource_id``, or ``cls``'s Malformed / NotFound error."""
    lookup = _well_formed(cls, resource_id)
    found = next((r for r in visible if r.id == resource_id), None)
    if found is None:
        raise lookup.not_found(lookup.message.format(resource_id))
    return found


def _well_formed(cls: type[Resource], resource_id: str) -> Lookup:
    lookup = LOOKUPS[cls]
    if lookup.malformed is not None and not ids.looks_like(lookup.prefix, resource_id):
        raise lookup.malformed(resource_id)
    return lookup


def owned(context: RequestContext, cls: type[R], regional: bool = True) -> list[R]:
    """The caller's resources of a kind in the request's region (any region's for a global
    kind: ``regional=False``), oldest first."""
    return [r for r in context.store.all(cls) if mine(context, r, regional)]


def select(context: RequestContext, cls: type[R], wanted: list[str] | None) -> list[R]:
    """The Describe selection by ids: every id must exist, as EC2 insists."""
    if not wanted:
        return owned(context, cls)
    return [require(context, cls, resource_id) for resource_id in dict.fromkeys(wanted)]
