"""The AWS services a VPC endpoint can reach, and the prefix lists of the gateway ones.

Names and DNS forms are AWS's (``com.amazonaws.<region>.ecr.api``, base name
``api.ecr.<region>.vpce.amazonaws.com``, private name ``api.ecr.<region>.amazonaws.com``).
Prefix list CIDRs come from 198.18.0.0/15, the range RFC 2544 reserves for benchmarks, so
nothing pocketlink routes can look like a real AWS address.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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

    def name(self, region: str) -> str:
        return f"com.amazonaws.{region}.{self.short}"

    def dns_form(self) -> str:
        """The part of DNS names that stands for the service: ``ecr.api`` -> ``api.ecr``."""
        return ".".join(reversed(self.short.split(".")))

    def private_names(self, region: str) -> list[str]:
        return [p.format(region=region) for p in self.private_dns]


AWS_SERVICES = (
    AwsService("s3", ("Gateway", "Interface"), ("s3.{region}.amazonaws.com",
                                                "*.s3.{region}.amazonaws.com")),
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


def aws_service(name: str, region: str) -> AwsService | None:
    prefix = f"com.amazonaws.{region}."
    if not name.startswith(prefix):
        return None
    return next((s for s in AWS_SERVICES if s.short == name[len(prefix):]), None)


@dataclass(frozen=True)
class PrefixList:
    prefix_list_id: str
    name: str
    cidrs: tuple[str, ...]


def gateway_prefix_lists(region: str) -> list[PrefixList]:
    """The AWS-managed prefix lists of the gateway services in ``region``."""
    lists = []
    for index, service in enumerate(s for s in AWS_SERVICES if "Gateway" in s.types):
        digest = hashlib.sha256(f"{region}/{service.short}".encode()).digest()
        third = digest[0]
        cidrs = (f"198.{18 + index}.{third}.0/24", f"198.{18 + index}.{(third + 1) % 256}.0/24")
        lists.append(PrefixList(f"pl-{digest[1:5].hex()}", service.name(region), cidrs))
    return lists
