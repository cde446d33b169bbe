"""AWS Signature Version 4: who signed a request (the credential scope) and whether it holds.

Only the check is here; signing is botocore's job on the client side. The algorithm is
AWS's: canonical request, string to sign, HMAC chain over date, region, service.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

from pocketlink.wire.message import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"


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
    amz_date: str


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


def _signature(credential: str, signed_headers: str, signature: str, amz_date: str
               ) -> Signature | None:
    scope = _scope(credential)
    if scope is None:
        return None
    return Signature(scope, tuple(signed_headers.split(";")), signature, amz_date)


def signature_of(request: HttpRequest) -> Signature | None:
    """The signature the request carries, in its Authorization header or presigned query."""
    fields = _parse_authorization(request.headers.get("authorization", ""))
    if fields is not None:
        return _signature(fields.get("Credential", ""), fields.get("SignedHeaders", ""),
                          fields.get("Signature", ""), request.headers.get("x-amz-date", ""))
    query = dict(parse_qsl(request.query))
    if query.get("X-Amz-Algorithm") == ALGORITHM:
        return _signature(query.get("X-Amz-Credential", ""), query.get("X-Amz-SignedHeaders", ""),
                          query.get("X-Amz-Signature", ""), query.get("X-Amz-Date", ""))
    return None


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


def _canonical_request(request: HttpRequest, signature: Signature) -> str:
    headers = "".join(
        f"{name}:{' '.join(request.headers.get(name, '').split())}\n"
        for name in signature.signed_headers
    )
    payload = request.headers.get("x-amz-content-sha256") or hashlib.sha256(
        request.body).hexdigest()
    path = quote(unquote(request.path) or "/", safe="/~")
    return "\n".join([
        request.method, path, _canonical_query(request.query), headers,
        ";".join(signature.signed_headers), payload,
    ])


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def verify(request: HttpRequest, signature: Signature, secret_key: str) -> bool:
    scope = signature.scope
    scope_text = f"{scope.date}/{scope.region}/{scope.service}/aws4_request"
    string_to_sign = "\n".join([
        ALGORITHM, signature.amz_date, scope_text,
        hashlib.sha256(_canonical_request(request, signature).encode()).hexdigest(),
    ])
    key = _hmac(("AWS4" + secret_key).encode(), scope.date)
    for part in (scope.region, scope.service, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.signature)
