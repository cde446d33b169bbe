"""What the Auto Scaling handlers share: ValidationError, a group by name, ARNs, and
MaxRecords/NextToken pages."""

from __future__ import annotations

import uuid

from pocketlink.api.context import RequestContext
from pocketlink.api.lookups import owned
from pocketlink.api.pages import window
from pocketlink.model.autoscaling import AutoScalingGroup
from pocketlink.wire.errors import ServiceError


def validation(message: str) -> ServiceError:
    """Auto Scaling's ValidationError (its model has no shape for it)."""
    return ServiceError(message, code="ValidationError")


def group_arn(context: RequestContext, name: str) -> str:
    return (f"arn:aws:autoscaling:{context.region}:{context.account}:autoScalingGroup:"
            f"{uuid.uuid4()}:autoScalingGroupName/{name}")


def service_linked_role(account: str) -> str:
    return (f"arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/"
            "AWSServiceRoleForAutoScaling")


def group_by_name(context: RequestContext, name: str) -> AutoScalingGroup | None:
    return next((g for g in owned(context, AutoScalingGroup) if g.name == name), None)


def require_group(context: RequestContext, name: str) -> AutoScalingGroup:
    group = group_by_name(context, name)
    if group is None:
        raise validation(f"AutoScalingGroup name not found - AutoScalingGroup {name} not found")
    return group


def records(items: list, params: dict, high: int, default: int = 50
            ) -> tuple[list, dict[str, str]]:
    """Auto Scaling's pages: MaxRecords (1-``high``) and an opaque NextToken."""
    size = params.get("MaxRecords") or min(default, high)
    if not 1 <= size <= high:
        raise validation(f"1 validation error detected: Value '{size}' at 'maxRecords' failed "
                         f"to satisfy constraint: Member must have value less than or equal "
                         f"to {high}")
    chunk, following = window(items, params.get("NextToken"), size, lambda: ServiceError(
        "The token provided is not valid", code="InvalidNextToken"))
    return chunk, {"NextToken": following} if following else {}
