"""CreateFlowLogs, DescribeFlowLogs and DeleteFlowLogs through boto3: what is stored, the
filters, and EC2's errors in EC2's words (``InvalidParameter`` for a bad destination or
format, ``FlowLogAlreadyExists``, unsuccessful items for unknown ids)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from pocketlink.flowlogs import fields

ACCOUNT = "777777777777"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/flow-logs"


@pytest.fixture
def ec2(client):
    return client("ec2", ACCOUNT)


@pytest.fixture
def vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]


def _error(call, code: str) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]
    return raised.value.response["Error"]["Message"]


def test_a_flow_log_to_cloudwatch_logs_as_ec2_describes_it(ec2, vpc):
    made = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", LogGroupName="vpc-flows",
        DeliverLogsPermissionArn=ROLE, MaxAggregationInterval=60,
        TagSpecifications=[{"ResourceType": "vpc-flow-log",
                            "Tags": [{"Key": "team", "Value": "net"}]}])
    assert made["Unsuccessful"] == []
    [flow_log_id] = made["FlowLogIds"]
    assert flow_log_id.startswith("fl-")
    [flow_log] = ec2.describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"]
    assert flow_log["ResourceId"] == vpc
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogGroupName"] == "vpc-flows"
    assert flow_log["LogDestination"] == \
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:vpc-flows"
    assert flow_log["DeliverLogsPermissionArn"] == ROLE
    assert flow_log["DeliverLogsStatus"] == "SUCCESS"
    assert flow_log["FlowLogStatus"] == "ACTIVE"
    assert flow_log["LogFormat"] == fields.DEFAULT_FORMAT
    assert flow_log["MaxAggregationInterval"] == 60
    assert flow_log["Tags"] == [{"Key": "team", "Value": "net"}]
    ec2.delete_flow_logs(FlowLogIds=[flow_log_id])


def test_s3_subnets_and_enis_with_a_custom_format_and_filters(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"][
        "NetworkInterfaceId"]
    custom = "${version} ${vpc-id} ${pkt-srcaddr} ${flow-direction} ${traffic-path}"
    [to_s3] = ec2.create_flow_logs(
        ResourceType="Subnet", ResourceIds=[subnet], TrafficType="REJECT",
        LogDestinationType="s3", LogDestination="arn:aws:s3:::flows/some/prefix",
        LogFormat=custom)["FlowLogIds"]
    [on_eni] = ec2.create_flow_logs(
        ResourceType="NetworkInterface", ResourceIds=[eni], TrafficType="ACCEPT",
        LogDestination=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:eni-flows",
        DeliverLogsPermissionArn=ROLE)["FlowLogIds"]
    [described] = ec2.describe_flow_logs(FlowLogIds=[to_s3])["FlowLogs"]
    assert described["LogDestination"] == "arn:aws:s3:::flows/some/prefix"
    assert "LogGroupName" not in described
    assert described["LogFormat"] == custom
    assert described["MaxAggregationInterval"] == 600  # EC2's default
    assert described["DestinationOptions"]["FileFormat"] == "plain-text"
    by = {f["FlowLogId"]: f for f in ec2.describe_flow_logs(FlowLogIds=[on_eni])["FlowLogs"]}
    assert by[on_eni]["LogGroupName"] == "eni-flows"

    def ids(*filters) -> set[str]:
        return {f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=[
            {"Name": n, "Values": v} for n, v in filters])["FlowLogs"]}
    assert ids(("resource-id", [subnet])) == {to_s3}
    assert ids(("traffic-type", ["ACCEPT"]), ("resource-id", [eni])) == {on_eni}
    assert ids(("log-destination-type", ["s3"]), ("resource-id", [subnet, eni])) == {to_s3}
    assert ids(("log-group-name", ["eni-flows"])) == {on_eni}
    assert ids(("flow-log-id", [to_s3, on_eni]), ("deliver-log-status", ["SUCCESS"])) == \
        {to_s3, on_eni}
    gone = ec2.delete_flow_logs(FlowLogIds=[to_s3, on_eni])
    assert gone["Unsuccessful"] == []
    assert ec2.describe_flow_logs(FlowLogIds=[to_s3, on_eni])["FlowLogs"] == []


def test_tags_added_and_removed_after_creation(ec2, vpc):
    [flow_log_id] = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", LogGroupName="tagged",
        DeliverLogsPermissionArn=ROLE)["FlowLogIds"]
    ec2.create_tags(Resources=[flow_log_id], Tags=[{"Key": "team", "Value": "net"},
                                                   {"Key": "stage", "Value": "dev"}])
    [described] = ec2.describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"]
    assert sorted(described["Tags"], key=lambda t: t["Key"]) == [
        {"Key": "stage", "Value": "dev"}, {"Key": "team", "Value": "net"}]
    rows = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [flow_log_id]}])
    assert {(t["ResourceType"], t["Key"]) for t in rows["Tags"]} == {
        ("vpc-flow-log", "team"), ("vpc-flow-log", "stage")}
    assert [f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=[
        {"Name": "tag:team", "Values": ["net"]}])["FlowLogs"]] == [flow_log_id]
    assert [f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=[
        {"Name": "tag-key", "Values": ["stage"]}, {"Name": "resource-id", "Values": [vpc]}])[
        "FlowLogs"]] == [flow_log_id]
    ec2.delete_tags(Resources=[flow_log_id], Tags=[{"Key": "stage"}])
    [described] = ec2.describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"]
    assert described["Tags"] == [{"Key": "team", "Value": "net"}]
    ec2.delete_flow_logs(FlowLogIds=[flow_log_id])
    _error(lambda: ec2.create_tags(Resources=[flow_log_id], Tags=[{"Key": "a", "Value": "b"}]),
           "InvalidFlowLogId.NotFound")
    _error(lambda: ec2.create_tags(Resources=["fl-zz"], Tags=[{"Key": "a", "Value": "b"}]),
           "InvalidFlowLogId.Malformed")


def test_the_same_resource_destination_and_traffic_type_twice(ec2, vpc):
    again = {"ResourceType": "VPC", "ResourceIds": [vpc], "TrafficType": "REJECT",
             "LogGroupName": "twice", "DeliverLogsPermissionArn": ROLE}
    [first] = ec2.create_flow_logs(**again)["FlowLogIds"]
    message = _error(lambda: ec2.create_flow_logs(**again), "FlowLogAlreadyExists")
    assert message == ("Error. There is an existing Flow Log with the same configuration "
                       "and log destination.")
    # Another traffic type to the same group is another flow log.
    [other] = ec2.create_flow_logs(**{**again, "TrafficType": "ACCEPT"})["FlowLogIds"]
    ec2.delete_flow_logs(FlowLogIds=[first, other])


def test_unknown_ids_are_unsuccessful_items(ec2, vpc):
    [known] = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                   LogGroupName="g", DeliverLogsPermissionArn=ROLE)["FlowLogIds"]
    answer = ec2.delete_flow_logs(FlowLogIds=[known, "fl-0123456789abcdef0"])
    [failed] = answer["Unsuccessful"]
    assert failed["ResourceId"] == "fl-0123456789abcdef0"
    assert failed["Error"]["Code"] == "InvalidFlowLogId.NotFound"
    assert ec2.describe_flow_logs(FlowLogIds=[known])["FlowLogs"] == []


@pytest.mark.parametrize(("extra", "code", "words"), [
    ({"LogFormat": "${srcaddr} ${no-such-field}"}, "InvalidParameter", "${no-such-field}"),
    ({"LogFormat": "${srcaddr}  ${dstaddr}"}, "InvalidParameter", "has an invalid format"),
    ({"LogFormat": "srcaddr"}, "InvalidParameter", "has an invalid format"),
    ({"MaxAggregationInterval": 30}, "InvalidParameter",
     "Invalid Flow Log Max Aggregation Interval"),
    ({"TrafficType": "SOME"}, "InvalidParameterValue", "SOME"),
    ({"DeliverLogsPermissionArn": None}, "InvalidParameter",
     "DeliverLogsPermissionArn can't be empty if LogDestinationType is cloud-watch-logs."),
    ({"LogGroupName": None}, "InvalidParameter", "LogDestination can't be empty"),
    ({"LogDestinationType": "s3", "LogGroupName": None, "DeliverLogsPermissionArn": None,
      "LogDestination": "arn:aws:s3:::b"}, None, None),
    ({"LogDestinationType": "s3", "LogGroupName": None,
      "LogDestination": "arn:aws:s3:::b"}, "InvalidParameter",
     "DeliverLogsPermissionArn is not applicable for s3 delivery"),
    ({"LogDestinationType": "s3", "DeliverLogsPermissionArn": None,
      "LogDestination": "arn:aws:s3:::b"}, "InvalidParameter",
     "LogDestination type must be cloud-watch-logs if LogGroupName is provided."),
    ({"LogDestinationType": "s3", "LogGroupName": None, "DeliverLogsPermissionArn": None,
      "LogDestination": "my-bucket"}, "InvalidParameter", "not a valid S3 ARN"),
    ({"ResourceIds": ["vpc-0123456789abcdef0"]}, "InvalidVpcID.NotFound", None),
    ({"ResourceType": "Subnet"}, "InvalidSubnetID.Malformed", None),
])
def test_what_ec2_refuses(ec2, vpc, extra, code, words):
    params = {"ResourceType": "VPC", "ResourceIds": [vpc], "TrafficType": "ALL",
              "LogGroupName": "refused", "DeliverLogsPermissionArn": ROLE, **extra}
    params = {k: v for k, v in params.items() if v is not None}
    if code is None:  # the valid neighbour of the refused ones
        ec2.delete_flow_logs(FlowLogIds=ec2.create_flow_logs(**params)["FlowLogIds"])
        return
    message = _error(lambda: ec2.create_flow_logs(**params), code)
    assert words is None or words in message, message


def test_a_custom_format_s_version_is_its_highest_field():
    assert fields.version(fields.parse(fields.DEFAULT_FORMAT)) == 2
    assert fields.version(fields.parse("${srcaddr} ${pkt-srcaddr}")) == 3
    assert fields.version(fields.parse("${az-id} ${srcaddr}")) == 4
    assert fields.version(fields.parse("${traffic-path} ${region}")) == 5
