"""Regions and availability zones.

Every region has three zones, ``<region>a|b|c``. As at AWS, a zone's *name* is per account:
each account sees the physical zones (the zone ids, ``use1-az1``...) in its own order, so
``us-east-1a`` of one account may be ``us-east-1b`` of another. PrivateLink matches zones by
id; pocketlink does too, and a user who mixes up names across accounts meets the same
surprise as on AWS. The order is a fixed function of account and region.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Regions DescribeRegions lists; a request may name any well-formed region all the same.
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "sa-east-1",
)
ZONE_LETTERS = ("a", "b", "c")
_DIRECTIONS = {
    "east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}


@dataclass(frozen=True)
class Zone:
    name: str  # us-east-1a, as this account sees it
    zone_id: str  # use1-az2, the same for every account
    region: str


def region_code(region: str) -> str:
    """``us-east-1`` -> ``use1``, ``ap-northeast-1`` -> ``apne1``, as AWS's zone ids spell it."""
    parts = region.split("-")
    middle = "".join(_DIRECTIONS.get(p, p[:1]) for p in parts[1:-1])
    return f"{parts[0]}{middle}{parts[-1]}"


def is_region(name: str) -> bool:
    parts = name.split("-")
    return len(parts) >= 3 and parts[-1].isdigit() and all(p.isalpha() for p in parts[:-1])


def zones(account: str, region: str) -> list[Zone]:
    """This account's zones in ``region``, by name a, b, c."""
    code = region_code(region)
    physical = [f"{code}-az{n}" for n in range(1, len(ZONE_LETTERS) + 1)]
    seed = hashlib.sha256(f"{account}/{region}".encode()).digest()
    order = sorted(physical, key=lambda z: hashlib.sha256(seed + z.encode()).digest())
    return [Zone(f"{region}{letter}", zone_id, region) for letter, zone_id in zip(
        ZONE_LETTERS, order, strict=True)]


def zone_by_name_or_id(account: str, region: str, value: str) -> Zone | None:
    for zone in zones(account, region):
        if value in (zone.name, zone.zone_id):
            return zone
    return None


def internal_domain(region: str) -> str:
    """The VPC-internal DNS domain: ``ec2.internal`` in us-east-1, as AWS has kept it since
    2006, and ``<region>.compute.internal`` everywhere else."""
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def private_dns_name(region: str, address: str) -> str:
    """``ip-10-0-1-5.us-west-2.compute.internal`` for an instance's private IPv4 address."""
    return f"ip-{address.replace('.', '-')}.{internal_domain(region)}"
