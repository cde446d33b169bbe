"""Regions, availability zones (names per account, ids shared) and account attributes."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

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


@pytest.mark.parametrize("region", REGIONS)
def test_three_zones_per_region(client, region):
    answer = client("ec2", PROVIDER, region).describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in answer] == [f"{region}a", f"{region}b", f"{region}c"]
    prefix = ZONE_ID_PREFIX[region]
    assert all(re.fullmatch(rf"{prefix}-az[1-9]", z["ZoneId"]) for z in answer)
    assert len({z["ZoneId"] for z in answer}) == 3
    for zone in answer:
        assert (zone["RegionName"], zone["State"], zone["ZoneType"]) == \
            (region, "available", "availability-zone")


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
