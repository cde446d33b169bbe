"""An Auto Scaling group survives a SIGKILL in the middle of its launches: the restarted
daemon finishes them and the group holds its desired capacity, no instance more."""

from __future__ import annotations

from tests.conftest import PROVIDER, wait_for

DESIRED = 6


def test_a_group_killed_while_launching_ends_with_its_desired_capacity(make_daemon) -> None:
    daemon = make_daemon("--no-network")
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    asg = daemon.client("autoscaling", PROVIDER, "us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    template = ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
        "ImageId": "ami-0123456789abcdef0"})["LaunchTemplate"]["LaunchTemplateId"]
    asg.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=DESIRED,
                                  DesiredCapacity=DESIRED, VPCZoneIdentifier=subnet,
                                  LaunchTemplate={"LaunchTemplateId": template})

    daemon.restart(kill=True)  # whatever the scaler had done of its launches by then

    def in_service() -> list[str] | None:
        [group] = asg.describe_auto_scaling_groups()["AutoScalingGroups"]
        ids = [i["InstanceId"] for i in group["Instances"] if i["LifecycleState"] == "InService"]
        return ids if len(ids) == DESIRED else None
    members = wait_for(in_service, "the group at its desired capacity", timeout=60)
    running = [i["InstanceId"] for r in ec2.describe_instances(Filters=[
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
        for i in r["Instances"]]
    assert sorted(running) == sorted(members)
    launches = [a for a in asg.describe_scaling_activities(AutoScalingGroupName="web")[
        "Activities"] if a["Description"].startswith("Launching")]
    assert len(launches) == DESIRED and {a["StatusCode"] for a in launches} == {"Successful"}
