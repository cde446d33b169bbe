"""Route 53 health checks through boto3: create (idempotent on CallerReference), get, list
in pages, update by version, delete, count, status, tags; records that name a check.

The session's daemon has no network, so no checker runs here: every check keeps the status
AWS gives a new one (healthy, no observation yet). tests/network/test_route53_checker.py
probes for real.
"""

from __future__ import annotations

import secrets

import pytest
from botocore.exceptions import ClientError

from tests.privatelink.conftest import new_account

HTTP = {"Type": "HTTP", "IPAddress": "198.51.100.77", "Port": 80, "ResourcePath": "/health",
        "RequestInterval": 10, "FailureThreshold": 2}


@pytest.fixture
def route53(client):
    return client("route53", new_account())


def refused(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    return error["Message"]


def create(route53, config: dict | None = None, reference: str | None = None) -> dict:
    return route53.create_health_check(CallerReference=reference or secrets.token_hex(8),
                                       HealthCheckConfig=config or HTTP)["HealthCheck"]


def test_create_get_and_defaults(route53):
    answer = route53.create_health_check(CallerReference="hc-1", HealthCheckConfig=HTTP)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 201
    check = answer["HealthCheck"]
    assert answer["Location"].endswith("/healthcheck/" + check["Id"])
    assert check["CallerReference"] == "hc-1" and check["HealthCheckVersion"] == 1
    assert check["HealthCheckConfig"] == {**HTTP, "MeasureLatency": False, "Inverted": False,
                                          "Disabled": False, "EnableSNI": False}
    assert route53.get_health_check(HealthCheckId=check["Id"])["HealthCheck"] == check
    https = create(route53, {"Type": "HTTPS", "FullyQualifiedDomainName": "example.com"})
    assert (https["HealthCheckConfig"]["Port"], https["HealthCheckConfig"]["RequestInterval"],
            https["HealthCheckConfig"]["FailureThreshold"],
            https["HealthCheckConfig"]["EnableSNI"]) == (443, 30, 3, True)


def test_caller_reference_is_idempotent(route53):
    first = create(route53, reference="same")
    assert create(route53, reference="same") == first  # the same config: the same check
    refused("HealthCheckAlreadyExists", route53.create_health_check, CallerReference="same",
            HealthCheckConfig={**HTTP, "Port": 8080})
    assert route53.get_health_check_count()["HealthCheckCount"] == 1


def test_configs_refused_as_route53_refuses_them(route53):
    assert refused("InvalidInput", route53.create_health_check, CallerReference="a",
                   HealthCheckConfig={"Type": "TCP", "IPAddress": "198.51.100.7", "Port": 22,
                                      "FullyQualifiedDomainName": "example.com"}) == (
        "TCP health checks that have IP address must not have a fully qualified domain name "
        "specified.")
    for config in ({**HTTP, "IPAddress": "10.0.0.25"}, {**HTTP, "IPAddress": "127.0.0.1"},
                   {**HTTP, "FailureThreshold": 123}, {**HTTP, "RequestInterval": 31},
                   {"Type": "HTTP_STR_MATCH", "IPAddress": "198.51.100.7"},
                   {"Type": "HTTP"}, {**HTTP, "Type": "PING"}):
        refused("InvalidInput", route53.create_health_check, CallerReference="b",
                HealthCheckConfig=config)
    refused("NoSuchHealthCheck", route53.create_health_check, CallerReference="c",
            HealthCheckConfig={"Type": "CALCULATED", "HealthThreshold": 1,
                               "ChildHealthChecks": ["no-such-check"]})
    assert route53.get_health_check_count()["HealthCheckCount"] == 0


def test_list_in_pages(route53):
    made = [create(route53)["Id"] for _ in range(3)]
    first = route53.list_health_checks(MaxItems="2")
    assert ([c["Id"] for c in first["HealthChecks"]], first["IsTruncated"]) == (made[:2], True)
    rest = route53.list_health_checks(MaxItems="2", Marker=first["NextMarker"])
    assert ([c["Id"] for c in rest["HealthChecks"]], rest["IsTruncated"]) == (made[2:], False)
    paged = route53.get_paginator("list_health_checks").paginate(PaginationConfig={"PageSize": 1})
    assert [c["Id"] for page in paged for c in page["HealthChecks"]] == made


def test_update_by_version(route53):
    check = create(route53)
    updated = route53.update_health_check(HealthCheckId=check["Id"], HealthCheckVersion=1,
                                          Port=8080, Inverted=True,
                                          ResetElements=["ResourcePath"])["HealthCheck"]
    config = updated["HealthCheckConfig"]
    assert (updated["HealthCheckVersion"], config["Port"], config["Inverted"],
            "ResourcePath" in config) == (2, 8080, True, False)
    refused("HealthCheckVersionMismatch", route53.update_health_check,
            HealthCheckId=check["Id"], HealthCheckVersion=1, Port=81)
    refused("NoSuchHealthCheck", route53.update_health_check, HealthCheckId="nope", Port=81)


def test_delete_even_while_a_record_uses_it(route53):
    """AWS's DeleteHealthCheck "does not prevent you from deleting a health check even if
    the health check is associated with one or more resource record sets" (its API
    reference; HealthCheckInUse is deprecated)."""
    check = create(route53)
    zone = route53.create_hosted_zone(Name=f"t{secrets.token_hex(4)}.example.com",
                                      CallerReference=secrets.token_hex(8))["HostedZone"]
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": "www." + zone["Name"], "Type": "A", "TTL": 60, "SetIdentifier": "one",
            "Weight": 10, "HealthCheckId": check["Id"],
            "ResourceRecords": [{"Value": "198.51.100.77"}]}}]})
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    assert [r.get("HealthCheckId") for r in records if r["Type"] == "A"] == [check["Id"]]
    route53.delete_health_check(HealthCheckId=check["Id"])
    refused("NoSuchHealthCheck", route53.get_health_check, HealthCheckId=check["Id"])
    refused("NoSuchHealthCheck", route53.delete_health_check, HealthCheckId=check["Id"])


def test_status_before_any_probe_and_of_a_calculated_check(route53):
    check = create(route53)
    assert route53.get_health_check_status(HealthCheckId=check["Id"])[
        "HealthCheckObservations"] == []
    parent = create(route53, {"Type": "CALCULATED", "HealthThreshold": 1,
                              "ChildHealthChecks": [check["Id"]]})
    refused("InvalidInput", route53.get_health_check_status, HealthCheckId=parent["Id"])


def test_another_accounts_check_is_not_found(route53, client):
    check = create(route53)
    other = client("route53", new_account())
    refused("NoSuchHealthCheck", other.get_health_check, HealthCheckId=check["Id"])
    refused("NoSuchHealthCheck", other.list_tags_for_resource, ResourceType="healthcheck",
            ResourceId=check["Id"])


def test_tags_of_a_health_check(route53):
    check_id = create(route53)["Id"]
    tags = route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id)
    assert tags["ResourceTagSet"] == {"ResourceType": "healthcheck", "ResourceId": check_id,
                                      "Tags": []}
    route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id,
                                     AddTags=[{"Key": "Name", "Value": "web"},
                                              {"Key": "team", "Value": "a"}])
    route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id,
                                     RemoveTagKeys=["team"])
    both = route53.list_tags_for_resources(ResourceType="healthcheck",
                                           ResourceIds=[check_id, create(route53)["Id"]])
    assert [s["Tags"] for s in both["ResourceTagSets"]] == [[{"Key": "Name", "Value": "web"}], []]
    refused("NoSuchHealthCheck", route53.change_tags_for_resource, ResourceType="healthcheck",
            ResourceId="nope", AddTags=[{"Key": "a", "Value": "b"}])
