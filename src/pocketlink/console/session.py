"""Who the console acts as: an account (its 12-digit access key) and a region, kept in one
cookie; ``?account=...&region=...`` on any page sets them (the topology page links that way).

With ``--strict-auth`` the daemon accepts only keys of its credentials file, signed: the
console then asks for an access key id and its secret (``sign-in``) and keeps them in the
cookie, HttpOnly and SameSite=Strict, so that no script and no other site's page sends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from pocketlink.gateway.identity import DEFAULT_ACCOUNT
from pocketlink.model import regions

COOKIE = "pocketlink_console"
PATH = "/_pocketlink/console"
DEFAULT_REGION = "us-east-1"
# The secret a console request is signed with when the daemon checks no signature.
UNCHECKED_SECRET = "console"
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)


@dataclass(frozen=True)
class Session:
    account: str
    region: str
    access_key: str = ""  # with --strict-auth: the key signed in with
    secret_key: str = ""
    changed: bool = False  # the cookie is to be set again

    @property
    def signing_key(self) -> tuple[str, str]:
        if self.access_key:
            return self.access_key, self.secret_key
        return self.account, UNCHECKED_SECRET

    def cookie(self) -> str:
        values = {"a": self.account, "r": self.region}
        if self.access_key:
            values.update(k=self.access_key, s=self.secret_key)
        return (f"{COOKIE}={urlencode(values)}; Path={PATH}; HttpOnly; SameSite=Strict")

    def signed_in(self, account: str, access_key: str, secret_key: str) -> Session:
        return replace(self, account=account, access_key=access_key, secret_key=secret_key,
                       changed=True)

    def signed_out(self) -> Session:
        return replace(self, access_key="", secret_key="", changed=True)


def read(cookie_header: str, query: dict[str, str], strict: bool) -> Session:
    """The session of the cookie, with the query's account and region over it (an account
    in the query is ignored under strict auth: the key signed in with names it)."""
    kept: dict[str, str] = {}
    try:
        jar = SimpleCookie(cookie_header)
        if COOKIE in jar:
            kept = dict(parse_qsl(jar[COOKIE].value))
    except CookieError:
        kept = {}
    account = kept.get("a", "")
    region = kept.get("r", "")
    session = Session(account if _ACCOUNT.fullmatch(account) else DEFAULT_ACCOUNT,
                      region if region in regions.REGIONS else DEFAULT_REGION,
                      kept.get("k", "") if strict else "", kept.get("s", "") if strict else "")
    wanted_account, wanted_region = query.get("account", ""), query.get("region", "")
    if not strict and _ACCOUNT.fullmatch(wanted_account) and wanted_account != session.account:
        session = replace(session, account=wanted_account, changed=True)
    if wanted_region in regions.REGIONS and wanted_region != session.region:
        session = replace(session, region=wanted_region, changed=True)
    return session
