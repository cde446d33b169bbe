"""Instance profiles and the credentials of their role.

IAM is the backend's (moto): an instance profile, and the role in it, are asked of it with
``GetInstanceProfile`` in the instance's account, the way any caller of IAM would. What an
instance then gets from ``iam/security-credentials/ROLE`` is pocketlink's own: a temporary
key (``ASIA...``), its secret and session token, kept in the store (``RoleSession``) so
that they work in every service, and after a restart, until they expire.

- ``InstanceProfiles``: IAM's answers, briefly remembered. A request that names an instance
  profile (RunInstances, AssociateIamInstanceProfile), itself or through the launch template
  it launches from, has it looked up first (``prefetch``), so that its handler, which is
  synchronous, finds the answer waiting.
- ``session_for``: the instance's current credentials, new ones once the current have less
  than ``RENEW_BEFORE`` left (AWS makes new ones available at least five minutes before
  the old expire; the old stay valid until then).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree

from pocketlink.gateway.identity import Credential, Credentials
from pocketlink.model.ec2 import Instance
from pocketlink.model.iam import RoleSession
from pocketlink.services.backend import Backend
from pocketlink.store import Store
from pocketlink.wire import sigv4
from pocketlink.wire.message import HttpRequest

log = logging.getLogger("pocketlink.imds")

SESSION_LIFE = timedelta(hours=6)
RENEW_BEFORE = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)  # an expired key is still known (ExpiredToken) this long
REMEMBER = 10.0  # seconds an answer of IAM is reused
# The EC2 actions whose IamInstanceProfile is looked up before their handler runs.
NAMING_ACTIONS = ("RunInstances", "AssociateIamInstanceProfile",
                  "ReplaceIamInstanceProfileAssociation")


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    role_id: str


@dataclass(frozen=True)
class Profile:
    name: str
    arn: str
    profile_id: str
    roles: tuple[Role, ...]


class Unavailable(Exception):
    """IAM (the backend) did not answer."""


def profile_name(reference: str) -> str:
    """The profile's name from its name or its ARN (``...:instance-profile/path/NAME``)."""
    return reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference


class InstanceProfiles:
    def __init__(self, backend: Backend,
                 launch_template_profile: Callable[[str, str, Mapping[str, str]], str | None]
                 | None = None) -> None:
        self.backend = backend
        # The profile a RunInstances request's launch template names (account, region,
        # form), for a request that names none itself.
        self.launch_template_profile = launch_template_profile
        self._answers: dict[tuple[str, str], tuple[float, Profile | Unavailable | None]] = {}

    async def fetch(self, account: str, reference: str) -> Profile | None:
        """IAM's instance profile ``reference`` (a name or an ARN) of ``account``; None
        when there is none (or the ARN names another account's)."""
        key = (account, reference)
        remembered = self._answers.get(key)
        if remembered is not None and time.monotonic() - remembered[0] < REMEMBER:
            answer = remembered[1]
        else:
            try:
                answer = await self._ask(account, reference)
            except Unavailable as error:
                answer = error
            if len(self._answers) > 10_000:
                self._answers.clear()
            self._answers[key] = (time.monotonic(), answer)
        if isinstance(answer, Unavailable):
            raise answer
        return answer

    def known(self, account: str, reference: str) -> Profile | None:
        """The answer ``fetch`` got last (``prefetch`` made sure there is one)."""
        remembered = self._answers.get((account, reference))
        if remembered is None or isinstance(remembered[1], Unavailable):
            raise Unavailable(reference)
        return remembered[1]

    def prefetch(self, request: HttpRequest, credentials: Credentials) -> Awaitable[None] | None:
        """For an EC2 request that names an instance profile: IAM's answer, looked up."""
        scope = sigv4.credential_scope(request)
        if scope is not None and scope.service != "ec2":
            return None
        form = request.form
        if form.get("Action") not in NAMING_ACTIONS:
            return None
        account = credentials.account_for(scope.access_key if scope else "")
        reference = form.get("IamInstanceProfile.Arn") or form.get("IamInstanceProfile.Name")
        if not reference and scope is not None and self.launch_template_profile is not None:
            reference = self.launch_template_profile(account, scope.region, form)
        if not reference:
            return None
        return self._settle(account, reference)

    async def _settle(self, account: str, reference: str) -> None:
        with contextlib.suppress(Unavailable):  # the handler says so
            await self.fetch(account, reference)

    async def _ask(self, account: str, reference: str) -> Profile | None:
        if reference.startswith("arn:"):
            parts = reference.split(":")
            if len(parts) < 6 or parts[4] != account or \
                    not parts[5].startswith("instance-profile/"):
                return None
        body = urlencode({"Action": "GetInstanceProfile", "Version": "2010-05-08",
                          "InstanceProfileName": profile_name(reference)}).encode()
        stamp = time.strftime("%Y%m%d", time.gmtime())
        # moto reads the service from the scope and the account from x-moto-account-id;
        # it checks no signature, and the request never leaves the daemon.
        request = HttpRequest("POST", "/", "", {
            "host": "iam.amazonaws.com",
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            "authorization": f"AWS4-HMAC-SHA256 Credential={account}/{stamp}/us-east-1/iam/"
                             "aws4_request, SignedHeaders=host, Signature=0"}, body)
        response = await self.backend.forward("iam", request, account)
        if 400 <= response.status < 500:  # NoSuchEntity, or a name IAM does not accept
            return None
        if response.status != 200:
            raise Unavailable(f"IAM answered {response.status}")
        try:
            return _profile(response.body)
        except ElementTree.ParseError as error:
            raise Unavailable(f"IAM's answer is not XML: {error}") from None


def _profile(body: bytes) -> Profile:
    root = ElementTree.fromstring(body)
    for element in root.iter():  # IAM's namespace, off
        element.tag = element.tag.rpartition("}")[2]
    profile = root.find(".//InstanceProfile")
    if profile is None:
        raise Unavailable("IAM's answer has no InstanceProfile")
    roles = tuple(Role(r.findtext("RoleName", ""), r.findtext("Arn", ""), r.findtext("RoleId", ""))
                  for r in profile.iterfind("Roles/member"))
    return Profile(profile.findtext("InstanceProfileName", ""), profile.findtext("Arn", ""),
                   profile.findtext("InstanceProfileId", ""), roles)


def _access_key_id() -> str:
    """``ASIA`` and 16 of AWS's upper-case base32 characters, as STS's temporary keys."""
    return "ASIA" + base64.b32encode(secrets.token_bytes(10)).decode()[:16]


def new_session(account: str, region: str, role_name: str, role_id: str, now: datetime,
                life: timedelta, instance_id: str = "", session_name: str = "") -> RoleSession:
    """New temporary credentials for a role, an instance's or AssumeRole's (not stored)."""
    return RoleSession(
        id=_access_key_id(), account=account, region=region,
        secret_access_key=base64.b64encode(secrets.token_bytes(30)).decode(),
        session_token=base64.b64encode(secrets.token_bytes(300)).decode(),
        instance_id=instance_id, session_name=session_name, role_name=role_name,
        role_id=role_id, issued=now, expiration=now + life)


def session_for(store: Store, instance: Instance, role: Role, now: datetime) -> RoleSession:
    """The instance's credentials for ``role``: the current ones, or new ones once they
    are due for renewal. Long-expired ones of any instance are forgotten on the way."""
    current = None
    gone = []
    for session in store.all(RoleSession):
        if now - session.expiration > FORGET_AFTER:
            gone.append(session)
        elif session.instance_id == instance.id and session.role_name == role.name and \
                session.expiration - now > RENEW_BEFORE and \
                (current is None or session.expiration > current.expiration):
            current = session
    if current is not None and not gone:
        return current
    with store.transaction() as tx:
        for session in gone:
            tx.delete(session)
        if current is None:
            current = new_session(instance.account, instance.region, role.name, role.role_id,
                                  now, SESSION_LIFE, instance_id=instance.id)
            tx.put(current)
            log.info("instance %s: new credentials %s for role %s, until %s", instance.id,
                     current.id, role.name, f"{current.expiration:%H:%M:%S}")
    return current


def credential(store: Store, access_key: str) -> Credential | None:
    """A temporary key as the gateway's identity knows keys (``Credentials.sessions``)."""
    session = store.get(RoleSession, access_key)
    if session is None:
        return None
    return Credential(session.id, session.secret_access_key, session.account,
                      session_token=session.session_token, expiration=session.expiration,
                      principal=session.assumed_role_arn,
                      user_id=f"{session.role_id}:{session.name}",
                      role_arn=f"arn:aws:iam::{session.account}:role/{session.role_name}")
