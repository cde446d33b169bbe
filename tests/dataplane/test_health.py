"""Health checks for real, failover, and deregistration that drains."""

from __future__ import annotations

import pytest

from pocketlink.instances.userdata import Instances
from pocketlink.seeds.httpd import ACCESS_LOG, PID_FILE, httpd_user_data
from tests.conftest import PROVIDER, settled, wait_for
from tests.network.conftest import dual_stack_vpc, launch, run_in, web_group


@pytest.fixture(scope="module")
def pool(make_daemon):
    """Two httpd targets behind an NLB whose HTTP health checks run every 5 s."""
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    elb = daemon.client("elbv2", PROVIDER, "us-west-2")
    vpc, subnet = dual_stack_vpc(ec2)
    group = web_group(ec2, vpc["VpcId"], 80)
    targets = [launch(ec2, subnet, SecurityGroupIds=[group],
                      UserData=httpd_user_data())[0] for _ in range(2)]
    [client] = launch(ec2, subnet)
    balancer = elb.create_load_balancer(Name="pool", Type="network", Scheme="internal",
                                        Subnets=[subnet])["LoadBalancers"][0]
    target_group = elb.create_target_group(
        Name="pool", Protocol="TCP", Port=80, VpcId=vpc["VpcId"], HealthCheckProtocol="HTTP",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
        UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=target_group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    elb.register_targets(TargetGroupArn=target_group,
                         Targets=[{"Id": t["InstanceId"]} for t in targets])
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    return {"ec2": ec2, "elb": elb, "group": target_group, "targets": targets, "client": client,
            "name": balancer["DNSName"], "instances": Instances(daemon.state.parent / "instances")}


def health(pool) -> dict[str, tuple[str, str | None]]:
    found = pool["elb"].describe_target_health(TargetGroupArn=pool["group"])
    return {d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
            for d in found["TargetHealthDescriptions"]}


def served_by(pool) -> str:
    answer = run_in(pool["client"]["InstanceId"], "curl", "-s", "-m", "3", f"http://{pool['name']}/")
    return answer.stdout


def test_targets_turn_healthy_and_the_checks_say_who_they_are(pool):
    a, b = (t["InstanceId"] for t in pool["targets"])
    wait_for(lambda: health(pool) == {a: ("healthy", None), b: ("healthy", None)})
    log = pool["instances"].path(a, ACCESS_LOG).read_text()  # from the host
    assert '"GET / HTTP/1.1" 200' in log and '"ELB-HealthChecker/2.0"' in log


def test_a_target_whose_server_stops_turns_unhealthy_and_new_flows_avoid_it(pool):
    a, b = pool["targets"]
    wait_for(lambda: {s for s, _ in health(pool).values()} == {"healthy"})
    pages = {served_by(pool) for _ in range(12)}
    assert len(pages) == 2  # the flow hash spreads flows over both
    stopped = run_in(a["InstanceId"], "sh", "-c", f"kill $(cat {PID_FILE})")
    assert stopped.returncode == 0, stopped.stderr
    # interval 5 s x unhealthy threshold 2, and some slack for a busy machine
    wait_for(lambda: health(pool)[a["InstanceId"]][0] == "unhealthy")
    assert health(pool)[a["InstanceId"]][1] == "Target.FailedHealthChecks"
    b_page = run_in(pool["client"]["InstanceId"], "curl", "-s", "-m", "3",
                    f"http://{b['PrivateIpAddress']}/").stdout
    assert all(served_by(pool) == b_page for _ in range(12))


def test_a_stopped_instance_is_an_unused_target(pool):
    a, _ = pool["targets"]
    pool["ec2"].stop_instances(InstanceIds=[a["InstanceId"]])
    settled(pool["ec2"], [a["InstanceId"]])
    assert health(pool)[a["InstanceId"]] == ("unused", "Target.InvalidState")


def test_deregistration_drains_then_the_target_is_gone(pool):
    _, b = pool["targets"]
    pool["elb"].deregister_targets(TargetGroupArn=pool["group"], Targets=[{"Id": b["InstanceId"]}])
    assert health(pool)[b["InstanceId"]] == ("draining", "Target.DeregistrationInProgress")
    wait_for(lambda: b["InstanceId"] not in health(pool))
