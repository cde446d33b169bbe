"""How stacks fail and what clients match on: rollback removing what was made (the failed
event says why), DisableRollback, DeletionPolicy Retain, an unsupported type named, the
exact messages of missing stacks and empty change sets, parameters checked against the
account's resources, and the AWS CLI's ``cloudformation deploy``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.cloudformation.templates import FAILING, SMALL

FAST = {"Delay": 1, "MaxAttempts": 300}


def error_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]


def created(cfn, name: str) -> None:
    """The stack's CREATE_COMPLETE, or a failure that says which resources failed and why."""
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
    except WaiterError:
        failed = [(e["LogicalResourceId"], e.get("ResourceStatusReason"))
                  for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
                  if e["ResourceStatus"].endswith("_FAILED")]
        raise AssertionError(f"{name} was not created: {failed}") from None


def statuses(cfn, name: str) -> list[tuple[str, str]]:
    return [(e["LogicalResourceId"], e["ResourceStatus"])
            for e in reversed(cfn.describe_stack_events(StackName=name)["StackEvents"])]


def test_rollback_removes_what_was_created(cfn, clients):
    ec2 = clients("ec2")
    cfn.create_stack(StackName="fails", TemplateBody=FAILING)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="fails", WaiterConfig=FAST)
    stack = cfn.describe_stacks(StackName="fails")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == ("The following resource(s) failed to create: "
                                          "[Subnet]. Rollback requested by user.")
    events = cfn.describe_stack_events(StackName="fails")["StackEvents"]
    failed = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert failed["LogicalResourceId"] == "Subnet"
    assert "InvalidSubnet.Range" in failed["ResourceStatusReason"]
    assert "10.99.0.0/24" in failed["ResourceStatusReason"]
    order = statuses(cfn, "fails")
    deleted = [name for name, status in order if status == "DELETE_COMPLETE"]
    assert deleted == ["Subnet", "Group", "Vpc"]  # the failed one first, then in reverse
    assert order[-1] == ("fails", "ROLLBACK_COMPLETE")
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert cfn.describe_stack_resources(StackName="fails")["StackResources"] == []
    # A rolled-back stack cannot be updated, only deleted.
    assert error_of(cfn.update_stack, StackName="fails", TemplateBody=SMALL)["Message"] == (
        f"Stack:{stack['StackId']} is in ROLLBACK_COMPLETE state and can not be updated.")
    cfn.delete_stack(StackName="fails")
    cfn.get_waiter("stack_delete_complete").wait(StackName="fails", WaiterConfig=FAST)


def test_disable_rollback_keeps_what_was_made(cfn, clients):
    ec2 = clients("ec2")
    cfn.create_stack(StackName="kept", TemplateBody=FAILING, DisableRollback=True)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="kept", WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName="kept")["Stacks"][0]["StackStatus"] == "CREATE_FAILED"
    assert len([v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]) == 1
    cfn.delete_stack(StackName="kept")
    cfn.get_waiter("stack_delete_complete").wait(StackName="kept", WaiterConfig=FAST)
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []


def test_retain_keeps_a_resource_on_delete(cfn, clients):
    ssm = clients("ssm")
    template = SMALL.replace("    Type: AWS::SSM::Parameter\n",
                             "    Type: AWS::SSM::Parameter\n    DeletionPolicy: Retain\n")
    cfn.create_stack(StackName="retains", TemplateBody=template)
    cfn.get_waiter("stack_create_complete").wait(StackName="retains", WaiterConfig=FAST)
    name = cfn.describe_stacks(StackName="retains")["Stacks"][0]["Outputs"][0]["OutputValue"]
    cfn.delete_stack(StackName="retains")
    cfn.get_waiter("stack_delete_complete").wait(StackName="retains", WaiterConfig=FAST)
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "one"
    assert ("Parameter", "DELETE_SKIPPED") in statuses(
        cfn, cfn.list_stacks()["StackSummaries"][0]["StackId"])


def test_unsupported_type_fails_naming_it(cfn):
    template = SMALL + """  Widget:
    Type: AWS::Widgets::Widget
"""
    template = template.replace("Outputs:\n  Name: {Value: !Ref Parameter}\n", "") + \
        "Outputs:\n  Name: {Value: !Ref Parameter}\n"
    error = error_of(cfn.create_stack, StackName="widgets", TemplateBody=template)
    assert error["Code"] == "ValidationError"
    assert "[AWS::Widgets::Widget]" in error["Message"]
    cfn.create_change_set(StackName="widgets", ChangeSetName="one", TemplateBody=template,
                          ChangeSetType="CREATE")
    with pytest.raises(WaiterError):
        cfn.get_waiter("change_set_create_complete").wait(
            StackName="widgets", ChangeSetName="one", WaiterConfig=FAST)
    change_set = cfn.describe_change_set(StackName="widgets", ChangeSetName="one")
    assert change_set["Status"] == "FAILED"
    assert "[AWS::Widgets::Widget]" in change_set["StatusReason"]
    assert cfn.describe_stacks(StackName="widgets")["Stacks"][0]["StackStatus"] == \
        "REVIEW_IN_PROGRESS"
    cfn.delete_stack(StackName="widgets")
    cfn.get_waiter("stack_delete_complete").wait(StackName="widgets", WaiterConfig=FAST)


def test_messages_clients_match_on(cfn):
    assert error_of(cfn.describe_stacks, StackName="nowhere") == {
        "Type": "Sender", "Code": "ValidationError",
        "Message": "Stack with id nowhere does not exist"}
    error = error_of(cfn.describe_change_set, StackName="nowhere", ChangeSetName="cs")
    assert (error["Code"], error["Message"]) == ("ChangeSetNotFound",
                                                 "ChangeSet [cs] does not exist")
    cfn.delete_stack(StackName="nowhere")  # AWS: a delete of nothing succeeds
    cfn.create_stack(StackName="same", TemplateBody=SMALL)
    assert error_of(cfn.create_stack, StackName="same", TemplateBody=SMALL)["Code"] == \
        "AlreadyExistsException"
    cfn.get_waiter("stack_create_complete").wait(StackName="same", WaiterConfig=FAST)
    assert error_of(cfn.update_stack, StackName="same", TemplateBody=SMALL)["Message"] == \
        "No updates are to be performed."
    cfn.create_change_set(StackName="same", ChangeSetName="empty", TemplateBody=SMALL)
    with pytest.raises(WaiterError):
        cfn.get_waiter("change_set_create_complete").wait(
            StackName="same", ChangeSetName="empty", WaiterConfig=FAST)
    change_set = cfn.describe_change_set(StackName="same", ChangeSetName="empty")
    assert change_set["StatusReason"] == ("The submitted information didn't contain changes. "
                                          "Submit different information to create a change "
                                          "set.")
    assert change_set["ExecutionStatus"] == "UNAVAILABLE"
    assert error_of(cfn.execute_change_set, StackName="same",
                    ChangeSetName="empty")["Code"] == "InvalidChangeSetStatus"
    cfn.update_stack(StackName="same", TemplateBody=SMALL, Parameters=[
        {"ParameterKey": "Value", "ParameterValue": "two"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="same", WaiterConfig=FAST)
    cfn.delete_stack(StackName="same")
    cfn.get_waiter("stack_delete_complete").wait(StackName="same", WaiterConfig=FAST)


def test_parameters_checked(cfn):
    template = """
Parameters:
  Vpc: {Type: 'AWS::EC2::VPC::Id'}
  Size: {Type: Number, MinValue: 1, MaxValue: 3, Default: 2}
  Zone: {Type: 'AWS::Route53::HostedZone::Id', Default: Z0000000000000000000}
Rules:
  SmallOnly:
    Assertions:
      - Assert: !Not [!Equals [!Ref Size, '3']]
        AssertDescription: Size 3 is not for this account
Resources:
  Parameter:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !Ref Vpc}
"""
    error = error_of(cfn.create_stack, StackName="params", TemplateBody=template,
                     Parameters=[{"ParameterKey": "Vpc", "ParameterValue": "vpc-0123456789abcdef0"}])
    assert error["Message"] == ("Parameter validation failed: parameter value "
                                "vpc-0123456789abcdef0 for parameter name Vpc does not exist")
    assert error_of(cfn.create_stack, StackName="params", TemplateBody=template)["Message"] == \
        "Parameters: [Vpc] must have values"
    summary = cfn.get_template_summary(TemplateBody=template)
    assert [p["ParameterType"] for p in summary["Parameters"]] == [
        "AWS::EC2::VPC::Id", "Number", "AWS::Route53::HostedZone::Id"]
    assert cfn.validate_template(TemplateBody=template)["Parameters"][1]["DefaultValue"] == "2"


def test_aws_cli_deploy(cfn, cfn_daemon, account, tmp_path):
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed")
    template = tmp_path / "template.yaml"
    template.write_text(SMALL)
    env = {"AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": cfn_daemon.endpoint,
           "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "PATH": "/usr/bin:/bin"}

    finished = [0]

    def deploy(*extra: str) -> subprocess.CompletedProcess[str]:
        # The CLI names its change set by the second it makes it in
        # (awscli-cloudformation-package-deploy-EPOCH), and an empty one stays, FAILED, as
        # at AWS: a deploy that made its change set in the second the last one ended would
        # name the same change set, and AWS would refuse it as existing.
        while int(time.time()) <= finished[0]:
            time.sleep(0.05)
        done = subprocess.run([aws, "cloudformation", "deploy", "--stack-name", "cli",
                               "--template-file", str(template), *extra], env=env,
                              capture_output=True, text=True, timeout=300)
        finished[0] = int(time.time())
        return done
    first = deploy()
    assert first.returncode == 0, first.stderr
    assert "Successfully created/updated stack - cli" in first.stdout
    again = deploy()  # the CLI fails an empty change set (255) unless told not to
    assert again.returncode == 255
    assert "No changes to deploy. Stack cli is up to date" in again.stderr
    quiet = deploy("--no-fail-on-empty-changeset")
    assert quiet.returncode == 0, quiet.stderr
    assert "No changes to deploy. Stack cli is up to date" in quiet.stdout
    changed = deploy("--parameter-overrides", "Value=two")
    assert changed.returncode == 0, changed.stderr
    outputs = cfn.describe_stacks(StackName="cli")["Stacks"][0]
    assert outputs["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs["Parameters"] == [{"ParameterKey": "Value", "ParameterValue": "two"}]
    described = subprocess.run([aws, "cloudformation", "describe-stack-events", "--stack-name",
                                "cli"], env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(described.stdout)["StackEvents"][0]["ResourceStatus"] == "UPDATE_COMPLETE"
    cfn.delete_stack(StackName="cli")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cli", WaiterConfig=FAST)


def test_failed_update_rolls_back(cfn, clients):
    ssm = clients("ssm")
    cfn.create_stack(StackName="rolls", TemplateBody=SMALL)
    cfn.get_waiter("stack_create_complete").wait(StackName="rolls", WaiterConfig=FAST)
    name = cfn.describe_stacks(StackName="rolls")["Stacks"][0]["Outputs"][0]["OutputValue"]
    broken = SMALL.replace("Outputs:", """  Extra:
    Type: AWS::SSM::Parameter
    Properties: {Name: !Sub '${AWS::StackName}-extra', Type: String, Value: x}
  Broken:
    Type: AWS::EC2::Subnet
    DependsOn: [Parameter, Extra]
    Properties: {VpcId: vpc-0000000000000000a, CidrBlock: 10.0.0.0/24}
Outputs:""")
    cfn.update_stack(StackName="rolls", TemplateBody=broken, Parameters=[
        {"ParameterKey": "Value", "ParameterValue": "two"}])
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_update_complete").wait(StackName="rolls", WaiterConfig=FAST)
    stack = cfn.describe_stacks(StackName="rolls")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert stack["Parameters"] == [{"ParameterKey": "Value", "ParameterValue": "one"}]
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "one"
    assert error_of(ssm.get_parameter, Name="rolls-extra")["Code"] == "ParameterNotFound"
    order = statuses(cfn, "rolls")
    assert ("Broken", "CREATE_FAILED") in order
    assert order.index(("Extra", "DELETE_COMPLETE")) > order.index(("Broken", "CREATE_FAILED"))
    assert [r["LogicalResourceId"] for r in
            cfn.describe_stack_resources(StackName="rolls")["StackResources"]] == ["Parameter"]
    assert "The vpc ID 'vpc-0000000000000000a' does not exist" in next(
        e["ResourceStatusReason"] for e in cfn.describe_stack_events(StackName="rolls")[
            "StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED")
    # From UPDATE_ROLLBACK_COMPLETE the stack takes updates again.
    cfn.update_stack(StackName="rolls", TemplateBody=SMALL, Parameters=[
        {"ParameterKey": "Value", "ParameterValue": "three"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="rolls", WaiterConfig=FAST)
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "three"
    cfn.delete_stack(StackName="rolls")
    cfn.get_waiter("stack_delete_complete").wait(StackName="rolls", WaiterConfig=FAST)


def test_aws_cli_deploy_through_s3(cfn, clients, cfn_daemon, account, tmp_path):
    """``--s3-bucket``: the CLI uploads the template and names it by TemplateURL."""
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed")
    clients("s3").create_bucket(Bucket=f"templates-{account}")
    template = tmp_path / "template.yaml"
    template.write_text(SMALL)
    env = {"AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": cfn_daemon.endpoint,
           "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([aws, "cloudformation", "deploy", "--stack-name", "from-s3",
                           "--template-file", str(template), "--s3-bucket",
                           f"templates-{account}", "--force-upload"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert cfn.describe_stacks(StackName="from-s3")["Stacks"][0]["StackStatus"] == \
        "CREATE_COMPLETE"
    assert cfn.get_template(StackName="from-s3")["TemplateBody"] == SMALL
    cfn.delete_stack(StackName="from-s3")
    cfn.get_waiter("stack_delete_complete").wait(StackName="from-s3", WaiterConfig=FAST)


def test_exports_and_imports(cfn, clients):
    exporter = SMALL.replace("  Name: {Value: !Ref Parameter}\n", """  Name:
    Value: !Ref Parameter
    Export: {Name: shared-name}
""")
    importer = """
Resources:
  Copy:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !ImportValue shared-name}
"""
    cfn.create_stack(StackName="exports", TemplateBody=exporter)
    cfn.get_waiter("stack_create_complete").wait(StackName="exports", WaiterConfig=FAST)
    name = cfn.list_exports()["Exports"][0]["Value"]
    cfn.create_stack(StackName="imports", TemplateBody=importer)
    cfn.get_waiter("stack_create_complete").wait(StackName="imports", WaiterConfig=FAST)
    copy = cfn.describe_stack_resource(StackName="imports", LogicalResourceId="Copy")
    ssm = clients("ssm")
    assert ssm.get_parameter(Name=copy["StackResourceDetail"]["PhysicalResourceId"])[
        "Parameter"]["Value"] == name
    cfn.create_stack(StackName="exports-again", TemplateBody=exporter)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="exports-again",
                                                     WaiterConfig=FAST)
    assert "Export with name shared-name is already exported by stack exports" in \
        cfn.describe_stacks(StackName="exports-again")["Stacks"][0]["StackStatusReason"]
    cfn.delete_stack(StackName="exports")
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_delete_complete").wait(StackName="exports", WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName="exports")["Stacks"][0]["StackStatusReason"] == \
        "Export shared-name cannot be deleted as it is in use by imports"
    for stack in ("imports", "exports", "exports-again"):
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=FAST)


def test_backend_resources(cfn, clients, account):
    """A bucket, a role and a parameter, made in the backend's S3, IAM and SSM; a role
    needs CAPABILITY_NAMED_IAM when the template names it."""
    template = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      Tags: [{Key: team, Value: net}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub '${AWS::StackName}-role'
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com},
                     Action: 'sts:AssumeRole'}]
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: 2012-10-17
            Statement: [{Effect: Allow, Action: 's3:GetObject', Resource: !Sub '${Bucket.Arn}/*'}]
  Where:
    Type: AWS::SSM::Parameter
    Properties: {Name: !Sub '/${AWS::StackName}/bucket', Type: String,
                 Value: !GetAtt Bucket.RegionalDomainName}
Outputs:
  RoleArn: {Value: !GetAtt Role.Arn}
"""
    error = error_of(cfn.create_stack, StackName="backend", TemplateBody=template)
    assert (error["Code"], error["Message"]) == ("InsufficientCapabilitiesException",
                                                 "Requires capabilities : [CAPABILITY_NAMED_IAM]")
    cfn.create_stack(StackName="backend", TemplateBody=template,
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    cfn.get_waiter("stack_create_complete").wait(StackName="backend", WaiterConfig=FAST)
    s3, iam, ssm = clients("s3"), clients("iam"), clients("ssm")
    bucket = cfn.describe_stack_resource(StackName="backend", LogicalResourceId="Bucket")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert bucket.startswith("backend-bucket-")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    role = iam.get_role(RoleName="backend-role")["Role"]
    assert cfn.describe_stacks(StackName="backend")["Stacks"][0]["Outputs"][0][
        "OutputValue"] == role["Arn"] == f"arn:aws:iam::{account}:role/backend-role"
    assert iam.list_role_policies(RoleName="backend-role")["PolicyNames"] == ["read"]
    assert ssm.get_parameter(Name="/backend/bucket")["Parameter"]["Value"] == \
        f"{bucket}.s3.us-east-1.amazonaws.com"
    cfn.delete_stack(StackName="backend")
    cfn.get_waiter("stack_delete_complete").wait(StackName="backend", WaiterConfig=FAST)
    assert error_of(iam.get_role, RoleName="backend-role")["Code"] == "NoSuchEntity"
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


def test_what_cdk_bootstrap_makes(cfn, clients):
    """The kinds of resource ``cdk bootstrap``'s template makes: a versioned, encrypted
    bucket with a lifecycle rule and its policy, an ECR repository, a role with a separate
    IAM::Policy, the bootstrap version parameter."""
    template = """
Resources:
  StagingBucket:
    Type: AWS::S3::Bucket
    UpdateReplacePolicy: Retain
    DeletionPolicy: Delete
    Properties:
      AccessControl: LogDeliveryWrite
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
      PublicAccessBlockConfiguration:
        {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true,
         RestrictPublicBuckets: true}
      VersioningConfiguration: {Status: Enabled}
      LifecycleConfiguration:
        Rules:
          - {Id: CleanupOldVersions, Status: Enabled,
             NoncurrentVersionExpiration: {NoncurrentDays: 30}}
  StagingBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref StagingBucket
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: AllowSSLRequestsOnly
            Action: 's3:*'
            Effect: Deny
            Resource: [!Sub '${StagingBucket.Arn}', !Sub '${StagingBucket.Arn}/*']
            Condition: {Bool: {'aws:SecureTransport': 'false'}}
            Principal: '*'
  ContainerAssetsRepository:
    Type: AWS::ECR::Repository
    Properties:
      ImageTagMutability: IMMUTABLE
      ImageScanningConfiguration: {ScanOnPush: true}
  FilePublishingRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Action: 'sts:AssumeRole', Effect: Allow,
                     Principal: {AWS: !Ref 'AWS::AccountId'}}]
  FilePublishingRoleDefaultPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: default
      Roles: [!Ref FilePublishingRole]
      PolicyDocument:
        Version: '2012-10-17'
        Statement: [{Action: ['s3:GetObject*', 's3:PutObject*'], Effect: Allow,
                     Resource: !Sub '${StagingBucket.Arn}/*'}]
  CdkBootstrapVersion:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Name: !Sub '/cdk-bootstrap/${AWS::StackName}/version', Value: '21'}
Outputs:
  ImageRepositoryName: {Value: !Ref ContainerAssetsRepository}
  RepositoryUri: {Value: !GetAtt ContainerAssetsRepository.RepositoryUri}
"""
    cfn.create_stack(StackName="toolkit", TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    created(cfn, "toolkit")
    out = {o["OutputKey"]: o["OutputValue"]
           for o in cfn.describe_stacks(StackName="toolkit")["Stacks"][0]["Outputs"]}
    s3, ecr, iam = clients("s3"), clients("ecr"), clients("iam")
    bucket = cfn.describe_stack_resource(StackName="toolkit", LogicalResourceId="StagingBucket")[
        "StackResourceDetail"]["PhysicalResourceId"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert "AllowSSLRequestsOnly" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]  # AccessControl: the canned ACL
    assert {g["Grantee"].get("URI", "owner") for g in grants} == {"owner", LOG_DELIVERY}
    repository = ecr.describe_repositories(repositoryNames=[out["ImageRepositoryName"]])[
        "repositories"][0]
    assert repository["repositoryUri"] == out["RepositoryUri"]
    role = cfn.describe_stack_resource(StackName="toolkit",
                                       LogicalResourceId="FilePublishingRole")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["default"]
    cfn.delete_stack(StackName="toolkit")
    cfn.get_waiter("stack_delete_complete").wait(StackName="toolkit", WaiterConfig=FAST)
    assert ecr.describe_repositories()["repositories"] == []


def test_on_failure_delete(cfn):
    cfn.create_stack(StackName="gone", TemplateBody=FAILING, OnFailure="DELETE")
    stack_id = cfn.describe_stacks(StackName="gone")["Stacks"][0]["StackId"]
    cfn.get_waiter("stack_delete_complete").wait(StackName="gone", WaiterConfig=FAST)
    order = statuses(cfn, stack_id)
    assert ("gone", "ROLLBACK_COMPLETE") in order
    assert order[-1] == ("gone", "DELETE_COMPLETE")
