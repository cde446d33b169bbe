"""VPC Flow Logs: CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs.

A flow log records a VPC's, a subnet's or one ENI's traffic (endpoint ENIs and load
balancer nodes included) to a CloudWatch Logs group or an S3 bucket; ``pocketlink.flowlogs``
captures and delivers. The handlers validate as EC2 does and store the flow log; one is
made per resource, and a resource that is not the caller's is refused outright. Whether
the destination can be written is found at delivery, as AWS finds a missing log group or
a role that may not write there: ``DeliverLogsStatus`` turns ``FAILED`` with AWS's
``Access error`` (AWS also refuses a missing bucket at creation, as an unsuccessful
item; pocketlink finds it at the first delivery instead, as it cannot ask S3 from here).
Kinesis Data Firehose destinations and transit gateway resources are not built.
"""

from __future__ import annotations

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.flowlogs import fields
from pocketlink.model import ids
from pocketlink.model.ec2 import NetworkInterface, Subnet, Vpc
from pocketlink.model.flow_logs import FlowLog

RESOURCE_TYPES = {"VPC": Vpc, "Subnet": Subnet, "NetworkInterface": NetworkInterface}
TRAFFIC_TYPES = ("ACCEPT", "REJECT", "ALL")
DESTINATION_TYPES = ("cloud-watch-logs", "s3")
INTERVALS = (60, 600)
LOG_GROUP_ARN = "arn:aws:logs:{region}:{account}:log-group:{name}"
FLOW_LOG_FILTERS: dict[str, filters.Field] = {
    "deliver-log-status": lambda f: f.deliver_logs_status,
    "log-destination-type": lambda f: f.log_destination_type,
    "flow-log-id": lambda f: f.id,
    "log-group-name": lambda f: f.log_group_name,
    "resource-id": lambda f: f.resource_id,
    "traffic-type": lambda f: f.traffic_type,
}


def describe_flow_log(flow_log: FlowLog) -> dict:
    item: dict = {
        "CreationTime": flow_log.created, "DeliverLogsStatus": flow_log.deliver_logs_status,
        "FlowLogId": flow_log.id, "FlowLogStatus": "ACTIVE",
        "ResourceId": flow_log.resource_id, "TrafficType": flow_log.traffic_type,
        "LogDestinationType": flow_log.log_destination_type,
        "LogDestination": flow_log.log_destination, "LogFormat": flow_log.log_format,
        "MaxAggregationInterval": flow_log.max_aggregation_interval,
    }
    if flow_log.log_group_name:
        item["LogGroupName"] = flow_log.log_group_name
    if flow_log.deliver_logs_permission_arn:
        item["DeliverLogsPermissionArn"] = flow_log.deliver_logs_permission_arn
    if flow_log.deliver_logs_error_message:
        item["DeliverLogsErrorMessage"] = flow_log.deliver_logs_error_message
    if flow_log.log_destination_type == "s3":
        item["DestinationOptions"] = {"FileFormat": "plain-text",
                                      "HiveCompatiblePartitions": False,
                                      "PerHourPartition": False}
    if flow_log.tags:
        item["Tags"] = tags.tag_set(flow_log.tags)
    return item


def _destination(context: RequestContext, params: dict) -> tuple[str, str, str | None]:
    """(destination type, destination ARN, log group name), as EC2 checks them."""
    kind = params.get("LogDestinationType") or "cloud-watch-logs"
    if kind not in DESTINATION_TYPES:
        raise ec2.InvalidParameter(
            f"LogDestinationType {kind} is not supported by pocketlink (cloud-watch-logs, s3)"
            if kind == "kinesis-data-firehose" else f"Invalid LogDestinationType: {kind}")
    destination, group = params.get("LogDestination"), params.get("LogGroupName")
    role = params.get("DeliverLogsPermissionArn")
    if kind == "s3":
        if group:
            raise ec2.InvalidParameter(
                "LogDestination type must be cloud-watch-logs if LogGroupName is provided.")
        if role:
            raise ec2.InvalidParameter("DeliverLogsPermissionArn is not applicable for s3 "
                                       "delivery")
        if not destination:
            raise ec2.InvalidParameter("LogDestination can't be empty if LogDestinationType "
                                       "is s3.")
        bucket = destination.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        if not destination.startswith("arn:aws:s3:::") or not bucket:
            raise ec2.InvalidParameter(f"LogDestination: {destination} is not a valid S3 ARN")
        if destination.removeprefix(f"arn:aws:s3:::{bucket}/").startswith("AWSLogs"):
            raise ec2.InvalidParameter("LogDestination: the prefix cannot use AWSLogs")
        return kind, destination, None
    if not (destination or group):
        raise ec2.InvalidParameter("LogDestination can't be empty if LogGroupName is not "
                                   "provided.")
    if destination and group:
        raise ec2.InvalidParameter("Please only provide LogGroupName or only provide "
                                   "LogDestination.")
    if not role:
        raise ec2.InvalidParameter("DeliverLogsPermissionArn can't be empty if "
                                   "LogDestinationType is cloud-watch-logs.")
    if destination:
        parts = destination.split(":", 6)
        if len(parts) < 7 or parts[:3] != ["arn", "aws", "logs"] or parts[5] != "log-group" \
                or not parts[6]:
            raise ec2.InvalidParameter(f"LogDestination: {destination} is not a valid "
                                       "CloudWatch Logs log group ARN")
        group = parts[6].removesuffix(":*")
        return kind, destination, group
    arn = LOG_GROUP_ARN.format(region=context.region, account=context.account, name=group)
    return kind, arn, group


@operation("ec2", "CreateFlowLogs")
def create_flow_logs(context: RequestContext, params: dict) -> dict:
    resource_type = params.get("ResourceType")
    if not resource_type:
        raise ec2.MissingParameter("ResourceType")
    if resource_type not in RESOURCE_TYPES:
        raise ec2.InvalidParameter(
            f"ResourceType {resource_type} is not supported by pocketlink (VPC, Subnet, "
            "NetworkInterface)" if resource_type.startswith("TransitGateway")
            else f"Invalid ResourceType: {resource_type}")
    resource_ids = params.get("ResourceIds") or []
    if not resource_ids:
        raise ec2.MissingParameter("ResourceIds")
    traffic = params.get("TrafficType")
    if not traffic:
        raise ec2.MissingParameter("TrafficType")
    if traffic not in TRAFFIC_TYPES:
        raise ec2.InvalidParameterValue(f"Invalid TrafficType: {traffic}")
    interval = params.get("MaxAggregationInterval", 600)
    if interval not in INTERVALS:
        raise ec2.InvalidParameter("Invalid Flow Log Max Aggregation Interval")
    log_format = params.get("LogFormat") or fields.DEFAULT_FORMAT
    try:
        fields.parse(log_format)
    except fields.BadFormat as error:
        raise ec2.InvalidParameter(str(error)) from None
    kind, destination, group = _destination(context, params)
    found = [require(context, RESOURCE_TYPES[resource_type], r)
             for r in dict.fromkeys(resource_ids)]
    flow_tags = tags.from_specifications(params, "vpc-flow-log")
    existing = owned(context, FlowLog)
    made = []
    for resource in found:
        if any(f.resource_id == resource.id and f.log_destination == destination
               and f.traffic_type == traffic for f in existing):
            raise ec2.FlowLogAlreadyExists()
        made.append(FlowLog(
            id=ids.new_id("fl"), account=context.account, region=context.region,
            tags=dict(flow_tags), resource_id=resource.id, resource_type=resource_type,
            traffic_type=traffic, log_destination_type=kind, log_destination=destination,
            log_group_name=group,
            deliver_logs_permission_arn=params.get("DeliverLogsPermissionArn"),
            log_format=log_format, max_aggregation_interval=interval))
    with context.store.transaction() as tx:
        for flow_log in made:
            tx.put(flow_log)
    result: dict = {"FlowLogIds": [f.id for f in made], "Unsuccessful": []}
    if params.get("ClientToken"):
        result["ClientToken"] = params["ClientToken"]
    return result


@operation("ec2", "DescribeFlowLogs")
def describe_flow_logs(context: RequestContext, params: dict) -> dict:
    found = owned(context, FlowLog)
    wanted = params.get("FlowLogIds")
    if wanted:  # EC2 answers the ones it knows, and no error for the others
        found = [f for f in found if f.id in set(wanted)]
    found = filters.apply(found, params.get("Filter"), FLOW_LOG_FILTERS)
    chunk, more = pages.page(found, params, low=1, ids_param="FlowLogIds")
    return {"FlowLogs": [describe_flow_log(f) for f in chunk], **more}


@operation("ec2", "DeleteFlowLogs")
def delete_flow_logs(context: RequestContext, params: dict) -> dict:
    wanted = list(dict.fromkeys(params.get("FlowLogIds") or []))
    if not wanted:
        raise ec2.MissingParameter("FlowLogIds")
    mine = {f.id: f for f in owned(context, FlowLog)}
    with context.store.transaction() as tx:
        for flow_log_id in wanted:
            if flow_log_id in mine:
                tx.delete(mine[flow_log_id])
    unknown = [i for i in wanted if i not in mine]
    return {"Unsuccessful": [{
        "Error": {"Code": "InvalidFlowLogId.NotFound",
                  "Message": f"These flow log ids in the input list are not found: "
                             f"[TotalCount: {len(unknown)}] {i}"},
        "ResourceId": i} for i in unknown]}
