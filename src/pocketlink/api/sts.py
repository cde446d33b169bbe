"""STS: who the caller is, by the account their access key acts for (or, for role
credentials, the assumed role: ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` with
the UserId ``ROLEID:SESSION``, as AWS answers), and AssumeRole.

AssumeRole hands out temporary keys (``imds.roles.new_session``, the machinery of
instances' role keys) that act for the role ARN's account in every service. IAM is the
backend's and is not asked: the role's existence, its trust policy and its
MaxSessionDuration are not checked (docs/limitations.md), and the role id is made from the
role's ARN, the same for every session of it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.imds.roles import new_session
from pocketlink.model.base import now
from pocketlink.wire.errors import ServiceError

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\x21-\x7e]+/)?([\w+=,.@-]{1,64})$")
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
DURATION = (900, 43200)  # seconds: AWS's bounds; the role's own maximum is not known here
DEFAULT_DURATION = 3600


@operation("sts", "GetCallerIdentity")
def get_caller_identity(context: RequestContext, params: dict) -> dict:
    return {"UserId": context.user_id, "Account": context.account, "Arn": context.principal}


def _validation(message: str) -> ServiceError:
    return ServiceError(f"1 validation error detected: {message}", code="ValidationError")


def _role_id(role_arn: str) -> str:
    """``AROA`` and 17 upper-case letters and digits, as IAM's role ids, from the ARN."""
    digest = base64.b32encode(hashlib.sha256(role_arn.encode()).digest()).decode()
    return "AROA" + digest[:17]


@operation("sts", "AssumeRole")
def assume_role(context: RequestContext, params: dict) -> dict:
    role_arn, name = params["RoleArn"], params["RoleSessionName"]
    found = ROLE_ARN.match(role_arn)
    if found is None:
        # AWS's words for an ARN that names no role are a guess.
        raise _validation(f"Value '{role_arn}' at 'roleArn' failed to satisfy constraint: "
                          "Member must be the ARN of an IAM role")
    if not SESSION_NAME.match(name):
        raise _validation(f"Value '{name}' at 'roleSessionName' failed to satisfy "
                          "constraint: Member must satisfy regular expression pattern: "
                          "[\\w+=,.@-]* and have length from 2 to 64")
    seconds = params.get("DurationSeconds", DEFAULT_DURATION)
    if not DURATION[0] <= seconds <= DURATION[1]:
        raise _validation(f"Value '{seconds}' at 'durationSeconds' failed to satisfy "
                          f"constraint: Member must have value between {DURATION[0]} and "
                          f"{DURATION[1]}")
    account, role_name = found.groups()
    role_id = _role_id(role_arn)
    session = new_session(account, context.region, role_name, role_id, now(),
                          timedelta(seconds=seconds), session_name=name)
    with context.store.transaction() as tx:
        tx.put(session)
    result: dict = {
        "Credentials": {"AccessKeyId": session.id, "SecretAccessKey": session.secret_access_key,
                        "SessionToken": session.session_token,
                        "Expiration": session.expiration},
        "AssumedRoleUser": {"AssumedRoleId": f"{role_id}:{name}",
                            "Arn": session.assumed_role_arn}}
    if params.get("SourceIdentity"):
        result["SourceIdentity"] = params["SourceIdentity"]
    return result
