"""Route 53 health checks: what they check, and their tags.

A health check is global, an account's, and named by a UUID as at AWS. What it checks is
its HealthCheckConfig, kept as the API gives it back (Route 53's defaults filled in:
RequestInterval 30, FailureThreshold 3, Port 80 or 443, EnableSNI for HTTPS); whether it
is healthy is the checker's to say (network/route53_checker.py), and the DNS answers
failover, weighted and multivalue records by it (dns/routing.py).

As at AWS:

- CreateHealthCheck is idempotent on CallerReference: the same reference with the same
  config gives back the check made first; with another config it is
  ``HealthCheckAlreadyExists``.
- Route 53 checks endpoints on the internet only: an IPAddress in a private, loopback,
  link-local, multicast or other reserved range is refused (the words are pocketlink's:
  AWS's are not shown in its references). What is public on pocketlink's internet is
  taken, though reserved on AWS's (``INTERNET``: its public IPv4 pool, the AWS service
  range, the VPCs' IPv6 blocks).
- UpdateHealthCheck with a HealthCheckVersion that is not the current one is
  ``HealthCheckVersionMismatch``; each update raises the version by one.
- DeleteHealthCheck does not look for records that use the check: "Amazon Route 53 does
  not prevent you from deleting a health check even if the health check is associated
  with one or more resource record sets" (the DeleteHealthCheck API reference; its
  ``HealthCheckInUse`` error "has been deprecated"). A record whose check is gone is
  answered as healthy.
"""

from __future__ import annotations

import ipaddress
import uuid

from pocketlink.api.addresses import ULA
from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned
from pocketlink.api.route53 import GLOBAL, error, facet, marker_page, max_items
from pocketlink.api.tags import printable
from pocketlink.model.aws_services import AWS_PUBLIC_IPV4, AWS_PUBLIC_IPV6
from pocketlink.model.internet import PUBLIC_POOL
from pocketlink.model.route53 import HealthCheck, HostedZone
from pocketlink.store import Store

CHECK_LIMIT = 200  # Route 53's default quota of health checks per account
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
TLS_TYPES = ("HTTPS", "HTTPS_STR_MATCH")
STRING_TYPES = ("HTTP_STR_MATCH", "HTTPS_STR_MATCH")
# What is public on pocketlink's internet, though reserved on AWS's: its public IPv4 pool
# (TEST-NET-2, -3), the AWS service range, and the VPCs' IPv6 blocks (unique-local).
INTERNET = (*PUBLIC_POOL, AWS_PUBLIC_IPV4, AWS_PUBLIC_IPV6, ULA)
# The members of HealthCheckConfig that UpdateHealthCheck may change.
UPDATABLE = ("IPAddress", "Port", "ResourcePath", "FullyQualifiedDomainName", "SearchString",
             "FailureThreshold", "Inverted", "Disabled", "HealthThreshold",
             "ChildHealthChecks", "EnableSNI", "Regions", "AlarmIdentifier",
             "InsufficientDataHealthStatus")
# The shapes of the members the XML schema bounds (their facets' refusals).
BOUNDED = {"Type": "HealthCheckType", "Port": "Port", "RequestInterval": "RequestInterval",
           "FailureThreshold": "FailureThreshold", "HealthThreshold": "HealthThreshold",
           "InsufficientDataHealthStatus": "InsufficientDataHealthStatus"}


def no_such_check(check_id: str) -> Exception:
    return error("NoSuchHealthCheck", f"A health check with id {check_id} does not exist.")


def require_check(context: RequestContext, check_id: str) -> HealthCheck:
    check = context.store.get(HealthCheck, check_id)
    if check is None or check.account != context.account:
        raise no_such_check(check_id)
    return check


def describe(check: HealthCheck) -> dict:
    return {"Id": check.id, "CallerReference": check.caller_reference,
            "HealthCheckConfig": check.config, "HealthCheckVersion": check.version}


def _check_address(address: str) -> None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise error("InvalidInput", f"Invalid IP address '{address}'") from None
    if any(ip in block for block in INTERNET):
        return
    if not ip.is_global or ip.is_multicast:
        raise error("InvalidInput", f"IP address '{address}' is not allowed: Route 53 cannot "
                    "check endpoints in local, private, non-routable, or multicast ranges")


def _validated(config: dict, store: Store, account: str) -> dict:
    """``config`` with Route 53's defaults, or the refusal AWS gives."""
    for member, shape in BOUNDED.items():
        if member in config:
            refusal = facet(config[member], shape)
            if refusal is not None:
                raise refusal
    kind = config["Type"]
    config = dict(config)
    if kind in ENDPOINT_TYPES:
        if not config.get("IPAddress") and not config.get("FullyQualifiedDomainName"):
            raise error("InvalidInput", f"Invalid HealthCheckConfig: {kind} health checks "
                        "must have an IP address or a fully qualified domain name specified.")
        if kind == "TCP" and config.get("IPAddress") and config.get("FullyQualifiedDomainName"):
            # AWS's words, as aws/aws-sdk-php#1527 quotes them
            raise error("InvalidInput", "TCP health checks that have IP address must not have "
                        "a fully qualified domain name specified.")
        if kind == "TCP" and config.get("ResourcePath"):
            raise error("InvalidInput", "TCP health checks must not have a resource path "
                        "specified.")
        if config.get("IPAddress"):
            _check_address(config["IPAddress"])
        if kind in STRING_TYPES and not config.get("SearchString"):
            raise error("InvalidInput", f"{kind} health checks must have a search string "
                        "specified.")
        config.setdefault("Port", 443 if kind in TLS_TYPES else 80)
        config.setdefault("RequestInterval", 30)
        config.setdefault("FailureThreshold", 3)
        config.setdefault("MeasureLatency", False)
        config.setdefault("EnableSNI", kind in TLS_TYPES)
    elif kind == "CALCULATED":
        children = config.get("ChildHealthChecks") or []
        for child in children:
            found = store.get(HealthCheck, child)
            if found is None or found.account != account:
                raise no_such_check(child)
        if config.get("HealthThreshold", 0) > len(children):
            raise error("InvalidInput", "The HealthThreshold must not exceed the number of "
                        "child health checks.")
        config.setdefault("ChildHealthChecks", children)
        config.setdefault("HealthThreshold", 0)
    elif kind == "CLOUDWATCH_METRIC":
        if not config.get("AlarmIdentifier"):
            raise error("InvalidInput", "CLOUDWATCH_METRIC health checks must have an alarm "
                        "identifier specified.")
        config.setdefault("InsufficientDataHealthStatus", "LastKnownStatus")
    config.setdefault("Inverted", False)
    config.setdefault("Disabled", False)
    return config


@operation("route53", "CreateHealthCheck")
def create_health_check(context: RequestContext, params: dict) -> dict:
    reference = params["CallerReference"]
    mine = owned(context, HealthCheck, regional=False)
    config = _validated(params["HealthCheckConfig"], context.store, context.account)
    same = next((c for c in mine if c.caller_reference == reference), None)
    if same is not None:
        if same.config != config:
            raise error("HealthCheckAlreadyExists", "A health check with the specified "
                        f"CallerReference {reference} already exists, with another "
                        "configuration.")
        return {"HealthCheck": describe(same),
                "Location": f"https://route53.amazonaws.com/2013-04-01/healthcheck/{same.id}"}
    if len(mine) >= CHECK_LIMIT:
        raise error("TooManyHealthChecks", "This AWS account has reached its limit of "
                    f"{CHECK_LIMIT} health checks.")
    check = HealthCheck(id=str(uuid.uuid4()), account=context.account, region=GLOBAL,
                        caller_reference=reference, config=config)
    with context.store.transaction() as tx:
        tx.put(check)
    return {"HealthCheck": describe(check),
            "Location": f"https://route53.amazonaws.com/2013-04-01/healthcheck/{check.id}"}


@operation("route53", "GetHealthCheck")
def get_health_check(context: RequestContext, params: dict) -> dict:
    return {"HealthCheck": describe(require_check(context, params["HealthCheckId"]))}


@operation("route53", "ListHealthChecks")
def list_health_checks(context: RequestContext, params: dict) -> dict:
    checks = owned(context, HealthCheck, regional=False)
    size = max_items(params, most=1000)
    start = 0
    if params.get("Marker"):
        start = next((i for i, c in enumerate(checks) if c.id == params["Marker"]), None)
        if start is None:
            raise error("InvalidInput", f"Invalid marker: {params['Marker']}")
    chunk, more = marker_page(checks, start, size)
    return {"HealthChecks": [describe(c) for c in chunk], "Marker": params.get("Marker", ""),
            **more}


@operation("route53", "GetHealthCheckCount")
def get_health_check_count(context: RequestContext, params: dict) -> dict:
    return {"HealthCheckCount": len(owned(context, HealthCheck, regional=False))}


@operation("route53", "UpdateHealthCheck")
def update_health_check(context: RequestContext, params: dict) -> dict:
    check = require_check(context, params["HealthCheckId"])
    version = params.get("HealthCheckVersion")
    if version is not None and version != check.version:
        raise error("HealthCheckVersionMismatch", "The value of HealthCheckVersion in the "
                    "request doesn't match the value of HealthCheckVersion in the health "
                    f"check: {check.version}.")
    config = dict(check.config)
    for element in params.get("ResetElements") or []:
        config.pop(element, None)
    config.update({k: params[k] for k in UPDATABLE if k in params})
    config = _validated(config, context.store, context.account)
    with context.store.transaction() as tx:
        mine = tx.edit(HealthCheck, check.id)
        mine.config = config
        mine.version += 1
        mine.observation, mine.streak = None, 0
    return {"HealthCheck": describe(require_check(context, check.id))}


@operation("route53", "DeleteHealthCheck")
def delete_health_check(context: RequestContext, params: dict) -> dict:
    check = require_check(context, params["HealthCheckId"])
    with context.store.transaction() as tx:
        tx.delete(check)
    return {}


@operation("route53", "GetHealthCheckStatus")
def get_health_check_status(context: RequestContext, params: dict) -> dict:
    """The checker's last observation. pocketlink has one checker, at the internet's
    ROUTE53_CHECKER_IPV4, where AWS has a few per checker region; it is reported as the
    observation of the check's first region (us-east-1 by default)."""
    check = require_check(context, params["HealthCheckId"])
    if check.config["Type"] in ("CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"):
        raise error("InvalidInput", f"The health check {check.id} is a "
                    f"{check.config['Type']} health check, which has no checkers' status.")
    if check.observation is None:
        return {"HealthCheckObservations": []}
    region = (check.config.get("Regions") or ["us-east-1"])[0]
    return {"HealthCheckObservations": [{"Region": region, **check.observation}]}


def _tagged(context: RequestContext, kind: str, resource_id: str) -> HealthCheck | HostedZone:
    if kind == "healthcheck":
        return require_check(context, resource_id)
    zone_id = resource_id.rsplit("/", 1)[-1]
    zone = context.store.get(HostedZone, zone_id)
    if zone is None or zone.account != context.account:
        raise error("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}")
    return zone


def _tag_set(kind: str, resource: HealthCheck | HostedZone) -> dict:
    return {"ResourceType": kind, "ResourceId": resource.id,
            "Tags": [{"Key": k, "Value": v} for k, v in resource.tags.items()]}


@operation("route53", "ListTagsForResource")
def list_tags_for_resource(context: RequestContext, params: dict) -> dict:
    kind = params["ResourceType"]
    return {"ResourceTagSet": _tag_set(kind, _tagged(context, kind, params["ResourceId"]))}


@operation("route53", "ListTagsForResources")
def list_tags_for_resources(context: RequestContext, params: dict) -> dict:
    kind = params["ResourceType"]
    ids = params.get("ResourceIds") or []
    if not 1 <= len(ids) <= 10:
        raise error("InvalidInput", "ResourceIds must name 1 to 10 resources")
    return {"ResourceTagSets": [_tag_set(kind, _tagged(context, kind, i)) for i in ids]}


@operation("route53", "ChangeTagsForResource")
def change_tags_for_resource(context: RequestContext, params: dict) -> dict:
    kind = params["ResourceType"]
    resource = _tagged(context, kind, params["ResourceId"])
    for tag in params.get("AddTags") or []:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= 128 or len(value) > 256 or not printable(key + value):
            raise error("InvalidInput", f"Invalid tag: key '{key[:128]}' must be 1 to 128 and "
                        "its value at most 256 characters, none of them control characters")
    with context.store.transaction() as tx:
        mine = tx.edit(type(resource), resource.id)
        for key in params.get("RemoveTagKeys") or []:
            mine.tags.pop(key, None)
        for tag in params.get("AddTags") or []:
            mine.tags[tag["Key"]] = tag.get("Value", "")
    return {}
