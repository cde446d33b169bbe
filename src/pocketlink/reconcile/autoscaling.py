"""Auto Scaling groups, converged: each pass looks at every group, at its instances as EC2
has them and at its target groups' health, decides what is due (``plan``, no I/O) and
does it through the API's own handlers (RunInstances, TerminateInstances, RegisterTargets,
DeregisterTargets), as the group's account, in-process.

What a group does, as AWS's does:

- launches until it holds its desired capacity, each launch in the zone of its subnets
  that holds the fewest of its instances, from its launch template's version as resolved
  at that launch;
- an instance is ``Pending`` until EC2 has it running, then is registered with the group's
  target groups and is ``InService``;
- replaces an instance EC2 no longer runs (stopped, terminated), one a target group finds
  ``unhealthy`` (HealthCheckType ELB, once the grace period after it went in service is
  over), and one older than MaxInstanceLifetime (one at a time);
- scales in by its termination policy (by default: the zone with the most instances, then
  an instance of another template version, then the one closest to its next instance hour);
- terminates an instance by first deregistering it from its target groups, then waiting
  until they have drained it (``WaitingForELBConnectionDraining``), then terminating it.

Every decision is written before it is acted on (a launch's client token, an instance's
``Terminating``), and each action looks again at what is stored, so a daemon stopped at any
moment resumes where it was, and nothing is launched twice.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pocketlink.api.autoscaling_activities import finished, new_activity, stamp
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_instances import run_instances, terminate_instances
from pocketlink.api.ec2_launch_templates import launch_parameters
from pocketlink.api.elbv2_target_groups import deregister_targets, register_targets
from pocketlink.imds.roles import InstanceProfiles, Unavailable
from pocketlink.model.autoscaling import (
    DELETING,
    FAILED,
    IN_SERVICE,
    PENDING,
    SUCCESSFUL,
    TERMINATING,
    WAITING_FOR_DRAINING,
    AutoScalingGroup,
    GroupInstance,
    Launch,
    ScalingActivity,
)
from pocketlink.model.base import now
from pocketlink.model.ec2 import Instance, Subnet
from pocketlink.model.elbv2 import TargetGroup
from pocketlink.store import Store, Transaction
from pocketlink.wire.errors import ServiceError

log = logging.getLogger("pocketlink.autoscaling")

# After a failed launch, how long the group waits before it tries again: doubled after each
# failure in a row, up to LAUNCH_RETRY_MAX (AWS backs off too, and documents no figures).
LAUNCH_RETRY = timedelta(seconds=10)
LAUNCH_RETRY_MAX = timedelta(minutes=5)
GROUP_TAG = "aws:autoscaling:groupName"
# EC2 states in which an instance counts as healthy for an EC2 health check.
EC2_HEALTHY = ("pending", "running")
INSTANCE_HOUR = 3600
# At most so many launches per group in one pass (the next pass makes the rest), so that a
# group asked for thousands holds the event loop no longer than a few RunInstances.
LAUNCH_BATCH = 10


@dataclass(frozen=True)
class Registration:
    draining: bool
    health: str


@dataclass(frozen=True)
class Seen:
    """What one pass sees of a group's world."""

    instances: dict[str, str]  # instance id -> its EC2 state; absent when EC2 has none
    targets: dict[tuple[str, str], Registration]  # (target group arn, instance id)
    zones: dict[str, str]  # subnet id -> zone
    version: str | None  # the version a launch would use now
    target_groups: frozenset[str] = frozenset()  # the group's target groups that exist


@dataclass(frozen=True)
class Action:
    kind: str
    instance_id: str = ""
    target_group: str = ""
    subnet_id: str = ""
    token: str = ""  # a recorded launch's client token
    cause: str = ""
    capacity: int = 0  # what the group held when the plan was made (an activity's cause)
    unhealthy: bool = False


def observe(store: Store, group: AutoScalingGroup, version: str | None) -> Seen:
    members = {m.instance_id for m in group.instances}
    instances = {i: found.state for i in members
                 if (found := store.get(Instance, i)) is not None}
    targets, existing = {}, set()
    for arn in group.target_group_arns + group.detached_target_groups:
        target_group = store.get(TargetGroup, arn)
        if target_group is not None:
            existing.add(arn)
        for target in target_group.targets if target_group else []:
            if target.id in members:
                targets[(arn, target.id)] = Registration(target.deregistered is not None,
                                                         target.health)
    zones = {s: subnet.availability_zone for s in group.subnet_ids
             if (subnet := store.get(Subnet, s)) is not None}
    return Seen(instances, targets, zones, version, frozenset(existing))


def _registered(seen: Seen, arn: str, instance_id: str) -> bool:
    found = seen.targets.get((arn, instance_id))
    return found is not None and not found.draining


def _unhealthy_cause(group: AutoScalingGroup, member: GroupInstance, seen: Seen,
                     moment: datetime) -> str | None:
    state = seen.instances.get(member.instance_id)
    at = stamp(moment)
    if state not in EC2_HEALTHY:
        return (f"At {at} an instance was taken out of service in response to an EC2 health "
                "check indicating it has been terminated or stopped.")
    if member.lifecycle_state != IN_SERVICE:
        return None
    grace = timedelta(seconds=group.health_check_grace_period)
    if group.health_check_type == "ELB" and member.in_service is not None and \
            member.in_service + grace <= moment and any(
            seen.targets.get((arn, member.instance_id), Registration(False, "")).health ==
            "unhealthy" for arn in group.target_group_arns):
        return (f"At {at} an instance was taken out of service in response to an ELB system "
                "health check failure.")
    return None


def _over_lifetime(group: AutoScalingGroup, member: GroupInstance, moment: datetime) -> bool:
    return bool(group.max_instance_lifetime) and member.lifecycle_state == IN_SERVICE and \
        member.launched + timedelta(seconds=group.max_instance_lifetime or 0) <= moment


def _zone_counts(group: AutoScalingGroup, seen: Seen, members: Iterable[GroupInstance],
                 launches: Iterable[Launch]) -> dict[str, int]:
    counts = {zone: 0 for zone in dict.fromkeys(seen.zones.values())}
    for member in members:
        counts[member.availability_zone] = counts.get(member.availability_zone, 0) + 1
    for launch in launches:
        zone = seen.zones.get(launch.subnet_id)
        if zone is not None:
            counts[zone] = counts.get(zone, 0) + 1
    return counts


def _launch_subnets(group: AutoScalingGroup, seen: Seen, active: list[GroupInstance],
                    count: int) -> list[str]:
    """Where ``count`` launches go: each to the zone holding the fewest (AWS's balance)."""
    counts = _zone_counts(group, seen, active, group.launching)
    zones = list(dict.fromkeys(seen.zones.values()))  # the zones it has subnets in, in order
    chosen = []
    for _ in range(count if zones else 0):
        zone = min(zones, key=lambda z: counts[z])  # ties: the subnets' order
        counts[zone] += 1
        chosen.append(next(s for s in group.subnet_ids if seen.zones.get(s) == zone))
    return chosen


def _next_hour(member: GroupInstance, moment: datetime) -> float:
    """How far into its current instance hour: larger is closer to the next one."""
    return (moment - member.launched).total_seconds() % INSTANCE_HOUR


def scale_in_choice(group: AutoScalingGroup, seen: Seen, candidates: list[GroupInstance],
                    active: list[GroupInstance], moment: datetime) -> GroupInstance:
    """The instance the group's first termination policy picks (Default: AWS's order)."""
    policy = group.termination_policies[0] if group.termination_policies else "Default"
    if policy == "OldestInstance":
        return min(candidates, key=lambda m: (m.launched, m.instance_id))
    if policy == "NewestInstance":
        return max(candidates, key=lambda m: (m.launched, m.instance_id))
    if policy == "ClosestToNextInstanceHour":
        return max(candidates, key=lambda m: (_next_hour(m, moment), m.instance_id))
    counts = _zone_counts(group, seen, active, [])
    busiest = max(counts[m.availability_zone] for m in candidates)
    pool = [m for m in candidates if counts[m.availability_zone] == busiest]
    older = [m for m in pool if m.launch_template_version != seen.version]
    pool = older or pool
    return max(pool, key=lambda m: (_next_hour(m, moment), m.instance_id))


def plan(group: AutoScalingGroup, seen: Seen, moment: datetime) -> list[Action]:
    """What is due for ``group`` now (pure: no I/O)."""
    due: list[Action] = [Action("run", token=launch.client_token) for launch in group.launching]
    leaving: set[str] = set()
    lifetime_busy = False
    for member in group.instances:
        instance_id, state = member.instance_id, seen.instances.get(member.instance_id)
        if member.lifecycle_state == TERMINATING:
            held = [arn for arn in group.target_group_arns + group.detached_target_groups
                    if (arn, instance_id) in seen.targets]
            live = [arn for arn in held if _registered(seen, arn, instance_id)]
            due += [Action("deregister", instance_id, target_group=arn) for arn in live]
            if held:
                continue  # draining: the instance ends when its target groups let it go
            if state in (None, "terminated"):
                due.append(Action("forget", instance_id))
            elif state != "shutting-down":
                due.append(Action("terminate", instance_id))
            lifetime_busy = True
            continue
        cause = _unhealthy_cause(group, member, seen, moment)
        unhealthy = cause is not None
        if cause is None and not lifetime_busy and _over_lifetime(group, member, moment):
            lifetime_busy = True
            cause = (f"At {stamp(moment)} an instance was taken out of service in response "
                     "to the group's maximum instance lifetime.")
        if cause is not None:
            due.append(Action("replace", instance_id, cause=cause, unhealthy=unhealthy))
            leaving.add(instance_id)
            continue
        if state == "running":
            due += [Action("register", instance_id, target_group=arn)
                    for arn in group.target_group_arns
                    if arn in seen.target_groups and not _registered(seen, arn, instance_id)]
            due += [Action("deregister", instance_id, target_group=arn)
                    for arn in group.detached_target_groups
                    if _registered(seen, arn, instance_id)]
            if member.lifecycle_state == PENDING:
                due.append(Action("in-service", instance_id))
    for arn in group.detached_target_groups:
        if not any((arn, m.instance_id) in seen.targets for m in group.instances):
            due.append(Action("detached", target_group=arn))
    active = [m for m in group.instances
              if m.lifecycle_state != TERMINATING and m.instance_id not in leaving]
    have = len(active) + len(group.launching)
    desired = 0 if group.status == DELETING else group.desired_capacity
    blocked = group.retry_after is not None and moment < group.retry_after
    if have < desired and not blocked and seen.version is not None:
        due += [Action("launch", subnet_id=s, capacity=have)
                for s in _launch_subnets(group, seen, active, min(desired - have, LAUNCH_BATCH))]
    candidates = [m for m in active if not m.protected_from_scale_in or group.status]
    for _ in range(max(0, min(have - desired, len(candidates)))):
        victim = scale_in_choice(group, seen, candidates, active, moment)
        candidates.remove(victim)
        due.append(Action("scale-in", victim.instance_id, capacity=have))
        active.remove(victim)
    if group.status == DELETING and not group.instances and not group.launching:
        due.append(Action("delete"))
    return due


@dataclass
class Scaler:
    """Runs each group's plan with the API's handlers, as the group's account."""

    store: Store
    profiles: InstanceProfiles | None = None

    async def converge(self, moment: datetime | None = None) -> None:
        for group in list(self.store.all(AutoScalingGroup)):
            try:
                await self._converge(group, moment or now())
            except Exception:
                log.exception("Auto Scaling group %s: a pass failed; the next tries again",
                              group.name)

    def _context(self, group: AutoScalingGroup) -> RequestContext:
        return RequestContext(
            group.account, group.region, str(uuid.uuid4()), self.store,
            instance_profiles=self.profiles,
            principal=f"arn:aws:sts::{group.account}:assumed-role/"
                      "AWSServiceRoleForAutoScaling/AutoScaling")

    def _version(self, group: AutoScalingGroup) -> str | None:
        try:
            _, _, version = launch_parameters(self._context(group), _spec(group), {})
        except ServiceError:
            return None  # the template is gone: the group launches nothing
        return str(version.number)

    async def _converge(self, group: AutoScalingGroup, moment: datetime) -> None:
        seen = observe(self.store, group, self._version(group))
        for action in plan(group, seen, moment):
            current = self.store.get(AutoScalingGroup, group.id)
            if current is None:
                return
            await getattr(self, "_" + action.kind.replace("-", "_"))(current, action, moment)

    # --- the actions -------------------------------------------------------------------
    async def _launch(self, group: AutoScalingGroup, action: Action, moment: datetime) -> None:
        cause = (f"{group.capacity_cause}  At {stamp(moment)} an instance was started in "
                 "response to a difference between desired and actual capacity, increasing "
                 f"the capacity from {action.capacity} to {group.desired_capacity}.").strip()
        activity = new_activity(group, "Launching a new EC2 instance", cause)
        subnet = self.store.get(Subnet, action.subnet_id)
        activity.details = json.dumps({"Subnet ID": action.subnet_id, "Availability Zone":
                                       subnet.availability_zone if subnet else ""})
        launch = Launch(client_token=f"{group.id.split(':')[6]}-{group.launches}",
                        subnet_id=action.subnet_id, activity_id=activity.id)
        with self.store.transaction() as tx:
            mine = tx.edit(AutoScalingGroup, group.id)
            mine.launching.append(launch)
            mine.launches += 1
            tx.put(activity)
        await self._make(mine, launch, moment)

    async def _run(self, group: AutoScalingGroup, action: Action, moment: datetime) -> None:
        launch = next((x for x in group.launching if x.client_token == action.token), None)
        if launch is not None:
            await self._make(group, launch, moment)

    async def _make(self, group: AutoScalingGroup, launch: Launch, moment: datetime) -> None:
        """RunInstances for a recorded launch (its token makes a retry the same launch)."""
        context = self._context(group)
        try:
            given: dict = {"MinCount": 1, "MaxCount": 1, "ClientToken": launch.client_token}
            # The template's own data first: a template that gives the network interface
            # gets the launch's subnet on it, not beside it (RunInstances refuses both).
            template_data, _, _ = launch_parameters(context, _spec(group), {})
            interfaces = template_data.get("NetworkInterfaces")
            if interfaces:
                given["NetworkInterfaces"] = [{**interfaces[0], "SubnetId": launch.subnet_id,
                                               "DeviceIndex": 0}]
            else:
                given["SubnetId"] = launch.subnet_id
            params, _, version = launch_parameters(context, _spec(group), given)
            profile = params.get("IamInstanceProfile") or {}
            reference = profile.get("Arn") or profile.get("Name")
            if reference and self.profiles is not None:
                await self.profiles.fetch(group.account, reference)
            instance = run_instances(context, params)["Instances"][0]
        except (ServiceError, Unavailable) as error:
            self._launch_failed(group, launch, str(getattr(error, "message", error)), moment)
            return
        with self.store.transaction() as tx:
            mine = tx.get(AutoScalingGroup, group.id)
            if mine is None or launch not in mine.launching:
                return
            mine.launching.remove(launch)
            mine.retry_after, mine.failed_launches = None, 0
            mine.instances.append(GroupInstance(
                instance_id=instance["InstanceId"],
                availability_zone=instance["Placement"]["AvailabilityZone"],
                instance_type=instance["InstanceType"],
                launch_template_version=str(version.number),
                protected_from_scale_in=mine.new_instances_protected_from_scale_in,
                activity_id=launch.activity_id))
            ec2 = tx.get(Instance, instance["InstanceId"])
            if ec2 is not None:
                ec2.tags.update({key: mine.tags[key] for key in mine.propagate
                                 if key in mine.tags})
                ec2.tags[GROUP_TAG] = mine.name
            activity = tx.get(ScalingActivity, launch.activity_id)
            if activity is not None:
                activity.description = f"Launching a new EC2 instance: {instance['InstanceId']}"
                activity.progress = 30
        log.info("Auto Scaling group %s: launched %s", group.name, instance["InstanceId"])

    def _launch_failed(self, group: AutoScalingGroup, launch: Launch, message: str,
                       moment: datetime) -> None:
        log.warning("Auto Scaling group %s: a launch failed: %s", group.name, message)
        with self.store.transaction() as tx:
            mine = tx.edit(AutoScalingGroup, group.id)
            if launch in mine.launching:
                mine.launching.remove(launch)
            mine.retry_after = moment + min(LAUNCH_RETRY * 2 ** mine.failed_launches,
                                            LAUNCH_RETRY_MAX)
            mine.failed_launches += 1
            activity = tx.get(ScalingActivity, launch.activity_id)
            if activity is not None:
                activity.description = (f"Launching a new EC2 instance.  Status Reason: "
                                        f"{message} Launching EC2 instance failed.")
                finished(activity, FAILED, message)

    async def _register(self, group: AutoScalingGroup, action: Action, _: datetime) -> None:
        self._call(group, register_targets, {"TargetGroupArn": action.target_group,
                                             "Targets": [{"Id": action.instance_id}]})

    async def _deregister(self, group: AutoScalingGroup, action: Action, _: datetime) -> None:
        self._call(group, deregister_targets, {"TargetGroupArn": action.target_group,
                                               "Targets": [{"Id": action.instance_id}]})
        member = _member(group, action.instance_id)
        if member is not None and member.activity_id:
            with self.store.transaction() as tx:
                activity = tx.get(ScalingActivity, member.activity_id)
                if activity is not None and activity.status_code != WAITING_FOR_DRAINING:
                    activity.status_code = WAITING_FOR_DRAINING
                    activity.progress = 50

    def _call(self, group: AutoScalingGroup, handler, params: dict) -> None:
        try:
            handler(self._context(group), params)
        except ServiceError as error:  # a target group deleted under the group, say
            log.warning("Auto Scaling group %s: %s failed: %s", group.name,
                        handler.__name__, error.message)

    async def _in_service(self, group: AutoScalingGroup, action: Action,
                          moment: datetime) -> None:
        with self.store.transaction() as tx:
            mine = tx.edit(AutoScalingGroup, group.id)
            member = _member(mine, action.instance_id)
            if member is None or member.lifecycle_state != PENDING:
                return
            member.lifecycle_state, member.in_service = IN_SERVICE, moment
            activity = tx.get(ScalingActivity, member.activity_id or "")
            if activity is not None:
                finished(activity, SUCCESSFUL)
            member.activity_id = None

    async def _replace(self, group: AutoScalingGroup, action: Action, moment: datetime) -> None:
        self._start_terminating(group, action.instance_id, action.cause, action.unhealthy)

    async def _scale_in(self, group: AutoScalingGroup, action: Action, moment: datetime) -> None:
        cause = (f"{group.capacity_cause}  At {stamp(moment)} an instance was taken out of "
                 "service in response to a difference between desired and actual capacity, "
                 f"shrinking the capacity from {action.capacity} to {group.desired_capacity}."
                 "  At "
                 f"{stamp(moment)} instance {action.instance_id} was selected for "
                 "termination.").strip()
        self._start_terminating(group, action.instance_id, cause, False)

    def _start_terminating(self, group: AutoScalingGroup, instance_id: str, cause: str,
                           unhealthy: bool) -> None:
        activity = new_activity(group, f"Terminating EC2 instance: {instance_id}", cause)
        with self.store.transaction() as tx:
            mine = tx.edit(AutoScalingGroup, group.id)
            member = _member(mine, instance_id)
            if member is None or member.lifecycle_state == TERMINATING:
                return
            _end_launch(tx, member)
            member.lifecycle_state, member.activity_id = TERMINATING, activity.id
            if unhealthy:
                member.health_status = "Unhealthy"
            tx.put(activity)
        log.info("Auto Scaling group %s: terminating %s (%s)", group.name, instance_id, cause)

    async def _terminate(self, group: AutoScalingGroup, action: Action, _: datetime) -> None:
        self._call(group, terminate_instances, {"InstanceIds": [action.instance_id]})

    async def _forget(self, group: AutoScalingGroup, action: Action, _: datetime) -> None:
        with self.store.transaction() as tx:
            mine = tx.edit(AutoScalingGroup, group.id)
            member = _member(mine, action.instance_id)
            if member is None:
                return
            mine.instances.remove(member)
            activity = tx.get(ScalingActivity, member.activity_id or "")
            if activity is not None:
                finished(activity, SUCCESSFUL)

    async def _detached(self, group: AutoScalingGroup, action: Action, _: datetime) -> None:
        with self.store.transaction() as tx:
            mine = tx.edit(AutoScalingGroup, group.id)
            mine.detached_target_groups = [a for a in mine.detached_target_groups
                                           if a != action.target_group]

    async def _delete(self, group: AutoScalingGroup, action: Action, _: datetime) -> None:
        with self.store.transaction() as tx:
            tx.delete(group)
        log.info("Auto Scaling group %s: deleted", group.name)


def _spec(group: AutoScalingGroup) -> dict:
    spec = group.launch_template
    return {"LaunchTemplateId": spec.launch_template_id, "Version": spec.version}


def _member(group: AutoScalingGroup, instance_id: str) -> GroupInstance | None:
    return next((m for m in group.instances if m.instance_id == instance_id), None)


def _end_launch(tx: Transaction, member: GroupInstance) -> None:
    """A launch activity still open when its instance leaves (it never went in service)."""
    activity = tx.get(ScalingActivity, member.activity_id or "")
    if activity is not None and activity.status_code not in (SUCCESSFUL, FAILED):
        finished(activity, FAILED, "The instance left the group before it went in service")
