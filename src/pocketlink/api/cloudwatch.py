"""CloudWatch metrics: GetMetricData, GetMetricStatistics, ListMetrics and PutMetricData,
over pocketlink's metric store (pocketlink.metrics).

pocketlink serves CloudWatch's metrics itself, all of them: its own AWS/* namespaces (the
data plane's figures: AWS/NetworkELB, AWS/PrivateLinkEndpoints, AWS/PrivateLinkServices,
AWS/NATGateway) and the custom namespaces PutMetricData writes, in one store, each
account's and region's apart. The backend (moto) serves no CloudWatch: its metrics would be
a second store that knows nothing of the data plane. Alarms, dashboards and metric math
are not served (InvalidAction / ValidationError say so).

What CloudWatch keeps is kept: sums, sample counts, minimums and maximums per point, so
SampleCount, Average, Sum, Minimum and Maximum are answered; percentiles (which need the
distribution) are refused.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from pocketlink.api.context import RequestContext
from pocketlink.api.errors import cloudwatch
from pocketlink.api.handlers import operation
from pocketlink.api.pages import window
from pocketlink.metrics.store import Bucket, Metric, MetricStore, Point
from pocketlink.wire.errors import ServiceError

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
MAX_DATAPOINTS = 1440  # GetMetricStatistics' limit per call
LIST_PAGE = 500  # ListMetrics' page
RECENTLY_ACTIVE = 3 * 3600  # "PT3H"
OLDEST_PUT = timedelta(days=14)  # PutMetricData's window: two weeks back, two hours ahead
NEWEST_PUT = timedelta(hours=2)
QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")


class ValidationError(ServiceError):
    """CloudWatch's error for a request its validation refuses (not in the model's shapes)."""

    code = "ValidationError"


def _store(context: RequestContext) -> MetricStore:
    if context.metrics is None:
        raise ServiceError("CloudWatch metrics are not kept by this daemon",
                           code="InternalServiceError", status=500)
    return context.metrics


def _metric(context: RequestContext, namespace: str, name: str, dimensions: list[dict]
            ) -> Metric:
    return Metric(context.account, context.region, namespace, name,
                  {d["Name"]: d["Value"] for d in dimensions})


def _check_period(period: int, member: str, error: type[ServiceError]) -> None:
    if period < 1 or (period not in HIGH_RESOLUTION_PERIODS and period % 60):
        raise error(f"The parameter {member} must be 1, 5, 10, 20, 30, or any multiple of "
                    "60.")  # wording: pocketlink's (AWS's rule, its message unpublished)


def _window(start: datetime, end: datetime, period: int) -> tuple[int, int]:
    """The seconds asked for: the start rounded down to the minute (to the second for a
    high-resolution period), as CloudWatch rounds it for data under 15 days old."""
    if start >= end:
        raise cloudwatch.InvalidParameterValueException(
            "The parameter StartTime must be less than the parameter EndTime.")
    first = math.floor(start.timestamp())
    if period % 60 == 0:
        first -= first % 60
    return first, math.ceil(end.timestamp())


def _statistic(bucket: Bucket, name: str) -> float:
    return {"SampleCount": bucket.count, "Sum": bucket.sum, "Minimum": bucket.min,
            "Maximum": bucket.max, "Average": bucket.sum / bucket.count if bucket.count else 0.0
            }[name]


def _moment(second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC)


@operation("cloudwatch", "GetMetricStatistics")
def get_metric_statistics(context: RequestContext, params: dict) -> dict:
    statistics = params.get("Statistics") or []
    if params.get("ExtendedStatistics"):
        raise cloudwatch.InvalidParameterValueException(
            "pocketlink keeps no distributions: ExtendedStatistics (percentiles) are not "
            "served; ask for Statistics.")
    if not statistics:
        raise cloudwatch.MissingRequiredParameterException(
            "Must specify either Statistics or ExtendedStatistics.")  # pocketlink's wording
    period = params["Period"]
    _check_period(period, "Period", cloudwatch.InvalidParameterValueException)
    first, end = _window(params["StartTime"], params["EndTime"], period)
    asked = math.ceil((end - first) / period)
    if asked > MAX_DATAPOINTS:
        raise cloudwatch.InvalidParameterCombinationException(
            f"You have requested up to {asked} datapoints, which exceeds the limit of "
            f"{MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, "
            "or decreasing the time range.")
    metric = _metric(context, params["Namespace"], params["MetricName"],
                     params.get("Dimensions", []))
    points = []
    for bucket in _store(context).buckets(metric, first, end, period, params.get("Unit")):
        point = {"Timestamp": _moment(bucket.start), "Unit": bucket.unit}
        point.update({name: _statistic(bucket, name) for name in statistics})
        points.append(point)
    return {"Label": params["MetricName"], "Datapoints": points}


@operation("cloudwatch", "GetMetricData")
def get_metric_data(context: RequestContext, params: dict) -> dict:
    if params.get("NextToken"):
        raise cloudwatch.InvalidNextToken("The service cannot find the specified token.")
    queries = params["MetricDataQueries"]
    if not queries:
        raise ValidationError("The collection MetricDataQueries must not be empty.")
    descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    store = _store(context)
    results, seen = [], set()
    for number, query in enumerate(queries, 1):
        where = f"MetricDataQueries.member.{number}"
        if not QUERY_ID.fullmatch(query["Id"]):
            raise ValidationError(f"Invalid metric data query id '{query['Id']}' at {where}.Id: "
                                  "it must start with a lowercase letter and hold only "
                                  "letters, digits and underscores.")
        if query["Id"] in seen:
            raise ValidationError(f"The value {query['Id']} for parameter {where}.Id is not "
                                  "unique.")
        seen.add(query["Id"])
        if "Expression" in query:
            raise ValidationError(f"{where}.Expression: pocketlink does not evaluate metric "
                                  "math or Metrics Insights expressions; ask with MetricStat.")
        stat = query.get("MetricStat")
        if stat is None:
            raise ValidationError(f"{where}: a query needs a MetricStat or an Expression.")
        if stat["Stat"] not in STATISTICS:
            raise ValidationError(f"{where}.MetricStat.Stat: pocketlink keeps no "
                                  f"distributions and serves only {', '.join(STATISTICS)}, "
                                  f"not {stat['Stat']}.")
        period = stat["Period"]
        _check_period(period, f"{where}.MetricStat.Period", ValidationError)
        first, end = _window(params["StartTime"], params["EndTime"], period)
        found = stat["Metric"]
        metric = _metric(context, found.get("Namespace", ""), found.get("MetricName", ""),
                         found.get("Dimensions", []))
        buckets = store.buckets(metric, first, end, period, stat.get("Unit"))
        if descending:
            buckets.reverse()
        if query.get("ReturnData", True):
            results.append({
                "Id": query["Id"], "Label": query.get("Label") or metric.name,
                "Timestamps": [_moment(b.start) for b in buckets],
                "Values": [_statistic(b, stat["Stat"]) for b in buckets],
                "StatusCode": "Complete"})
    return {"MetricDataResults": results, "Messages": []}


@operation("cloudwatch", "ListMetrics")
def list_metrics(context: RequestContext, params: dict) -> dict:
    recently = params.get("RecentlyActive")
    since = None
    if recently is not None:
        since = int(datetime.now(UTC).timestamp()) - RECENTLY_ACTIVE
    wanted = params.get("Dimensions", [])
    found = []
    for metric in _store(context).metrics(context.account, context.region,
                                          params.get("Namespace"), params.get("MetricName"),
                                          since):
        if all(w["Name"] in metric.dimensions and
               ("Value" not in w or metric.dimensions[w["Name"]] == w["Value"]) for w in wanted):
            found.append({"Namespace": metric.namespace, "MetricName": metric.name,
                          "Dimensions": [{"Name": k, "Value": v}
                                         for k, v in sorted(metric.dimensions.items())]})
    page, following = window(found, params.get("NextToken"), LIST_PAGE,
                             lambda: cloudwatch.InvalidNextToken(
                                 "The service cannot find the specified token."))
    result: dict = {"Metrics": page}
    if following:
        result["NextToken"] = following
    return result


@operation("cloudwatch", "PutMetricData")
def put_metric_data(context: RequestContext, params: dict) -> None:
    namespace = params["Namespace"]
    if namespace.startswith("AWS/"):
        raise cloudwatch.InvalidParameterValueException(
            f"The value {namespace} for parameter Namespace is invalid.")
    now = datetime.now(UTC)
    points = []
    for number, datum in enumerate(params.get("MetricData", []), 1):
        where = f"MetricData.member.{number}"
        moment = datum.get("Timestamp", now)
        if not now - OLDEST_PUT <= moment <= now + NEWEST_PUT:
            raise cloudwatch.InvalidParameterValueException(
                f"The parameter {where}.Timestamp must specify a time no more than two weeks "
                "in the past and no more than two hours in the future.")  # pocketlink's words
        resolution = datum.get("StorageResolution", 60)
        if resolution not in (1, 60):
            raise cloudwatch.InvalidParameterValueException(
                f"The value {resolution} for parameter {where}.StorageResolution is invalid.")
        second = int(moment.timestamp())
        second -= second % resolution
        metric = _metric(context, namespace, datum["MetricName"], datum.get("Dimensions", []))
        unit = datum.get("Unit", "None")
        given = [name for name in ("Value", "StatisticValues", "Values") if name in datum]
        if len(given) > 1:
            raise cloudwatch.InvalidParameterCombinationException(
                f"The parameters {where}.{given[0]} and {where}.{given[1]} are mutually "
                "exclusive and you have specified both.")
        if "StatisticValues" in datum:
            stats = datum["StatisticValues"]
            points.append(Point(metric, second, stats["Sum"], stats["SampleCount"],
                                stats["Minimum"], stats["Maximum"], unit, resolution))
        elif "Values" in datum:
            values, counts = datum["Values"], datum.get("Counts") or [1.0] * len(datum["Values"])
            if len(counts) != len(values):
                raise cloudwatch.InvalidParameterValueException(
                    f"The parameters {where}.Values and {where}.Counts must be of the same "
                    "size.")
            for value, count in zip(values, counts, strict=True):
                points.append(Point(metric, second, value * count, count, value, value, unit,
                                    resolution))
        elif "Value" in datum:
            points.append(Point(metric, second, datum["Value"], 1.0, unit=unit,
                                resolution=resolution))
        else:
            raise cloudwatch.MissingRequiredParameterException(
                f"The parameter {where}.Value is required.")  # pocketlink's wording
    _store(context).put(points)
    return None
