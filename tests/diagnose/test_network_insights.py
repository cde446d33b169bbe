"""Reachability Analyzer through boto3: paths and analyses answered by the diagnose walk,
in AWS's shapes and with AWS's explanation codes and errors.

The world is seed 000's (tests/privatelink/conftest.py): a provider's NLB and endpoint
service, a consumer with an instance and an interface endpoint. Each analysis is of the
world as it stands: fixing the hop an explanation names turns the next analysis around.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import check_aws_error, settled
from tests.privatelink.conftest import (
    AMI,
    REGION,
    aws_error,
    build_consumer,
    build_provider,
    new_account,
    unique,
)


@pytest.fixture
def client(daemon):
    """``client(service, account)``: a boto3 client whose errors are checked."""

    def make(service: str, account: str, region: str = REGION):
        made = daemon.client(service, account, region)
        made.meta.events.register("after-call", check_aws_error)
        return made

    return make


@pytest.fixture
def world(client):
    """(provider, consumer, instance id, endpoint id): the endpoint awaits acceptance."""
    provider = build_provider(client, new_account())
    consumer = build_consumer(client, new_account(), provider.service_zone_ids())
    provider.allow(consumer.account)
    [instance] = consumer.ec2.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=consumer.subnet_ids[0])["Instances"]
    endpoint = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    consumer.wait_state(endpoint, "pendingAcceptance")
    assert settled(consumer.ec2, [instance["InstanceId"]]) == {
        instance["InstanceId"]: "running"}
    return provider, consumer, instance["InstanceId"], endpoint


def _path(ec2, source: str, destination: str, port: int = 80, **params) -> dict:
    return ec2.create_network_insights_path(Source=source, Destination=destination,
                                            Protocol="tcp", DestinationPort=port,
                                            **params)["NetworkInsightsPath"]


def _analyse(ec2, path_id: str) -> dict:
    started = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path_id)["NetworkInsightsAnalysis"]
    [described] = ec2.describe_network_insights_analyses(
        NetworkInsightsAnalysisIds=[started["NetworkInsightsAnalysisId"]])[
        "NetworkInsightsAnalyses"]
    assert described == started
    return described


def test_each_fix_moves_the_explanation_on_until_the_path_is_found(world):
    provider, consumer, instance, endpoint = world
    ec2 = consumer.ec2
    path = _path(ec2, instance, endpoint)
    assert path["Source"] == instance and path["Destination"] == endpoint
    assert path["DestinationArn"] == \
        f"arn:aws:ec2:us-east-1:{consumer.account}:vpc-endpoint/{endpoint}"

    first = _analyse(ec2, path["NetworkInsightsPathId"])
    assert first["Status"] == "succeeded" and first["NetworkPathFound"] is False
    [why] = first["Explanations"]
    assert why["ExplanationCode"] == "BAD_STATE" and why["Component"]["Id"] == endpoint

    provider.accept(endpoint)
    consumer.wait_state(endpoint, "available")
    # The provider's default group admits only its own members, not the NLB node.
    second = _analyse(ec2, path["NetworkInsightsPathId"])
    [why] = second["Explanations"]
    assert (why["ExplanationCode"], why["Direction"]) == ("ENI_SG_RULES_MISMATCH", "ingress")
    group = why["Component"]["Id"]
    assert group.startswith("sg-")

    provider.ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80,
                                                  ToPort=80, CidrIp="10.0.0.0/16")
    third = _analyse(ec2, path["NetworkInsightsPathId"])
    assert third["NetworkPathFound"] is True and "Explanations" not in third
    ids = [c["Component"]["Id"] for c in third["ForwardPathComponents"]]
    assert ids[0] == instance and endpoint in ids and group in ids
    assert provider.listener["ListenerArn"] in ids
    assert [c["SequenceNumber"] for c in third["ForwardPathComponents"]] == \
        list(range(1, len(ids) + 1))

    through = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path["NetworkInsightsPathId"],
        FilterInArns=[f"arn:aws:ec2:us-east-1:{consumer.account}:vpc-endpoint/{endpoint}"]
    )["NetworkInsightsAnalysis"]
    assert through["NetworkPathFound"] is True
    elsewhere = f"arn:aws:ec2:us-east-1:{consumer.account}:vpc-endpoint/vpce-0123456789abcdef0"
    around = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path["NetworkInsightsPathId"], FilterInArns=[elsewhere]
    )["NetworkInsightsAnalysis"]
    assert around["NetworkPathFound"] is False
    assert around["Explanations"] == [{"ExplanationCode": "COMPONENT_FILTER_RESTRICTION",
                                       "Component": {"Id": "vpce-0123456789abcdef0",
                                                     "Arn": elsewhere}}]
    for extra in (through, around):
        ec2.delete_network_insights_analysis(
            NetworkInsightsAnalysisId=extra["NetworkInsightsAnalysisId"])

    listed = ec2.describe_network_insights_analyses(
        NetworkInsightsPathId=path["NetworkInsightsPathId"])["NetworkInsightsAnalyses"]
    assert [a["NetworkInsightsAnalysisId"] for a in listed] == [
        a["NetworkInsightsAnalysisId"] for a in (first, second, third)]
    found = ec2.describe_network_insights_analyses(Filters=[
        {"Name": "path-found", "Values": ["true"]}])["NetworkInsightsAnalyses"]
    assert [a["NetworkInsightsAnalysisId"] for a in found] == \
        [third["NetworkInsightsAnalysisId"]]


def test_a_port_without_a_listener(world):
    provider, consumer, instance, endpoint = world
    provider.accept(endpoint)
    consumer.wait_state(endpoint, "available")
    path = _path(consumer.ec2, instance, endpoint, 81)
    [why] = _analyse(consumer.ec2, path["NetworkInsightsPathId"])["Explanations"]
    assert why["ExplanationCode"] == "ELBV2_LISTENERS_MISMATCH"
    assert why["LoadBalancerArn"] == provider.balancer_arn
    assert why["LoadBalancerListenerPort"] == 81


def test_an_nlbs_security_group_is_a_hop_on_the_way_to_it(world):
    """Straight to an NLB's node from an instance of its VPC: the NLB's groups are walked
    as AWS's analyser walks a load balancer's security group component:
    ENI_SG_RULES_MISMATCH, ingress, with the load balancer's ARN."""
    provider = world[0]
    ec2, elbv2 = provider.ec2, provider.elbv2
    instance = provider.instance["InstanceId"]
    assert settled(ec2, [instance]) == {instance: "running"}
    group = ec2.create_security_group(GroupName=unique("nlb"), Description="the NLB's",
                                      VpcId=provider.vpc["VpcId"])["GroupId"]
    [balancer] = elbv2.create_load_balancer(
        Name=unique("nlb"), Type="network", Scheme="internal", SecurityGroups=[group],
        Subnets=[s["SubnetId"] for s in provider.subnets])["LoadBalancers"]
    [target_group] = elbv2.create_target_group(
        Name=unique("tg"), Protocol="TCP", Port=80, VpcId=provider.vpc["VpcId"],
        TargetType="instance")["TargetGroups"]
    elbv2.register_targets(TargetGroupArn=target_group["TargetGroupArn"],
                           Targets=[{"Id": instance}])
    elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP",
                          Port=80, DefaultActions=[{
                              "Type": "forward",
                              "TargetGroupArn": target_group["TargetGroupArn"]}])
    node = ec2.describe_network_interfaces(Filters=[
        {"Name": "group-id", "Values": [group]}])["NetworkInterfaces"][0]
    path = _path(ec2, instance, node["NetworkInterfaceId"])

    [why] = _analyse(ec2, path["NetworkInsightsPathId"])["Explanations"]
    assert (why["ExplanationCode"], why["Direction"]) == ("ENI_SG_RULES_MISMATCH", "ingress")
    assert why["Component"]["Id"] == group
    assert [g["Id"] for g in why["SecurityGroups"]] == [group]
    assert why["LoadBalancerArn"] == balancer["LoadBalancerArn"]
    assert why["Address"] == node["PrivateIpAddress"]

    ec2.authorize_security_group_ingress(
        GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80,
        CidrIp=f"{provider.instance['PrivateIpAddress']}/32")
    # The NLB's group admits the client now: the explanation names a later hop.
    after = _analyse(ec2, path["NetworkInsightsPathId"])
    assert all(e["Component"]["Id"] != group for e in after.get("Explanations", []))


def test_an_address_as_destination_and_the_source_by_its_eni_arn(world):
    _, consumer, instance, _ = world
    ec2 = consumer.ec2
    [described] = [i for r in ec2.describe_instances(InstanceIds=[instance])["Reservations"]
                   for i in r["Instances"]]
    eni = described["NetworkInterfaces"][0]["NetworkInterfaceId"]
    arn = f"arn:aws:ec2:us-east-1:{consumer.account}:network-interface/{eni}"
    path = ec2.create_network_insights_path(
        Source=arn, Protocol="tcp", FilterAtSource={
            "DestinationAddress": "10.1.200.9",
            "DestinationPortRange": {"FromPort": 443, "ToPort": 443}})["NetworkInsightsPath"]
    assert path["Source"] == eni and "Destination" not in path
    assert path["FilterAtSource"] == {"DestinationAddress": "10.1.200.9",
                                      "DestinationPortRange": {"FromPort": 443,
                                                               "ToPort": 443}}
    analysis = _analyse(ec2, path["NetworkInsightsPathId"])
    assert analysis["NetworkPathFound"] is False
    assert analysis["Explanations"][0]["ExplanationCode"] == "NO_POSSIBLE_DESTINATION"


def test_paths_are_described_filtered_tagged_and_deleted(world):
    _, consumer, instance, endpoint = world
    ec2 = consumer.ec2
    path = _path(ec2, instance, endpoint, TagSpecifications=[{
        "ResourceType": "network-insights-path", "Tags": [{"Key": "team", "Value": "net"}]}])
    path_id = path["NetworkInsightsPathId"]
    assert path["Tags"] == [{"Key": "team", "Value": "net"}]
    assert path["NetworkInsightsPathArn"].endswith(f":network-insights-path/{path_id}")
    other = _path(ec2, instance, endpoint, 443)
    by_port = ec2.describe_network_insights_paths(Filters=[
        {"Name": "destination-port", "Values": ["443"]}])["NetworkInsightsPaths"]
    assert [p["NetworkInsightsPathId"] for p in by_port] == [other["NetworkInsightsPathId"]]
    ec2.create_tags(Resources=[path_id], Tags=[{"Key": "env", "Value": "test"}])
    [tagged] = ec2.describe_network_insights_paths(Filters=[
        {"Name": "tag:env", "Values": ["test"]}])["NetworkInsightsPaths"]
    assert tagged["NetworkInsightsPathId"] == path_id
    assert {"ResourceId": path_id, "ResourceType": "network-insights-path", "Key": "env",
            "Value": "test"} in ec2.describe_tags(Filters=[
                {"Name": "resource-id", "Values": [path_id]}])["Tags"]

    analysis = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path_id)["NetworkInsightsAnalysis"]
    analysis_id = analysis["NetworkInsightsAnalysisId"]
    with aws_error("AnalysisExistsForNetworkInsightsPath",
                   f"At least one analysis [{analysis_id}] exists for path {path_id}. "
                   "Delete all the analyses before deleting this network path."):
        ec2.delete_network_insights_path(NetworkInsightsPathId=path_id)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert ec2.describe_network_insights_analyses(
        NetworkInsightsPathId=path_id, AnalysisStartTime=later)["NetworkInsightsAnalyses"] == []
    assert ec2.delete_network_insights_analysis(
        NetworkInsightsAnalysisId=analysis_id)["NetworkInsightsAnalysisId"] == analysis_id
    assert ec2.delete_network_insights_path(
        NetworkInsightsPathId=path_id)["NetworkInsightsPathId"] == path_id
    with aws_error("InvalidNetworkInsightsPathId.NotFound",
                   f"The NetworkInsightsPath ID '{path_id}' does not exist"):
        ec2.describe_network_insights_paths(NetworkInsightsPathIds=[path_id])


def test_errors(world, client):
    _, consumer, instance, endpoint = world
    ec2 = consumer.ec2
    missing_path, missing_analysis = "nip-0123456789abcdef0", "nia-0123456789abcdef0"
    with aws_error("InvalidNetworkInsightsPathId.NotFound"):
        ec2.start_network_insights_analysis(NetworkInsightsPathId=missing_path)
    with aws_error("InvalidNetworkInsightsPathId.NotFound"):
        ec2.delete_network_insights_path(NetworkInsightsPathId=missing_path)
    with aws_error("InvalidNetworkInsightsPathId.Malformed"):
        ec2.delete_network_insights_path(NetworkInsightsPathId="path-1")
    with aws_error("InvalidNetworkInsightsAnalysisId.NotFound",
                   f"The NetworkInsightsAnalysis ID '{missing_analysis}' does not exist"):
        ec2.delete_network_insights_analysis(NetworkInsightsAnalysisId=missing_analysis)
    with aws_error("InvalidNetworkInsightsAnalysisId.NotFound"):
        ec2.describe_network_insights_analyses(NetworkInsightsAnalysisIds=[missing_analysis])
    with aws_error("MissingParameter", "The request must include either the Destination "
                   "parameter or the FilterAtSource.DestinationAddress parameter. Add the "
                   "required parameter and retry the request."):
        ec2.create_network_insights_path(Source=instance, Protocol="tcp", DestinationPort=80)
    with aws_error("InvalidParameterValue"):
        ec2.create_network_insights_path(Source=instance, Destination=endpoint,
                                         Protocol="icmp", DestinationPort=80)
    with aws_error("InvalidInstanceID.NotFound"):
        ec2.create_network_insights_path(Source="i-0123456789abcdef0", Destination=endpoint,
                                         Protocol="tcp", DestinationPort=80)
    with aws_error("InvalidVpcEndpointId.NotFound"):
        ec2.create_network_insights_path(Source=instance, Destination="vpce-0123456789abcdef0",
                                         Protocol="tcp", DestinationPort=80)
    with aws_error("InvalidParameterValue"):
        ec2.create_network_insights_path(Source="igw-0123456789abcdef0", Destination=endpoint,
                                         Protocol="tcp", DestinationPort=80)
    path_id = _path(ec2, instance, endpoint)["NetworkInsightsPathId"]
    stranger = client("ec2", new_account())
    with aws_error("InvalidNetworkInsightsPathId.NotFound"):
        stranger.start_network_insights_analysis(NetworkInsightsPathId=path_id)
