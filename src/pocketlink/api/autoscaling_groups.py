"""Auto Scaling groups: Create, Update, Delete, Describe, SetDesiredCapacity, the group's
instances (DescribeAutoScalingInstances, TerminateInstanceInAutoScalingGroup) and its
target groups (Attach/DetachLoadBalancerTargetGroups).

A handler records what is asked (sizes, template, subnets, target groups) and, for a
termination, marks the instance ``Terminating`` with its activity; the scaler
(``reconcile.autoscaling``) launches, registers, replaces and terminates. Launch
configurations, mixed instances policies, lifecycle hooks and warm pools are not served:
a group names a launch template.
"""

from __future__ import annotations

from pocketlink.api.autoscaling_activities import (
    capacity_change,
    describe_activity,
    new_activity,
    stamp,
)
from pocketlink.api.autoscaling_common import (
    group_arn,
    group_by_name,
    records,
    require_group,
    service_linked_role,
    validation,
)
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_defaults import launch_subnet
from pocketlink.api.ec2_launch_templates import require_template, resolve_version
from pocketlink.api.errors import autoscaling
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import find, owned
from pocketlink.model.autoscaling import (
    DELETING,
    TERMINATING,
    AutoScalingGroup,
    GroupInstance,
    LaunchTemplateSpecification,
    ScalingActivity,
)
from pocketlink.model.base import now
from pocketlink.model.ec2 import Subnet
from pocketlink.model.elbv2 import TargetGroup
from pocketlink.wire.errors import ServiceError

HEALTH_CHECK_TYPES = ("EC2", "ELB", "VPC_LATTICE", "EBS")
# AWS's bounds on MaxInstanceLifetime (seconds), 0 meaning none.
LIFETIME_BOUNDS = (86400, 31536000)
TERMINATION_POLICIES = ("Default", "OldestInstance", "NewestInstance",
                        "OldestLaunchConfiguration", "ClosestToNextInstanceHour",
                        "OldestLaunchTemplate", "AllocationStrategy")


def _instance_row(group: AutoScalingGroup, member: GroupInstance) -> dict:
    return {"InstanceId": member.instance_id, "InstanceType": member.instance_type,
            "AvailabilityZone": member.availability_zone,
            "LifecycleState": member.lifecycle_state, "HealthStatus": member.health_status,
            "LaunchTemplate": {"LaunchTemplateId": group.launch_template.launch_template_id,
                               "LaunchTemplateName":
                                   group.launch_template.launch_template_name,
                               "Version": member.launch_template_version},
            "ProtectedFromScaleIn": member.protected_from_scale_in}


def describe_group(group: AutoScalingGroup) -> dict:
    spec = group.launch_template
    item = {
        "AutoScalingGroupName": group.name, "AutoScalingGroupARN": group.id,
        "LaunchTemplate": {"LaunchTemplateId": spec.launch_template_id,
                           "LaunchTemplateName": spec.launch_template_name,
                           "Version": spec.version},
        "MinSize": group.min_size, "MaxSize": group.max_size,
        "DesiredCapacity": group.desired_capacity, "DefaultCooldown": group.default_cooldown,
        "AvailabilityZones": group.availability_zones, "LoadBalancerNames": [],
        "TargetGroupARNs": group.target_group_arns,
        "HealthCheckType": group.health_check_type,
        "HealthCheckGracePeriod": group.health_check_grace_period,
        "Instances": [_instance_row(group, m) for m in group.instances],
        "CreatedTime": group.created, "SuspendedProcesses": [],
        "VPCZoneIdentifier": ",".join(group.subnet_ids), "EnabledMetrics": [],
        "Tags": [tag_row(group, key) for key in group.tags],
        "TerminationPolicies": group.termination_policies,
        "NewInstancesProtectedFromScaleIn": group.new_instances_protected_from_scale_in,
        "ServiceLinkedRoleARN": service_linked_role(group.account),
        "CapacityRebalance": False,
        "TrafficSources": [{"Identifier": arn, "Type": "elbv2"}
                           for arn in group.target_group_arns],
    }
    if group.max_instance_lifetime:
        item["MaxInstanceLifetime"] = group.max_instance_lifetime
    if group.status:
        item["Status"] = group.status
    return item


def tag_row(group: AutoScalingGroup, key: str) -> dict:
    return {"ResourceId": group.name, "ResourceType": "auto-scaling-group", "Key": key,
            "Value": group.tags[key], "PropagateAtLaunch": key in group.propagate}


def _template_spec(context: RequestContext, given: dict | None) -> LaunchTemplateSpecification:
    if given is None:
        raise validation("Valid requests must contain either LaunchTemplate, "
                         "LaunchConfigurationName, InstanceId or MixedInstancesPolicy "
                         "parameter.")
    template_id, name = given.get("LaunchTemplateId"), given.get("LaunchTemplateName")
    if bool(template_id) == bool(name):
        raise validation("Valid requests must contain either launchTemplateId or "
                         "LaunchTemplateName")
    version = given.get("Version") or "$Default"
    try:
        template = require_template(context, template_id, name)
        resolve_version(template, version)
    except ServiceError as error:
        raise validation(f"You must use a valid fully-formed launch template. "
                         f"{error.message}") from None
    return LaunchTemplateSpecification(launch_template_id=template.id,
                                       launch_template_name=template.name, version=version)


def _subnets(context: RequestContext, params: dict) -> list[Subnet]:
    """VPCZoneIdentifier's subnets (one VPC), or the default subnets of AvailabilityZones."""
    given = [s.strip() for s in (params.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
    zones = params.get("AvailabilityZones") or []
    if given:
        subnets = []
        for subnet_id in dict.fromkeys(given):
            subnet = find(context, Subnet, subnet_id)
            if subnet is None:
                raise validation(f"The subnet ID '{subnet_id}' does not exist")
            subnets.append(subnet)
        if len({s.vpc_id for s in subnets}) > 1:
            # AWS's rule; the message is pocketlink's.
            raise validation("The subnets of an Auto Scaling group must all be in one VPC")
        if zones and set(zones) != {s.availability_zone for s in subnets}:
            raise validation("The availability zones of the specified subnets and the Auto "
                             "Scaling group do not match")
        return subnets
    if not zones:
        raise validation("At least one Availability Zone or VPC Subnet is required.")
    return [launch_subnet(context, zone) for zone in dict.fromkeys(zones)]


def _target_groups(context: RequestContext, arns: list[str], vpc_id: str) -> list[str]:
    for arn in arns:
        group = find(context, TargetGroup, arn)
        if group is None or group.vpc_id != vpc_id or group.target_type != "instance":
            raise validation("Provided Target Groups may not be valid. Please ensure they "
                             "exist and try again.")
    return list(dict.fromkeys(arns))


def _at_least_zero(params: dict, *names: str) -> None:
    for name in names:
        value = params.get(name)
        if value is not None and value < 0:
            raise validation(f"1 validation error detected: Value '{value}' at "
                             f"'{name[0].lower() + name[1:]}' failed to satisfy constraint: "
                             "Member must have value greater than or equal to 0")


def _sizes(low: int, high: int, desired: int) -> None:
    if low > high:
        raise validation(f"Max bound, {high}, must be greater than or equal to min bound, "
                         f"{low}")
    if not low <= desired <= high:
        raise validation(f"Desired capacity:{desired} must be between the specified min "
                         f"size:{low} and max size:{high}")


def _settings(params: dict) -> dict:
    """The settings Create and Update share, checked; only those given (Update)."""
    _at_least_zero(params, "MinSize", "MaxSize", "DesiredCapacity", "HealthCheckGracePeriod",
                   "DefaultCooldown", "MaxInstanceLifetime")
    settings: dict = {}
    if "HealthCheckType" in params:
        if params["HealthCheckType"] not in HEALTH_CHECK_TYPES:
            raise validation(f"Invalid health check type: {params['HealthCheckType']}")
        settings["health_check_type"] = params["HealthCheckType"]
    if "HealthCheckGracePeriod" in params:
        settings["health_check_grace_period"] = params["HealthCheckGracePeriod"]
    if "DefaultCooldown" in params:
        settings["default_cooldown"] = params["DefaultCooldown"]
    if "MaxInstanceLifetime" in params:
        lifetime = params["MaxInstanceLifetime"]
        low, high = LIFETIME_BOUNDS
        if lifetime and not low <= lifetime <= high:
            # AWS's bounds; the message is pocketlink's.
            raise validation(f"MaxInstanceLifetime must be 0 or between {low} and {high} "
                             "seconds")
        settings["max_instance_lifetime"] = lifetime or None
    if "TerminationPolicies" in params:
        for policy in params["TerminationPolicies"]:
            if policy not in TERMINATION_POLICIES:
                raise validation(f"Termination policy {policy} is not valid")
        settings["termination_policies"] = params["TerminationPolicies"] or ["Default"]
    if "NewInstancesProtectedFromScaleIn" in params:
        settings["new_instances_protected_from_scale_in"] = \
            params["NewInstancesProtectedFromScaleIn"]
    return settings


@operation("autoscaling", "CreateAutoScalingGroup")
def create_auto_scaling_group(context: RequestContext, params: dict) -> dict:
    name = params["AutoScalingGroupName"]
    if params.get("LaunchConfigurationName") or params.get("MixedInstancesPolicy") or \
            params.get("InstanceId"):
        raise validation("pocketlink's Auto Scaling groups launch from a launch template "
                         "(LaunchTemplate); launch configurations, mixed instances policies "
                         "and instance ids are not supported")
    settings = _settings(params)
    spec = _template_spec(context, params.get("LaunchTemplate"))
    low, high = params["MinSize"], params["MaxSize"]
    desired = params.get("DesiredCapacity", low)
    _sizes(low, high, desired)
    subnets = _subnets(context, params)
    target_groups = _target_groups(context, params.get("TargetGroupARNs") or [],
                                   subnets[0].vpc_id)
    if group_by_name(context, name) is not None:
        raise autoscaling.AlreadyExistsFault(
            f"AutoScalingGroup by this name already exists - A group with the name {name} "
            "already exists")
    tags = {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}
    moment = now()
    group = AutoScalingGroup(
        id=group_arn(context, name), account=context.account, region=context.region,
        name=name, launch_template=spec, min_size=low, max_size=high,
        desired_capacity=desired, subnet_ids=[s.id for s in subnets],
        availability_zones=list(dict.fromkeys(s.availability_zone for s in subnets)),
        target_group_arns=target_groups, tags=tags,
        propagate=[t["Key"] for t in params.get("Tags") or [] if t.get("PropagateAtLaunch")],
        capacity_cause=capacity_change(moment, "a user request created an AutoScalingGroup",
                                       0, desired),
        **settings)
    with context.store.transaction() as tx:
        tx.put(group)
    return {}


@operation("autoscaling", "UpdateAutoScalingGroup")
def update_auto_scaling_group(context: RequestContext, params: dict) -> dict:
    """As AWS: a new MinSize above the desired capacity (or MaxSize below it) moves the
    desired capacity with it, when the call does not set it."""
    group = require_group(context, params["AutoScalingGroupName"])
    if params.get("LaunchConfigurationName") or params.get("MixedInstancesPolicy"):
        raise validation("pocketlink's Auto Scaling groups launch from a launch template "
                         "(LaunchTemplate); launch configurations and mixed instances "
                         "policies are not supported")
    if group.status == DELETING:
        raise autoscaling.ScalingActivityInProgressFault(
            "The AutoScalingGroup is being deleted.")
    settings = _settings(params)
    low = params.get("MinSize", group.min_size)
    high = params.get("MaxSize", group.max_size)
    desired = params.get("DesiredCapacity")
    if desired is None:
        desired = min(max(group.desired_capacity, low), high)
    _sizes(low, high, desired)
    spec = _template_spec(context, params["LaunchTemplate"]) \
        if params.get("LaunchTemplate") else group.launch_template
    subnets = _subnets(context, params) if params.get("VPCZoneIdentifier") or \
        params.get("AvailabilityZones") else None
    if subnets:
        _target_groups(context, group.target_group_arns, subnets[0].vpc_id)
    with context.store.transaction() as tx:
        mine = tx.edit(AutoScalingGroup, group.id)
        if desired != mine.desired_capacity:
            mine.capacity_cause = capacity_change(
                now(), "a user request update of AutoScalingGroup constraints to min: "
                f"{low}, max: {high}, desired: {desired}", mine.desired_capacity, desired)
        mine.min_size, mine.max_size, mine.desired_capacity = low, high, desired
        mine.launch_template = spec
        if subnets:
            mine.subnet_ids = [s.id for s in subnets]
            mine.availability_zones = list(dict.fromkeys(s.availability_zone for s in subnets))
        for key, value in settings.items():
            setattr(mine, key, value)
    return {}


@operation("autoscaling", "SetDesiredCapacity")
def set_desired_capacity(context: RequestContext, params: dict) -> dict:
    group = require_group(context, params["AutoScalingGroupName"])
    _at_least_zero(params, "DesiredCapacity")
    desired = params["DesiredCapacity"]
    if desired > group.max_size:
        raise validation(f"New SetDesiredCapacity value {desired} is above max value "
                         f"{group.max_size} for the AutoScalingGroup.")
    if desired < group.min_size:
        raise validation(f"New SetDesiredCapacity value {desired} is below min value "
                         f"{group.min_size} for the AutoScalingGroup.")
    if desired == group.desired_capacity:
        return {}
    with context.store.transaction() as tx:
        mine = tx.edit(AutoScalingGroup, group.id)
        mine.capacity_cause = capacity_change(
            now(), "a user request explicitly set group desired capacity",
            mine.desired_capacity, desired)
        mine.desired_capacity = desired
    return {}


def _in_progress(context: RequestContext, group: AutoScalingGroup) -> bool:
    return any(a.group_arn == group.id and a.status_code not in ("Successful", "Failed",
                                                                   "Cancelled")
               for a in owned(context, ScalingActivity))


@operation("autoscaling", "DeleteAutoScalingGroup")
def delete_auto_scaling_group(context: RequestContext, params: dict) -> dict:
    """Without ForceDelete, only an empty, quiet group goes; with it, the group's instances
    are terminated and the group goes once they are (Status "Delete in progress")."""
    group = require_group(context, params["AutoScalingGroupName"])
    busy = group.instances or group.launching
    if not params.get("ForceDelete"):
        if _in_progress(context, group):
            raise autoscaling.ScalingActivityInProgressFault(
                "You cannot delete an AutoScalingGroup while there are scaling activities "
                "in progress for that group.")
        if busy:
            raise autoscaling.ResourceInUseFault(
                "You cannot delete an AutoScalingGroup while there are instances still in "
                "the group.")
    with context.store.transaction() as tx:
        if not busy:
            tx.delete(group)
            return {}
        mine = tx.edit(AutoScalingGroup, group.id)
        mine.status = DELETING
        mine.min_size = mine.max_size = mine.desired_capacity = 0
        mine.capacity_cause = capacity_change(now(), "a delete request",
                                              group.desired_capacity, 0)
    return {}


@operation("autoscaling", "DescribeAutoScalingGroups")
def describe_auto_scaling_groups(context: RequestContext, params: dict) -> dict:
    groups = owned(context, AutoScalingGroup)
    if params.get("AutoScalingGroupNames"):
        wanted = params["AutoScalingGroupNames"]
        groups = [g for g in groups if g.name in wanted]
    for flt in params.get("Filters") or []:
        name, values = flt.get("Name", ""), flt.get("Values") or []
        if name == "tag-key":
            groups = [g for g in groups if set(g.tags) & set(values)]
        elif name == "tag-value":
            groups = [g for g in groups if set(g.tags.values()) & set(values)]
        elif name.startswith("tag:"):
            groups = [g for g in groups if g.tags.get(name[4:]) in values]
        else:
            raise validation(f"Filter type {name} is not correct. Allowed Filter types are: "
                             "auto-scaling-group key value propagate-at-launch")
    chunk, more = records(groups, params, high=100)
    return {"AutoScalingGroups": [describe_group(g) for g in chunk], **more}


@operation("autoscaling", "DescribeAutoScalingInstances")
def describe_auto_scaling_instances(context: RequestContext, params: dict) -> dict:
    rows = [(g, m) for g in owned(context, AutoScalingGroup) for m in g.instances]
    if params.get("InstanceIds"):
        wanted = set(params["InstanceIds"])
        rows = [(g, m) for g, m in rows if m.instance_id in wanted]
    chunk, more = records(rows, params, high=50)
    return {"AutoScalingInstances": [{**_instance_row(g, m), "AutoScalingGroupName": g.name}
                                     for g, m in chunk], **more}


@operation("autoscaling", "TerminateInstanceInAutoScalingGroup")
def terminate_instance_in_auto_scaling_group(context: RequestContext, params: dict) -> dict:
    instance_id = params.get("InstanceId")
    if not instance_id:
        raise validation("1 validation error detected: Value null at 'instanceId' failed to "
                         "satisfy constraint: Member must not be null")
    group = next((g for g in owned(context, AutoScalingGroup)
                  if any(m.instance_id == instance_id for m in g.instances)), None)
    if group is None:
        # AWS's code; the message is pocketlink's guess at AWS's.
        raise validation(f"Instance Id not found - No managed instance found for instance ID: "
                         f"{instance_id}")
    member = next(m for m in group.instances if m.instance_id == instance_id)
    decrement = params["ShouldDecrementDesiredCapacity"]
    if decrement and group.desired_capacity <= group.min_size and \
            member.lifecycle_state != TERMINATING:
        raise validation(
            f"Currently, desiredSize equals minSize ({group.min_size}). Terminating instance "
            "without replacement will violate group's min size constraint. Either set "
            "shouldDecrementDesiredCapacity flag to false or lower group's min size.")
    if member.lifecycle_state == TERMINATING:
        activity = context.store.get(ScalingActivity, member.activity_id or "")
        return {"Activity": describe_activity(activity)} if activity else {}
    moment = now()
    cause = f"At {stamp(moment)} instance {instance_id} was taken out of service in response " \
        "to a user request"
    cause += f", shrinking the capacity from {group.desired_capacity} to " \
        f"{group.desired_capacity - 1}." if decrement else "."
    activity = new_activity(group, f"Terminating EC2 instance: {instance_id}", cause)
    with context.store.transaction() as tx:
        mine = tx.edit(AutoScalingGroup, group.id)
        if decrement:
            mine.desired_capacity -= 1
            mine.capacity_cause = capacity_change(
                moment, "a user request terminated an instance", group.desired_capacity,
                mine.desired_capacity)
        for m in mine.instances:
            if m.instance_id == instance_id:
                m.lifecycle_state, m.activity_id = TERMINATING, activity.id
        tx.put(activity)
    return {"Activity": describe_activity(activity)}


@operation("autoscaling", "AttachLoadBalancerTargetGroups")
def attach_load_balancer_target_groups(context: RequestContext, params: dict) -> dict:
    """The scaler registers the group's instances in service with them."""
    group = require_group(context, params["AutoScalingGroupName"])
    subnet = find(context, Subnet, group.subnet_ids[0])
    arns = _target_groups(context, params["TargetGroupARNs"], subnet.vpc_id if subnet else "")
    with context.store.transaction() as tx:
        mine = tx.edit(AutoScalingGroup, group.id)
        mine.target_group_arns = list(dict.fromkeys(mine.target_group_arns + arns))
    return {}


@operation("autoscaling", "DetachLoadBalancerTargetGroups")
def detach_load_balancer_target_groups(context: RequestContext, params: dict) -> dict:
    """The group's instances are deregistered (and drain) by the scaler."""
    group = require_group(context, params["AutoScalingGroupName"])
    with context.store.transaction() as tx:
        mine = tx.edit(AutoScalingGroup, group.id)
        mine.target_group_arns = [a for a in mine.target_group_arns
                                  if a not in params["TargetGroupARNs"]]
        mine.detached_target_groups = list(dict.fromkeys(
            mine.detached_target_groups + [a for a in params["TargetGroupARNs"]
                                           if a in group.target_group_arns]))
    return {}

