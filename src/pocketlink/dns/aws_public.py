"""AWS's public service names and the address each has on the emulated "AWS public"
network: the one place that says so. The public DNS and every VPC resolver serve them,
and the "internet" namespace (a later issue) will hold the addresses.

The names are what an SDK calls, taken from botocore's endpoint data (endpoints.json, the
data its endpoint resolver reads) by each service's endpoint prefix, the DNS form of its
endpoint service name (``ssm``, ``api.ecr``, ``s3``): the regional name
(``ssm.us-west-2.amazonaws.com``, A) and, where botocore knows a dual-stack variant, that
one (``ssm.us-west-2.api.aws``, ``s3.dualstack.us-west-2.amazonaws.com``: A and AAAA).
A service whose names reach below its own (S3's virtual-hosted buckets, ECR's
``<account>.dkr.ecr`` registries) has a wildcard beside each. Only the hand-kept table
``AWS_SERVICES`` says which services have public names (the services an endpoint can be
made to, ``endpoint_services``, are many more); a service botocore does not know
(``dkr.ecr``, ``ssmmessages``) gets the regional name of the partition's default form and
no dual-stack one.

S3 in us-east-1 also has its legacy global name, ``s3.amazonaws.com`` (and
``bucket.s3.amazonaws.com``), on us-east-1's S3 address: the name older SDKs call for
us-east-1 (and many stored S3 URLs name), inside S3's prefix list there, so a gateway
endpoint takes it as at AWS. Other global names (``iam.amazonaws.com``,
``sts.amazonaws.com``) are not served yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pocketlink.model.aws_services import (
    AWS_SERVICES,
    PARTITION,
    AwsService,
    endpoint_data,
    public_addresses,
    served,
)

LEGACY_GLOBAL = {("s3", "us-east-1"): "s3.amazonaws.com"}  # S3's name before regions had one


@dataclass(frozen=True)
class PublicName:
    name: str  # without the final dot; ``*.`` for a wildcard
    service: str  # the service's short name: s3, ecr.api, ...
    ipv4: str
    ipv6: str | None  # only dual-stack names have AAAA records


def _hostname(prefix: str, region: str, dualstack: bool) -> str:
    resolver, _ = endpoint_data()
    found = resolver.construct_endpoint(prefix, region, partition_name=PARTITION,
                                        use_dualstack_endpoint=dualstack)
    return found["hostname"]


def service_names(service: AwsService, region: str) -> list[PublicName]:
    """The public names of one service in ``region``."""
    prefix = service.dns_form()
    ipv4, ipv6 = public_addresses(region, service.short)
    regional = _hostname(prefix, region, dualstack=False)
    names = [PublicName(regional, service.short, ipv4, None)]
    if prefix in endpoint_data()[1]:
        dual = _hostname(prefix, region, dualstack=True)
        if dual != regional:
            names.append(PublicName(dual, service.short, ipv4, ipv6))
    legacy = LEGACY_GLOBAL.get((service.short, region))
    if legacy is not None and legacy != regional:
        names.append(PublicName(legacy, service.short, ipv4, None))
    if service.wildcard:
        names += [PublicName(f"*.{n.name}", n.service, n.ipv4, n.ipv6) for n in names]
    return names


@cache
def public_names(region: str) -> tuple[PublicName, ...]:
    """Every AWS service's public names in ``region``."""
    return tuple(n for s in AWS_SERVICES for n in service_names(s, region))


def dualstack_name(service: AwsService, region: str) -> str | None:
    """The service's dual-stack name (``ssm.us-west-2.api.aws``), if it has one and
    pocketlink serves the service's names."""
    if not served(service):
        return None
    return next((n.name for n in service_names(service, region)
                 if n.ipv6 and not n.name.startswith("*.")), None)
