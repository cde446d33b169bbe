"""Route 53 hosted zones and record sets: the data behind pocketlink's public DNS.

Route 53 is global: zones belong to an account, not to a region. Changes apply in the
transaction that accepts them, so the public DNS answers with them at once; GetChange says
``INSYNC`` as soon as that is true.

Record sets are checked as Route 53 checks them before anything is stored: the type one of
the model's, the TTL within the model's range, every value read as that type's data (by
dnspython, the parser the DNS server uses, so that what is accepted can be served), at most
1,000 values per batch (UPSERT counts twice, as at AWS), no TTL beside an alias. A set with
a routing policy (Weight, Failover, GeoLocation, MultiValueAnswer ...) is one of several of
its name and type, told apart by its SetIdentifier; all of them share one policy.

A zone may be made for any well-formed name, as AWS allows (a private zone for
``ssm.us-west-2.amazonaws.com`` is how centralized endpoints work), but whether the DNS
serves it is the DNS's rule (see pocketlink.dns.public): a public zone for a name AWS owns,
or one that is not the delegated zone of its name, is kept and never answered from.
Private zones and their VPCs are route53_vpcs.py's.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import TypeVar

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.model.base import Resource
from pocketlink.model.ec2 import Vpc
from pocketlink.model.route53 import Change, HostedZone, RecordSet
from pocketlink.wire import specs
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.numbers import integer

GLOBAL = "global"  # the region field of global resources
R = TypeVar("R", bound=Resource)
_MODEL = specs.load("route53").model
TYPES = tuple(_MODEL.shape_for("RRType").enum)
TTL_RANGE = (_MODEL.shape_for("TTL").metadata["min"], _MODEL.shape_for("TTL").metadata["max"])
LABEL = re.compile(r"^(\*|[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)$")
ZONE_LIMIT = 500
# The routing policies of a record set other than simple, in Route 53's order, and the word
# its messages use for each.
POLICIES = ("Weight", "Region", "Failover", "GeoLocation", "MultiValueAnswer",
            "GeoProximityLocation", "CidrRoutingConfig")
POLICY_WORDS = {"Weight": "weighted", "Region": "latency", "Failover": "failover",
                "GeoLocation": "geolocation", "MultiValueAnswer": "multivalue answer",
                "GeoProximityLocation": "geoproximity", "CidrRoutingConfig": "IP-based"}
# ChangeResourceRecordSets: values per batch and their characters (UPSERT counts twice).
RECORDS_LIMIT = 1000
CHARACTERS_LIMIT = 32000


def error(shape: str, message: str) -> ServiceError:
    return specs.load("route53").error(shape, message)


def token(length: int) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def absolute(name: str) -> str:
    """``Example.COM`` -> ``example.com.``: Route 53 keeps names lower-case and absolute."""
    name = name.strip().lower()
    name = name.replace("\\052", "*")
    return name if name.endswith(".") else name + "."


def unsupported_character(name: str, code: str) -> None:
    """Route 53 refuses a name with whitespace or a control character that no backslash
    escapes, in these words (moto's test_list_resource_record_set_invalid_start_record_name
    and _valid_characters, tests/test_route53/test_route53.py); ``code`` is the calling
    operation's."""
    bad = next((c for i, c in enumerate(name)
                if (c.isspace() or not c.isprintable()) and name[i - 1:i] != "\\"), None)
    if bad is not None:
        raise error(code, "FATAL problem: UnsupportedCharacter (Value contains unsupported "
                    f"characters) encountered with '{bad}'")


def _check_domain(name: str) -> str:
    name = absolute(name)
    labels = name[:-1].split(".")
    if len(name) > 255 or not all(LABEL.match(label) for label in labels) or not labels[0]:
        raise error("InvalidDomainName", f"{name} is not a valid domain name")
    return name


def vpc_named(context: RequestContext, raw: dict | None) -> Vpc:
    """The VPC a request names; it must exist in the region it names."""
    raw = raw or {}
    vpc = context.store.get(Vpc, raw.get("VPCId", ""))
    if vpc is None or raw.get("VPCRegion", vpc.region) != vpc.region:
        raise error("InvalidVPCId", "The VPC ID is invalid.")
    return vpc


def described_vpc(vpc: Vpc) -> dict:
    return {"VPCRegion": vpc.region, "VPCId": vpc.id}


def own_vpc(context: RequestContext, raw: dict | None) -> dict:
    """``{VPCRegion, VPCId}`` of the caller's own VPC. Another account's VPC is refused with
    the same words as one that does not exist, so that nobody learns of others' VPCs."""
    vpc = vpc_named(context, raw)
    if vpc.account != context.account:
        raise error("InvalidVPCId", "The VPC ID is invalid.")
    return described_vpc(vpc)


def require_zone(context: RequestContext, zone_id: str) -> HostedZone:
    return require(context, HostedZone, zone_id.rsplit("/", 1)[-1])


def change_info(change: Change) -> dict:
    info = {"Id": f"/change/{change.id}", "Status": "PENDING", "SubmittedAt": change.created}
    if change.comment:
        info["Comment"] = change.comment
    return info


def describe_zone(zone: HostedZone) -> dict:
    config: dict = {"PrivateZone": zone.private}
    if zone.comment:
        config["Comment"] = zone.comment
    return {"Id": f"/hostedzone/{zone.id}", "Name": zone.name,
            "CallerReference": zone.caller_reference, "Config": config,
            "ResourceRecordSetCount": len(zone.record_sets)}


def describe_record_set(record: RecordSet) -> dict:
    item: dict = {"Name": record.name.replace("*", "\\052"), "Type": record.type}
    if record.set_identifier is not None:
        item["SetIdentifier"] = record.set_identifier
    item.update(record.routing)
    if record.alias_target is not None:
        item["AliasTarget"] = record.alias_target
    else:
        item["TTL"] = record.ttl
        item["ResourceRecords"] = [{"Value": v} for v in record.values]
    return item


@operation("route53", "CreateHostedZone")
def create_hosted_zone(context: RequestContext, params: dict) -> dict:
    name = _check_domain(params["Name"])
    reference = params["CallerReference"]
    mine = owned(context, HostedZone, regional=False)
    if any(z.caller_reference == reference for z in mine):
        raise error("HostedZoneAlreadyExists", "A hosted zone has already been created with "
                    "the specified caller reference.")
    if len(mine) >= ZONE_LIMIT:
        raise error("TooManyHostedZones", f"Limits Exceeded: MAX_HOSTED_ZONES_BY_OWNER ({ZONE_LIMIT})")
    if params.get("DelegationSetId"):  # pocketlink makes no reusable delegation sets
        raise error("NoSuchDelegationSet", f"A reusable delegation set with the specified ID "
                    f"does not exist: {params['DelegationSetId']}")
    config = params.get("HostedZoneConfig") or {}
    vpc = params.get("VPC")
    private = bool(config.get("PrivateZone")) or vpc is not None
    if private and not vpc:
        raise error("InvalidInput", "When you're creating a private hosted zone, you must "
                    "specify a VPC.")
    if private:
        vpc = own_vpc(context, vpc)
    elif name.count(".") == 1:  # a top-level domain; AWS: "test2 is reserved by AWS!"
        raise error("InvalidDomainName", f"{name[:-1]} is reserved by AWS!")
    servers = [f"ns-{secrets.randbelow(2048)}.awsdns-{secrets.randbelow(64):02d}.{tld}"
               for tld in ("com", "net", "org", "co.uk")]
    zone = HostedZone(
        id="Z" + token(20), account=context.account, region=GLOBAL, name=name,
        caller_reference=reference, comment=config.get("Comment"), private=private,
        vpcs=[vpc] if vpc else [], name_servers=servers,
        record_sets=[
            RecordSet(name=name, type="SOA", ttl=900, values=[
                f"{servers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"]),
            RecordSet(name=name, type="NS", ttl=172800, values=[s + "." for s in servers]),
        ])
    change = Change(id="C" + token(20), account=context.account, region=GLOBAL)
    with context.store.transaction() as tx:
        tx.put(zone)
        tx.put(change)
    result: dict = {"HostedZone": describe_zone(zone), "ChangeInfo": change_info(change),
                    "Location": f"https://route53.amazonaws.com/2013-04-01/hostedzone/{zone.id}"}
    if private:
        result["VPC"] = vpc
    else:
        result["DelegationSet"] = {"NameServers": servers}
    return result


@operation("route53", "GetHostedZone")
def get_hosted_zone(context: RequestContext, params: dict) -> dict:
    zone = require_zone(context, params["Id"])
    result: dict = {"HostedZone": describe_zone(zone)}
    if zone.private:
        result["VPCs"] = zone.vpcs
    else:
        result["DelegationSet"] = {"NameServers": zone.name_servers}
    return result


def max_items(params: dict, most: int = 100, name: str = "MaxItems") -> int:
    """A List call's page size: ``name`` (a string on the wire), 100 (or ``most``, if less)
    unless given."""
    number = integer(params.get(name, str(min(most, 100))))
    if number is None or not 1 <= number <= most:
        raise error("InvalidInput", f"{name} must be a number from 1 to {most}")
    return number


def marker_page(items: list[R], start: int, size: int) -> tuple[list[R], dict]:
    """Route 53's page of ``items`` from ``start``, and the fields that say where the next
    begins: ``IsTruncated``, ``MaxItems`` and, on all but the last, ``NextMarker`` (the id
    of the next page's first item, which the next call gives as its ``Marker``)."""
    end = start + size
    fields: dict = {"IsTruncated": end < len(items), "MaxItems": str(size)}
    if end < len(items):
        fields["NextMarker"] = items[end].id
    return items[start:end], fields


@operation("route53", "ListHostedZones")
def list_hosted_zones(context: RequestContext, params: dict) -> dict:
    zones = owned(context, HostedZone, regional=False)
    size = max_items(params)
    start = 0
    if params.get("Marker"):
        start = next((i for i, z in enumerate(zones) if z.id == params["Marker"]), len(zones))
    chunk, more = marker_page(zones, start, size)
    result: dict = {"HostedZones": [describe_zone(z) for z in chunk], **more}
    if params.get("Marker"):
        result["Marker"] = params["Marker"]
    return result


@operation("route53", "GetHostedZoneCount")
def get_hosted_zone_count(context: RequestContext, params: dict) -> dict:
    return {"HostedZoneCount": len(owned(context, HostedZone, regional=False))}


@operation("route53", "ListHostedZonesByName")
def list_hosted_zones_by_name(context: RequestContext, params: dict) -> dict:
    def key(zone: HostedZone) -> tuple:
        return (tuple(reversed(zone.name.rstrip(".").split("."))), zone.id)

    zones = sorted(owned(context, HostedZone, regional=False), key=key)
    size = max_items(params)
    if params.get("DNSName"):
        first = absolute(params["DNSName"])
        zones = [z for z in zones if key(z) >= (tuple(reversed(first.rstrip(".").split("."))),
                                                params.get("HostedZoneId", ""))]
    chunk = zones[:size]
    result: dict = {"HostedZones": [describe_zone(z) for z in chunk],
                    "IsTruncated": len(zones) > size, "MaxItems": str(size)}
    if params.get("DNSName"):
        result["DNSName"] = params["DNSName"]
    if result["IsTruncated"]:
        result["NextDNSName"] = zones[size].name
        result["NextHostedZoneId"] = zones[size].id
    return result


@operation("route53", "DeleteHostedZone")
def delete_hosted_zone(context: RequestContext, params: dict) -> dict:
    zone = require_zone(context, params["Id"])
    if any(r.type not in ("SOA", "NS") or r.name != zone.name for r in zone.record_sets):
        raise error("HostedZoneNotEmpty", "The specified hosted zone contains non-required "
                    "resource record sets and so cannot be deleted.")
    change = Change(id="C" + token(20), account=context.account, region=GLOBAL)
    with context.store.transaction() as tx:
        tx.delete(zone)
        tx.put(change)
    return {"ChangeInfo": change_info(change)}


def _bad_value(record: RecordSet, value: str, problem: str) -> ServiceError:
    return error("InvalidChangeBatch", f"[Invalid Resource Record: FATAL problem: {problem} "
                 f"encountered with '{value}']")


def _check_values(record: RecordSet) -> None:
    """Each value read as its type's data, as the DNS server will read it. AWS names the
    problem per type and field; the A, AAAA and TXT names below are AWS's, the others
    (``<TYPE>RRDATAIllegal``) are pocketlink's guess in the same style."""
    rdtype = dns.rdatatype.from_text(record.type)
    for value in record.values:
        try:
            dns.rdata.from_text(dns.rdataclass.IN, rdtype, value)
        except (dns.exception.DNSException, ValueError, UnicodeError) as refused:
            if record.type == "A":
                problem = "ARRDATAIllegalIPv4Address"
            elif record.type == "AAAA":
                problem = "AAAARRDATAIllegalIPv6Address"
            elif record.type in ("TXT", "SPF") and "too long" in str(refused):
                problem = "CharacterStringTooLong (Value is too long)"
            else:
                problem = f"{record.type}RRDATAIllegal"
            raise _bad_value(record, value, problem) from None
        if record.type == "TXT" and len(value) > 4000:
            raise _bad_value(record, value[:64], "TXTRDATATooLong")


def _describe_change(action: str, raw: dict) -> str:
    return (f"[Action={action}, Name={raw.get('Name')}, Type={raw.get('Type')}, "
            f"SetIdentifier={raw.get('SetIdentifier', 'null')}]")


def _record(zone: HostedZone, raw: dict, action: str = "CREATE") -> RecordSet:
    """A record set as the change names it; refused the way Route 53's schema refuses."""
    unsupported_character(raw["Name"], "InvalidChangeBatch")
    kind = raw["Type"]
    if kind not in TYPES:
        raise error("InvalidInput", f"Invalid XML ; cvc-enumeration-valid: Value '{kind}' is "
                    f"not facet-valid with respect to enumeration '[{', '.join(TYPES)}]'. It "
                    "must be a value from the enumeration.")
    ttl = raw.get("TTL")
    if ttl is not None and not TTL_RANGE[0] <= ttl <= TTL_RANGE[1]:
        facet, limit = ("minInclusive", TTL_RANGE[0]) if ttl < TTL_RANGE[0] else \
            ("maxInclusive", TTL_RANGE[1])
        raise error("InvalidInput", f"Invalid XML ; cvc-{facet}-valid: Value '{ttl}' is not "
                    f"facet-valid with respect to {facet} '{limit}' for type 'TTL'.")
    name = _check_domain(raw["Name"])
    if name != zone.name and not name.endswith("." + zone.name):
        raise error("InvalidChangeBatch",
                    f"RRSet with DNS name {name} is not permitted in zone {zone.name}")
    alias = raw.get("AliasTarget")
    values = [r.get("Value", "") for r in raw.get("ResourceRecords") or []]
    if alias is None:
        if ttl is None:
            raise error("InvalidInput", "Invalid request: Expected exactly one of "
                        "[AliasTarget, all of [TTL, and ResourceRecords], or "
                        "TrafficPolicyInstanceId], but found none in Change with "
                        f"{_describe_change(action, raw)}")
        if not values:
            raise error("InvalidInput", "ResourceRecords must contain at least one record")
    elif ttl is not None or values:
        raise error("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, "
                    "all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found "
                    f"more than one in Change with {_describe_change(action, raw)}")
    record = RecordSet(name=name, type=kind, ttl=ttl, values=values, alias_target=alias,
                       set_identifier=raw.get("SetIdentifier"),
                       routing=_routing(raw, action))
    _check_values(record)
    if kind == "CNAME" and name == zone.name:
        raise error("InvalidChangeBatch", f"RRSet of type CNAME with DNS name {name} is not "
                    "permitted at apex in zone " + zone.name)
    return record


def facet(value: object, shape: str) -> ServiceError | None:
    """Route 53's XML schema error for a value outside its shape's range or enum."""
    model = _MODEL.shape_for(shape)
    enum = getattr(model, "enum", None)
    if enum and value not in enum:
        return error("InvalidInput", f"Invalid XML ; cvc-enumeration-valid: Value '{value}' is "
                     f"not facet-valid with respect to enumeration '[{', '.join(enum)}]'. It "
                     "must be a value from the enumeration.")
    for facet, key, outside in (("minInclusive", "min", lambda v, m: v < m),
                                ("maxInclusive", "max", lambda v, m: v > m)):
        limit = model.metadata.get(key)
        if isinstance(value, int) and limit is not None and outside(value, limit):
            return error("InvalidInput", f"Invalid XML ; cvc-{facet}-valid: Value '{value}' is "
                         f"not facet-valid with respect to {facet} '{limit}' for type "
                         f"'{shape}'.")
    return None


def _routing(raw: dict, action: str) -> dict:
    """The routing policy of a record set: none (simple), or exactly one of POLICIES with a
    SetIdentifier, as Route 53 insists. The refusals' words follow Route 53's "Invalid
    request: Expected exactly one of ..." (test_change_resource_record_invalid in moto's
    tests/test_route53/test_route53.py quotes one); that they apply to the policies is
    pocketlink's reading of the ResourceRecordSet reference."""
    chosen = {p: raw[p] for p in POLICIES if p in raw}
    identifier = raw.get("SetIdentifier")
    if len(chosen) > 1 or (identifier is not None and not chosen):
        found = "more than one" if chosen else "none"
        raise error("InvalidInput", f"Invalid request: Expected exactly one of "
                    f"[{', '.join(POLICIES[:-1])}, or {POLICIES[-1]}], but found {found} in "
                    f"Change with {_describe_change(action, raw)}")
    if chosen and identifier is None:
        raise error("InvalidInput", "Invalid request: Missing field 'SetIdentifier' in Change "
                    f"with {_describe_change(action, raw)}")
    for member, shape in (("SetIdentifier", "ResourceRecordSetIdentifier"),
                          ("Weight", "ResourceRecordSetWeight"),
                          ("Failover", "ResourceRecordSetFailover"),
                          ("Region", "ResourceRecordSetRegion")):
        refusal = facet(raw[member], shape) if member in raw else None
        if refusal is not None:
            raise refusal
    if "HealthCheckId" in raw:
        chosen["HealthCheckId"] = raw["HealthCheckId"]
    return chosen


def _policy_word(record: RecordSet) -> str:
    return next((POLICY_WORDS[p] for p in POLICIES if p in record.routing), "simple")


def _check_policy(records: list[RecordSet], record: RecordSet) -> None:
    """The sets of one name and type share one routing policy: a weighted set cannot join a
    simple one, nor a failover set weighted ones. The wording follows Route 53's "cannot be
    created as a non-weighted set exists with the same name and type" (a guess beyond it)."""
    mine = _policy_word(record)
    for other in records:
        if (other.name, other.type) != (record.name, record.type) or \
                other.set_identifier == record.set_identifier:
            continue
        theirs = _policy_word(other)
        if theirs == mine:
            continue
        if record.set_identifier is None:
            raise error("InvalidChangeBatch", f"[RRSet with DNS name {record.name}, type "
                        f"{record.type} cannot be created as {theirs} sets exist with the same "
                        "name and type.]")
        raise error("InvalidChangeBatch", f"[RRSet with DNS name {record.name}, type "
                    f"{record.type}, SetIdentifier {record.set_identifier} cannot be created "
                    f"as a non-{mine} set exists with the same name and type.]")


def _check_size(changes: list[dict]) -> None:
    """Route 53's limits on one request: 1,000 values and 32,000 characters of values, an
    UPSERT counting twice."""
    records = characters = 0
    for change in changes:
        weight = 2 if change.get("Action") == "UPSERT" else 1
        values = [r.get("Value", "") for r in
                  (change.get("ResourceRecordSet") or {}).get("ResourceRecords") or []]
        records += weight * max(1, len(values))
        characters += weight * sum(len(v) for v in values)
    if records > RECORDS_LIMIT:
        # AWS's words, brackets and all, as the SDKs quote them (external-dns#2537,
        # dnscontrol#1114); moto's test has them without the brackets.
        raise error("InvalidChangeBatch", f"[Number of records limit of {RECORDS_LIMIT} "
                    "exceeded.]")
    if characters > CHARACTERS_LIMIT:  # AWS's wording of this one is a guess
        raise error("InvalidChangeBatch", f"[Number of characters limit of {CHARACTERS_LIMIT} "
                    "exceeded.]")


def _check_cname(zone: HostedZone, records: list[RecordSet], record: RecordSet) -> None:
    """A CNAME shares its name with no other type (RFC 1034), whether CREATE or UPSERT puts
    it, or the other record, there; replacing a record of the same type is no conflict."""
    others = [r for r in records if r.name == record.name and r.type != record.type]
    if not others:
        return
    if record.type == "CNAME":
        raise error("InvalidChangeBatch", f"[RRSet of type CNAME with DNS name {record.name} is "
                    "not permitted as it conflicts with other records with the same DNS name "
                    f"in zone {zone.name}]")
    if any(r.type == "CNAME" for r in others):
        raise error("InvalidChangeBatch", f"[RRSet of type {record.type} with DNS name "
                    f"{record.name} is not permitted because a conflicting RRSet of type CNAME "
                    f"with the same DNS name already exists in zone {zone.name}]")


def _describe(record: RecordSet) -> str:
    identifier = "" if record.set_identifier is None else \
        f", set-identifier='{record.set_identifier}'"
    return f"[name='{record.name}', type='{record.type}'{identifier}]"


def _same_set(a: RecordSet, b: RecordSet) -> bool:
    return (a.name, a.type, a.set_identifier) == (b.name, b.type, b.set_identifier)


@operation("route53", "ChangeResourceRecordSets")
def change_resource_record_sets(context: RequestContext, params: dict) -> dict:
    zone = require_zone(context, params["HostedZoneId"])
    batch = params["ChangeBatch"]
    records = list(zone.record_sets)
    changes = batch.get("Changes") or []
    _check_size(changes)
    for change in changes:
        action = change.get("Action")
        refusal = facet(action, "ChangeAction")
        if refusal is not None:
            raise refusal
        record = _record(zone, change.get("ResourceRecordSet") or {}, action)
        index = next((i for i, r in enumerate(records) if _same_set(r, record)), None)
        if action == "CREATE":
            if index is not None:
                raise error("InvalidChangeBatch", f"[Tried to create resource record set "
                            f"{_describe(record)} but it already exists]")
            _check_cname(zone, records, record)
            _check_policy(records, record)
            records.append(record)
        elif action == "UPSERT":
            _check_cname(zone, records, record)
            _check_policy(records, record)
            if index is None:
                records.append(record)
            else:
                records[index] = record
        else:  # DELETE
            if index is None or records[index].routing != record.routing or (
                    (records[index].values, records[index].ttl) != (record.values, record.ttl)
                    and record.alias_target is None):
                raise error("InvalidChangeBatch", f"[Tried to delete resource record set "
                            f"{_describe(record)} but it was not found]")
            if record.type in ("SOA", "NS") and record.name == zone.name:
                raise error("InvalidChangeBatch", "A HostedZone must contain at least one NS "
                            "record for the zone itself and one SOA record.")
            del records[index]
    change = Change(id="C" + token(20), account=context.account, region=GLOBAL,
                    comment=batch.get("Comment"))
    with context.store.transaction() as tx:
        mine = tx.edit(HostedZone, zone.id)
        mine.record_sets = records
        tx.put(change)
    return {"ChangeInfo": change_info(change)}


def _sort_key(record: RecordSet) -> tuple:
    return (tuple(reversed(record.name.rstrip(".").split("."))), record.type,
            record.set_identifier or "")


@operation("route53", "ListResourceRecordSets")
def list_resource_record_sets(context: RequestContext, params: dict) -> dict:
    zone = require_zone(context, params["HostedZoneId"])
    records = sorted(zone.record_sets, key=_sort_key)
    if params.get("StartRecordName"):
        unsupported_character(params["StartRecordName"], "InvalidInput")
        start = (tuple(reversed(absolute(params["StartRecordName"]).rstrip(".").split("."))),
                 params.get("StartRecordType", ""), params.get("StartRecordIdentifier", ""))
        records = [r for r in records if _sort_key(r) >= start]
    elif params.get("StartRecordType"):
        raise error("InvalidInput", "The input is not valid: StartRecordType needs "
                    "StartRecordName")
    size = max_items(params)
    result: dict = {"ResourceRecordSets": [describe_record_set(r) for r in records[:size]],
                    "IsTruncated": len(records) > size, "MaxItems": str(size)}
    if len(records) > size:
        result["NextRecordName"] = records[size].name
        result["NextRecordType"] = records[size].type
        if records[size].set_identifier is not None:
            result["NextRecordIdentifier"] = records[size].set_identifier
    return result


@operation("route53", "GetChange")
def get_change(context: RequestContext, params: dict) -> dict:
    change_id = params["Id"].rsplit("/", 1)[-1]
    change = context.store.get(Change, change_id)
    if change is None or change.account != context.account:
        raise error("NoSuchChange", f"A change with the specified change ID does not exist: "
                    f"{change_id}")
    return {"ChangeInfo": {**change_info(change), "Status": "INSYNC"}}
