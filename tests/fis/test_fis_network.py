"""FIS experiments on a real network: a subnet cut off by aws:network:disrupt-connectivity
(its client cannot reach the other subnet's web server, can still reach its own subnet's
and still resolve names, as a network ACL denying all allows), the fault listed by
``pocketlink fault list`` and gone when the experiment is stopped or runs out; instances
stopped and started again by aws:ec2:stop-instances."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pocketlink.harness import PROVIDER
from tests.conftest import settled, wait_for
from tests.fis.conftest import ROLE, checked, disrupt_template
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, curl, launch, run_in, web_group

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="FIS's faults need namespaces (root)")


@pytest.fixture(scope="module")
def world(make_daemon) -> dict:
    daemon = make_daemon()
    ec2 = checked(daemon, "ec2", PROVIDER)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    cut, other = (ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")["Subnet"]
                  for n in (1, 2))
    ec2.create_tags(Resources=[cut["SubnetId"]], Tags=[{"Key": "chaos", "Value": "yes"}])
    group = web_group(ec2, vpc)
    near, far = (launch(ec2, s["SubnetId"], SecurityGroupIds=[group], UserData=WEB_USER_DATA)[0]
                 for s in (cut, other))
    client = launch(ec2, cut["SubnetId"])[0]["InstanceId"]
    made = {"daemon": daemon, "ec2": ec2, "fis": checked(daemon, "fis", PROVIDER),
            "cut": cut, "client": client, "far_name": far["PrivateDnsName"],
            "near": f"http://{near['PrivateIpAddress']}:{WEB_PORT}/",
            "far": f"http://{far['PrivateIpAddress']}:{WEB_PORT}/"}
    wait_for(lambda: _reaches(made, "far") and _reaches(made, "near"), "both web servers", 60)
    return made


def _reaches(world: dict, which: str) -> bool:
    return "Hello World" in curl(world["client"], world[which]).stdout


def _faults(world: dict) -> str:
    return subprocess.run([sys.executable, "-m", "pocketlink", "fault", "list", "--state",
                           str(world["daemon"].state)], capture_output=True, text=True,
                          timeout=30).stdout


def _status(world: dict, experiment_id: str) -> str:
    return world["fis"].get_experiment(id=experiment_id)["experiment"]["state"]["status"]


def test_a_subnet_cut_off_until_the_experiment_is_stopped(world):
    fis = world["fis"]
    template = disrupt_template(fis, PROVIDER, [world["cut"]["SubnetArn"]], "PT10M")
    experiment = fis.start_experiment(experimentTemplateId=template["id"])["experiment"]["id"]
    wait_for(lambda: _status(world, experiment) == "running" and not _reaches(world, "far"),
             "the other subnet out of reach")
    assert _reaches(world, "near")  # inside the subnet: no network ACL in the way
    resolved = run_in(world["client"], "dig", "+short", "+time=2", "+tries=1",
                      world["far_name"])
    assert resolved.stdout.strip(), "the resolver is spared, as at AWS"
    listed = _faults(world)
    assert f"disrupt-subnet {world['cut']['SubnetId']}" in listed
    assert f"(FIS experiment {experiment})" in listed
    fis.stop_experiment(id=experiment)
    wait_for(lambda: _status(world, experiment) == "stopped", "the experiment stopped")
    assert _faults(world).strip() == "no faults"
    wait_for(lambda: _reaches(world, "far"), "the other subnet in reach again")
    action = fis.get_experiment(id=experiment)["experiment"]["actions"]["cut"]
    assert action["state"]["status"] == "stopped"


def test_a_subnet_by_tag_cut_off_for_the_action_s_duration(world):
    fis = world["fis"]
    template = fis.create_experiment_template(
        description="by tag", roleArn=ROLE.format(PROVIDER), stopConditions=[{"source": "none"}],
        targets={"tagged": {"resourceType": "aws:ec2:subnet", "resourceTags": {"chaos": "yes"},
                            "filters": [{"path": "CidrBlock", "values": ["10.0.1.0/24"]}],
                            "selectionMode": "COUNT(1)"}},
        actions={"cut": {"actionId": "aws:network:disrupt-connectivity",
                         "parameters": {"duration": "PT8S"},
                         "targets": {"Subnets": "tagged"}}})["experimentTemplate"]
    experiment = fis.start_experiment(experimentTemplateId=template["id"])["experiment"]["id"]
    wait_for(lambda: not _reaches(world, "far"), "the other subnet out of reach")
    wait_for(lambda: _status(world, experiment) == "completed", "the experiment completed", 60)
    assert _faults(world).strip() == "no faults"
    wait_for(lambda: _reaches(world, "far"), "the other subnet in reach again")


def test_instances_stopped_then_started_again(world):
    fis, ec2 = world["fis"], world["ec2"]
    victim = launch(ec2, world["cut"]["SubnetId"], TagSpecifications=[{
        "ResourceType": "instance", "Tags": [{"Key": "victim", "Value": "yes"}]}])[0]["InstanceId"]
    template = fis.create_experiment_template(
        description="stop", roleArn=ROLE.format(PROVIDER), stopConditions=[{"source": "none"}],
        targets={"victims": {"resourceType": "aws:ec2:instance",
                             "resourceTags": {"victim": "yes"},
                             "filters": [{"path": "State.Name", "values": ["running"]}],
                             "selectionMode": "ALL"}},
        actions={"stop": {"actionId": "aws:ec2:stop-instances",
                          "parameters": {"startInstancesAfterDuration": "PT5S"},
                          "targets": {"Instances": "victims"}}})["experimentTemplate"]
    experiment = fis.start_experiment(experimentTemplateId=template["id"])["experiment"]["id"]
    wait_for(lambda: settled(ec2, [victim])[victim] == "stopped", "the instance stopped", 60)
    wait_for(lambda: _status(world, experiment) == "completed", "the experiment completed", 60)
    wait_for(lambda: settled(ec2, [victim])[victim] == "running", "the instance running", 60)
    ec2.terminate_instances(InstanceIds=[victim])


def test_the_cli_disrupts_a_subnet_too(world):
    state = str(world["daemon"].state)
    made = subprocess.run([sys.executable, "-m", "pocketlink", "fault", "disrupt-subnet",
                           "--subnet", world["cut"]["SubnetId"], "--state", state],
                          capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr
    try:
        wait_for(lambda: not _reaches(world, "far"), "the other subnet out of reach")
    finally:
        subprocess.run([sys.executable, "-m", "pocketlink", "fault", "clear", "--state", state],
                       capture_output=True, text=True, timeout=30)
    wait_for(lambda: _reaches(world, "far"), "the other subnet in reach again")
