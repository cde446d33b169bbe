"""AWS Signature Version 4: who signed a request (the credential scope) and whether it holds.

Only the check is here; signing is botocore's job on the client side. The algorithm is
AWS's: canonical request, string to sign, HMAC chain over date, region, service. A
signature holds only for the request it was made for: the body is hashed here (the
client's ``X-Amz-Content-SHA256`` is compared with it, never trusted), the time of signing
must be within AWS's 15 minutes of now, a presigned URL's ``X-Amz-Expires`` is honoured,
and ``host`` and the date must be among the signed headers, each of them present.

``check`` says what is wrong as a ``Problem`` of one ``kind``; which code and message AWS
gives each kind depends on the service, so the gateway words it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote, unquote

from pocketlink.wire.message import HttpRequest
from pocketlink.wire.numbers import integer

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP = "%Y%m%dT%H%M%SZ"
# How far the time of signing may be from now, either way (AWS: 15 minutes).
ALLOWED_SKEW = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 604800  # seconds: 7 days, as AWS allows
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
# Services where AWS lets the body go unsigned: S3 alone. Every other service hashes it.
UNSIGNED_PAYLOAD_SERVICES = frozenset({"s3"})
# Services that take an aws-chunked body whose chunks carry their own signatures
# (``STREAMING_PAYLOAD``). The hook for S3's front: once it decodes aws-chunked and checks
# each chunk's signature against the seed signature, "s3" joins this set; until then the
# literal is refused everywhere.
STREAMING_PAYLOAD_SERVICES: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CredentialScope:
    access_key: str
    date: str
    region: str
    service: str


@dataclass(frozen=True)
class Signature:
    scope: CredentialScope
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # X-Amz-Date (or the Date header, rewritten as a timestamp); "" if none
    expires: str | None = None  # a presigned URL's X-Amz-Expires, None for a header

    @property
    def presigned(self) -> bool:
        return self.expires is not None


@dataclass(frozen=True)
class Problem:
    """Why a signature does not hold. ``kind`` is one of:

    - ``incomplete``: the signature lacks what AWS requires (host or date unsigned, no date);
    - ``mismatch``: the signature is not the one the request calls for;
    - ``expired`` / ``not-yet-current``: signed more than 15 minutes before / after now;
    - ``presign-expired``: a presigned URL past its ``X-Amz-Expires``;
    - ``body-hash``: ``X-Amz-Content-SHA256`` is not the body's hash.
    """

    kind: str
    message: str


def _parse_authorization(header: str) -> dict[str, str] | None:
    if not header.startswith(ALGORITHM + " "):
        return None
    fields = {}
    for part in header[len(ALGORITHM) + 1:].split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    return fields


def _scope(credential: str) -> CredentialScope | None:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return CredentialScope(*parts[:4])


def _date_header(value: str) -> str:
    """The HTTP ``Date`` header as a SigV4 timestamp, "" when it is not a date (a year or
    an hour no C integer holds is an OverflowError there)."""
    try:
        return parsedate_to_datetime(value).astimezone(UTC).strftime(TIMESTAMP)
    except (TypeError, ValueError, OverflowError):
        return ""


def signature_of(request: HttpRequest) -> Signature | None:
    """The signature the request carries, in its Authorization header or presigned query."""
    fields = _parse_authorization(request.headers.get("authorization", ""))
    if fields is not None:
        scope = _scope(fields.get("Credential", ""))
        if scope is None:
            return None
        amz_date = request.headers.get("x-amz-date") or _date_header(
            request.headers.get("date", ""))
        return Signature(scope, tuple(fields.get("SignedHeaders", "").split(";")),
                         fields.get("Signature", ""), amz_date)
    query = dict(parse_qsl(request.query))
    if query.get("X-Amz-Algorithm") == ALGORITHM:
        scope = _scope(query.get("X-Amz-Credential", ""))
        if scope is None:
            return None
        return Signature(scope, tuple(query.get("X-Amz-SignedHeaders", "").split(";")),
                         query.get("X-Amz-Signature", ""), query.get("X-Amz-Date", ""),
                         expires=query.get("X-Amz-Expires", ""))
    return None


def claims_signature(request: HttpRequest) -> bool:
    """Whether the request says it is signed with SigV4 (well-formed or not)."""
    return request.headers.get("authorization", "").startswith(ALGORITHM + " ") or \
        "X-Amz-Algorithm=" in request.query


def credential_scope(request: HttpRequest) -> CredentialScope | None:
    signature = signature_of(request)
    return signature.scope if signature else None


def _canonical_query(query: str) -> str:
    pairs = [
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in parse_qsl(query, keep_blank_values=True)
        if k != "X-Amz-Signature"
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_request(request: HttpRequest, signature: Signature, payload: str) -> str:
    headers = "".join(
        f"{name}:{' '.join(request.headers.get(name, '').split())}\n"
        for name in signature.signed_headers
    )
    path = quote(unquote(request.path) or "/", safe="/~")
    return "\n".join([
        request.method, path, _canonical_query(request.query), headers,
        ";".join(signature.signed_headers), payload,
    ])


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _payload_hash(request: HttpRequest, service: str) -> str | Problem:
    """The payload hash the canonical request ends with: the body's own, always computed.
    The client's ``X-Amz-Content-SHA256`` may only say the same, or name one of the
    literals the service accepts."""
    declared = request.headers.get("x-amz-content-sha256")
    if declared == UNSIGNED_PAYLOAD and service in UNSIGNED_PAYLOAD_SERVICES:
        return declared
    if declared == STREAMING_PAYLOAD and service in STREAMING_PAYLOAD_SERVICES:
        return declared
    actual = hashlib.sha256(request.body).hexdigest()
    if declared is not None and declared != actual:
        return Problem("body-hash", "The provided 'x-amz-content-sha256' header does not "
                                    "match what was computed.")
    return actual


def _time_problem(signature: Signature, now: datetime) -> Problem | None:
    """AWS's clock rules: a date there must be, in the scope's day, within 15 minutes of
    now (a presigned URL: not before, and until its expiry)."""
    if not signature.amz_date:
        return Problem("incomplete", "Authorization header requires existence of either a "
                                     "'X-Amz-Date' or a 'Date' header.")
    try:
        signed_at = datetime.strptime(signature.amz_date, TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return Problem("incomplete", f"Date must be in ISO-8601 'basic format'. Got "
                                     f"'{signature.amz_date}'.")
    if signature.scope.date != signature.amz_date[:8]:
        return Problem("mismatch", "Date in Credential scope does not match YYYYMMDD from "
                                   "ISO-8601 version of date from HTTP: "
                                   f"'{signature.scope.date}' != '{signature.amz_date[:8]}', "
                                   f"from '{signature.amz_date}'.")
    stamp = now.strftime(TIMESTAMP)
    if signed_at > now + ALLOWED_SKEW:
        later = (now + ALLOWED_SKEW).strftime(TIMESTAMP)
        return Problem("not-yet-current", f"Signature not yet current: {signature.amz_date} "
                                          f"is still later than {later} ({stamp} + 15 min.)")
    if signature.presigned:
        expires = signature.expires or ""
        seconds = integer(expires)  # ASCII digits only: int() refuses the '²' isdigit takes
        if seconds is None or not 1 <= seconds <= MAX_PRESIGN_EXPIRES:
            return Problem("incomplete", "X-Amz-Expires must be between 1 and "
                                         f"{MAX_PRESIGN_EXPIRES} seconds, not '{expires}'.")
        if now > signed_at + timedelta(seconds=seconds):
            return Problem("presign-expired", "Request has expired")
        return None
    if signed_at < now - ALLOWED_SKEW:
        earlier = (now - ALLOWED_SKEW).strftime(TIMESTAMP)
        return Problem("expired", f"Signature expired: {signature.amz_date} is now earlier "
                                  f"than {earlier} ({stamp} - 15 min.)")
    return None


def _header_problem(request: HttpRequest, signature: Signature) -> Problem | None:
    signed = signature.signed_headers
    if "host" not in signed:
        return Problem("incomplete", "'Host' or ':authority' must be a 'SignedHeader' in the "
                                     "AWS Authorization.")
    if not signature.presigned:
        dated_by = "x-amz-date" if "x-amz-date" in request.headers else "date"
        if dated_by not in signed:
            return Problem("incomplete", f"'{dated_by}' must be a 'SignedHeader' in the AWS "
                                         "Authorization.")
    absent = [name for name in signed if name not in request.headers]
    if absent:
        return Problem("mismatch", f"The request signature we calculated does not match the "
                                   f"signature you provided: signed header '{absent[0]}' is "
                                   "not in the request.")
    return None


def check(request: HttpRequest, signature: Signature, secret_key: str,
          now: datetime | None = None) -> Problem | None:
    """None when the signature holds for this very request, now; else what is wrong."""
    problem = _header_problem(request, signature) or _time_problem(
        signature, now or datetime.now(UTC))
    if problem is not None:
        return problem
    scope = signature.scope
    # A presigned S3 URL signs no payload: its canonical request ends with UNSIGNED-PAYLOAD
    # (S3 API Reference, "Authenticating Requests: Using Query Parameters").
    payload = UNSIGNED_PAYLOAD if signature.presigned and \
        scope.service in UNSIGNED_PAYLOAD_SERVICES else _payload_hash(request, scope.service)
    if isinstance(payload, Problem):
        return payload
    scope_text = f"{scope.date}/{scope.region}/{scope.service}/aws4_request"
    string_to_sign = "\n".join([
        ALGORITHM, signature.amz_date, scope_text,
        hashlib.sha256(_canonical_request(request, signature, payload).encode()).hexdigest(),
    ])
    key = _hmac(("AWS4" + secret_key).encode(), scope.date)
    for part in (scope.region, scope.service, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.signature):
        return Problem("mismatch", "The request signature we calculated does not match the "
                                   "signature you provided. Check your AWS Secret Access Key "
                                   "and signing method. Consult the service documentation "
                                   "for details.")
    return None
