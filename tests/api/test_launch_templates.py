"""Launch templates: versions, $Default/$Latest, the default version, deletes, EC2's errors,
and RunInstances from a template."""

from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import AMI

SCRIPT = base64.b64encode(b"#!/bin/sh\necho hello\n").decode()


def code_of(call, **params) -> str:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"]


@pytest.fixture
def template(ec2, request) -> dict:
    return ec2.create_launch_template(
        LaunchTemplateName=f"web-{request.node.name[-40:].replace('[', '').replace(']', '')}",
        VersionDescription="first",
        LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro", "UserData": SCRIPT,
                            "MetadataOptions": {"HttpTokens": "required",
                                                "HttpPutResponseHopLimit": 2}},
        TagSpecifications=[{"ResourceType": "launch-template",
                            "Tags": [{"Key": "team", "Value": "web"}]}])["LaunchTemplate"]


def test_a_template_starts_at_version_one_and_describes_its_data(ec2, template):
    assert template["LaunchTemplateId"].startswith("lt-")
    assert (template["DefaultVersionNumber"], template["LatestVersionNumber"]) == (1, 1)
    [described] = ec2.describe_launch_templates(
        LaunchTemplateIds=[template["LaunchTemplateId"]])["LaunchTemplates"]
    assert described["Tags"] == [{"Key": "team", "Value": "web"}]
    [version] = ec2.describe_launch_template_versions(
        LaunchTemplateId=template["LaunchTemplateId"])["LaunchTemplateVersions"]
    data = version["LaunchTemplateData"]
    assert version["DefaultVersion"] is True and version["VersionDescription"] == "first"
    assert data["ImageId"] == AMI and data["UserData"] == SCRIPT
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 2


def test_versions_from_a_source_and_the_default_moves_only_when_asked(ec2, template):
    lt = template["LaunchTemplateId"]
    second = ec2.create_launch_template_version(
        LaunchTemplateId=lt, SourceVersion="1",
        LaunchTemplateData={"InstanceType": "t3.small"})["LaunchTemplateVersion"]
    assert second["VersionNumber"] == 2 and second["DefaultVersion"] is False
    assert second["LaunchTemplateData"]["ImageId"] == AMI  # from the source version
    assert second["LaunchTemplateData"]["InstanceType"] == "t3.small"

    def versions(*wanted):
        return [v["VersionNumber"] for v in ec2.describe_launch_template_versions(
            LaunchTemplateId=lt, Versions=list(wanted))["LaunchTemplateVersions"]]
    assert versions("$Default", "$Latest") == [1, 2]
    modified = ec2.modify_launch_template(LaunchTemplateId=lt, DefaultVersion="2")
    assert modified["LaunchTemplate"]["DefaultVersionNumber"] == 2
    assert versions("$Default") == [2]
    defaults = ec2.describe_launch_template_versions(
        LaunchTemplateId=lt, Filters=[{"Name": "is-default-version", "Values": ["true"]}])
    assert [v["VersionNumber"] for v in defaults["LaunchTemplateVersions"]] == [2]
    deleted = ec2.delete_launch_template_versions(LaunchTemplateId=lt, Versions=["1", "2", "7"])
    assert [v["VersionNumber"] for v in deleted["SuccessfullyDeletedLaunchTemplateVersions"]] \
        == [1]
    refused = {v["VersionNumber"]: v["ResponseError"]["Code"]
               for v in deleted["UnsuccessfullyDeletedLaunchTemplateVersions"]}
    assert refused == {2: "unexpectedError", 7: "launchTemplateVersionDoesNotExist"}


def test_a_create_retried_with_its_client_token_gets_the_same_template(ec2):
    made = [ec2.create_launch_template(LaunchTemplateName="retried", ClientToken="once",
                                       LaunchTemplateData={"ImageId": AMI})["LaunchTemplate"]
            for _ in range(2)]
    assert made[0]["LaunchTemplateId"] == made[1]["LaunchTemplateId"]
    ec2.delete_launch_template(LaunchTemplateName="retried")


def test_the_errors_ec2_gives(ec2, template):
    name, lt = template["LaunchTemplateName"], template["LaunchTemplateId"]
    assert code_of(ec2.create_launch_template, LaunchTemplateName=name,
                   LaunchTemplateData={"ImageId": AMI}) == \
        "InvalidLaunchTemplateName.AlreadyExistsException"
    assert code_of(ec2.create_launch_template, LaunchTemplateName="a b",
                   LaunchTemplateData={"ImageId": AMI}) == \
        "InvalidLaunchTemplateName.MalformedException"
    assert code_of(ec2.describe_launch_templates, LaunchTemplateIds=["lt-0123456789abcdef0"]) \
        == "InvalidLaunchTemplateId.NotFound"
    assert code_of(ec2.describe_launch_templates, LaunchTemplateIds=["nope"]) == \
        "InvalidLaunchTemplateId.Malformed"
    assert code_of(ec2.describe_launch_template_versions, LaunchTemplateName="no-such") == \
        "InvalidLaunchTemplateName.NotFoundException"
    assert code_of(ec2.describe_launch_template_versions, LaunchTemplateId=lt,
                   Versions=["9"]) == "InvalidLaunchTemplateId.VersionNotFound"
    assert code_of(ec2.modify_launch_template, LaunchTemplateId=lt, DefaultVersion="3") == \
        "InvalidLaunchTemplateId.VersionNotFound"
    assert code_of(ec2.create_launch_template, LaunchTemplateName="bad-data",
                   LaunchTemplateData={"UserData": "not base64!"}) == "InvalidParameterValue"
    assert code_of(ec2.create_launch_template, LaunchTemplateName="bad-ami",
                   LaunchTemplateData={"ImageId": "image-1"}) == "InvalidAMIID.Malformed"


def test_run_instances_from_a_template_takes_its_data_and_the_call_wins(
        ec2, template, make_vpc):
    vpc = make_vpc("10.9.0.0/16")
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.9.1.0/24")["Subnet"]
    lt = template["LaunchTemplateId"]
    [instance] = ec2.run_instances(MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"],
                                   InstanceType="t3.large",
                                   LaunchTemplate={"LaunchTemplateId": lt})["Instances"]
    assert instance["ImageId"] == AMI and instance["InstanceType"] == "t3.large"
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert code_of(ec2.run_instances, MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"],
                   LaunchTemplate={"LaunchTemplateId": lt, "Version": "5"}) == \
        "InvalidLaunchTemplateId.VersionNotFound"
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


def test_delete_takes_the_template_and_its_versions(ec2, template):
    lt = template["LaunchTemplateId"]
    gone = ec2.delete_launch_template(LaunchTemplateId=lt)["LaunchTemplate"]
    assert gone["LaunchTemplateId"] == lt
    assert code_of(ec2.describe_launch_template_versions, LaunchTemplateId=lt) == \
        "InvalidLaunchTemplateId.NotFound"
