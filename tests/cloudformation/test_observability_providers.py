"""The providers of the types that watch and test a network, through a stack on the
API-only daemon (none of them needs namespaces): a VPC's flow log, a Route 53 health
check, an FIS experiment template and a Reachability Analyzer path. Each is checked through
its own API after the create; an update changes each in place (tags, the check's path and
threshold, the template's description and targets), keeping its id; a change to a
create-only property (the flow log's TrafficType, the check's RequestInterval, the path's
port) replaces it, the old one deleted in the cleanup; the delete leaves none."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, WaiterError

FAST = {"Delay": 1, "MaxAttempts": 120}
AMI = "ami-0123456789abcdef0"

TEMPLATE = """
Parameters:
  Instance: {Type: String}
  Team: {Type: String, Default: a}
  Traffic: {Type: String, Default: ALL}
  CheckPath: {Type: String, Default: /health}
  Threshold: {Type: Number, Default: 3}
  Interval: {Type: Number, Default: 30}
  Purpose: {Type: String, Default: stop the team's instances}
  Port: {Type: Number, Default: 443}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.71.0.0/16}
  FlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceType: VPC
      ResourceId: !Ref Vpc
      TrafficType: !Ref Traffic
      LogGroupName: !Sub '${AWS::StackName}-flows'
      DeliverLogsPermissionArn: !Sub 'arn:aws:iam::${AWS::AccountId}:role/flow-logs'
      MaxAggregationInterval: 60
      Tags: [{Key: team, Value: !Ref Team}]
  Check:
    Type: AWS::Route53::HealthCheck
    Properties:
      HealthCheckConfig:
        Type: HTTP
        IPAddress: 203.0.113.10
        Port: 80
        ResourcePath: !Ref CheckPath
        FailureThreshold: !Ref Threshold
        RequestInterval: !Ref Interval
      HealthCheckTags: [{Key: team, Value: !Ref Team}]
  Experiment:
    Type: AWS::FIS::ExperimentTemplate
    Properties:
      Description: !Ref Purpose
      RoleArn: !Sub 'arn:aws:iam::${AWS::AccountId}:role/fis'
      StopConditions: [{Source: none}]
      Targets:
        TeamInstances:
          ResourceType: aws:ec2:instance
          ResourceTags: {team: !Ref Team}
          SelectionMode: ALL
      Actions:
        StopThem:
          ActionId: aws:ec2:stop-instances
          Parameters: {startInstancesAfterDuration: PT5M}
          Targets: {Instances: TeamInstances}
      Tags: {team: !Ref Team}
  Path:
    Type: AWS::EC2::NetworkInsightsPath
    Properties:
      Source: !Ref Instance
      DestinationIp: 10.72.0.10
      Protocol: tcp
      DestinationPort: !Ref Port
      Tags: [{Key: team, Value: !Ref Team}]
Outputs:
  FlowLog: {Value: !Ref FlowLog}
  FlowLogId: {Value: !GetAtt FlowLog.Id}
  Check: {Value: !Ref Check}
  CheckId: {Value: !GetAtt Check.HealthCheckId}
  Experiment: {Value: !Ref Experiment}
  Path: {Value: !Ref Path}
  PathId: {Value: !GetAtt Path.NetworkInsightsPathId}
  PathArn: {Value: !GetAtt Path.NetworkInsightsPathArn}
  PathCreated: {Value: !GetAtt Path.CreatedDate}
"""


@pytest.fixture(scope="module")
def cfn_daemon(daemon):
    """None of these types needs the network: the shared API-only daemon serves them."""
    return daemon


def outputs(cfn, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def parameters(**values: str) -> list[dict]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def test_flow_log_health_check_experiment_template_and_path(cfn, clients):
    ec2, route53, fis = clients("ec2"), clients("route53"), clients("fis")
    vpc = ec2.create_vpc(CidrBlock="10.72.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.72.0.0/24")["Subnet"]["SubnetId"]
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                   SubnetId=subnet)["Instances"]
    given = {"Instance": instance["InstanceId"]}
    cfn.create_stack(StackName="watch", TemplateBody=TEMPLATE, Parameters=parameters(**given))
    cfn.get_waiter("stack_create_complete").wait(StackName="watch", WaiterConfig=FAST)
    out = outputs(cfn, "watch")

    assert out["FlowLog"] == out["FlowLogId"] and out["FlowLog"].startswith("fl-")
    [flow_log] = ec2.describe_flow_logs(FlowLogIds=[out["FlowLog"]])["FlowLogs"]
    vpc_of_stack = flow_log["ResourceId"]
    assert (flow_log["TrafficType"], flow_log["LogGroupName"],
            flow_log["MaxAggregationInterval"]) == ("ALL", "watch-flows", 60)
    assert flow_log["Tags"] == [{"Key": "team", "Value": "a"}]

    assert out["Check"] == out["CheckId"]
    check = route53.get_health_check(HealthCheckId=out["Check"])["HealthCheck"]
    config = check["HealthCheckConfig"]
    assert (config["Type"], config["IPAddress"], config["ResourcePath"],
            config["FailureThreshold"], config["RequestInterval"]) == \
        ("HTTP", "203.0.113.10", "/health", 3, 30)
    assert route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=out["Check"])[
        "ResourceTagSet"]["Tags"] == [{"Key": "team", "Value": "a"}]

    template = fis.get_experiment_template(id=out["Experiment"])["experimentTemplate"]
    assert template["description"] == "stop the team's instances"
    assert template["targets"]["TeamInstances"]["resourceTags"] == {"team": "a"}
    assert template["actions"]["StopThem"]["actionId"] == "aws:ec2:stop-instances"
    assert template["actions"]["StopThem"]["targets"] == {"Instances": "TeamInstances"}
    assert template["actions"]["StopThem"]["parameters"] == {
        "startInstancesAfterDuration": "PT5M"}
    assert template["tags"] == {"team": "a"}

    assert out["Path"] == out["PathId"] and out["Path"].startswith("nip-")
    [path] = ec2.describe_network_insights_paths(NetworkInsightsPathIds=[out["Path"]])[
        "NetworkInsightsPaths"]
    assert (path["Source"], path["DestinationIp"], path["Protocol"],
            path["DestinationPort"]) == (instance["InstanceId"], "10.72.0.10", "tcp", 443)
    assert out["PathArn"] == path["NetworkInsightsPathArn"]
    assert out["PathCreated"][:19] == path["CreatedDate"].isoformat()[:19]
    assert path["Tags"] == [{"Key": "team", "Value": "a"}]

    # In place: every id stays.
    cfn.update_stack(StackName="watch", TemplateBody=TEMPLATE, Parameters=parameters(
        **given, Team="b", CheckPath="/ready", Threshold="5", Purpose="stop them all"))
    cfn.get_waiter("stack_update_complete").wait(StackName="watch", WaiterConfig=FAST)
    assert outputs(cfn, "watch") == out
    [flow_log] = ec2.describe_flow_logs(FlowLogIds=[out["FlowLog"]])["FlowLogs"]
    assert flow_log["Tags"] == [{"Key": "team", "Value": "b"}]
    check = route53.get_health_check(HealthCheckId=out["Check"])["HealthCheck"]
    assert (check["HealthCheckConfig"]["ResourcePath"],
            check["HealthCheckConfig"]["FailureThreshold"]) == ("/ready", 5)
    assert check["HealthCheckVersion"] == 2
    assert route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=out["Check"])[
        "ResourceTagSet"]["Tags"] == [{"Key": "team", "Value": "b"}]
    template = fis.get_experiment_template(id=out["Experiment"])["experimentTemplate"]
    assert template["description"] == "stop them all"
    assert template["targets"]["TeamInstances"]["resourceTags"] == {"team": "b"}
    assert template["tags"] == {"team": "b"}
    [path] = ec2.describe_network_insights_paths(NetworkInsightsPathIds=[out["Path"]])[
        "NetworkInsightsPaths"]
    assert path["Tags"] == [{"Key": "team", "Value": "b"}]

    # Create-only properties: the change set says so, and the execution replaces.
    changed = parameters(**given, Team="b", CheckPath="/ready", Threshold="5",
                         Purpose="stop them all", Traffic="REJECT", Interval="10", Port="80")
    cfn.create_change_set(StackName="watch", ChangeSetName="replace", TemplateBody=TEMPLATE,
                          Parameters=changed)
    cfn.get_waiter("change_set_create_complete").wait(StackName="watch",
                                                      ChangeSetName="replace",
                                                      WaiterConfig=FAST)
    replacing = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Replacement"]
                 for c in cfn.describe_change_set(StackName="watch", ChangeSetName="replace")[
                     "Changes"]}
    assert replacing == {"FlowLog": "True", "Check": "True", "Path": "True"}
    cfn.execute_change_set(StackName="watch", ChangeSetName="replace")
    cfn.get_waiter("stack_update_complete").wait(StackName="watch", WaiterConfig=FAST)
    new = outputs(cfn, "watch")
    assert new["Experiment"] == out["Experiment"]
    for key in ("FlowLog", "Check", "Path"):
        assert new[key] != out[key], key
    [flow_log] = ec2.describe_flow_logs(Filters=[
        {"Name": "resource-id", "Values": [vpc_of_stack]}])["FlowLogs"]
    assert (flow_log["FlowLogId"], flow_log["TrafficType"]) == (new["FlowLog"], "REJECT")
    check = route53.get_health_check(HealthCheckId=new["Check"])["HealthCheck"]
    assert check["HealthCheckConfig"]["RequestInterval"] == 10
    with pytest.raises(ClientError, match="NoSuchHealthCheck"):
        route53.get_health_check(HealthCheckId=out["Check"])
    [path] = ec2.describe_network_insights_paths(Filters=[
        {"Name": "source", "Values": [instance["InstanceId"]]}])["NetworkInsightsPaths"]
    assert (path["NetworkInsightsPathId"], path["DestinationPort"]) == (new["Path"], 80)

    cfn.delete_stack(StackName="watch")
    cfn.get_waiter("stack_delete_complete").wait(StackName="watch", WaiterConfig=FAST)
    assert ec2.describe_flow_logs()["FlowLogs"] == []
    assert route53.list_health_checks()["HealthChecks"] == []
    assert fis.list_experiment_templates()["experimentTemplates"] == []
    assert ec2.describe_network_insights_paths()["NetworkInsightsPaths"] == []


CHECK = """
Parameters:
  Dropped: {Type: String, Default: 'no'}
Conditions:
  Kept: !Equals [!Ref Dropped, 'no']
Resources:
  Check:
    Type: AWS::Route53::HealthCheck
    Properties:
      HealthCheckConfig:
        Type: HTTPS
        FullyQualifiedDomainName: www.example.com
        ResourcePath: !If [Kept, /health, !Ref 'AWS::NoValue']
        Inverted: !If [Kept, true, !Ref 'AWS::NoValue']
        FailureThreshold: !If [Kept, 7, !Ref 'AWS::NoValue']
Outputs:
  Check: {Value: !Ref Check}
"""


def test_members_dropped_from_a_health_check_return_to_route53_s_defaults(cfn, clients):
    route53 = clients("route53")
    cfn.create_stack(StackName="check", TemplateBody=CHECK)
    cfn.get_waiter("stack_create_complete").wait(StackName="check", WaiterConfig=FAST)
    check_id = outputs(cfn, "check")["Check"]
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"][
        "HealthCheckConfig"]
    assert (config["ResourcePath"], config["Inverted"], config["FailureThreshold"],
            config["Port"], config["EnableSNI"]) == ("/health", True, 7, 443, True)
    cfn.update_stack(StackName="check", TemplateBody=CHECK,
                     Parameters=parameters(Dropped="yes"))
    cfn.get_waiter("stack_update_complete").wait(StackName="check", WaiterConfig=FAST)
    assert outputs(cfn, "check")["Check"] == check_id
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"][
        "HealthCheckConfig"]
    assert "ResourcePath" not in config
    assert (config["Inverted"], config["FailureThreshold"]) == (False, 3)
    cfn.delete_stack(StackName="check")
    cfn.get_waiter("stack_delete_complete").wait(StackName="check", WaiterConfig=FAST)
    assert route53.list_health_checks()["HealthChecks"] == []


REFUSED = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.73.0.0/16}
  FlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceType: VPC
      ResourceId: !Ref Vpc
      TrafficType: ALL
      LogDestinationType: s3
      LogDestination: arn:aws:s3:::flows
  Experiment:
    Type: AWS::FIS::ExperimentTemplate
    DependsOn: FlowLog
    Properties:
      Description: reboot
      RoleArn: !Sub 'arn:aws:iam::${AWS::AccountId}:role/fis'
      StopConditions: [{Source: none}]
      Targets: {}
      Actions:
        Reboot: {ActionId: 'aws:ec2:reboot-instances'}
"""


def test_a_template_fis_refuses_rolls_the_stack_back_in_fis_s_words(cfn, clients):
    ec2 = clients("ec2")
    cfn.create_stack(StackName="refused", TemplateBody=REFUSED)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="refused",
                                                      WaiterConfig=FAST)
    [stack] = cfn.describe_stacks(StackName="refused")["Stacks"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="refused")["StackEvents"]
    [failed] = [e for e in events if e["LogicalResourceId"] == "Experiment"
                and e["ResourceStatus"] == "CREATE_FAILED"]
    assert "aws:ec2:reboot-instances is not an action pocketlink can perform" in \
        failed["ResourceStatusReason"]
    assert "(Service: fis, Status Code: 400" in failed["ResourceStatusReason"]
    assert "ErrorCode: ValidationException" in failed["ResourceStatusReason"]
    # The flow log made before the failure was deleted by the rollback.
    assert ec2.describe_flow_logs()["FlowLogs"] == []
