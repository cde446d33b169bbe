"""Route 53 hosted zones and record sets, and what pocketlink's public DNS answers from them."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.privatelink.conftest import aws_error, dig, new_account


def domain() -> str:
    """A domain of one test's own: the public DNS is shared by every account."""
    return f"t{secrets.token_hex(4)}.example.com"


@pytest.fixture
def route53(client):
    return client("route53", new_account())


@pytest.fixture
def zone(route53) -> dict:
    return route53.create_hosted_zone(Name=domain(), CallerReference=secrets.token_hex(8))[
        "HostedZone"]


def change(route53, zone: dict, *changes: tuple) -> dict:
    """``change(route53, zone, ("CREATE", name, type, [values]), ...)`` with TTL 300."""
    batch = [{"Action": action, "ResourceRecordSet": {
        "Name": name, "Type": kind, "TTL": 300, "ResourceRecords": [{"Value": v} for v in values]}}
        for action, name, kind, values in changes]
    return route53.change_resource_record_sets(HostedZoneId=zone["Id"],
                                               ChangeBatch={"Changes": batch})["ChangeInfo"]


def records(route53, zone: dict) -> list[tuple]:
    found = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return [(r["Name"], r["Type"], [v["Value"] for v in r.get("ResourceRecords", [])])
            for r in found if r["Type"] not in ("SOA", "NS")]


def status(output: str) -> str:
    return re.search(r"status: (\w+)", output).group(1)


def test_create_a_public_hosted_zone(route53):
    name = domain()
    answer = route53.create_hosted_zone(Name=name.upper(), CallerReference="ref-1",
                                        HostedZoneConfig={"Comment": "seed"})
    hosted = answer["HostedZone"]
    assert re.fullmatch(r"/hostedzone/Z[A-Z0-9]+", hosted["Id"])
    assert (hosted["Name"], hosted["CallerReference"], hosted["Config"],
            hosted["ResourceRecordSetCount"]) == (
        name + ".", "ref-1", {"Comment": "seed", "PrivateZone": False}, 2)
    assert answer["ChangeInfo"]["Status"] == "PENDING"
    assert len(answer["DelegationSet"]["NameServers"]) == 4
    assert answer["Location"].endswith(hosted["Id"])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 201
    got = route53.get_hosted_zone(Id=hosted["Id"])
    assert got["HostedZone"] == hosted
    assert got["DelegationSet"] == answer["DelegationSet"]
    apex = route53.list_resource_record_sets(HostedZoneId=hosted["Id"])["ResourceRecordSets"]
    assert [(r["Name"], r["Type"]) for r in apex] == [(name + ".", "NS"), (name + ".", "SOA")]


def test_a_caller_reference_is_used_once(route53):
    route53.create_hosted_zone(Name=domain(), CallerReference="same")
    with aws_error("HostedZoneAlreadyExists"):
        route53.create_hosted_zone(Name=domain(), CallerReference="same")


def test_bad_domain_names_are_refused(route53):
    with aws_error("InvalidDomainName"):
        route53.create_hosted_zone(Name="bad..name", CallerReference="bad")


def test_list_hosted_zones(route53, client):
    made = [route53.create_hosted_zone(Name=n, CallerReference=n)["HostedZone"]
            for n in ("b.example.net", "a.example.net", "a.example.com")]
    listed = route53.list_hosted_zones()["HostedZones"]
    assert sorted(z["Id"] for z in listed) == sorted(z["Id"] for z in made)
    by_name = route53.list_hosted_zones_by_name()["HostedZones"]
    assert [z["Name"] for z in by_name] == ["a.example.com.", "a.example.net.", "b.example.net."]
    first = route53.list_hosted_zones(MaxItems="1")
    assert first["IsTruncated"] is True and len(first["HostedZones"]) == 1
    rest = route53.list_hosted_zones(Marker=first["NextMarker"])
    assert rest["IsTruncated"] is False
    assert sorted(z["Id"] for z in first["HostedZones"] + rest["HostedZones"]) == \
        sorted(z["Id"] for z in made)
    # GetHostedZoneCount: the account's zones, public and private (API reference)
    assert route53.get_hosted_zone_count()["HostedZoneCount"] == 3
    assert client("route53", new_account()).get_hosted_zone_count()["HostedZoneCount"] == 0


def test_zones_belong_to_their_account(zone, client):
    with aws_error("NoSuchHostedZone"):
        client("route53", new_account()).get_hosted_zone(Id=zone["Id"])


def test_a_zone_with_records_is_not_empty(route53, zone):
    name = "www." + zone["Name"]
    change(route53, zone, ("CREATE", name, "A", ["192.0.2.1"]))
    with aws_error("HostedZoneNotEmpty"):
        route53.delete_hosted_zone(Id=zone["Id"])
    change(route53, zone, ("DELETE", name, "A", ["192.0.2.1"]))
    assert route53.delete_hosted_zone(Id=zone["Id"])["ChangeInfo"]["Status"] == "PENDING"
    with aws_error("NoSuchHostedZone", f"No hosted zone found with ID: {zone['Id'].split('/')[-1]}"):
        route53.get_hosted_zone(Id=zone["Id"])
    with aws_error("NoSuchHostedZone"):
        route53.list_resource_record_sets(HostedZoneId=zone["Id"])


def test_create_upsert_delete(route53, zone):
    name = "api." + zone["Name"]
    change(route53, zone, ("CREATE", name, "A", ["192.0.2.1"]),
           ("CREATE", name, "TXT", ['"hello"']))
    assert records(route53, zone) == [(name, "A", ["192.0.2.1"]), (name, "TXT", ['"hello"'])]
    change(route53, zone, ("UPSERT", name, "A", ["192.0.2.2", "192.0.2.3"]))
    assert records(route53, zone)[0] == (name, "A", ["192.0.2.2", "192.0.2.3"])
    change(route53, zone, ("DELETE", name, "TXT", ['"hello"']))
    assert records(route53, zone) == [(name, "A", ["192.0.2.2", "192.0.2.3"])]


@pytest.mark.parametrize("changes", [
    [("CREATE", "www", "A", ["192.0.2.1"]), ("CREATE", "www", "A", ["192.0.2.1"])],
    [("DELETE", "missing", "A", ["192.0.2.1"])],
    [("CREATE", "www", "A", ["192.0.2.1"]), ("DELETE", "www", "A", ["192.0.2.9"])],
    [("CREATE", "www", "A", ["not-an-address"])],
    [("CREATE", "www", "AAAA", ["192.0.2.1"])],
    [("CREATE", "", "CNAME", ["target.example.org"])],
    [("CREATE", "www", "CNAME", ["x.example.org"]), ("CREATE", "www", "TXT", ['"x"'])],
    [("CREATE", "www", "A", ["192.0.2.1"]), ("CREATE", "www", "CNAME", ["x.example.org"])],
    [("CREATE", "www", "A", ["192.0.2.1"]), ("UPSERT", "www", "CNAME", ["x.example.org"])],
    [("UPSERT", "www", "CNAME", ["x.example.org"]), ("UPSERT", "www", "TXT", ['"x"'])],
])
def test_invalid_change_batches_change_nothing(route53, zone, changes):
    apex = zone["Name"]
    named = [(a, f"{n}.{apex}" if n else apex, k, v) for a, n, k, v in changes]
    with aws_error("InvalidChangeBatch"):
        change(route53, zone, *named)
    assert records(route53, zone) == []


def test_upsert_replaces_a_cname(route53, zone):
    name = "alias." + zone["Name"]
    change(route53, zone, ("UPSERT", name, "CNAME", ["a.example.org"]))
    change(route53, zone, ("UPSERT", name, "CNAME", ["b.example.org"]))
    assert records(route53, zone) == [(name, "CNAME", ["b.example.org"])]


def test_a_name_outside_the_zone_is_refused(route53, zone):
    with aws_error("InvalidChangeBatch"):
        change(route53, zone, ("CREATE", "www.example.org.", "A", ["192.0.2.1"]))


def test_the_apex_soa_and_ns_stay(route53, zone):
    [soa] = [r for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])[
        "ResourceRecordSets"] if r["Type"] == "SOA"]
    with aws_error("InvalidChangeBatch"):
        route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": soa}]})


def test_list_record_sets_in_dns_order_and_pages(route53, zone):
    apex = zone["Name"]
    change(route53, zone, *[("CREATE", f"{n}.{apex}", "A", ["192.0.2.1"]) for n in ("b", "a", "c.a")])
    listed = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    assert [r["Name"] for r in listed] == [apex, apex, f"a.{apex}", f"c.a.{apex}", f"b.{apex}"]
    page = route53.list_resource_record_sets(HostedZoneId=zone["Id"], StartRecordName=f"a.{apex}",
                                             MaxItems="2")
    assert [r["Name"] for r in page["ResourceRecordSets"]] == [f"a.{apex}", f"c.a.{apex}"]
    assert (page["IsTruncated"], page["NextRecordName"], page["NextRecordType"]) == (
        True, f"b.{apex}", "A")


def test_changes_are_insync(route53, zone):
    info = change(route53, zone, ("CREATE", "x." + zone["Name"], "A", ["192.0.2.1"]))
    assert info["Status"] == "PENDING"
    assert re.fullmatch(r"/change/C[A-Z0-9]+", info["Id"])
    assert route53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    with aws_error("NoSuchChange"):
        route53.get_change(Id="/change/C0000000000000000000")


def test_unknown_zone_ids_are_404(route53):
    with aws_error("NoSuchHostedZone") as caught:
        route53.get_hosted_zone(Id="Z0000000000000000000")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_tags_of_a_zone(route53, zone):
    zone_id = zone["Id"].split("/")[-1]
    route53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id,
                                     AddTags=[{"Key": "env", "Value": "test"}])
    tags = route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
    assert tags["ResourceTagSet"]["Tags"] == [{"Key": "env", "Value": "test"}]


# What the public DNS answers

def test_dig_answers_a_and_txt(daemon, route53, zone):
    apex = zone["Name"]
    change(route53, zone, ("CREATE", f"www.{apex}", "A", ["192.0.2.10"]),
           ("CREATE", f"_check.{apex}", "TXT", ['"vpce:abc"']),
           ("CREATE", f"*.wild.{apex}", "A", ["192.0.2.11"]))
    assert dig(daemon, "A", f"www.{apex}", "+short").split() == ["192.0.2.10"]
    assert dig(daemon, "TXT", f"_check.{apex}", "+short").strip() == '"vpce:abc"'
    assert dig(daemon, "A", f"any.wild.{apex}", "+short").split() == ["192.0.2.11"]
    output = dig(daemon, "A", f"www.{apex}")
    assert status(output) == "NOERROR" and " aa" in output


def test_dig_nxdomain_in_a_zone_and_refused_outside(daemon, route53, zone):
    apex = zone["Name"]
    assert status(dig(daemon, "A", f"missing.{apex}")) == "NXDOMAIN"
    assert status(dig(daemon, "A", f"www.{secrets.token_hex(4)}.invalid")) == "REFUSED"
    change(route53, zone, ("CREATE", f"gone.{apex}", "A", ["192.0.2.12"]))
    assert dig(daemon, "A", f"gone.{apex}", "+short").split() == ["192.0.2.12"]
    change(route53, zone, ("DELETE", f"gone.{apex}", "A", ["192.0.2.12"]))
    assert status(dig(daemon, "A", f"gone.{apex}")) == "NXDOMAIN"


def test_a_deleted_zone_is_no_longer_served(daemon, route53, zone):
    route53.delete_hosted_zone(Id=zone["Id"])
    assert status(dig(daemon, "SOA", zone["Name"])) == "REFUSED"


def _set(zone: dict, name: str, value: str, **policy) -> dict:
    return {"Name": f"{name}.{zone['Name']}", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": value}], **policy}


def _apply(route53, zone: dict, *changes: tuple[str, dict]) -> None:
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": action, "ResourceRecordSet": rrset} for action, rrset in changes]})


def _listed(route53, zone: dict) -> list[dict]:
    return [r for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])[
        "ResourceRecordSets"] if r["Type"] == "A"]


def test_routing_policies_are_kept(route53, zone):
    """Two weighted sets of one name and type are two sets (moto's
    test_change_weighted_resource_record_sets and test_deleting_weighted_route,
    tests/test_route53/test_route53.py), and Failover, GeoLocation and MultiValueAnswer come
    back as given (test_failover_record_sets, test_geolocation_record_sets), each with the
    SetIdentifier the ResourceRecordSet reference requires of them."""
    _apply(route53, zone,
           ("CREATE", _set(zone, "w", "10.0.0.1", SetIdentifier="one", Weight=90)),
           ("CREATE", _set(zone, "w", "10.0.0.2", SetIdentifier="two", Weight=10)),
           ("CREATE", _set(zone, "f", "10.0.0.3", SetIdentifier="main", Failover="PRIMARY",
                           HealthCheckId="abcdef01-2345-6789-abcd-ef0123456789")),
           ("CREATE", _set(zone, "g", "10.0.0.4", SetIdentifier="eu",
                           GeoLocation={"ContinentCode": "EU"})),
           ("CREATE", _set(zone, "g", "10.0.0.5", SetIdentifier="ny",
                           GeoLocation={"CountryCode": "US", "SubdivisionCode": "NY"})),
           ("CREATE", _set(zone, "m", "10.0.0.6", SetIdentifier="m1", MultiValueAnswer=True)))
    listed = {(r["Name"].split(".")[0], r["SetIdentifier"]): r for r in _listed(route53, zone)}
    assert sorted(listed) == [("f", "main"), ("g", "eu"), ("g", "ny"), ("m", "m1"),
                              ("w", "one"), ("w", "two")]
    assert (listed["w", "one"]["Weight"], listed["w", "two"]["Weight"]) == (90, 10)
    assert listed["f", "main"]["Failover"] == "PRIMARY"
    assert listed["f", "main"]["HealthCheckId"] == "abcdef01-2345-6789-abcd-ef0123456789"
    assert listed["g", "ny"]["GeoLocation"] == {"CountryCode": "US", "SubdivisionCode": "NY"}
    assert listed["m", "m1"]["MultiValueAnswer"] is True
    _apply(route53, zone, ("UPSERT", _set(zone, "w", "10.0.0.1", SetIdentifier="one", Weight=5)))
    with aws_error("InvalidChangeBatch"):  # a DELETE names the set as it is, weight and all
        _apply(route53, zone, ("DELETE", _set(zone, "w", "10.0.0.1", SetIdentifier="one",
                                              Weight=90)))
    _apply(route53, zone, ("DELETE", _set(zone, "w", "10.0.0.1", SetIdentifier="one", Weight=5)))
    assert [r["SetIdentifier"] for r in _listed(route53, zone) if r["Name"].startswith("w.")] \
        == ["two"]
    name = f"w.{zone['Name']}"
    with aws_error("InvalidChangeBatch", f"[Tried to create resource record set [name='{name}', "
                   "type='A', set-identifier='two'] but it already exists]"):
        _apply(route53, zone, ("CREATE", _set(zone, "w", "10.0.0.9", SetIdentifier="two",
                                              Weight=1)))


def test_routing_policies_are_checked(route53, zone):
    name = f"x.{zone['Name']}"
    described = f"[Action=CREATE, Name={name}, Type=A, SetIdentifier="
    with aws_error("InvalidInput", "Invalid request: Missing field 'SetIdentifier' in Change "
                   f"with {described}null]"):
        _apply(route53, zone, ("CREATE", _set(zone, "x", "10.0.0.1", Weight=1)))
    policies = ("[Weight, Region, Failover, GeoLocation, MultiValueAnswer, "
                "GeoProximityLocation, or CidrRoutingConfig]")
    with aws_error("InvalidInput", f"Invalid request: Expected exactly one of {policies}, but "
                   f"found none in Change with {described}a]"):
        _apply(route53, zone, ("CREATE", _set(zone, "x", "10.0.0.1", SetIdentifier="a")))
    with aws_error("InvalidInput", f"Invalid request: Expected exactly one of {policies}, but "
                   f"found more than one in Change with {described}a]"):
        _apply(route53, zone, ("CREATE", _set(zone, "x", "10.0.0.1", SetIdentifier="a",
                                              Weight=1, Failover="PRIMARY")))
    with aws_error("InvalidInput"):
        _apply(route53, zone, ("CREATE", _set(zone, "x", "10.0.0.1", SetIdentifier="a",
                                              Weight=256)))
    with aws_error("InvalidInput"):
        _apply(route53, zone, ("CREATE", _set(zone, "x", "10.0.0.1", SetIdentifier="a",
                                              Failover="TERTIARY")))
    _apply(route53, zone, ("CREATE", _set(zone, "x", "10.0.0.1")))
    with aws_error("InvalidChangeBatch", f"[RRSet with DNS name {name}, type A, SetIdentifier "
                   "a cannot be created as a non-weighted set exists with the same name and "
                   "type.]"):
        _apply(route53, zone, ("CREATE", _set(zone, "x", "10.0.0.2", SetIdentifier="a",
                                              Weight=1)))


def test_an_alias_with_a_ttl_is_refused(route53, zone):
    """An alias takes its TTL from its target: Route 53 refuses one beside it ("Expected
    exactly one of [AliasTarget, all of [TTL, and ResourceRecords], ...]")."""
    with aws_error("InvalidInput"):
        _apply(route53, zone, ("CREATE", {
            "Name": f"alias.{zone['Name']}", "Type": "A", "TTL": 60,
            "AliasTarget": {"HostedZoneId": zone["Id"].rsplit("/", 1)[-1],
                            "DNSName": f"x.{zone['Name']}", "EvaluateTargetHealth": False}}))


def test_an_action_route53_does_not_have_is_invalid_input(route53, zone):
    """moto's test_change_resource_record_invalid_action_value (test_route53.py): Route 53's
    schema refuses it before anything else."""
    with aws_error("InvalidInput", "Invalid XML ; cvc-enumeration-valid: Value "
                   "'INVALID_ACTION' is not facet-valid with respect to enumeration "
                   "'[CREATE, DELETE, UPSERT]'. It must be a value from the enumeration."):
        _apply(route53, zone, ("INVALID_ACTION", _set(zone, "x", "10.0.0.1")))
    assert _listed(route53, zone) == []


@pytest.mark.parametrize("character", [" ", "\t"])
def test_a_name_with_an_unsupported_character(route53, zone, character):
    """moto's test_list_resource_record_set_invalid_start_record_name (test_route53.py)."""
    name = f"i{character}d.{zone['Name']}"
    message = ("FATAL problem: UnsupportedCharacter (Value contains unsupported characters) "
               f"encountered with '{character}'")
    with aws_error("InvalidInput", message):
        route53.list_resource_record_sets(HostedZoneId=zone["Id"], StartRecordName=name)
    with aws_error("InvalidChangeBatch", message):
        _apply(route53, zone, ("CREATE", {"Name": name, "Type": "TXT", "TTL": 60,
                                          "ResourceRecords": [{"Value": '"x"'}]}))
    # escaped, or not whitespace at all, it is a name to start from
    for fine in (f"i\\{character}d", "i国d", "i}d"):
        route53.list_resource_record_sets(HostedZoneId=zone["Id"],
                                          StartRecordName=f"{fine}.{zone['Name']}")


def test_a_set_with_neither_values_nor_alias(route53, zone):
    """moto's test_change_resource_record_set__delete_should_match_create quotes the whole
    message, the change described at its end."""
    name = f"x.{zone['Name']}"
    with aws_error("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all "
                   "of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none "
                   f"in Change with [Action=DELETE, Name={name}, Type=A, SetIdentifier=null]"):
        _apply(route53, zone, ("DELETE", {"Name": name, "Type": "A"}))


def test_a_delegation_set_pocketlink_never_made(route53):
    """CreateHostedZone's reference: an unknown DelegationSetId is NoSuchDelegationSet; there
    are no reusable delegation sets here, so every one is unknown."""
    with aws_error("NoSuchDelegationSet"):
        route53.create_hosted_zone(Name=domain(), CallerReference=secrets.token_hex(8),
                                   DelegationSetId="N0123456789ABCDEFGHIJ")
