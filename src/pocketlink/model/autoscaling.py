"""Auto Scaling groups, the instances they hold, and their scaling activities.

A group's ``id`` is its ARN (names are unique per account and region only). What the
group is asked for (min, max, desired, its launch template) is stored by the API; what it
holds (``instances``, ``launching``) is written by the scaler (``reconcile.autoscaling``)
as it converges. A launch is written down (``launching``, with its RunInstances client
token) before it is made, so a daemon stopped between the two makes the same launch again
(RunInstances answers a known token with the instances it launched), never a second one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pocketlink.model.base import Resource, now

# AWS's lifecycle states of an instance in a group (the ones pocketlink goes through).
PENDING = "Pending"
IN_SERVICE = "InService"
TERMINATING = "Terminating"
# What an activity shows while it runs and when it ends.
IN_PROGRESS = "InProgress"
WAITING_FOR_DRAINING = "WaitingForELBConnectionDraining"
SUCCESSFUL = "Successful"
FAILED = "Failed"
DELETING = "Delete in progress"


@dataclass(kw_only=True)
class LaunchTemplateSpecification:
    """The group's template: by id (its name kept for Describe) and a version string:
    a number, ``$Latest`` or ``$Default``, resolved at each launch."""

    launch_template_id: str
    launch_template_name: str
    version: str = "$Default"


@dataclass(kw_only=True)
class Launch:
    """A launch decided and not yet recorded as an instance of the group."""

    client_token: str
    subnet_id: str
    activity_id: str


@dataclass(kw_only=True)
class GroupInstance:
    instance_id: str
    availability_zone: str
    instance_type: str
    launch_template_version: str  # the version number it was launched from
    lifecycle_state: str = PENDING
    health_status: str = "Healthy"
    protected_from_scale_in: bool = False
    launched: datetime = field(default_factory=now)
    in_service: datetime | None = None
    activity_id: str | None = None  # the activity that launches or terminates it
    cause: str | None = None  # why it is being terminated, in the activity's words


@dataclass(kw_only=True)
class AutoScalingGroup(Resource):
    kind = "autoscaling-group"

    name: str
    launch_template: LaunchTemplateSpecification
    min_size: int
    max_size: int
    desired_capacity: int
    subnet_ids: list[str] = field(default_factory=list)
    availability_zones: list[str] = field(default_factory=list)
    target_group_arns: list[str] = field(default_factory=list)
    # Detached target groups the scaler still has to take the group's instances out of.
    detached_target_groups: list[str] = field(default_factory=list)
    health_check_type: str = "EC2"
    health_check_grace_period: int = 0
    default_cooldown: int = 300
    max_instance_lifetime: int | None = None
    termination_policies: list[str] = field(default_factory=lambda: ["Default"])
    new_instances_protected_from_scale_in: bool = False
    # The keys of ``tags`` the group gives the instances it launches (PropagateAtLaunch).
    propagate: list[str] = field(default_factory=list)
    status: str | None = None  # "Delete in progress" once deleted with ForceDelete
    # The cause of the last change of the desired capacity, in AWS's words ("At ... a user
    # request explicitly set group desired capacity changing ..."): activities start with it.
    capacity_cause: str = ""
    instances: list[GroupInstance] = field(default_factory=list)
    launching: list[Launch] = field(default_factory=list)
    launches: int = 0  # how many launches were ever decided: the next client token's number
    retry_after: datetime | None = None  # after a failed launch, when to try again
    failed_launches: int = 0  # failures in a row: each doubles the wait before the next try


@dataclass(kw_only=True)
class ScalingActivity(Resource):
    """One activity; its ``id`` is its ActivityId (a UUID, as AWS's)."""

    kind = "scaling-activity"

    group_arn: str
    group_name: str
    description: str
    cause: str
    status_code: str = IN_PROGRESS
    status_message: str | None = None
    progress: int = 0
    details: str = "{}"
    end_time: datetime | None = None
