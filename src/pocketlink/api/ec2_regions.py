"""Regions, availability zones and account attributes: what a fresh SDK asks first."""

from __future__ import annotations

from pocketlink.api import ec2_defaults as defaults
from pocketlink.api import filters
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.model import regions


class _Region:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tags: dict[str, str] = {}


REGION_FILTERS: dict[str, filters.Field] = {
    "region-name": lambda r: r.name,
    "endpoint": lambda r: f"ec2.{r.name}.amazonaws.com",
    "opt-in-status": lambda r: "opt-in-not-required",
}


@operation("ec2", "DescribeRegions")
def describe_regions(context: RequestContext, params: dict) -> dict:
    names = list(regions.REGIONS)
    if context.region not in names:
        names.append(context.region)
    for wanted in params.get("RegionNames") or []:
        if wanted not in names:
            raise ec2.InvalidParameterValue(f"Invalid region: {wanted}")
    if params.get("RegionNames"):
        names = [n for n in names if n in params["RegionNames"]]
    rows = filters.apply([_Region(n) for n in names], params.get("Filters"),  # type: ignore[arg-type]
                         REGION_FILTERS)
    return {"Regions": [{"RegionName": r.name, "Endpoint": f"ec2.{r.name}.amazonaws.com",
                         "OptInStatus": "opt-in-not-required"} for r in rows]}


def zone_group(zone: regions.Zone) -> str:
    """An availability zone's zone group, ``us-east-1-zg-1``: botocore's documentation of
    GroupName; the long name is the region's, ``US East (N. Virginia) 1``, as its
    group-long-name filter says."""
    return f"{zone.region}-zg-1"


class _ZoneRow:
    def __init__(self, zone: regions.Zone) -> None:
        self.zone = zone
        self.tags: dict[str, str] = {}


ZONE_FILTERS: dict[str, filters.Field] = {
    "zone-name": lambda z: z.zone.name,
    "zone-id": lambda z: z.zone.zone_id,
    "region-name": lambda z: z.zone.region,
    "state": lambda z: "available",
    "zone-type": lambda z: "availability-zone",
    "group-name": lambda z: zone_group(z.zone),
    "group-long-name": lambda z: f"{regions.long_name(z.zone.region)} 1",
    "opt-in-status": lambda z: "opt-in-not-required",
}


@operation("ec2", "DescribeAvailabilityZones")
def describe_availability_zones(context: RequestContext, params: dict) -> dict:
    if not regions.is_region(context.region):
        raise ec2.InvalidRegion(context.region)
    zones = regions.zones(context.account, context.region)
    for wanted in (params.get("ZoneNames") or []) + (params.get("ZoneIds") or []):
        if not any(wanted in (z.name, z.zone_id) for z in zones):
            raise ec2.InvalidParameterValue(f"The zone '{wanted}' does not exist in region {context.region}")
    if params.get("ZoneNames"):
        zones = [z for z in zones if z.name in params["ZoneNames"]]
    if params.get("ZoneIds"):
        zones = [z for z in zones if z.zone_id in params["ZoneIds"]]
    rows = filters.apply([_ZoneRow(z) for z in zones], params.get("Filters"),  # type: ignore[arg-type]
                         ZONE_FILTERS)
    return {"AvailabilityZones": [{
        "State": "available", "OptInStatus": "opt-in-not-required", "Messages": [],
        "RegionName": r.zone.region, "ZoneName": r.zone.name, "ZoneId": r.zone.zone_id,
        "GroupName": zone_group(r.zone), "NetworkBorderGroup": r.zone.region,
        "ZoneType": "availability-zone", "GroupLongName": f"{regions.long_name(r.zone.region)} 1",
    } for r in rows]}


ACCOUNT_ATTRIBUTES = {
    "supported-platforms": ["VPC"],
    "default-vpc": ["none"],  # the default VPC's id while there is one
    "max-instances": ["50"],
    "vpc-max-security-groups-per-interface": ["5"],
    "max-elastic-ips": ["5"],
    "vpc-max-elastic-ips": ["5"],
}


@operation("ec2", "DescribeAccountAttributes")
def describe_account_attributes(context: RequestContext, params: dict) -> dict:
    names = params.get("AttributeNames") or list(ACCOUNT_ATTRIBUTES)
    for name in names:
        if name not in ACCOUNT_ATTRIBUTES:
            raise ec2.InvalidParameterValue(f"Value ({name}) for parameter attributeName is invalid.")
    default_vpc = defaults.ensure(context)
    values = ACCOUNT_ATTRIBUTES | {"default-vpc": [default_vpc.id if default_vpc else "none"]}
    return {"AccountAttributes": [
        {"AttributeName": name, "AttributeValues": [{"AttributeValue": v} for v in values[name]]}
        for name in names]}
