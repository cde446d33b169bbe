"""The AWS services a VPC endpoint can reach, the prefix lists of the gateway ones, and the
addresses of the emulated "AWS public" network where the services' public names point.

Names and DNS forms are AWS's (``com.amazonaws.<region>.ecr.api``, base name
``api.ecr.<region>.vpce.amazonaws.com``, private name ``api.ecr.<region>.amazonaws.com``).

``AWS_SERVICES`` are the services pocketlink serves behind its service front (or whose
public names it serves); ``endpoint_services`` adds every other regional service botocore's
endpoint data (endpoints.json) knows in a region, so that DescribeVpcEndpointServices and
CreateVpcEndpoint know AWS's whole list, as a script written for AWS expects. AWS publishes
no machine-readable list of PrivateLink services: botocore's regional services stand for it
(a service's endpoint prefix, read backwards, is its endpoint service's short name:
``runtime.sagemaker`` -> ``com.amazonaws.<region>.sagemaker.runtime``; its regional hostname
is its private DNS name). A few of them have no endpoint at AWS, and the few AWS has beyond
botocore's (``ssmmessages``, ``ecr.dkr``) are the table's. Traffic through an endpoint to
one pocketlink does not serve reaches the service front, which answers HTTP 400
``UnknownService`` (docs/services.md).

The AWS public range is 198.18.0.0/15, the range RFC 2544 reserves for benchmarks, and
2001:db8::/32, the IPv6 documentation prefix (RFC 3849): neither is ever routed on the
internet, and the second is disjoint from the fd00::/8 that VPCs' IPv6 blocks come from,
so nothing pocketlink routes can look like a real AWS address or a tenant's. Each region
has a /22 and a /48 of its own (the regions DescribeRegions lists in order, any other
region by hash): its first /24 is S3's, its second DynamoDB's (each the CIDR of that
service's prefix list, so a gateway endpoint's route covers exactly the addresses its
service's names resolve to), and the /23 after them holds one address for every other
service. In IPv6 each service has a /64 of the region's /48 in the same order.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from functools import cache

from botocore.loaders import create_loader
from botocore.regions import EndpointResolver

from pocketlink.model.regions import REGIONS

# Hosted zone ids of the vpce.amazonaws.com names, per region (observed; others fall back).
VPCE_HOSTED_ZONES = {"us-east-1": "Z7HUB22UULQXV", "us-east-2": "ZC8PG0KIFKBRI",
                     "ap-northeast-1": "Z2E726K9Y6RL4W", "eu-west-2": "Z7K1066E3PUKB",
                     "us-west-2": "Z1YSA3EXCYUU9Z", "us-west-1": "Z12I86A8N7VCZO",
                     "eu-west-1": "Z38GZ743OKFT7T", "eu-central-1": "Z273ZU8SZ5RJPC"}


@dataclass(frozen=True)
class AwsService:
    short: str  # s3, ecr.api, ...
    types: tuple[str, ...]  # Interface and/or Gateway
    private_dns: tuple[str, ...]  # templates with {region}
    # The endpoint's own names are wildcards, one label per bucket, access point or control
    # (S3's ``*.vpce-0abc-1x2y3z4w.s3.us-east-1.vpce.amazonaws.com``).
    vpce_wildcard: bool = False

    def name(self, region: str) -> str:
        return f"com.amazonaws.{region}.{self.short}"

    def dns_form(self) -> str:
        """The part of DNS names that stands for the service: ``ecr.api`` -> ``api.ecr``."""
        return ".".join(reversed(self.short.split(".")))

    def private_names(self, region: str) -> list[str]:
        return [p.format(region=region) for p in self.private_dns]

    @property
    def wildcard(self) -> bool:
        """Are names below the service's own name its too (S3's buckets, ECR's registries)?"""
        return any(p.startswith("*.") for p in self.private_dns)


AWS_SERVICES = (
    AwsService("s3", ("Gateway", "Interface"), ("s3.{region}.amazonaws.com",
                                                "*.s3.{region}.amazonaws.com"), True),
    AwsService("dynamodb", ("Gateway", "Interface"), ("dynamodb.{region}.amazonaws.com",)),
    AwsService("ecr.api", ("Interface",), ("api.ecr.{region}.amazonaws.com",)),
    AwsService("ecr.dkr", ("Interface",), ("dkr.ecr.{region}.amazonaws.com",
                                           "*.dkr.ecr.{region}.amazonaws.com")),
    AwsService("logs", ("Interface",), ("logs.{region}.amazonaws.com",)),
    AwsService("ssm", ("Interface",), ("ssm.{region}.amazonaws.com",)),
    AwsService("ssmmessages", ("Interface",), ("ssmmessages.{region}.amazonaws.com",)),
    AwsService("ec2messages", ("Interface",), ("ec2messages.{region}.amazonaws.com",)),
    AwsService("secretsmanager", ("Interface",), ("secretsmanager.{region}.amazonaws.com",)),
    AwsService("sts", ("Interface",), ("sts.{region}.amazonaws.com",)),
    AwsService("ec2", ("Interface",), ("ec2.{region}.amazonaws.com",)),
    AwsService("elasticloadbalancing", ("Interface",),
               ("elasticloadbalancing.{region}.amazonaws.com",)),
    AwsService("kms", ("Interface",), ("kms.{region}.amazonaws.com",)),
    AwsService("sqs", ("Interface",), ("sqs.{region}.amazonaws.com",)),
    AwsService("sns", ("Interface",), ("sns.{region}.amazonaws.com",)),
    AwsService("monitoring", ("Interface",), ("monitoring.{region}.amazonaws.com",)),
)


PARTITION = "aws"


@cache
def endpoint_data() -> tuple[EndpointResolver, dict]:
    """botocore's endpoint resolver and its ``aws`` partition's services, read once."""
    data = create_loader().load_data("endpoints")
    partition = next(p for p in data["partitions"] if p["partition"] == PARTITION)
    return EndpointResolver(data), partition["services"]


@cache
def endpoint_services(region: str) -> dict[str, AwsService]:
    """Every AWS service an endpoint can be made to in ``region``, by short name: the
    table's as they are, then each regional service of botocore's with an endpoint there
    (global ones, such as IAM and Route 53, have none), an interface service whose private
    DNS name is its regional hostname. A service whose hostname is not its own
    (``docdb`` and ``neptune`` answer on ``rds.<region>``, ``sdb`` on a global name) is left
    out: its name would stand for another's."""
    resolver, services = endpoint_data()
    found = {s.short: s for s in AWS_SERVICES}
    for prefix, service in sorted(services.items()):
        short = ".".join(reversed(prefix.split(".")))
        if short in found or region not in service.get("endpoints", {}) or \
                not service.get("isRegionalized", True):
            continue
        endpoint = resolver.construct_endpoint(prefix, region, partition_name=PARTITION)
        if endpoint is not None and endpoint["hostname"].startswith(f"{prefix}.{region}."):
            found[short] = AwsService(short, ("Interface",), (endpoint["hostname"],))
    return found


def aws_service(name: str, region: str) -> AwsService | None:
    prefix = f"com.amazonaws.{region}."
    if not name.startswith(prefix):
        return None
    return endpoint_services(region).get(name[len(prefix):])


def served(service: AwsService) -> bool:
    """Does pocketlink serve the service (its public names, its calls behind the front)?"""
    return service in AWS_SERVICES


@dataclass(frozen=True)
class PrefixList:
    prefix_list_id: str
    name: str
    cidrs: tuple[str, ...]


AWS_PUBLIC_IPV4 = ipaddress.IPv4Network("198.18.0.0/15")
AWS_PUBLIC_IPV6 = ipaddress.IPv6Network("2001:db8::/32")
# checkip.amazonaws.com (services/checkip.py): the range's last address but one, in the
# /23 of its last region block that no service slot reaches.
CHECKIP_NAME = "checkip.amazonaws.com"
CHECKIP_IPV4 = "198.19.255.254"
# Route 53's health checkers (network/route53_checker.py): the address below checkip's, and
# an IPv6 one past every region's block.
ROUTE53_CHECKER_IPV4 = "198.19.255.253"
ROUTE53_CHECKER_IPV6 = "2001:db8:ffff:ffff::53"
_REGION_BLOCKS = 2 ** (22 - AWS_PUBLIC_IPV4.prefixlen)  # /22s in the range
# The gateway services first, each a /24 of its region's /22; the rest share the /23 after.
_SLOTS = tuple(s.short for s in AWS_SERVICES if "Gateway" in s.types) + tuple(
    s.short for s in AWS_SERVICES if "Gateway" not in s.types)
_GATEWAY_SLOTS = sum(1 for s in AWS_SERVICES if "Gateway" in s.types)


def _region_index(region: str) -> int:
    """The region's block: the listed regions in order, any other by hash after them (two
    unlisted regions may then share a block; nothing but the addresses is shared)."""
    if region in REGIONS:
        return REGIONS.index(region)
    digest = int.from_bytes(hashlib.sha256(region.encode()).digest()[:4], "big")
    return len(REGIONS) + digest % (_REGION_BLOCKS - len(REGIONS))


def _region_ipv4(region: str) -> int:
    """The first address of the region's /22, as a number."""
    return int(AWS_PUBLIC_IPV4.network_address) + (_region_index(region) << 10)


def gateway_network(region: str, short: str) -> ipaddress.IPv4Network:
    """The /24 of a gateway service (s3, dynamodb) in ``region``: its prefix list's CIDR."""
    return ipaddress.IPv4Network((_region_ipv4(region) + (_SLOTS.index(short) << 8), 24))


def public_addresses(region: str, short: str) -> tuple[str, str]:
    """The (IPv4, IPv6) address of a service's public names in ``region``."""
    slot = _SLOTS.index(short)
    if slot < _GATEWAY_SLOTS:
        ipv4 = _region_ipv4(region) + (slot << 8) + 1
    else:  # the /23 after the gateway services' /24s
        ipv4 = _region_ipv4(region) + (_GATEWAY_SLOTS << 8) + 1 + slot - _GATEWAY_SLOTS
    region_ipv6 = int(AWS_PUBLIC_IPV6.network_address) + (_region_index(region) << 80)
    ipv6 = ipaddress.IPv6Address(region_ipv6 + (slot << 64) + 1)
    return str(ipaddress.IPv4Address(ipv4)), str(ipv6)


@cache
def gateway_prefix_lists(region: str) -> tuple[PrefixList, ...]:
    """The AWS-managed prefix lists of the gateway services in ``region``; made once (each
    reconcile pass asks for every VPC's)."""
    lists = []
    for service in (s for s in AWS_SERVICES if "Gateway" in s.types):
        digest = hashlib.sha256(f"{region}/{service.short}".encode()).digest()
        cidrs = (str(gateway_network(region, service.short)),)
        lists.append(PrefixList(f"pl-{digest[1:5].hex()}", service.name(region), cidrs))
    return tuple(lists)
