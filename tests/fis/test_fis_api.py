"""FIS's API on the shared API-only daemon: templates as FIS keeps them, the actions and
resource types pocketlink performs, what it refuses (and says why), experiments through
their states, tags. The network behaviour is test_fis_network.py's."""

from __future__ import annotations

import re

import pytest

from pocketlink.faults.fis_catalog import duration, select, valid_selection
from pocketlink.polling import wait_for
from tests.fis.conftest import ROLE, disrupt_template
from tests.privatelink.conftest import aws_error

TEMPLATE_ID = re.compile(r"^EXT[A-Za-z0-9]{14}$")
EXPERIMENT_ID = re.compile(r"^EXP[A-Za-z0-9]{14}$")


@pytest.fixture
def fis(client):
    return client("fis")


@pytest.fixture
def subnet(client) -> dict:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]


def _state(fis, experiment_id: str) -> str:
    return fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"]


def test_a_template_as_fis_keeps_it(fis, account, subnet):
    made = disrupt_template(fis, account, [subnet["SubnetArn"]], tags={"team": "sre"})
    assert TEMPLATE_ID.match(made["id"])
    assert made["arn"] == f"arn:aws:fis:us-east-1:{account}:experiment-template/{made['id']}"
    got = fis.get_experiment_template(id=made["id"])["experimentTemplate"]
    assert got["targets"]["subnets"] == {"resourceType": "aws:ec2:subnet", "resourceArns": [
        subnet["SubnetArn"]], "selectionMode": "ALL"}
    assert got["actions"]["cut"]["parameters"] == {"duration": "PT5M", "scope": "all"}
    assert got["stopConditions"] == [{"source": "none"}]
    assert got["experimentOptions"] == {"accountTargeting": "single-account",
                                        "emptyTargetResolutionMode": "fail"}
    assert got["tags"] == {"team": "sre"}
    listed = fis.list_experiment_templates()["experimentTemplates"]
    assert [t["id"] for t in listed] == [made["id"]]
    updated = fis.update_experiment_template(id=made["id"], description="new")
    assert updated["experimentTemplate"]["description"] == "new"
    fis.delete_experiment_template(id=made["id"])
    with aws_error("ResourceNotFoundException"):
        fis.get_experiment_template(id=made["id"])


def test_the_actions_and_resource_types_pocketlink_performs(fis):
    ids = {a["id"] for a in fis.list_actions()["actions"]}
    assert ids == {"aws:fis:wait", "aws:network:disrupt-connectivity",
                   "aws:ec2:stop-instances", "aws:ec2:terminate-instances"}
    action = fis.get_action(id="aws:network:disrupt-connectivity")["action"]
    assert action["targets"] == {"Subnets": {"resourceType": "aws:ec2:subnet"}}
    assert action["parameters"]["duration"]["required"] is True
    assert action["parameters"]["scope"]["required"] is False
    with aws_error("ResourceNotFoundException"):
        fis.get_action(id="aws:rds:failover-db-cluster")
    types = {t["resourceType"] for t in fis.list_target_resource_types()["targetResourceTypes"]}
    assert types == {"aws:ec2:subnet", "aws:ec2:instance"}


@pytest.mark.parametrize(("change", "words"), [
    ({"actions": {"x": {"actionId": "aws:rds:failover-db-cluster"}}},
     "aws:rds:failover-db-cluster is not an action pocketlink can perform"),
    ({"actions": {"x": {"actionId": "aws:fis:wait"}}}, "requires the parameter duration"),
    ({"actions": {"x": {"actionId": "aws:fis:wait", "parameters": {"duration": "5m"}}}},
     "is not a duration"),
    ({"actions": {"x": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT13H"}}}},
     "is not a duration"),
    ({"actions": {"x": {"actionId": "aws:network:disrupt-connectivity", "parameters": {
        "duration": "PT1M", "scope": "s3"}, "targets": {"Subnets": "subnets"}}}},
     "scope s3 is not supported"),
    ({"actions": {"x": {"actionId": "aws:network:disrupt-connectivity", "parameters": {
        "duration": "PT1M"}, "targets": {"Subnets": "nowhere"}}}}, "is not defined"),
    ({"actions": {"x": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"},
                        "startAfter": ["y"]},
                  "y": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"},
                        "startAfter": ["x"]}}}, "cycle"),
    ({"stopConditions": [{"source": "aws:cloudwatch:alarm",
                          "value": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:a"}]},
     "serves no CloudWatch alarms"),
    ({"targets": {"subnets": {"resourceType": "aws:rds:cluster", "resourceTags": {"a": "b"},
                              "selectionMode": "ALL"}}}, "resource type aws:rds:cluster"),
    ({"targets": {"subnets": {"resourceType": "aws:ec2:subnet", "resourceTags": {"a": "b"},
                              "selectionMode": "SOME"}}}, "selection mode SOME"),
    ({"targets": {"subnets": {"resourceType": "aws:ec2:subnet", "selectionMode": "ALL"}}},
     "either resourceArns or resourceTags"),
])
def test_what_pocketlink_refuses_says_why(fis, account, change, words):
    template = {"description": "d", "roleArn": ROLE.format(account),
                "stopConditions": [{"source": "none"}],
                "targets": {"subnets": {"resourceType": "aws:ec2:subnet",
                                        "resourceTags": {"a": "b"}, "selectionMode": "ALL"}},
                "actions": {"wait": {"actionId": "aws:fis:wait",
                                     "parameters": {"duration": "PT1M"}}}} | change
    with aws_error("ValidationException") as caught:
        fis.create_experiment_template(**template)
    assert words in caught.value.response["Error"]["Message"]


def test_an_experiment_through_its_states(fis, account):
    template = fis.create_experiment_template(
        description="wait, then wait", roleArn=ROLE.format(account),
        stopConditions=[{"source": "none"}], actions={
            "first": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1S"}},
            "second": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1S"},
                       "startAfter": ["first"]}})["experimentTemplate"]
    started = fis.start_experiment(experimentTemplateId=template["id"],
                                   tags={"run": "1"})["experiment"]
    assert EXPERIMENT_ID.match(started["id"])
    assert started["state"]["status"] == "initiating"
    wait_for(lambda: _state(fis, started["id"]) == "completed", "the experiment completed")
    done = fis.get_experiment(id=started["id"])["experiment"]
    first, second = done["actions"]["first"], done["actions"]["second"]
    assert first["state"]["status"] == second["state"]["status"] == "completed"
    assert first["endTime"] <= second["startTime"]  # second started after first
    assert done["endTime"] >= second["endTime"]
    listed = fis.list_experiments(experimentTemplateId=template["id"])["experiments"]
    assert [e["id"] for e in listed] == [started["id"]]
    assert fis.list_tags_for_resource(resourceArn=started["arn"])["tags"] == {"run": "1"}
    with aws_error("ValidationException"):
        fis.stop_experiment(id=started["id"])


def test_stopping_an_experiment_cancels_what_has_not_run(fis, account):
    template = fis.create_experiment_template(
        description="long", roleArn=ROLE.format(account), stopConditions=[{"source": "none"}],
        actions={"long": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1H"}},
                 "after": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"},
                           "startAfter": ["long"]}})["experimentTemplate"]
    started = fis.start_experiment(experimentTemplateId=template["id"])["experiment"]
    wait_for(lambda: fis.get_experiment(id=started["id"])["experiment"]["actions"]["long"][
        "state"]["status"] == "running", "the first action running")
    assert fis.stop_experiment(id=started["id"])["experiment"]["state"]["status"] == "stopping"
    wait_for(lambda: _state(fis, started["id"]) == "stopped", "the experiment stopped")
    actions = fis.get_experiment(id=started["id"])["experiment"]["actions"]
    assert (actions["long"]["state"]["status"], actions["after"]["state"]["status"]) == (
        "stopped", "cancelled")


def test_a_target_resolving_to_nothing_fails_the_experiment(fis, account):
    template = disrupt_template(
        fis, account, [f"arn:aws:ec2:us-east-1:{account}:subnet/subnet-00000000000000000"])
    started = fis.start_experiment(experimentTemplateId=template["id"])["experiment"]
    wait_for(lambda: _state(fis, started["id"]) == "failed", "the experiment failed")
    state = fis.get_experiment(id=started["id"])["experiment"]["state"]
    assert "empty" in state["reason"] and state["error"]["location"] == "targets.subnets"


def test_tags_on_a_template(fis, account, subnet):
    made = disrupt_template(fis, account, [subnet["SubnetArn"]])
    fis.tag_resource(resourceArn=made["arn"], tags={"a": "1", "b": "2"})
    fis.untag_resource(resourceArn=made["arn"], tagKeys=["a"])
    assert fis.list_tags_for_resource(resourceArn=made["arn"])["tags"] == {"b": "2"}
    with aws_error("ResourceNotFoundException"):
        fis.list_tags_for_resource(
            resourceArn=f"arn:aws:fis:us-east-1:{account}:experiment/EXP00000000000000")


def test_durations_and_selection_modes():
    assert duration("PT5M").total_seconds() == 300
    assert duration("PT1H30M").total_seconds() == 5400
    assert duration("PT1.5S").total_seconds() == 1.5
    assert duration("P1D").total_seconds() == 86400
    assert None is duration("PT") is duration("5M") is duration("P1DT")
    assert valid_selection("ALL") and valid_selection("COUNT(2)") and valid_selection(
        "PERCENT(50)")
    assert not valid_selection("PERCENT(101)") and not valid_selection("COUNT(-1)")
    assert select(["a", "b", "c"], "ALL") == ["a", "b", "c"]
    assert len(select(["a", "b", "c"], "COUNT(2)")) == 2
    assert len(select(["a", "b", "c"], "PERCENT(50)")) == 2
    assert len(select(["a", "b", "c"], "COUNT(9)")) == 3
