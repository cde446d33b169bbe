"""Auto Scaling groups through the API (no network: an instance runs as soon as it is
stored): capacity across zones, SetDesiredCapacity both ways, terminations with and without
decrement, replacement of an instance EC2 stopped, activities, deletes and AWS's errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import AMI
from tests.conftest import wait_for


def error_of(call, **params) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.fixture
def asg(client):
    return client("autoscaling", "111111111111")


@pytest.fixture
def world(ec2, make_vpc, request) -> dict:
    """A VPC with subnets in two zones and a launch template."""
    vpc = make_vpc("10.20.0.0/16")
    subnets = [ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"10.20.{i}.0/24",
                                 AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))]
    name = request.node.name.replace("[", "").replace("]", "")[-60:]
    template = ec2.create_launch_template(
        LaunchTemplateName=f"lt-{name}",
        LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro",
                            "MetadataOptions": {"HttpTokens": "required"}})["LaunchTemplate"]
    return {"vpc": vpc["VpcId"], "subnets": subnets, "template": template, "name": name}


def members(asg, name: str) -> dict[str, dict]:
    [group] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return {i["InstanceId"]: i for i in group["Instances"]}


def in_service(asg, name: str, count: int) -> dict[str, dict]:
    def settled():
        found = members(asg, name)
        return found if len(found) == count and all(
            i["LifecycleState"] == "InService" for i in found.values()) else None
    return wait_for(settled, f"{count} instances in service in {name}", timeout=60)


def make_group(asg, world, desired: int, **params) -> str:
    name = world["name"]
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=params.pop("MinSize", 0), MaxSize=5,
        DesiredCapacity=desired,
        LaunchTemplate={"LaunchTemplateId": world["template"]["LaunchTemplateId"],
                        "Version": "$Latest"},
        VPCZoneIdentifier=",".join(world["subnets"]), **params)
    return name


def test_a_group_launches_its_desired_capacity_across_its_zones(asg, ec2, world):
    name = make_group(asg, world, 3, Tags=[{"Key": "app", "Value": "web",
                                            "PropagateAtLaunch": True}])
    found = in_service(asg, name, 3)
    zones = sorted(i["AvailabilityZone"] for i in found.values())
    assert zones in (["us-east-1a", "us-east-1a", "us-east-1b"],
                     ["us-east-1a", "us-east-1b", "us-east-1b"])
    reservations = ec2.describe_instances(InstanceIds=list(found))["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert {i["State"]["Name"] for i in instances} == {"running"}
    assert all(i["MetadataOptions"]["HttpTokens"] == "required" for i in instances)
    tags = {t["Key"]: t["Value"] for t in instances[0]["Tags"]}
    assert tags == {"app": "web", "aws:autoscaling:groupName": name}
    activities = asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
    assert sorted(a["Description"] for a in activities) == sorted(
        f"Launching a new EC2 instance: {i}" for i in found)
    assert all(a["StatusCode"] == "Successful" for a in activities)
    assert {json.loads(a["Details"])["Availability Zone"] for a in activities} == {
        "us-east-1a", "us-east-1b"}
    assert "a user request created an AutoScalingGroup changing the desired capacity from " \
        "0 to 3" in activities[0]["Cause"]
    rows = asg.describe_auto_scaling_instances(InstanceIds=list(found))["AutoScalingInstances"]
    assert {r["AutoScalingGroupName"] for r in rows} == {name}


def test_set_desired_capacity_scales_in_by_zone_then_out_again(asg, ec2, world):
    name = make_group(asg, world, 3)
    first = in_service(asg, name, 3)
    asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    [kept] = in_service(asg, name, 1)
    gone = set(first) - {kept}
    wait_for(lambda: {i["State"]["Name"] for r in ec2.describe_instances(
        InstanceIds=list(gone))["Reservations"] for i in r["Instances"]} == {"terminated"})
    zones = [first[i]["AvailabilityZone"] for i in gone]
    assert sorted(zones) == ["us-east-1a", "us-east-1b"]  # one from each zone: balanced
    terminating = [a for a in asg.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"] if a["Description"].startswith("Terminating")]
    assert len(terminating) == 2
    assert "explicitly set group desired capacity changing the desired capacity from 3 to 1" \
        in terminating[0]["Cause"] and "was selected for termination" in terminating[0]["Cause"]
    assert all("shrinking the capacity from 3 to 1." in a["Cause"] for a in terminating)
    asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=2)
    assert kept in in_service(asg, name, 2)


def test_terminating_an_instance_with_and_without_decrement(asg, world):
    name = make_group(asg, world, 2, MinSize=1)
    first = list(in_service(asg, name, 2))
    activity = asg.terminate_instance_in_auto_scaling_group(
        InstanceId=first[0], ShouldDecrementDesiredCapacity=False)["Activity"]
    assert activity["Description"] == f"Terminating EC2 instance: {first[0]}"
    assert activity["Cause"].endswith("in response to a user request.")
    replaced = in_service(asg, name, 2)
    assert first[0] not in replaced and first[1] in replaced
    asg.terminate_instance_in_auto_scaling_group(InstanceId=first[1],
                                                 ShouldDecrementDesiredCapacity=True)
    [last] = in_service(asg, name, 1)
    [group] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert group["DesiredCapacity"] == 1
    code, message = error_of(asg.terminate_instance_in_auto_scaling_group, InstanceId=last,
                             ShouldDecrementDesiredCapacity=True)
    assert code == "ValidationError" and "min size constraint" in message


def test_an_instance_ec2_stopped_is_replaced(asg, ec2, world):
    name = make_group(asg, world, 1)
    [first] = in_service(asg, name, 1)
    ec2.stop_instances(InstanceIds=[first])
    wait_for(lambda: first not in members(asg, name) and len(members(asg, name)) == 1)
    causes = [a["Cause"] for a in asg.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"] if first in a["Description"]]
    assert any("EC2 health check indicating it has been terminated or stopped" in c
               for c in causes)


def test_delete_refuses_a_busy_group_and_force_delete_empties_it(asg, ec2, world):
    name = make_group(asg, world, 2)
    instances = in_service(asg, name, 2)
    code, message = error_of(asg.delete_auto_scaling_group, AutoScalingGroupName=name)
    assert code == "ResourceInUse"
    assert message == ("You cannot delete an AutoScalingGroup while there are instances "
                       "still in the group.")
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    wait_for(lambda: not asg.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"])
    states = {i["State"]["Name"] for r in ec2.describe_instances(
        InstanceIds=list(instances))["Reservations"] for i in r["Instances"]}
    assert states <= {"shutting-down", "terminated"}


def test_the_errors_auto_scaling_gives(asg, world):
    name = make_group(asg, world, 0)
    spec = {"LaunchTemplateId": world["template"]["LaunchTemplateId"]}
    subnets = ",".join(world["subnets"])
    assert error_of(asg.create_auto_scaling_group, AutoScalingGroupName=name, MinSize=0,
                    MaxSize=1, LaunchTemplate=spec, VPCZoneIdentifier=subnets)[0] == \
        "AlreadyExists"
    assert error_of(asg.create_auto_scaling_group, AutoScalingGroupName="x", MinSize=2,
                    MaxSize=1, LaunchTemplate=spec, VPCZoneIdentifier=subnets) == \
        ("ValidationError", "Max bound, 1, must be greater than or equal to min bound, 2")
    assert error_of(asg.create_auto_scaling_group, AutoScalingGroupName="x", MinSize=0,
                    MaxSize=1, DesiredCapacity=4, LaunchTemplate=spec,
                    VPCZoneIdentifier=subnets) == \
        ("ValidationError", "Desired capacity:4 must be between the specified min size:0 "
         "and max size:1")
    code, message = error_of(asg.create_auto_scaling_group, AutoScalingGroupName="x",
                             MinSize=0, MaxSize=1, VPCZoneIdentifier=subnets,
                             LaunchTemplate={"LaunchTemplateId": "lt-0123456789abcdef0"})
    assert code == "ValidationError" and message.startswith(
        "You must use a valid fully-formed launch template.")
    assert error_of(asg.update_auto_scaling_group, AutoScalingGroupName=name,
                    MinSize=-1)[0] == "ValidationError"
    assert error_of(asg.set_desired_capacity, AutoScalingGroupName=name, DesiredCapacity=9) \
        == ("ValidationError", "New SetDesiredCapacity value 9 is above max value 5 for the "
            "AutoScalingGroup.")
    assert error_of(asg.set_desired_capacity, AutoScalingGroupName="no-such-group",
                    DesiredCapacity=1)[0] == "ValidationError"
    assert error_of(asg.create_auto_scaling_group, AutoScalingGroupName="x", MinSize=0,
                    MaxSize=1, LaunchTemplate=spec, VPCZoneIdentifier=subnets,
                    TargetGroupARNs=["arn:aws:elasticloadbalancing:us-east-1:111111111111:"
                                     "targetgroup/none/0123456789abcdef"]) == \
        ("ValidationError", "Provided Target Groups may not be valid. Please ensure they "
         "exist and try again.")
    asg.delete_auto_scaling_group(AutoScalingGroupName=name)
    assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"] == []


def test_a_launch_ec2_refuses_is_a_failed_activity_with_ec2s_reason(asg, ec2, world):
    broken = ec2.create_launch_template_version(
        LaunchTemplateId=world["template"]["LaunchTemplateId"], SourceVersion="1",
        LaunchTemplateData={"SecurityGroupIds": ["sg-0123456789abcdef0"]})
    assert broken["LaunchTemplateVersion"]["VersionNumber"] == 2
    name = make_group(asg, world, 1)  # from $Latest: the version naming no such group

    def failed():
        return [a for a in asg.describe_scaling_activities(AutoScalingGroupName=name)[
            "Activities"] if a["StatusCode"] == "Failed"]
    [activity, *_] = wait_for(failed, "a failed launch")
    assert activity["Description"].startswith("Launching a new EC2 instance.  Status Reason:")
    assert "sg-0123456789abcdef0" in activity["StatusMessage"]
    assert members(asg, name) == {}


def test_the_aws_cli_drives_a_group_and_its_waiter(cli_env, world):
    """``aws autoscaling`` as a person types it, and the CLI's own waiter on the instances."""
    def aws(*args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "awscli", *args, "--output", "json"],
                              env=cli_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    name = f"cli-{world['name'][-40:]}"
    aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", name,
        "--launch-template", f"LaunchTemplateId={world['template']['LaunchTemplateId']}",
        "--min-size", "1", "--max-size", "2", "--vpc-zone-identifier", world["subnets"][0])
    [group] = wait_for(lambda: [g for g in aws(
        "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names",
        name)["AutoScalingGroups"] if g["Instances"]], "the CLI's group launched")
    instance = group["Instances"][0]["InstanceId"]
    aws("ec2", "wait", "instance-running", "--instance-ids", instance)
    aws("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", name,
        "--force-delete")


def test_a_template_s_instance_profile_is_asked_of_iam_for_runinstances_and_the_group(
        client, asg, ec2, world):
    iam = client("iam", "111111111111")
    profile = f"app-{world['name'][-40:]}"
    iam.create_instance_profile(InstanceProfileName=profile)
    template = ec2.create_launch_template(
        LaunchTemplateName=f"profiled-{world['name'][-40:]}",
        LaunchTemplateData={"ImageId": AMI, "IamInstanceProfile": {"Name": profile}}
    )["LaunchTemplate"]["LaunchTemplateId"]
    [direct] = ec2.run_instances(MinCount=1, MaxCount=1, SubnetId=world["subnets"][0],
                                 LaunchTemplate={"LaunchTemplateId": template})["Instances"]
    assert direct["IamInstanceProfile"]["Arn"].endswith(f":instance-profile/{profile}")
    name = world["name"]
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=1, MaxSize=1,
                                  LaunchTemplate={"LaunchTemplateId": template},
                                  VPCZoneIdentifier=world["subnets"][0])
    [launched] = in_service(asg, name, 1)
    [reservation] = ec2.describe_instances(InstanceIds=[launched])["Reservations"]
    assert reservation["Instances"][0]["IamInstanceProfile"]["Arn"].endswith(
        f":instance-profile/{profile}")
    ec2.terminate_instances(InstanceIds=[direct["InstanceId"]])


def test_tags_of_a_group_and_those_its_next_instances_get(asg, ec2, world):
    name = make_group(asg, world, 0)
    asg.create_or_update_tags(Tags=[
        {"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": "team",
         "Value": "web", "PropagateAtLaunch": True},
        {"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": "cost",
         "Value": "1", "PropagateAtLaunch": False}])
    described = asg.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": [name]}])
    assert {(t["Key"], t["Value"], t["PropagateAtLaunch"]) for t in described["Tags"]} == {
        ("team", "web", True), ("cost", "1", False)}
    asg.delete_tags(Tags=[{"ResourceId": name, "ResourceType": "auto-scaling-group",
                           "Key": "cost"}])
    asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    [launched] = in_service(asg, name, 1)
    [reservation] = ec2.describe_instances(InstanceIds=[launched])["Reservations"]
    tags = {t["Key"]: t["Value"] for t in reservation["Instances"][0]["Tags"]}
    assert tags == {"team": "web", "aws:autoscaling:groupName": name}
    assert error_of(asg.create_or_update_tags, Tags=[
        {"ResourceId": "no-such-group", "ResourceType": "auto-scaling-group", "Key": "k",
         "Value": "v", "PropagateAtLaunch": False}])[0] == "ValidationError"


def test_a_template_giving_the_network_interface_gets_the_group_s_subnet_on_it(
        asg, ec2, world):
    group = ec2.create_security_group(GroupName="eni", Description="eni",
                                      VpcId=world["vpc"])["GroupId"]
    template = ec2.create_launch_template(
        LaunchTemplateName=f"eni-{world['name'][-40:]}",
        LaunchTemplateData={"ImageId": AMI, "NetworkInterfaces": [
            {"DeviceIndex": 0, "Groups": [group]}]})["LaunchTemplate"]["LaunchTemplateId"]
    name = world["name"]
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=1, MaxSize=1,
                                  LaunchTemplate={"LaunchTemplateId": template},
                                  VPCZoneIdentifier=world["subnets"][1])
    [launched] = in_service(asg, name, 1)
    [reservation] = ec2.describe_instances(InstanceIds=[launched])["Reservations"]
    instance = reservation["Instances"][0]
    assert instance["SubnetId"] == world["subnets"][1]
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group]
