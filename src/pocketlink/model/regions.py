"""Regions and availability zones.

Each region has the zones AWS has there (``zone_ids.ZONES``: six in us-east-1, four in
us-west-2, ``apne1-az1``, ``-az2`` and ``-az4`` in ap-northeast-1...). In AWS's oldest
regions a zone's *name* is per account: each account sees the physical zones (the zone ids,
``use1-az1``...) in its own order, so ``us-east-1a`` of one account may be ``us-east-1b`` of
another; pocketlink keeps that (a fixed function of account and region), as every AWS account
made before November 2025 has it, while the other regions map names to ids the same for every
account. PrivateLink matches zones by id; pocketlink does too, and a user who mixes up names
across accounts meets the same surprise as on AWS.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from botocore.loaders import create_loader

from pocketlink.model.zone_ids import INDEPENDENTLY_MAPPED, ZONES

# Regions DescribeRegions lists; a request may name any well-formed region all the same.
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "sa-east-1",
)
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


@cache
def long_name(region: str) -> str:
    """``US East (N. Virginia)``: the region's description in botocore's endpoint data, or its
    code for a region botocore does not know."""
    for partition in create_loader().load_data("endpoints")["partitions"]:
        if region in partition["regions"]:
            return partition["regions"][region]["description"]
    return region


def is_region(name: str) -> bool:
    parts = name.split("-")
    # ASCII only: isdigit and isalpha take '²' and 'é' too
    return len(parts) >= 3 and name.isascii() and parts[-1].isdigit() and \
        all(p.isalpha() for p in parts[:-1])


def zone_ids(region: str) -> list[str]:
    """The region's physical zones, the same for every account, in id order."""
    return sorted(zone_id for _, zone_id in _listed(region))


def _listed(region: str) -> tuple[tuple[str, str], ...]:
    code = region_code(region)
    return ZONES.get(region) or tuple((letter, f"{code}-az{n}")
                                      for n, letter in enumerate("abc", start=1))


def zones(account: str, region: str) -> list[Zone]:
    """This account's zones in ``region``, in name order."""
    listed = _listed(region)
    letters = [letter for letter, _ in listed]
    physical = [zone_id for _, zone_id in listed]
    if region in INDEPENDENTLY_MAPPED:
        seed = hashlib.sha256(f"{account}/{region}".encode()).digest()
        physical.sort(key=lambda z: hashlib.sha256(seed + z.encode()).digest())
    return [Zone(f"{region}{letter}", zone_id, region) for letter, zone_id in zip(
        letters, physical, strict=True)]


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
