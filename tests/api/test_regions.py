"""Regions, availability zones (names per account, ids shared) and account attributes."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from pocketlink.model import regions, zone_ids

PROVIDER, CONSUMER = "111111111111", "222222222222"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1",
           "ap-southeast-2", "sa-east-1"]
ZONE_ID_PREFIX = {"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1",
                  "eu-central-1": "euc1", "ap-northeast-1": "apne1", "ap-southeast-2": "apse2",
                  "sa-east-1": "sae1"}


def zones(client, account: str, region: str) -> dict[str, str]:
    """Zone name -> zone id, as ``account`` sees ``region``."""
    answer = client("ec2", account, region).describe_availability_zones()
    return {z["ZoneName"]: z["ZoneId"] for z in answer["AvailabilityZones"]}


def test_describe_regions(ec2):
    regions = {r["RegionName"]: r for r in ec2.describe_regions()["Regions"]}
    assert set(REGIONS) <= set(regions)
    assert regions["eu-west-1"]["Endpoint"] == "ec2.eu-west-1.amazonaws.com"
    assert regions["eu-west-1"]["OptInStatus"] == "opt-in-not-required"
    named = ec2.describe_regions(RegionNames=["us-east-1", "eu-west-1"])["Regions"]
    assert sorted(r["RegionName"] for r in named) == ["eu-west-1", "us-east-1"]
    filtered = ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["eu-*"]}])
    names = [r["RegionName"] for r in filtered["Regions"]]
    assert names and all(name.startswith("eu-") for name in names)


def test_describe_regions_with_an_unknown_name(ec2):
    with pytest.raises(ClientError) as err:
        ec2.describe_regions(RegionNames=["moon-base-1"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


# AWS's zones of each region (pocketlink.model.zone_ids cites where each list comes from):
# the names an account sees, and the zone ids behind them in some order
ZONES = {
    "us-east-1": ("abcdef", {f"use1-az{n}" for n in range(1, 7)}),
    "us-west-2": ("abcd", {f"usw2-az{n}" for n in range(1, 5)}),
    "eu-west-1": ("abc", {"euw1-az1", "euw1-az2", "euw1-az3"}),
    "eu-central-1": ("abc", {"euc1-az1", "euc1-az2", "euc1-az3"}),
    "ap-northeast-1": ("acd", {"apne1-az1", "apne1-az2", "apne1-az4"}),
    "ap-southeast-2": ("abc", {"apse2-az1", "apse2-az2", "apse2-az3"}),
    "sa-east-1": ("abc", {"sae1-az1", "sae1-az2", "sae1-az3"}),
}


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_has_its_own_zones(client, region):
    answer = client("ec2", PROVIDER, region).describe_availability_zones()["AvailabilityZones"]
    letters, ids = ZONES[region]
    assert [z["ZoneName"] for z in answer] == [f"{region}{letter}" for letter in letters]
    assert {z["ZoneId"] for z in answer} == ids
    prefix = ZONE_ID_PREFIX[region]
    assert all(re.fullmatch(rf"{prefix}-az[1-9]", z["ZoneId"]) for z in answer)
    for zone in answer:
        assert (zone["RegionName"], zone["State"], zone["ZoneType"], zone["OptInStatus"],
                zone["NetworkBorderGroup"]) == \
            (region, "available", "availability-zone", "opt-in-not-required", region)
        assert zone["GroupName"] == f"{region}-zg-1"  # botocore's GroupName documentation


def test_zone_group_filters(ec2):
    every = ec2.describe_availability_zones()["AvailabilityZones"]
    assert every[0]["GroupLongName"] == "US East (N. Virginia) 1"
    for name, value in (("group-name", "us-east-1-zg-1"),
                        ("group-long-name", "US East (N. Virginia) 1")):
        found = ec2.describe_availability_zones(Filters=[{"Name": name, "Values": [value]}])
        assert len(found["AvailabilityZones"]) == len(every) == 6


def test_a_region_maps_names_to_ids_alike_for_every_account_where_aws_does(client):
    """Only AWS's oldest regions map names per account; London's eu-west-2a is euw2-az2 for
    everyone (moto's zone table)."""
    provider, consumer = zones(client, PROVIDER, "eu-west-2"), zones(client, CONSUMER, "eu-west-2")
    assert provider == consumer == {"eu-west-2a": "euw2-az2", "eu-west-2b": "euw2-az3",
                                    "eu-west-2c": "euw2-az1"}


def test_zone_names_map_to_ids_per_account(client):
    differs = []
    for region in REGIONS:
        provider, consumer = zones(client, PROVIDER, region), zones(client, CONSUMER, region)
        assert set(provider) == set(consumer)
        assert set(provider.values()) == set(consumer.values())
        if provider != consumer:
            differs.append(region)
    assert differs, "every region maps zone names to the same ids for both accounts"


def test_the_mapping_is_stable(client):
    assert zones(client, CONSUMER, "eu-west-1") == zones(client, CONSUMER, "eu-west-1")


def test_describe_zones_by_name_and_id(ec2):
    mapping = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()[
        "AvailabilityZones"]}
    by_name = ec2.describe_availability_zones(ZoneNames=["us-east-1b"])["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"]) for z in by_name] == [("us-east-1b", mapping["us-east-1b"])]
    by_id = ec2.describe_availability_zones(ZoneIds=[mapping["us-east-1c"]])["AvailabilityZones"]
    assert [z["ZoneName"] for z in by_id] == ["us-east-1c"]
    with pytest.raises(ClientError) as err:
        ec2.describe_availability_zones(ZoneNames=["us-east-1q"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_describe_account_attributes(ec2):
    answer = ec2.describe_account_attributes()["AccountAttributes"]
    attributes = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                  for a in answer}
    assert attributes["supported-platforms"] == ["VPC"]
    [default] = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert attributes["default-vpc"] == [default["VpcId"]]
    [only] = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert only["AttributeName"] == "default-vpc"


def test_the_zone_table_is_well_formed():
    """Every row of model/zone_ids.py: ids of the region's own code, no name or id twice."""
    for region, rows in zone_ids.ZONES.items():
        letters, ids = [letter for letter, _ in rows], [zone_id for _, zone_id in rows]
        assert len(set(letters)) == len(letters) and len(set(ids)) == len(ids), region
        assert all(re.fullmatch(rf"{regions.region_code(region)}-az[1-9]", i) for i in ids)
    assert set(zone_ids.ZONES) >= zone_ids.INDEPENDENTLY_MAPPED
