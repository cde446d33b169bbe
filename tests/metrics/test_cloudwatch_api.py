"""CloudWatch's metrics API on the shared API-only daemon: PutMetricData's points come back
through GetMetricStatistics, GetMetricData and ListMetrics, in each account and region
apart, over each of CloudWatch's protocols (boto3's own json, rpc-v2-cbor and query, the last
two built and read by botocore's serializers and parsers), and every bad request gets
CloudWatch's error in its protocol's format (tests/conftest.py's check_aws_error)."""

from __future__ import annotations

import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import botocore.parsers
import botocore.serialize
import pytest
from botocore.exceptions import ClientError

from pocketlink.wire import specs
from tests.conftest import check_aws_error


def _account() -> str:
    return f"8{secrets.randbelow(10**11):011d}"


@pytest.fixture
def cloudwatch(daemon):
    def make(account: str, region: str = "us-east-1"):
        client = daemon.client("cloudwatch", account, region)
        client.meta.events.register("after-call", check_aws_error)
        return client
    return make


def _window(minutes: int = 10) -> dict:
    now = datetime.now(UTC)
    return {"StartTime": now - timedelta(minutes=minutes), "EndTime": now + timedelta(minutes=1)}


DIMS = [{"Name": "Page", "Value": "home"}]


def _statistics(client, **params) -> list[dict]:
    params = {"Namespace": "App", "MetricName": "Latency", "Dimensions": DIMS, "Period": 60,
              "Statistics": ["SampleCount", "Sum", "Average", "Minimum", "Maximum"],
              **_window(), **params}
    return client.get_metric_statistics(**params)["Datapoints"]


def test_put_then_statistics(cloudwatch):
    client = cloudwatch(_account())
    client.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Latency", "Dimensions": DIMS, "Value": 10, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": DIMS, "Unit": "Milliseconds",
         "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 50}},
        {"MetricName": "Latency", "Dimensions": DIMS, "Unit": "Milliseconds",
         "Values": [1, 2], "Counts": [3, 1]}])
    [point] = _statistics(client)
    assert point["SampleCount"] == 9 and point["Sum"] == 10 + 100 + 3 + 2
    assert (point["Minimum"], point["Maximum"]) == (1, 50)
    assert point["Average"] == pytest.approx(115 / 9)
    assert point["Unit"] == "Milliseconds" and point["Timestamp"].second == 0
    assert _statistics(client, Unit="Seconds") == []
    # Dimensions are part of the metric: none, or others, is another metric.
    assert _statistics(client, Dimensions=[]) == []


def test_accounts_and_regions_apart(cloudwatch):
    mine, theirs = _account(), _account()
    cloudwatch(mine).put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Latency", "Dimensions": DIMS, "Value": 1}])
    assert _statistics(cloudwatch(theirs)) == []
    assert _statistics(cloudwatch(mine, "eu-west-1")) == []
    assert cloudwatch(theirs).list_metrics()["Metrics"] == []


def test_list_metrics_filters(cloudwatch):
    client = cloudwatch(_account())
    client.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Hits", "Dimensions": DIMS, "Value": 1},
        {"MetricName": "Hits", "Dimensions": [{"Name": "Page", "Value": "cart"}], "Value": 1},
        {"MetricName": "Misses", "Value": 1}])
    client.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "Hits", "Value": 1}])
    assert len(client.list_metrics()["Metrics"]) == 4
    assert len(client.list_metrics(Namespace="App")["Metrics"]) == 3
    assert len(client.list_metrics(MetricName="Hits")["Metrics"]) == 3
    assert len(client.list_metrics(Dimensions=[{"Name": "Page"}])["Metrics"]) == 2
    [cart] = client.list_metrics(Dimensions=[{"Name": "Page", "Value": "cart"}])["Metrics"]
    assert cart == {"Namespace": "App", "MetricName": "Hits",
                    "Dimensions": [{"Name": "Page", "Value": "cart"}]}
    assert len(client.list_metrics(RecentlyActive="PT3H")["Metrics"]) == 4


def test_get_metric_data(cloudwatch):
    client = cloudwatch(_account())
    client.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Hits", "Value": 2, "StorageResolution": 1},
        {"MetricName": "Hits", "Value": 3, "StorageResolution": 1}])
    stat = {"Metric": {"Namespace": "App", "MetricName": "Hits"}, "Period": 1}
    results = client.get_metric_data(MetricDataQueries=[
        {"Id": "total", "MetricStat": {**stat, "Stat": "Sum"}, "Label": "all hits"},
        {"Id": "hidden", "MetricStat": {**stat, "Stat": "Maximum"}, "ReturnData": False},
        {"Id": "samples", "MetricStat": {**stat, "Stat": "SampleCount"}}],
        **_window())["MetricDataResults"]
    assert [r["Id"] for r in results] == ["total", "samples"]
    assert results[0]["Label"] == "all hits" and sum(results[0]["Values"]) == 5
    assert sum(results[1]["Values"]) == 2


ERRORS = [
    ("get_metric_statistics", {"Period": 61}, "InvalidParameterValue"),
    ("get_metric_statistics", {"Period": 60, "StartTime": datetime(2030, 1, 1, tzinfo=UTC),
                               "EndTime": datetime(2029, 1, 1, tzinfo=UTC)},
     "InvalidParameterValue"),
    ("get_metric_statistics", {"Period": 1, "StartTime": datetime.now(UTC) - timedelta(days=1),
                               "EndTime": datetime.now(UTC)}, "InvalidParameterCombination"),
    ("get_metric_statistics", {"Period": 60, "Statistics": [], "ExtendedStatistics": []},
     "MissingParameter"),
    ("get_metric_statistics", {"Period": 60, "ExtendedStatistics": ["p99"], "Statistics": []},
     "InvalidParameterValue"),
    ("put_metric_data", {"Namespace": "AWS/EC2",
                         "MetricData": [{"MetricName": "x", "Value": 1}]},
     "InvalidParameterValue"),
    ("put_metric_data", {"Namespace": "App", "MetricData": [
        {"MetricName": "x", "Value": 1, "StatisticValues": {
            "SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}]},
     "InvalidParameterCombination"),
    ("put_metric_data", {"Namespace": "App", "MetricData": [
        {"MetricName": "x", "Value": 1, "Timestamp": datetime(2001, 1, 1, tzinfo=UTC)}]},
     "InvalidParameterValue"),
    ("put_metric_data", {"Namespace": "App", "MetricData": [
        {"MetricName": "x", "Values": [1, 2], "Counts": [1]}]}, "InvalidParameterValue"),
    ("get_metric_data", {"MetricDataQueries": [{"Id": "m", "Expression": "SUM(METRICS())"}]},
     "ValidationError"),
    ("get_metric_data", {"MetricDataQueries": [{"Id": "Upper", "MetricStat": {
        "Metric": {"Namespace": "App", "MetricName": "x"}, "Period": 60, "Stat": "Sum"}}]},
     "ValidationError"),
    ("get_metric_data", {"MetricDataQueries": [{"Id": "m", "MetricStat": {
        "Metric": {"Namespace": "App", "MetricName": "x"}, "Period": 60, "Stat": "p99"}}]},
     "ValidationError"),
    ("list_metrics", {"NextToken": "nonsense"}, "InvalidNextToken"),
    ("describe_alarms", {}, "InvalidAction"),
]


@pytest.mark.parametrize(("call", "params", "code"), ERRORS,
                         ids=[f"{c}-{code}-{n}" for n, (c, _, code) in enumerate(ERRORS)])
def test_errors_in_cloudwatchs_format(daemon, call, params, code):
    client = daemon.client("cloudwatch", _account(), validate=False)
    client.meta.events.register("after-call", check_aws_error)
    if call == "get_metric_statistics":
        params = {"Namespace": "App", "MetricName": "x", "Statistics": ["Sum"], **_window(),
                  **params}
    if call == "get_metric_data":
        params = {**_window(), **params}
    with pytest.raises(ClientError) as caught:
        getattr(client, call)(**params)
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    assert error["Message"] and "Traceback" not in error["Message"]


# --- the other protocols: rpc-v2-cbor and query, as botocore writes and reads them ---------
def _call(daemon, protocol: str, operation: str, params: dict) -> tuple[int, dict]:
    model = specs.load("cloudwatch").model
    op = model.operation_model(operation)
    wire = botocore.serialize.create_serializer(protocol).serialize_to_request(params, op)
    body = wire["body"]
    if isinstance(body, dict):  # query: a form
        from urllib.parse import urlencode
        body = urlencode(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    request = urllib.request.Request(daemon.endpoint + wire["url_path"], data=body,
                                     headers=dict(wire["headers"]), method=wire["method"])
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, headers, raw = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    headers = {k.lower(): v for k, v in headers.items()}
    parser = botocore.parsers.create_parser(protocol)
    response = {"status_code": status, "headers": headers, "body": raw}
    shape = op.output_shape if status < 300 else None
    return status, parser.parse(response, shape)


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "query", "json"])
def test_each_protocol(daemon, protocol):
    """Unsigned requests act for the default account: each protocol's metric is its own."""
    name = f"Proto{secrets.token_hex(4)}"
    status, _ = _call(daemon, protocol, "PutMetricData", {
        "Namespace": "Protocols", "MetricData": [{"MetricName": name, "Value": 7.5}]})
    assert status == 200
    status, parsed = _call(daemon, protocol, "GetMetricStatistics", {
        "Namespace": "Protocols", "MetricName": name, "Period": 60, "Statistics": ["Sum"],
        **_window()})
    assert status == 200
    [point] = parsed["Datapoints"]
    assert point["Sum"] == 7.5 and isinstance(point["Timestamp"], datetime)
    status, parsed = _call(daemon, protocol, "ListMetrics", {"MetricName": name})
    assert [m["MetricName"] for m in parsed["Metrics"]] == [name]
    status, parsed = _call(daemon, protocol, "GetMetricStatistics", {
        "Namespace": "Protocols", "MetricName": name, "Period": 7, "Statistics": ["Sum"],
        **_window()})
    assert status == 400
    assert parsed["Error"]["Code"] == "InvalidParameterValue", parsed
    assert "Period" in parsed["Error"]["Message"]


def test_the_prometheus_page_is_off_the_api_port_unless_asked(daemon):
    """It names every account's resources: on the control socket, and on the API port only
    with ``pocketlink up --prometheus`` (test_measured.py's daemon has it)."""
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{daemon.endpoint}/_pocketlink/metrics", timeout=10)
    assert caught.value.code == 404


def test_points_outlive_the_daemon(make_daemon):
    """Every point is in metrics.db when its call is answered: a daemon killed (SIGKILL)
    and started again answers with them."""
    own = make_daemon("--no-network")
    account = _account()
    own.client("cloudwatch", account).put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Latency", "Dimensions": DIMS, "Value": 42}])
    own.restart(kill=True)
    [point] = _statistics(own.client("cloudwatch", account))
    assert point["Sum"] == 42


def _cost(daemon, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pocketlink", "cost", "--state",
                           str(daemon.state), *args], capture_output=True, text=True, timeout=30)


def test_cost_lists_gateway_endpoints_free(daemon):
    ec2 = daemon.client("ec2", _account())
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, VpcEndpointType="Gateway",
                                       ServiceName="com.amazonaws.us-east-1.s3")["VpcEndpoint"]
    done = _cost(daemon)
    assert done.returncode == 0, done.stderr
    [row] = [line.split() for line in done.stdout.splitlines()
             if endpoint["VpcEndpointId"] in line]
    assert row[2:5] == ["gateway", "endpoint", "0"] and float(row[-1]) == 0
    refused = _cost(daemon, "--since", "yesterday-ish")
    assert refused.returncode == 2 and "--since" in refused.stderr
