"""What a VPC's resolver (AmazonProvidedDNS) knows: the private DNS names of the VPC's
endpoints, the VPC's own instance names and their reverse names (and an instance's resource
name, ``i-0123....compute.internal``, where its subnet's PrivateDnsNameOptionsOnLaunch asked
for it when it was launched, and always for an IPv6-only one), private hosted zones
associated with the VPC, the instance names of peer VPCs that allow it (the peering's
``AllowDnsResolutionFromRemoteVpc``), and the public DNS, which stands for the internet.
Nothing else resolves: there is no internet behind it. An AWS service's regional name
(``ssm.us-west-2.amazonaws.com``) resolves to its endpoint's ENIs while the VPC has an
endpoint with private DNS for it, and to the AWS public range otherwise, where, with no
route out of the VPC, a connection times out as at AWS.

A private hosted zone answers only inside the VPCs it is associated with (the API lets only
the VPC's owner, or an account the zone's owner authorized, make that association). It may
be for a name AWS owns (``ssm.us-west-2.amazonaws.com``, as for centralized endpoints), but
never where pocketlink publishes AWS's own names (``aws_names.published``): the endpoint,
NLB and instance names always come from pocketlink.
"""

from __future__ import annotations

import functools

import dns.name
import dns.reversename

from pocketlink.dns.aws_names import private_zones, published
from pocketlink.dns.public import hosted_zone, public_zones
from pocketlink.dns.routing import check_health
from pocketlink.dns.zones import RECORDS, Zone, ZoneSet
from pocketlink.model import regions
from pocketlink.model.ec2 import Instance, NetworkInterface, Vpc
from pocketlink.model.peering import PeeringState, VpcPeeringConnection
from pocketlink.model.route53 import HostedZone
from pocketlink.store import Store

TTL = 60


def _peers_resolved(store: Store, vpc: Vpc) -> set[str]:
    """The peer VPCs whose instance names this VPC's resolver answers: those whose side of
    an active peering allows DNS resolution from the remote VPC (and that have names)."""
    found = set()
    for peering in store.all(VpcPeeringConnection):
        side = peering.side_of(vpc.id)
        if side is None or peering.status != PeeringState.ACTIVE:
            continue
        theirs = peering.accepter_options if side == "requester" else peering.requester_options
        other = store.get(Vpc, peering.other_vpc(vpc.id))
        if theirs.allow_dns_resolution_from_remote_vpc and other and other.enable_dns_hostnames:
            found.add(other.id)
    return found


@functools.lru_cache(maxsize=RECORDS)
def reverse_name(address: str) -> str:
    """``5.1.0.10.in-addr.arpa.``: made once per address (see zones.RECORDS)."""
    return dns.reversename.from_address(address).to_text()


def _internal(store: Store, vpc: Vpc) -> list[Zone]:
    domain = regions.internal_domain(vpc.region) + "."
    forward = Zone(origin=dns.name.from_text(domain))
    reverse = Zone(origin=dns.name.from_text("in-addr.arpa."))
    named = _peers_resolved(store, vpc) | ({vpc.id} if vpc.enable_dns_hostnames else set())
    if not named:
        return []
    for eni in store.all(NetworkInterface):
        if eni.vpc_id not in named:
            continue
        instance = store.get(Instance, eni.instance_id) if eni.instance_id else None
        if instance is not None and instance.network_interface_id != eni.id:
            instance = None  # resource names are the primary interface's
        if eni.private_ip_address:
            name = regions.private_dns_name(vpc.region, eni.private_ip_address) + "."
            forward.add(name, "A", TTL, [eni.private_ip_address])
            reverse.add(reverse_name(eni.private_ip_address), "PTR", TTL, [name])
            if instance is not None and instance.enable_resource_name_dns_a_record:
                forward.add(f"{instance.id}.{domain}", "A", TTL, [eni.private_ip_address])
        if eni.ipv6_addresses and instance is not None and (
                not eni.private_ip_address or instance.enable_resource_name_dns_aaaa_record):
            forward.add(f"{instance.id}.{domain}", "AAAA", TTL, eni.ipv6_addresses[:1])
    return [forward, reverse]


def _private_hosted(store: Store, vpc: Vpc) -> list[Zone]:
    zones = []
    health = check_health(store)
    for hosted in store.all(HostedZone):
        if hosted.private and not published(hosted.name) and \
                any(v.get("VPCId") == vpc.id for v in hosted.vpcs):
            zones.append(hosted_zone(hosted, health))
    return zones


def vpc_zones(store: Store, vpc_id: str) -> ZoneSet:
    vpc = store.get(Vpc, vpc_id)
    if vpc is None:
        return ZoneSet([])
    hosted = _private_hosted(store, vpc)
    own = private_zones(store, vpc.id) + _internal(store, vpc) + hosted
    own_origins = {z.origin for z in own}
    # A private hosted zone answers for everything below its name, as the Resolver asks no
    # further once one matches; only the names pocketlink publishes stay public.
    shadows = [z.origin for z in hosted]
    public = [z for z in public_zones(store).zones if z.origin not in own_origins and not (
        any(z.origin.is_subdomain(o) for o in shadows) and not published(z.origin.to_text()))]
    return ZoneSet(own + public)
