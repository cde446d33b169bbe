"""IMDSv2 session tokens: what ``PUT /latest/api/token`` hands out and every GET may show.

A token names the instance it was made for and its end, signed with a key this daemon
made at start: checking one costs an HMAC, and no table of tokens grows with a caller's
PUTs. A token from another instance, or from before a restart, is refused (401), and the
SDK asks for a new one, as it does when a token expires at AWS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

MIN_TTL = 1
MAX_TTL = 21_600  # six hours, AWS's ceiling
_SIGNATURE = 18  # bytes of HMAC-SHA256 kept


class Tokens:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def issue(self, instance_id: str, ttl: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + ttl)
        claim = f"{instance_id}:{expires}".encode()
        return base64.urlsafe_b64encode(claim + b":" + self._sign(claim)).decode()

    def valid(self, token: str, instance_id: str, now: float | None = None) -> bool:
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
            claim, signature = raw[:-_SIGNATURE - 1], raw[-_SIGNATURE:]
            owner, _, expires = claim.decode().rpartition(":")
            deadline = int(expires)
        except (ValueError, UnicodeError):
            return False
        return (hmac.compare_digest(signature, self._sign(claim)) and owner == instance_id
                and (time.time() if now is None else now) < deadline)

    def _sign(self, claim: bytes) -> bytes:
        return hmac.new(self._key, claim, hashlib.sha256).digest()[:_SIGNATURE]
