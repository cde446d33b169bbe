"""STS: who the caller is, by the account their access key acts for."""

from __future__ import annotations

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation


@operation("sts", "GetCallerIdentity")
def get_caller_identity(context: RequestContext, params: dict) -> dict:
    return {"UserId": context.account, "Account": context.account, "Arn": context.principal}
