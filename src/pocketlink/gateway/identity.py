"""Access keys and accounts.

- A 12-digit access key id *is* that account id: ``AWS_ACCESS_KEY_ID=111111111111``.
- Other keys map through the credentials file (``pocketlink up --credentials FILE``, TOML)::

      [[credentials]]
      access_key = "AKIAPROVIDER"
      secret_key = "provider-secret"
      account = "111111111111"

- Temporary keys (``ASIA...``) that the instance metadata service gave an instance for
  its instance profile's role act for the instance's account (``sessions``, kept in the
  store): their caller is the assumed role, ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/i-...``.
- Any other key acts for the default account, ``000000000000``.

With ``--strict-auth`` only keys of the credentials file and unexpired temporary keys are
accepted, and their SigV4 signatures are checked; a temporary key needs its session token
(``X-Amz-Security-Token``), as at AWS.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger("pocketlink")

DEFAULT_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Credential:
    access_key: str
    secret_key: str
    account: str
    # A temporary key's: the token that must come with it, its end, who it acts as.
    session_token: str | None = None
    expiration: datetime | None = None
    principal: str | None = None
    user_id: str | None = None
    role_arn: str | None = None  # the role behind the session, which a policy may name


class Credentials:
    def __init__(self, entries: list[Credential] | None = None) -> None:
        self.by_key = {c.access_key: c for c in entries or []}
        # The temporary keys, looked up where they are kept (the daemon sets it).
        self.sessions: Callable[[str], Credential | None] | None = None

    def find(self, access_key: str) -> Credential | None:
        known = self.by_key.get(access_key)
        if known is None and self.sessions is not None and access_key.startswith("ASIA"):
            known = self.sessions(access_key)
        return known

    @classmethod
    def from_file(cls, path: Path) -> Credentials:
        mode = path.stat().st_mode
        if mode & 0o077:
            log.warning("%s holds secret keys but is readable by others (mode %o): "
                        "chmod 600 it", path, mode & 0o777)
        data = tomllib.loads(path.read_text())
        entries = []
        for item in data.get("credentials", []):
            account = str(item["account"])
            if not (len(account) == 12 and account.isdigit()):
                raise ValueError(f"{path}: account {account!r} is not a 12-digit account id")
            entries.append(Credential(item["access_key"], item["secret_key"], account))
        return cls(entries)

    def account_for(self, access_key: str) -> str:
        known = self.find(access_key)
        if known is not None:
            return known.account
        if len(access_key) == 12 and access_key.isdigit():
            return access_key
        return DEFAULT_ACCOUNT

    def secret_for(self, access_key: str) -> str | None:
        known = self.find(access_key)
        return known.secret_key if known else None

    def session_refusal(self, access_key: str, token: str | None,
                        now: datetime) -> tuple[str, str] | None:
        """(code, message) refusing a temporary key whose session token is missing or
        wrong, or that has expired, as AWS words it; None when the key may sign."""
        known = self.find(access_key)
        if known is None or known.session_token is None:
            return None
        if token != known.session_token:
            return ("InvalidClientTokenId",
                    "The security token included in the request is invalid.")
        if known.expiration is not None and now >= known.expiration:
            # STS and IAM's wording; AWS does not document one per service.
            return "ExpiredToken", "The security token included in the request is expired"
        return None

    def caller(self, access_key: str) -> tuple[str, str] | None:
        """(UserId, ARN) of a temporary key's assumed role; None for an account's own key."""
        known = self.find(access_key)
        if known is None or known.principal is None:
            return None
        return known.user_id or known.account, known.principal
