"""The names AWS publishes for PrivateLink: endpoint names (regional and zonal; S3's are
wildcards, ``*.vpce-...s3.<region>.vpce.amazonaws.com``) and NLB names, public like AWS's
(they resolve from anywhere, to private addresses); the AWS services' own public names
(``aws_public``: ``ssm.<region>.amazonaws.com`` on the emulated AWS public range); and the
private DNS names an endpoint brings into its consumer's VPC.

The names AWS owns are no tenant's to serve: ``aws_owned`` says which (amazonaws.com,
compute.internal, ec2.internal, aws and all below them). The names pocketlink itself
publishes there (``published``: the vpce and NLB names, the VPC-internal domains) are
served from zones of their own, ``vpce.amazonaws.com`` and ``elb.<region>.amazonaws.com``,
so that the most specific zone, theirs, answers for them even in a VPC that has a private
hosted zone for ``amazonaws.com``.

Which record types exist follows the reference's DnsRecordIpType table: in the first
seed, ``curl -6`` fails with "Could not resolve host" until the endpoint is dual-stack,
because the AAAA records simply do not exist before (NOERROR and no answer, as for any
A-only name; Debian's curl 7.88 reports it as exit 7, docs/limitations.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import dns.name

from pocketlink.dns.aws_public import dualstack_name, public_names
from pocketlink.dns.zones import Zone
from pocketlink.model.aws_services import CHECKIP_IPV4, CHECKIP_NAME, aws_service
from pocketlink.model.ec2 import NetworkInterface, Subnet, Vpc
from pocketlink.model.elbv2 import LoadBalancer
from pocketlink.model.faults import lost_subnets
from pocketlink.model.privatelink import (
    EndpointService,
    VpcEndpoint,
    endpoint_private_names,
    vpce_names,
)
from pocketlink.model.states import ENDPOINT_LISTENING, ENDPOINT_NAMED
from pocketlink.store import Store

T = TypeVar("T")
TTL = 60
VPCE_ORIGIN = "vpce.amazonaws.com."
# Domains AWS owns: no user's public zone answers at or below them.
AWS_DOMAINS = tuple(dns.name.from_text(d) for d in (
    "amazonaws.com.", "compute.internal.", "ec2.internal.", "aws."))
# Where pocketlink publishes names of its own; even a private zone does not answer there.
_PUBLISHED = re.compile(r"(^|\.)(vpce\.amazonaws\.com|elb\.[a-z0-9-]+\.amazonaws\.com|"
                        r"compute\.internal|ec2\.internal)\.$")


def _families(endpoint: VpcEndpoint, kind: str) -> tuple[bool, bool]:
    """(A records?, AAAA records?) for the ``kind`` of name: regional/zonal or private."""
    record = endpoint.dns_record_ip_type
    a = record in ("ipv4", "dualstack", "service-defined")
    aaaa = record in ("ipv6", "dualstack") or (record == "service-defined" and kind != "private")
    return (a and endpoint.ip_address_type in ("ipv4", "dualstack"),
            aaaa and endpoint.ip_address_type in ("ipv6", "dualstack"))


def _add(zone: Zone, name: str, enis: list[NetworkInterface], a: bool, aaaa: bool) -> None:
    v4 = [e.private_ip_address for e in enis if e.private_ip_address]
    v6 = [ip for e in enis for ip in e.ipv6_addresses]
    if a and v4:
        zone.add(name, "A", TTL, v4)
    if aaaa and v6:
        zone.add(name, "AAAA", TTL, v6)


def _enis(store: Store, endpoint: VpcEndpoint) -> list[NetworkInterface]:
    return [e for e in (store.get(NetworkInterface, i) for i in endpoint.network_interface_ids)
            if e is not None]


def _answering(lost: set[str], nodes: list[T], subnet: Callable[[T], str]) -> list[T]:
    """A regional name's nodes without those of a lost zone (``pocketlink fault lose-az``),
    as Route 53 drops unhealthy ones; all of them when every one is lost (it fails open).
    Zonal names keep theirs: there is nowhere else for them to point."""
    answering = [n for n in nodes if subnet(n) not in lost]
    return answering or nodes


def aws_owned(name: str) -> bool:
    """Is ``name`` (absolute) at or below a domain AWS owns?"""
    owner = dns.name.from_text(name)
    return any(owner.is_subdomain(domain) for domain in AWS_DOMAINS)


def published(name: str) -> bool:
    """Is ``name`` (absolute, lower-case) at or below a domain where pocketlink publishes
    AWS's own names (endpoint and NLB names, instance names)?"""
    return _PUBLISHED.search(name) is not None


def aws_zones(store: Store) -> list[Zone]:
    """The endpoint names in ``vpce.amazonaws.com`` and the NLB names in one zone per
    ``elb.<region>.amazonaws.com``."""
    zone = Zone(origin=dns.name.from_text(VPCE_ORIGIN))
    balancers: dict[str, Zone] = {}
    lost = lost_subnets(store)
    for endpoint in store.all(VpcEndpoint):
        if endpoint.endpoint_type != "Interface" or endpoint.state not in ENDPOINT_NAMED:
            continue
        enis = _enis(store, endpoint)
        a, aaaa = _families(endpoint, "regional")
        [regional] = vpce_names(endpoint, [])
        _add(zone, regional + ".", _answering(lost, enis, lambda e: e.subnet_id), a, aaaa)
        for eni in enis:
            subnet = store.get(Subnet, eni.subnet_id)
            if subnet is not None:
                _add(zone, vpce_names(endpoint, [subnet.availability_zone])[1] + ".", [eni],
                     a, aaaa)
    for balancer in store.all(LoadBalancer):
        name = balancer.dns_name + "."
        origin = name.split(".", 1)[1]
        own = balancers.setdefault(origin, Zone(origin=dns.name.from_text(origin)))
        nodes = _answering(lost, balancer.nodes, lambda n: n.subnet_id)
        v4 = [n.private_ipv4_address for n in nodes if n.private_ipv4_address]
        v6 = [n.ipv6_address for n in nodes if n.ipv6_address]
        if v4:
            own.add(name, "A", TTL, v4)
        if v6 and balancer.ip_address_type == "dualstack":
            own.add(name, "AAAA", TTL, v6)
    return [zone, *balancers.values()]


@cache
def _region_public_zones(region: str) -> tuple[Zone, ...]:
    """The zones of one region's AWS public names, ``<region>.amazonaws.com`` and
    ``<region>.api.aws``: built once, as nothing in the store changes them."""
    zones: dict[str, Zone] = {}
    for name in public_names(region):
        _, regional, suffix = name.name.partition(f".{region}.")
        # A global name (S3's legacy ``s3.amazonaws.com``) is a zone of its own.
        origin = f"{region}.{suffix}." if regional else name.name.removeprefix("*.") + "."
        zone = zones.setdefault(origin, Zone(origin=dns.name.from_text(origin)))
        zone.add(name.name + ".", "A", TTL, [name.ipv4])
        if name.ipv6:
            zone.add(name.name + ".", "AAAA", TTL, [name.ipv6])
    return tuple(zones.values())


def aws_public_zones(store: Store) -> list[Zone]:
    """The AWS services' public names (``aws_public``) of every region a VPC is in: the
    regions anything here can call from (a region's zones cost a tenth of a second to
    build, too much for all of them on the first query's path); and checkip.amazonaws.com."""
    regions = dict.fromkeys(v.region for v in store.all(Vpc))
    return [zone for region in regions for zone in _region_public_zones(region)] + \
        [_checkip_zone()]


@cache
def _checkip_zone() -> Zone:
    origin = f"{CHECKIP_NAME}."
    zone = Zone(origin=dns.name.from_text(origin))
    zone.add(origin, "A", TTL, [CHECKIP_IPV4])
    return zone


def _verified(store: Store, endpoint: VpcEndpoint) -> bool:
    if endpoint.service_id is None:
        return True  # AWS's own services' names are always theirs
    service = store.get(EndpointService, endpoint.service_id)
    return service is not None and service.private_dns_state == "verified"


def _private_names(store: Store, endpoint: VpcEndpoint) -> list[str]:
    """The names the endpoint's private hosted zone answers inside its VPC. A dual-stack
    (or IPv6) endpoint to an AWS service also answers for the service's dual-stack name
    (``ssm.us-west-2.api.aws``), the one an SDK set to use dual-stack endpoints calls.
    (A guess from AWS's docs on dual-stack endpoints; DnsEntries do not list it.)"""
    names = endpoint_private_names(store, endpoint)
    service = None if endpoint.service_id else aws_service(endpoint.service_name,
                                                           endpoint.region)
    if service is not None and endpoint.ip_address_type in ("dualstack", "ipv6"):
        dual = dualstack_name(service, endpoint.region)
        if dual is not None:
            names = names + [dual] + ([f"*.{dual}"] if service.wildcard else [])
    return names


def private_zones(store: Store, vpc_id: str) -> list[Zone]:
    """One zone per private DNS name of the VPC's endpoints, as AWS makes a private hosted
    zone for each: inside the VPC the name resolves to the endpoint's ENIs.

    Not so with ``PrivateDnsOnlyForInboundResolverEndpoint`` (S3's and DynamoDB's default
    with private DNS): the VPC's own resolver then answers with the public addresses, which
    the VPC's gateway endpoint (a condition of that option) routes; only queries that come
    in through a Route 53 Resolver inbound endpoint, which pocketlink does not have, would
    get the ENIs (AWS PrivateLink for Amazon S3, "Private DNS")."""
    zones: dict[str, Zone] = {}  # by origin: ``s3.<region>`` holds ``*.s3.<region>`` too
    for endpoint in store.all(VpcEndpoint):
        if endpoint.vpc_id != vpc_id or not endpoint.private_dns_enabled or \
                endpoint.private_dns_only_for_inbound_resolver_endpoint or \
                endpoint.state not in ENDPOINT_LISTENING or not _verified(store, endpoint):
            continue
        enis = _answering(lost_subnets(store), _enis(store, endpoint), lambda e: e.subnet_id)
        a, aaaa = _families(endpoint, "private")
        for name in _private_names(store, endpoint):
            origin = name.removeprefix("*.") + "."
            zone = zones.setdefault(origin, Zone(origin=dns.name.from_text(origin)))
            _add(zone, name + ".", enis, a, aaaa)
    return list(zones.values())
