"""AWS Certificate Manager: certificates requested for a tenant's domains, validated by DNS
(or email), issued by pocketlink's ACM authority (services/acm_authority.py).

RequestCertificate only records the request: a name is proven when its validation CNAME
resolves on the public DNS, which the reconciler asks (reconcile/certificates.py), and
issues the certificate then. EMAIL validation is recorded as AWS shows it, but no mail
leaves the machine: such a certificate waits until it times out (docs/limitations.md).
A certificate named by a listener is in use (InUseBy: its load balancer) and cannot be
deleted.

Messages that AWS's documentation does not spell out are pocketlink's guesses, worded as
ACM words its others; each says so where it is raised.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from pocketlink.api.context import RequestContext
from pocketlink.api.errors import acm
from pocketlink.api.handlers import operation
from pocketlink.api.pages import window
from pocketlink.model.acm import (
    Certificate,
    CertificateStatus,
    DomainValidation,
    validation_record,
)
from pocketlink.model.base import now
from pocketlink.model.elbv2 import Listener
from pocketlink.wire.errors import ServiceError

# The model's pattern of a domain name (DomainNameString).
DOMAIN = re.compile(r"^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+"
                    r"((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$")
ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
MAX_NAMES = 100  # the domain name and its alternative names, ACM's default quota
MAX_TAGS = 50
IDEMPOTENCY_WINDOW = timedelta(hours=1)
# The addresses ACM writes to for EMAIL validation (beside the WHOIS contacts it finds).
VALIDATION_MAILBOXES = ("admin", "administrator", "hostmaster", "postmaster", "webmaster")
# ListCertificates without a keyTypes filter lists these only, as ACM does.
DEFAULT_KEY_TYPES = ("RSA_1024", "RSA_2048")
SIGNATURE = "SHA256WITHRSA"  # the issuing CA's key is RSA: so is every leaf's signature


def validation_error(message: str) -> ServiceError:
    return acm.ValidationException(message)


def _check_domain(name: str, where: str) -> str:
    if len(name) > 253 or not DOMAIN.match(name):
        raise validation_error(
            f"1 validation error detected: Value '{name}' at '{where}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            + DOMAIN.pattern.strip("^$"))
    if len(name.removeprefix("*.").split(".")[0]) > 63:
        raise acm.InvalidDomainValidationOptionsException(
            f"The first domain name can be no longer than 64 characters: {name}")
    return name.lower()


def _parent_or_self(domain: str, candidate: str) -> bool:
    base = domain.removeprefix("*.")
    return base == candidate or base.endswith("." + candidate)


def _validations(context: RequestContext, names: list[str], method: str,
                 options: list[dict]) -> list[DomainValidation]:
    chosen = {}
    for option in options:
        name = option["DomainName"].lower()
        domain = option["ValidationDomain"].lower()
        if name not in names or not _parent_or_self(name, domain):
            raise acm.InvalidDomainValidationOptionsException(
                f"The validation domain {domain} is not the domain name {name} of the "
                "certificate or one of its superdomains.")  # pocketlink's words
        chosen[name] = domain
    out = []
    for name in names:
        validation_domain = chosen.get(name, name if method == "DNS"
                                       else name.removeprefix("*."))
        item = DomainValidation(domain_name=name, validation_domain=validation_domain,
                                method=method)
        if method == "DNS":
            item.record_name, item.record_value = validation_record(context.account, name)
        out.append(item)
    return out


def _tags(params: dict) -> dict[str, str]:
    tags = {}
    for tag in params.get("Tags") or []:
        key = tag["Key"]
        if key.lower().startswith("aws:"):
            raise acm.InvalidTagException(
                f'Invalid Tag Key: "{key}". AWS internal tags cannot be changed with this API')
        tags[key] = tag.get("Value", "")
    return tags


@operation("acm", "RequestCertificate")
def request_certificate(context: RequestContext, params: dict) -> dict:
    domain = _check_domain(params["DomainName"], "domainName")
    method = params.get("ValidationMethod", "EMAIL")  # ACM's default when none is named
    if method == "HTTP":
        raise validation_error("HTTP validation is only available to certificates that "
                               "Amazon CloudFront requests.")  # pocketlink's words
    if params.get("CertificateAuthorityArn"):
        raise validation_error("Private certificates (CertificateAuthorityArn) are not "
                               "supported by pocketlink.")
    key_algorithm = params.get("KeyAlgorithm", "RSA_2048")
    if key_algorithm not in ("RSA_2048", "EC_prime256v1", "EC_secp384r1"):
        raise validation_error(f"Key algorithm {key_algorithm} is not supported for "
                               "RequestCertificate.")  # pocketlink's words
    names = list(dict.fromkeys([domain] + [
        _check_domain(n, "subjectAlternativeNames") for n in
        params.get("SubjectAlternativeNames") or []]))
    if len(names) > MAX_NAMES:
        raise acm.LimitExceededException(
            f"Cannot request a certificate for more than {MAX_NAMES} domain names.")
    token = params.get("IdempotencyToken")
    if token:
        for earlier in context.store.all(Certificate):
            if earlier.account == context.account and earlier.region == context.region and \
                    earlier.idempotency_token == token and \
                    earlier.created + IDEMPOTENCY_WINDOW > now():
                return {"CertificateArn": earlier.id}
    tags = _tags(params)
    if len(tags) > MAX_TAGS:
        raise acm.TooManyTagsException("the TagSet contains too many Tags")
    certificate = Certificate(
        id=f"arn:aws:acm:{context.region}:{context.account}:certificate/{uuid.uuid4()}",
        account=context.account, region=context.region, tags=tags, domain_name=domain,
        subject_alternative_names=names, validation_method=method,
        key_algorithm=key_algorithm, idempotency_token=token,
        validations=_validations(context, names, method,
                                 params.get("DomainValidationOptions") or []),
        transparency_logging=(params.get("Options") or {}).get(
            "CertificateTransparencyLoggingPreference", "ENABLED"))
    with context.store.transaction() as tx:
        tx.put(certificate)
    return {"CertificateArn": certificate.id}


def require_certificate(context: RequestContext, arn: str) -> Certificate:
    if not ARN.match(arn):
        # ACM's words for a malformed ARN are a guess.
        raise acm.InvalidArnException(f"String '{arn}' is not a valid ARN.")
    found = context.store.get(Certificate, arn)
    if found is None or found.account != context.account or found.region != context.region:
        raise acm.ResourceNotFoundException(
            f"Certificate with arn {arn} not found in account {context.account}")
    return found


def in_use_by(context: RequestContext, certificate: Certificate) -> list[str]:
    """The load balancers whose listeners serve ``certificate``."""
    return sorted({lst.load_balancer_arn for lst in context.store.all(Listener)
                   if certificate.id in lst.certificates})


def _key_algorithm(certificate: Certificate) -> str:
    """How descriptions show a key algorithm: ``RSA-2048``, ``EC-prime256v1``."""
    return certificate.key_algorithm.replace("_", "-")


def _usages(certificate: Certificate) -> dict:
    if certificate.status != CertificateStatus.ISSUED:
        return {"KeyUsages": [], "ExtendedKeyUsages": []}
    key = [{"Name": "DIGITAL_SIGNATURE"}] + ([{"Name": "KEY_ENCIPHERMENT"}]
                                            if certificate.key_algorithm.startswith("RSA")
                                            else [])
    return {"KeyUsages": key, "ExtendedKeyUsages": [
        {"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"},
        {"Name": "TLS_WEB_CLIENT_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.2"}]}


def _validation_out(item: DomainValidation) -> dict:
    out: dict = {"DomainName": item.domain_name, "ValidationDomain": item.validation_domain,
                 "ValidationStatus": item.status, "ValidationMethod": item.method}
    if item.method == "DNS":
        out["ResourceRecord"] = {"Name": item.record_name, "Type": "CNAME",
                                 "Value": item.record_value}
    else:
        out["ValidationEmails"] = [f"{box}@{item.validation_domain}"
                                   for box in VALIDATION_MAILBOXES]
    return out


@operation("acm", "DescribeCertificate")
def describe_certificate(context: RequestContext, params: dict) -> dict:
    certificate = require_certificate(context, params["CertificateArn"])
    users = in_use_by(context, certificate)
    detail: dict = {
        "CertificateArn": certificate.id, "DomainName": certificate.domain_name,
        "SubjectAlternativeNames": certificate.subject_alternative_names,
        "DomainValidationOptions": [_validation_out(v) for v in certificate.validations],
        "CreatedAt": certificate.created, "Status": certificate.status,
        "KeyAlgorithm": _key_algorithm(certificate), "SignatureAlgorithm": SIGNATURE,
        "InUseBy": users, "Type": "AMAZON_ISSUED", **_usages(certificate),
        "RenewalEligibility": "ELIGIBLE" if users else "INELIGIBLE",
        "Options": {"CertificateTransparencyLoggingPreference":
                    certificate.transparency_logging},
    }
    if certificate.status == CertificateStatus.ISSUED:
        detail.update(Serial=certificate.serial, Subject=certificate.subject,
                      Issuer=certificate.issuer, IssuedAt=certificate.issued_at,
                      NotBefore=certificate.not_before, NotAfter=certificate.not_after)
    if certificate.status == CertificateStatus.VALIDATION_TIMED_OUT:
        detail["FailureReason"] = "OTHER"  # AWS has no reason of its own for a time-out
    return {"Certificate": detail}


def _summary(context: RequestContext, certificate: Certificate) -> dict:
    names = certificate.subject_alternative_names
    used = bool(in_use_by(context, certificate))
    usages = _usages(certificate)
    summary: dict = {
        "CertificateArn": certificate.id, "DomainName": certificate.domain_name,
        "SubjectAlternativeNameSummaries": names[:100],
        "HasAdditionalSubjectAlternativeNames": len(names) > 100,
        "Status": certificate.status, "Type": "AMAZON_ISSUED",
        "KeyAlgorithm": _key_algorithm(certificate),
        "KeyUsages": [u["Name"] for u in usages["KeyUsages"]],
        "ExtendedKeyUsages": [u["Name"] for u in usages["ExtendedKeyUsages"]],
        "InUse": used, "RenewalEligibility": "ELIGIBLE" if used else "INELIGIBLE",
        "CreatedAt": certificate.created,
    }
    if certificate.status == CertificateStatus.ISSUED:
        summary.update(NotBefore=certificate.not_before, NotAfter=certificate.not_after,
                       IssuedAt=certificate.issued_at)
    return summary


@operation("acm", "ListCertificates")
def list_certificates(context: RequestContext, params: dict) -> dict:
    statuses = params.get("CertificateStatuses") or []
    includes = params.get("Includes") or {}
    key_types = includes.get("keyTypes") or DEFAULT_KEY_TYPES
    wanted_usage = includes.get("keyUsage") or []
    wanted_extended = includes.get("extendedKeyUsage") or []
    found = []
    for certificate in context.store.all(Certificate):
        if certificate.account != context.account or certificate.region != context.region:
            continue
        if statuses and certificate.status not in statuses:
            continue
        if certificate.key_algorithm not in key_types:
            continue
        summary = _summary(context, certificate)
        if not set(wanted_usage) <= set(summary["KeyUsages"]) or \
                not set(wanted_extended) <= set(summary["ExtendedKeyUsages"]):
            continue
        found.append(summary)
    if params.get("SortBy") == "CREATED_AT":
        found.sort(key=lambda s: s["CreatedAt"], reverse=params.get("SortOrder") ==
                   "DESCENDING")
    size = params.get("MaxItems") or 1000
    if not 1 <= size <= 1000:
        raise validation_error(
            f"1 validation error detected: Value '{size}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000")
    token = params.get("NextToken")
    chunk, following = window(found, token, size, lambda: acm.InvalidArgsException(
        f"The NextToken {token} is not valid."))  # the message is a guess
    result: dict = {"CertificateSummaryList": chunk}
    if following:
        result["NextToken"] = following
    return result


@operation("acm", "DeleteCertificate")
def delete_certificate(context: RequestContext, params: dict) -> dict:
    certificate = require_certificate(context, params["CertificateArn"])
    if in_use_by(context, certificate):
        raise acm.ResourceInUseException(f"Certificate {certificate.id} in use.")
    with context.store.transaction() as tx:
        tx.delete(certificate)
    return {}


@operation("acm", "GetCertificate")
def get_certificate(context: RequestContext, params: dict) -> dict:
    certificate = require_certificate(context, params["CertificateArn"])
    if certificate.status == CertificateStatus.PENDING_VALIDATION:
        raise acm.RequestInProgressException(
            f"Certificate {certificate.id} is not yet issued.")  # pocketlink's words
    if certificate.status != CertificateStatus.ISSUED:
        raise acm.InvalidStateException(
            f"Certificate {certificate.id} is in state {certificate.status}.")
    return {"Certificate": certificate.certificate_pem,
            "CertificateChain": certificate.chain_pem}


@operation("acm", "AddTagsToCertificate")
def add_tags_to_certificate(context: RequestContext, params: dict) -> dict:
    certificate = require_certificate(context, params["CertificateArn"])
    new = _tags(params)
    if len(certificate.tags | new) > MAX_TAGS:
        raise acm.TooManyTagsException("the TagSet contains too many Tags")
    with context.store.transaction() as tx:
        tx.edit(Certificate, certificate.id).tags.update(new)
    return {}


@operation("acm", "RemoveTagsFromCertificate")
def remove_tags_from_certificate(context: RequestContext, params: dict) -> dict:
    """A tag given with a value goes only if the value matches, as ACM's reference says."""
    certificate = require_certificate(context, params["CertificateArn"])
    _tags(params)
    with context.store.transaction() as tx:
        tags = tx.edit(Certificate, certificate.id).tags
        for tag in params["Tags"]:
            if tag["Key"] in tags and ("Value" not in tag or tags[tag["Key"]] == tag["Value"]):
                del tags[tag["Key"]]
    return {}


@operation("acm", "ListTagsForCertificate")
def list_tags_for_certificate(context: RequestContext, params: dict) -> dict:
    certificate = require_certificate(context, params["CertificateArn"])
    return {"Tags": [{"Key": k, "Value": v} if v else {"Key": k}
                     for k, v in certificate.tags.items()]}
