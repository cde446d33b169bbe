"""Scaling activities: how they are made and worded (as AWS words them), and
DescribeScalingActivities.

The API and the scaler (``reconcile.autoscaling``) both start activities; their causes
read as AWS's do: "At 2026-12-01T07:00:00Z a user request explicitly set group desired
capacity changing the desired capacity from 3 to 1.  At ... an instance was taken out of
service in response to a difference between desired and actual capacity, shrinking the
capacity from 3 to 1.  At ... instance i-... was selected for termination."
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pocketlink.api.autoscaling_common import group_by_name, records
from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned
from pocketlink.model.autoscaling import (
    IN_PROGRESS,
    AutoScalingGroup,
    ScalingActivity,
)
from pocketlink.model.base import now


def stamp(moment: datetime) -> str:
    """A moment as AWS writes it in a cause: ``2026-12-01T07:00:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_activity(group: AutoScalingGroup, description: str, cause: str,
                 status: str = IN_PROGRESS) -> ScalingActivity:
    return ScalingActivity(id=str(uuid.uuid4()), account=group.account, region=group.region,
                           group_arn=group.id, group_name=group.name, description=description,
                           cause=cause, status_code=status)


def capacity_change(moment: datetime, what: str, old: int, new: int) -> str:
    """The first sentence of an activity's cause: who changed the desired capacity."""
    return (f"At {stamp(moment)} {what} changing the desired capacity from {old} to {new}.")


def describe_activity(activity: ScalingActivity, state: str | None = None) -> dict:
    item = {"ActivityId": activity.id, "AutoScalingGroupName": activity.group_name,
            "AutoScalingGroupARN": activity.group_arn, "Description": activity.description,
            "Cause": activity.cause, "StartTime": activity.created,
            "StatusCode": activity.status_code, "Progress": activity.progress,
            "Details": activity.details}
    if activity.end_time is not None:
        item["EndTime"] = activity.end_time
    if activity.status_message:
        item["StatusMessage"] = activity.status_message
    if state:
        item["AutoScalingGroupState"] = state
    return item


@operation("autoscaling", "DescribeScalingActivities")
def describe_scaling_activities(context: RequestContext, params: dict) -> dict:
    """Newest first, as AWS lists them; a deleted group's only with IncludeDeletedGroups."""
    live = {g.id for g in owned(context, AutoScalingGroup)}
    found = [a for a in owned(context, ScalingActivity)
             if a.group_arn in live or params.get("IncludeDeletedGroups")]
    name = params.get("AutoScalingGroupName")
    if name:
        group = group_by_name(context, name)
        found = [a for a in found if a.group_name == name and
                 (group is None or a.group_arn == group.id or params.get("IncludeDeletedGroups"))]
    if params.get("ActivityIds"):
        wanted = set(params["ActivityIds"])
        found = [a for a in found if a.id in wanted]
    found.sort(key=lambda a: a.created, reverse=True)
    chunk, more = records(found, params, high=100)
    return {"Activities": [describe_activity(a, None if a.group_arn in live else "Deleted")
                           for a in chunk], **more}


def finished(activity: ScalingActivity, status: str, message: str | None = None) -> None:
    """Ends ``activity`` (a copy inside a transaction) with ``status``."""
    activity.status_code = status
    activity.progress = 100
    activity.end_time = now()
    if message:
        activity.status_message = message
