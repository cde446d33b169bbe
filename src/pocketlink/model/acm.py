"""ACM certificates: what was asked for, how each name is validated, and, once ISSUED, the
certificate itself (its key is not here: it stays in a 0600 file, services/acm_authority.py).

The status (AWS's strings) is ACM's alone to move; its machine is in model/states.py's one
table: ``PENDING_VALIDATION`` until every name's validation succeeds (``ISSUED``), or 72 hours
pass (``VALIDATION_TIMED_OUT``); the reconciler makes both moves (reconcile/certificates.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pocketlink.model.base import Resource

# How long AWS waits for a name to be validated before giving the request up.
VALIDATION_WINDOW = timedelta(hours=72)
# The domain of ACM's validation targets: the CNAME's value lives under it.
VALIDATIONS_DOMAIN = "acm-validations.aws"


class CertificateStatus(StrEnum):
    PENDING_VALIDATION = "PENDING_VALIDATION"
    ISSUED = "ISSUED"
    INACTIVE = "INACTIVE"
    EXPIRED = "EXPIRED"
    VALIDATION_TIMED_OUT = "VALIDATION_TIMED_OUT"
    REVOKED = "REVOKED"
    FAILED = "FAILED"


@dataclass(kw_only=True)
class DomainValidation:
    """One name of the certificate and how it is proven: a CNAME (DNS) or mail (EMAIL)."""

    domain_name: str
    validation_domain: str
    method: str  # DNS | EMAIL
    status: str = "PENDING_VALIDATION"  # SUCCESS once proven
    record_name: str | None = None  # DNS: _<hash>.<domain>.
    record_value: str | None = None  # DNS: _<hash>.<label>.acm-validations.aws.


@dataclass(kw_only=True)
class Certificate(Resource):
    kind = "acm-certificate"

    domain_name: str
    subject_alternative_names: list[str]
    validation_method: str
    key_algorithm: str  # the API's enum: RSA_2048, EC_prime256v1, EC_secp384r1
    validations: list[DomainValidation] = field(default_factory=list)
    status: str = CertificateStatus.PENDING_VALIDATION
    idempotency_token: str | None = None
    transparency_logging: str = "ENABLED"
    # Set at issue, from the X.509 certificate the reconciler made.
    serial: str | None = None
    subject: str | None = None
    issuer: str | None = None
    issued_at: datetime | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    certificate_pem: str | None = None
    chain_pem: str | None = None  # the issuing CA, then the root: GetCertificate's chain


def validation_record(account: str, domain: str) -> tuple[str, str]:
    """The CNAME that proves ``domain`` (``*.x`` is proven at ``x``), as ACM shows it:
    ``_<32 hex>.<domain>.`` -> ``_<32 hex>.<10 letters>.acm-validations.aws.``. The same
    name in the same account always gets the same record, as at ACM (a second certificate
    for a name already validated finds its record there)."""
    base = domain.lower().removeprefix("*.").rstrip(".")
    digest = hashlib.sha256(f"{account}\0{base}".encode()).hexdigest()
    label = "".join(chr(ord("a") + int(c, 16) % 26) for c in digest[64 - 10:])
    return f"_{digest[:32]}.{base}.", f"_{digest[32:64]}.{label}.{VALIDATIONS_DOMAIN}."


def timed_out(certificate: Certificate, moment: datetime) -> bool:
    return certificate.status == CertificateStatus.PENDING_VALIDATION and \
        certificate.created + VALIDATION_WINDOW <= moment
