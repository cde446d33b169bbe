"""STS: who the caller is, by the account their access key acts for (or, for an
instance's role credentials, the assumed role: ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/i-...``
with the UserId ``ROLEID:i-...``, as AWS answers)."""

from __future__ import annotations

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation


@operation("sts", "GetCallerIdentity")
def get_caller_identity(context: RequestContext, params: dict) -> dict:
    return {"UserId": context.user_id, "Account": context.account, "Arn": context.principal}
