"""ECR's authorization tokens: what GetAuthorizationToken gives and the registry's door checks.

A token is the password of ``docker login --username AWS``. AWS's is an opaque encrypted
blob valid for 12 hours; pocketlink's is base64 of a small JSON document (the account, the
region, the principal that asked and the expiry) with an HMAC-SHA256 over it, keyed by a
secret the daemon keeps in its state dir (``ecr/token.key``, 0600). Checking one needs no
state but that key, so a token outlives a daemon restart, as AWS's do, and one made by
anybody without the key is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pocketlink.private_files import write_private

VALIDITY = timedelta(hours=12)  # "valid for 12 hours" (ECR User Guide, registry auth)
USERNAME = "AWS"


@dataclass(frozen=True)
class Token:
    account: str
    region: str
    principal: str
    expires: datetime


class InvalidToken(Exception):
    """Not a token this daemon made (or not one at all)."""


class ExpiredToken(Exception):
    """A token this daemon made, past its expiry."""


class AuthorizationTokens:
    def __init__(self, folder: Path) -> None:
        self.key = _load_or_create(folder / "token.key")

    def issue(self, account: str, region: str, principal: str,
              now: datetime | None = None) -> tuple[str, datetime]:
        """The password and its expiry."""
        expires = (now or datetime.now(UTC)).replace(microsecond=0) + VALIDITY
        claims = {"account": account, "region": region, "principal": principal,
                  "expiration": int(expires.timestamp())}
        payload = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
        document = {"payload": base64.b64encode(payload).decode(),
                    "signature": self._sign(payload), "version": "pocketlink-1",
                    "type": "HMAC", "expiration": claims["expiration"]}
        return base64.b64encode(json.dumps(document).encode()).decode(), expires

    def check(self, password: str, now: datetime | None = None) -> Token:
        """The token ``password`` is; raises InvalidToken or ExpiredToken."""
        try:
            document = json.loads(base64.b64decode(password, validate=True))
            payload = base64.b64decode(document["payload"], validate=True)
            signature = document["signature"]
        except (ValueError, binascii.Error, KeyError, TypeError):
            raise InvalidToken("not a token") from None
        if not isinstance(signature, str) or \
                not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidToken("a signature that does not hold")
        claims = json.loads(payload)
        token = Token(claims["account"], claims["region"], claims["principal"],
                      datetime.fromtimestamp(claims["expiration"], UTC))
        if (now or datetime.now(UTC)) >= token.expires:
            raise ExpiredToken(f"expired at {token.expires.isoformat()}")
        return token

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self.key, payload, hashlib.sha256).hexdigest()


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(username, password) of a Basic ``Authorization`` header, or None."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, colon, password = base64.b64decode(value.strip(), validate=True) \
            .decode("utf-8").partition(":")
    except (ValueError, binascii.Error):
        return None
    return (username, password) if colon else None


def _load_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) < 32:
        key = secrets.token_bytes(32)
        write_private(path, key)
    return key
