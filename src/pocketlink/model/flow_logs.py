"""VPC Flow Logs: what to record (a VPC's, a subnet's or one ENI's traffic, accepted,
rejected or both), in which format, and where to deliver it (a CloudWatch Logs group or
an S3 bucket). ``pocketlink.flowlogs`` captures and delivers; the record is the desired
state and the delivery's last outcome (``deliver_logs_status``)."""

from __future__ import annotations

from dataclasses import dataclass

from pocketlink.model.base import Resource


@dataclass(kw_only=True)
class FlowLog(Resource):
    kind = "flow-log"

    resource_id: str  # vpc-..., subnet-... or eni-...
    resource_type: str  # VPC | Subnet | NetworkInterface
    traffic_type: str  # ACCEPT | REJECT | ALL
    log_destination_type: str  # cloud-watch-logs | s3
    log_destination: str  # the log group's or the bucket's ARN (with its prefix)
    log_group_name: str | None = None
    deliver_logs_permission_arn: str | None = None
    log_format: str = ""
    max_aggregation_interval: int = 600
    deliver_logs_status: str = "SUCCESS"  # FAILED once a delivery could not be written
    deliver_logs_error_message: str | None = None
