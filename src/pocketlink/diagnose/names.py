"""A name as the instance's VPC resolver answers it, and, when it answers nothing, why.

The answer comes from the very zones the resolver serves (``dns.vpc.vpc_zones``), so what
diagnose says a name resolves to is what ``dig`` in the instance gets. The reasons for no
answer are AWS's (privatelink-behavior.md section 4): the endpoint's private DNS off, the
service's name not verified, no endpoint for it in the VPC, the VPC's ``enableDnsSupport``
(no resolver at all) or ``enableDnsHostnames`` (no ``compute.internal`` names) off.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.name
import dns.rdatatype

from pocketlink.dns.vpc import vpc_zones
from pocketlink.model import regions
from pocketlink.model.ec2 import Subnet, Vpc
from pocketlink.model.elbv2 import LoadBalancer
from pocketlink.model.privatelink import EndpointService, VpcEndpoint, endpoint_private_names
from pocketlink.network.addresses import resolver_address
from pocketlink.store import Store


@dataclass(frozen=True)
class Fix:
    """The AWS CLI command that fixes a failure, and the account that must run it."""

    account: str
    command: str


@dataclass(frozen=True)
class Resolution:
    resolver: str  # who answered: "AmazonProvidedDNS at 10.0.0.2"
    address: str | None  # the first address of the answer (what curl dials)
    records: tuple[str, ...]  # the answer as dig shows it
    why: str  # which record answered, or why none did
    fix: Fix | None = None


def _covers(pattern: str, name: str) -> bool:
    if pattern.startswith("*."):
        return name.endswith(pattern[1:]) and name != pattern[2:]
    return name == pattern


def _subnets_for(store: Store, vpc: Vpc, service: EndpointService) -> str:
    """One subnet of ``vpc`` in each zone the service is in (by zone id), as an endpoint
    wants them; the placeholder when the VPC has none there."""
    balancers = [store.get(LoadBalancer, arn) for arn in service.network_load_balancer_arns]
    nodes = [node for b in balancers if b is not None for node in b.nodes]
    zones = {s.availability_zone_id for node in nodes
             if (s := store.get(Subnet, node.subnet_id)) is not None}
    chosen: dict[str, str] = {}
    for subnet in store.all(Subnet):
        if subnet.vpc_id == vpc.id and subnet.availability_zone_id in zones:
            chosen.setdefault(subnet.availability_zone_id or "", subnet.id)
    return " ".join(chosen.values()) or "SUBNET"


def _why_none(store: Store, vpc: Vpc, name: str) -> tuple[str, Fix | None]:
    region = f"--region {vpc.region}"
    # An endpoint with private DNS on first: of two endpoints of one service, the name is
    # that one's, and why it does not answer is its state, not the other's private DNS.
    for endpoint in sorted(store.all(VpcEndpoint), key=lambda e: not e.private_dns_enabled):
        if endpoint.vpc_id != vpc.id or endpoint.state in ("deleted", "deleting"):
            continue
        service = store.get(EndpointService, endpoint.service_id or "")
        names = [service.private_dns_name] if service and service.private_dns_name else []
        names = names or endpoint_private_names(store, endpoint) or []
        if not any(_covers(n, name) for n in names):
            continue
        if service is not None and service.private_dns_state != "verified":
            return (f"{name} is the private DNS name of {service.id}, which is "
                    f"{service.private_dns_state}: consumers may use it only once verified",
                    Fix(service.account, "aws ec2 start-vpc-endpoint-service-private-dns-"
                        f"verification --service-id {service.id} {region}"))
        if not endpoint.private_dns_enabled:
            if not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
                return (f"{name} is the private DNS name of {endpoint.id}'s service, but "
                        f"private DNS is off on {endpoint.id} and {vpc.id} has "
                        "enableDnsHostnames off, which private DNS needs first",
                        Fix(vpc.account, f"aws ec2 modify-vpc-attribute --vpc-id {vpc.id} "
                            f"--enable-dns-hostnames {region}"))
            return (f"{name} is the private DNS name of {endpoint.id}'s service, but private "
                    f"DNS is off on {endpoint.id}",
                    Fix(vpc.account, f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id "
                        f"{endpoint.id} --private-dns-enabled {region}"))
        why = (f"{name} is the private DNS name of {endpoint.id}, which is {endpoint.state}: "
               "its private names answer only while it is pending or available")
        if endpoint.state == "pendingAcceptance" and service is not None:
            return why, Fix(service.account, f"aws ec2 accept-vpc-endpoint-connections "
                            f"--service-id {service.id} --vpc-endpoint-ids {endpoint.id} "
                            f"{region}")
        if endpoint.state == "rejected":
            return why, Fix(endpoint.account, f"aws ec2 delete-vpc-endpoints "
                            f"--vpc-endpoint-ids {endpoint.id} {region}")
        return why, None
    for service in store.all(EndpointService):
        if service.private_dns_name and _covers(service.private_dns_name, name):
            return (f"{name} is the private DNS name of {service.service_name}, and {vpc.id} "
                    "has no endpoint for it",
                    Fix(vpc.account, f"aws ec2 create-vpc-endpoint --vpc-id {vpc.id} "
                        f"--vpc-endpoint-type Interface --service-name {service.service_name} "
                        f"--subnet-ids {_subnets_for(store, vpc, service)} --private-dns-enabled "
                        f"{region}"))
    if name.endswith(f".{regions.internal_domain(vpc.region)}") and not vpc.enable_dns_hostnames:
        return (f"{vpc.id} has enableDnsHostnames off: its resolver has no "
                f"{regions.internal_domain(vpc.region)} names",
                Fix(vpc.account, f"aws ec2 modify-vpc-attribute --vpc-id {vpc.id} "
                    f"--enable-dns-hostnames {region}"))
    return f"no record of {name} in any zone {vpc.id}'s resolver knows (NXDOMAIN)", None


def resolve(store: Store, vpc: Vpc, name: str) -> Resolution:
    """``name`` (or an address, which needs no resolving) as seen from inside ``vpc``."""
    resolver = f"AmazonProvidedDNS at {resolver_address(vpc)}"
    try:
        ipaddress.ip_address(name)
        return Resolution(resolver, name, (), f"{name} is an address: nothing to resolve")
    except ValueError:
        pass
    if not vpc.enable_dns_support:
        return Resolution(
            resolver, None, (), f"{vpc.id} has enableDnsSupport off: no resolver answers in it",
            Fix(vpc.account, f"aws ec2 modify-vpc-attribute --vpc-id {vpc.id} "
                f"--enable-dns-support --region {vpc.region}"))
    fqdn = name.lower().rstrip(".")
    zones = vpc_zones(store, vpc.id)
    # A first, as a client whose own address is IPv4 dials; an IPv6-only name has AAAA alone.
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        answer = zones.lookup(dns.name.from_text(fqdn + "."), rdtype)
        records = tuple(line for rrset in answer.answer
                        for line in rrset.to_text().splitlines())
        addresses = [rdata.address for rrset in answer.answer if rrset.rdtype == rdtype
                     for rdata in rrset]
        if addresses:
            zone = zones.zone_for(dns.name.from_text(fqdn + "."))
            origin = zone.origin.to_text() if zone is not None else "?"
            return Resolution(resolver, addresses[0], records,
                              f"{dns.rdatatype.to_text(rdtype)} answered from the zone {origin}")
    why, fix = _why_none(store, vpc, fqdn)
    return Resolution(resolver, None, records, why, fix)
