"""Where records go: a CloudWatch Logs group (a stream per ENI, named by its id) or an S3
bucket (one gzip file per flow log and interval, under AWS's key), both the backend's,
in the flow log's account. Each delivery says whether it was written; a refusal (no such
bucket, a delivery role IAM does not know) is the flow log's ``Access error``, as AWS
words it in ``DeliverLogsErrorMessage``.
"""

from __future__ import annotations

import gzip
import secrets
import uuid
from datetime import UTC, datetime

from pocketlink.api.context import RequestContext
from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.flowlogs import fields
from pocketlink.model.flow_logs import FlowLog
from pocketlink.services.backend import Backend
from pocketlink.store import Store

ACCESS_ERROR = "Access error"
# PutLogEvents takes 10,000 events and 1 MiB at most; a record's line is well under 100 bytes.
EVENTS_PER_PUT = 5_000


class Delivery:
    """Writes one flow log's records for one interval; remembers the log groups and
    streams it made, so that each interval costs one call per stream."""

    def __init__(self, store: Store, backend: Backend) -> None:
        self.store = store
        self.backend = backend
        self._made: set[tuple[str, ...]] = set()

    def _api(self, flow_log: FlowLog) -> Api:
        return Api(RequestContext(flow_log.account, flow_log.region, str(uuid.uuid4()),
                                  self.store, backend=self.backend))

    async def deliver(self, flow_log: FlowLog, records: list[fields.Record],
                      now: datetime) -> str | None:
        """None once written, else the error message the flow log shows."""
        api = self._api(flow_log)
        try:
            if flow_log.log_destination_type == "s3":
                await self._to_s3(api, flow_log, records, now)
            else:
                await self._to_logs(api, flow_log, records)
        except ProviderError:
            self._made = {m for m in self._made if m[0] != flow_log.id}
            return ACCESS_ERROR
        return None

    async def _to_logs(self, api: Api, flow_log: FlowLog, records: list[fields.Record]
                       ) -> None:
        format_fields = fields.parse(flow_log.log_format)
        group = flow_log.log_group_name or ""
        role = (flow_log.deliver_logs_permission_arn or "").rsplit("/", 1)[-1]
        if (flow_log.id, "role") not in self._made:  # the role the flow log delivers as
            await api.backend("iam", "GetRole", {"RoleName": role})
            self._made.add((flow_log.id, "role"))
        if (flow_log.id, group) not in self._made:
            found = await api.backend("logs", "DescribeLogGroups",
                                      {"logGroupNamePrefix": group})
            if not any(g["logGroupName"] == group for g in found.get("logGroups", [])):
                await api.backend("logs", "CreateLogGroup", {"logGroupName": group})
            self._made.add((flow_log.id, group))
        by_interface: dict[str, list[fields.Record]] = {}
        for record in records:
            by_interface.setdefault(record.interface.id, []).append(record)
        for stream, mine in sorted(by_interface.items()):
            if (flow_log.id, group, stream) not in self._made:
                found = await api.backend("logs", "DescribeLogStreams", {
                    "logGroupName": group, "logStreamNamePrefix": stream})
                if not any(s["logStreamName"] == stream for s in found.get("logStreams", [])):
                    await api.backend("logs", "CreateLogStream",
                                      {"logGroupName": group, "logStreamName": stream})
                self._made.add((flow_log.id, group, stream))
            mine.sort(key=lambda r: r.start)
            for first in range(0, len(mine), EVENTS_PER_PUT):
                await api.backend("logs", "PutLogEvents", {
                    "logGroupName": group, "logStreamName": stream,
                    "logEvents": [{"timestamp": r.start * 1000,
                                   "message": fields.line(r, format_fields)}
                                  for r in mine[first:first + EVENTS_PER_PUT]]})

    async def _to_s3(self, api: Api, flow_log: FlowLog, records: list[fields.Record],
                     now: datetime) -> None:
        format_fields = fields.parse(flow_log.log_format)
        bucket, _, prefix = flow_log.log_destination.removeprefix("arn:aws:s3:::") \
            .partition("/")
        text = "\n".join([fields.header(format_fields),
                          *(fields.line(r, format_fields) for r in
                            sorted(records, key=lambda r: r.start))]) + "\n"
        await api.backend("s3", "PutObject", {
            "Bucket": bucket, "Key": object_key(flow_log, now, prefix),
            "Body": gzip.compress(text.encode())})


def object_key(flow_log: FlowLog, now: datetime, prefix: str = "") -> str:
    """AWS's key: ``[prefix/]AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/ACCOUNT_vpcflowlogs_
    REGION_FLOWLOGID_YYYYMMDDTHHMMZ_HASH.log.gz``."""
    now = now.astimezone(UTC)
    account, region = flow_log.account, flow_log.region
    name = (f"{account}_vpcflowlogs_{region}_{flow_log.id}_{now:%Y%m%dT%H%MZ}_"
            f"{secrets.token_hex(4)}.log.gz")
    key = f"AWSLogs/{account}/vpcflowlogs/{region}/{now:%Y/%m/%d}/{name}"
    return f"{prefix.strip('/')}/{key}" if prefix.strip("/") else key
