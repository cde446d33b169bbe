"""The Auto Scaling scaler: its pure plan (zones, health, grace period, lifetime,
termination policy, draining), and a launch cut short by a crash made exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pocketlink.api.autoscaling_groups import create_auto_scaling_group
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_instances import run_instances
from pocketlink.api.ec2_launch_templates import create_launch_template
from pocketlink.model.autoscaling import (
    IN_SERVICE,
    TERMINATING,
    AutoScalingGroup,
    GroupInstance,
    Launch,
    LaunchTemplateSpecification,
)
from pocketlink.model.ec2 import Instance
from pocketlink.reconcile.autoscaling import LAUNCH_BATCH, Registration, Scaler, Seen, plan
from tests.reconcile.conftest import ACCOUNT, REGION, SUBNET

MOMENT = datetime(2026, 1, 1, 12, tzinfo=UTC)
TG = "arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/web/0123456789abcdef"
ZONES = {"subnet-a": "us-west-2a", "subnet-b": "us-west-2b"}


def group(*members: GroupInstance, **fields) -> AutoScalingGroup:
    fields.setdefault("desired_capacity", len(members))
    return AutoScalingGroup(
        id="arn:aws:autoscaling:us-west-2:111111111111:autoScalingGroup:"
           "00000000-0000-0000-0000-000000000000:autoScalingGroupName/web",
        account=ACCOUNT, region=REGION, name="web",
        launch_template=LaunchTemplateSpecification(launch_template_id="lt-0",
                                                    launch_template_name="web"),
        min_size=0, max_size=10, subnet_ids=list(ZONES), target_group_arns=[TG],
        instances=list(members), **fields)


def member(number: int, zone: str = "us-west-2a", *, version: str = "1",
           age: timedelta = timedelta(minutes=10), state: str = IN_SERVICE) -> GroupInstance:
    return GroupInstance(instance_id=f"i-{number:017d}", availability_zone=zone,
                         instance_type="t3.micro", launch_template_version=version,
                         lifecycle_state=state, launched=MOMENT - age,
                         in_service=MOMENT - age)


def seen(*members: GroupInstance, health: str = "healthy", state: str = "running",
         targets: dict | None = None) -> Seen:
    return Seen(instances={m.instance_id: state for m in members},
                targets=targets if targets is not None else {
                    (TG, m.instance_id): Registration(False, health) for m in members},
                zones=ZONES, version="1")


def kinds(actions) -> list[tuple[str, str]]:
    return [(a.kind, a.instance_id or a.subnet_id) for a in actions]


def test_launches_go_to_the_zone_with_the_fewest_instances():
    one = member(1, "us-west-2a")
    assert kinds(plan(group(one, desired_capacity=3), seen(one), MOMENT)) == [
        ("launch", "subnet-b"), ("launch", "subnet-a")]


def test_launches_go_only_to_the_zones_of_the_group_s_subnets():
    """An instance left in a zone the group no longer has a subnet in (UpdateAutoScalingGroup
    took it away) counts for nothing: new ones go where the subnets are."""
    stray = member(1, "us-west-2c")
    assert kinds(plan(group(stray, desired_capacity=2), seen(stray), MOMENT)) == [
        ("launch", "subnet-a")]


def test_a_large_desired_capacity_is_launched_a_batch_per_pass():
    assert [a.kind for a in plan(group(desired_capacity=500), seen(), MOMENT)] == \
        ["launch"] * LAUNCH_BATCH


def test_an_unhealthy_target_is_replaced_only_after_the_grace_period():
    young = member(1, age=timedelta(seconds=20))
    asked = group(young, health_check_type="ELB", health_check_grace_period=60)
    assert plan(asked, seen(young, health="unhealthy"), MOMENT) == []
    later = plan(asked, seen(young, health="unhealthy"), MOMENT + timedelta(seconds=41))
    assert kinds(later) == [("replace", young.instance_id), ("launch", "subnet-a")]
    assert later[0].unhealthy and "ELB system health check failure" in later[0].cause
    # With EC2 health checks, a target group's verdict does not count.
    assert plan(group(young), seen(young, health="unhealthy"), MOMENT + timedelta(hours=1)) \
        == []


def test_an_instance_ec2_stopped_is_replaced_whatever_the_health_check_type():
    one = member(1)
    actions = plan(group(one), seen(one, state="stopped"), MOMENT)
    assert kinds(actions) == [("replace", one.instance_id), ("launch", "subnet-a")]
    assert "EC2 health check indicating it has been terminated or stopped" in actions[0].cause


def test_instances_past_their_lifetime_are_replaced_one_at_a_time():
    old, older, young = member(1, age=timedelta(days=2)), member(2, "us-west-2b",
                                                                 age=timedelta(days=3)), member(3)
    actions = plan(group(old, older, young, max_instance_lifetime=86400),
                   seen(old, older, young), MOMENT)
    assert kinds(actions) == [("replace", old.instance_id), ("launch", "subnet-a")]
    assert not actions[0].unhealthy


def test_scale_in_takes_the_busiest_zone_then_another_version_then_the_next_hour():
    a1 = member(1, "us-west-2a", age=timedelta(minutes=50))
    a2 = member(2, "us-west-2a", version="2", age=timedelta(minutes=10))
    a3 = member(3, "us-west-2a", age=timedelta(minutes=5))
    b1 = member(4, "us-west-2b", version="2", age=timedelta(minutes=59))
    everyone = (a1, a2, a3, b1)
    # zone a holds 3: of its version-"2" and version-"1" instances the group's version is
    # "2" here, so the "1"s go first, the one nearest its next instance hour (a1) first.
    chosen = plan(group(*everyone, desired_capacity=3),
                  Seen(seen(*everyone).instances, seen(*everyone).targets, ZONES, "2"), MOMENT)
    assert kinds(chosen) == [("scale-in", a1.instance_id)]
    # The group's version "1": a2 is of another; then zone a still holds the most (a1, a3).
    two = plan(group(*everyone, desired_capacity=2), seen(*everyone), MOMENT)
    assert kinds(two) == [("scale-in", a2.instance_id), ("scale-in", a1.instance_id)]


def test_a_terminating_instance_is_deregistered_drained_then_terminated_and_forgotten():
    leaving = member(1, state=TERMINATING)
    asked = group(leaving, desired_capacity=0)
    assert kinds(plan(asked, seen(leaving), MOMENT)) == [("deregister", leaving.instance_id)]
    draining = {(TG, leaving.instance_id): Registration(True, "healthy")}
    assert plan(asked, seen(leaving, targets=draining), MOMENT) == []
    assert kinds(plan(asked, seen(leaving, targets={}), MOMENT)) == [
        ("terminate", leaving.instance_id)]
    assert kinds(plan(asked, seen(leaving, targets={}, state="terminated"), MOMENT)) == [
        ("forget", leaving.instance_id)]


def test_a_launch_cut_short_after_run_instances_is_not_made_twice(store):
    """The daemon wrote the launch, RunInstances ran, and it died before recording the
    instance: the next pass finds the instance by the launch's client token."""
    context = RequestContext(ACCOUNT, REGION, "r", store)
    template = create_launch_template(context, {
        "LaunchTemplateName": "web", "LaunchTemplateData": {"ImageId": "ami-0123456789abcdef0"}})
    create_auto_scaling_group(context, {
        "AutoScalingGroupName": "web", "MinSize": 0, "MaxSize": 2, "DesiredCapacity": 1,
        "LaunchTemplate": {"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"]},
        "VPCZoneIdentifier": SUBNET})
    [made] = store.all(AutoScalingGroup)
    token = "crash-0"
    with store.transaction() as tx:
        tx.edit(AutoScalingGroup, made.id).launching.append(
            Launch(client_token=token, subnet_id=SUBNET, activity_id="none"))
    run_instances(context, {"ImageId": "ami-0123456789abcdef0", "MinCount": 1, "MaxCount": 1,
                            "SubnetId": SUBNET, "ClientToken": token})
    scaler = Scaler(store)
    for _ in range(3):
        asyncio.run(scaler.converge(MOMENT))
    [after] = store.all(AutoScalingGroup)
    launched = list(store.all(Instance))  # the world holds no other instance
    assert [m.instance_id for m in after.instances] == [i.id for i in launched]
    assert launched[0].client_token == token and not after.launching
    assert launched[0].tags["aws:autoscaling:groupName"] == "web"
