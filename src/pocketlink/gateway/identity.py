"""Access keys and accounts.

- A 12-digit access key id *is* that account id: ``AWS_ACCESS_KEY_ID=111111111111``.
- Other keys map through the credentials file (``pocketlink up --credentials FILE``, TOML)::

      [[credentials]]
      access_key = "AKIAPROVIDER"
      secret_key = "provider-secret"
      account = "111111111111"

- Any other key acts for the default account, ``000000000000``.

With ``--strict-auth`` only keys of the credentials file are accepted, and their SigV4
signatures are checked.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("pocketlink")

DEFAULT_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Credential:
    access_key: str
    secret_key: str
    account: str


class Credentials:
    def __init__(self, entries: list[Credential] | None = None) -> None:
        self.by_key = {c.access_key: c for c in entries or []}

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
        known = self.by_key.get(access_key)
        if known is not None:
            return known.account
        if len(access_key) == 12 and access_key.isdigit():
            return access_key
        return DEFAULT_ACCOUNT

    def secret_for(self, access_key: str) -> str | None:
        known = self.by_key.get(access_key)
        return known.secret_key if known else None
