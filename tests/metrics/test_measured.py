"""Metrics that match what the test sent: real curls through an interface endpoint and
straight to an NLB (seed 000's world), then CloudWatch (GetMetricStatistics and
GetMetricData through boto3), the Prometheus page and ``pocketlink cost`` are read back.

Bytes are the TCP payload each way, as curl counts them (the request it sent, the
response headers and body it got): pocketlink's figures must be within 1% of them (they
are exact unless a flow's last second has not been sampled yet), connection counts exact.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pocketlink.gateway import control
from pocketlink.polling import wait_for
from pocketlink.seeds.seed000 import CONSUMER, PROVIDER, Seed000

BIG = 3_000_000  # bytes of the file the target serves
THROUGH_ENDPOINT, STRAIGHT = 3, 2  # curls each way


@pytest.fixture(scope="module")
def world(make_daemon):
    daemon = make_daemon("--prometheus")
    seed = Seed000(daemon.endpoint, say=lambda line: None)
    seed.build_provider()
    elb = seed.client("elbv2", PROVIDER)
    for group in elb.describe_target_groups(LoadBalancerArn=seed.ids["balancer"])["TargetGroups"]:
        elb.modify_target_group(TargetGroupArn=group["TargetGroupArn"],  # healthy in 10 s
                                HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=5,
                                HealthyThresholdCount=2)
    seed.build_consumer()
    seed.section1_create_and_accept()
    made = seed.run("sh", "-c", f"head -c {BIG} /dev/urandom > /var/www/html/big", on="plain")
    assert made.returncode == 0, made.stderr
    [balancer] = elb.describe_load_balancers(LoadBalancerArns=[seed.ids["balancer"]])[
        "LoadBalancers"]
    node = balancer["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["PrivateIPv4Address"]
    wait_for(lambda: _healthy(elb, seed), "the plain target healthy", 60)
    sent = {"endpoint": [0, 0], "balancer": [0, 0]}  # [client to target, target to client]
    for where, on, url, times in (
            ("endpoint", "instance", f"http://{seed.ids['regional_name']}/big", THROUGH_ENDPOINT),
            ("balancer", "proxy", f"http://{node}/big", STRAIGHT)):
        for _ in range(times):
            done = seed.run("curl", "-sS", "-m", "20", "-o", "/dev/null", "-w",
                            "%{http_code} %{size_request} %{size_upload} %{size_header} "
                            "%{size_download}", url, on=on, timeout=60)
            code, request, upload, header, download = done.stdout.split()
            assert code == "200", (done.stdout, done.stderr)
            assert int(download) == BIG
            sent[where][0] += int(request) + int(upload)
            sent[where][1] += int(header) + int(download)
    seed.daemon = daemon  # type: ignore[attr-defined]
    seed.sent = sent  # type: ignore[attr-defined]
    seed.node = node  # type: ignore[attr-defined]
    return seed


def _healthy(elb, seed: Seed000) -> bool:
    groups = elb.describe_target_groups(LoadBalancerArn=seed.ids["balancer"])["TargetGroups"]
    plain = next(g for g in groups if g["TargetGroupName"] == "seed-plain")
    health = elb.describe_target_health(TargetGroupArn=plain["TargetGroupArn"])
    return health["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy"


def _window() -> dict:
    now = datetime.now(UTC)
    return {"StartTime": now - timedelta(hours=1), "EndTime": now + timedelta(minutes=1)}


def _sum(cloudwatch, namespace: str, name: str, dimensions: dict[str, str],
         statistic: str = "Sum") -> float:
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=name, Period=60, Statistics=[statistic],
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        **_window())["Datapoints"]
    values = [p[statistic] for p in points]
    if statistic == "Maximum":
        return max(values, default=0.0)
    if statistic == "Minimum":
        return min(values, default=-1.0)
    return sum(values)


def _settled(read, expected: float, what: str) -> float:
    """The figure once it has reached ``expected`` (within 1%): the sampler writes each
    second what the workers told it, so the last flow's bytes may take a second or two."""
    return wait_for(lambda: ((value := read()) >= expected * 0.99 and value) or None, what)


def _endpoint_dimensions(world) -> dict[str, str]:
    return {"Endpoint Type": "Interface", "Service Name": world.ids["service_name"],
            "VPC Endpoint Id": world.ids["endpoint"], "VPC Id": world.ids["consumer_vpc"]}


def _balancer_dimension(world) -> str:
    return world.ids["balancer"].split(":loadbalancer/", 1)[1]


def test_the_endpoint_bytes_and_connections(world):
    cloudwatch = world.client("cloudwatch", CONSUMER)
    dims = _endpoint_dimensions(world)
    expected = sum(world.sent["endpoint"])
    processed = _settled(lambda: _sum(cloudwatch, "AWS/PrivateLinkEndpoints",
                                      "BytesProcessed", dims), expected, "BytesProcessed")
    assert abs(processed - expected) <= expected * 0.01, (processed, expected)
    assert _sum(cloudwatch, "AWS/PrivateLinkEndpoints", "NewConnections", dims) == \
        THROUGH_ENDPOINT
    # Per subnet too: one subnet, the same figures.
    subnet = {**dims, "Subnet Id": world.ids["consumer_subnet"]}
    assert _sum(cloudwatch, "AWS/PrivateLinkEndpoints", "NewConnections", subnet) == \
        THROUGH_ENDPOINT
    # The curls ran one after another and have all ended: at most one open at a time, none now.
    assert _sum(cloudwatch, "AWS/PrivateLinkEndpoints", "ActiveConnections", dims,
                "Maximum") <= 1
    assert _sum(cloudwatch, "AWS/PrivateLinkEndpoints", "ActiveConnections", dims,
                "Minimum") == 0
    # The provider sees the same flows in its service's metrics, not the consumer's.
    provider = world.client("cloudwatch", PROVIDER)
    assert _sum(provider, "AWS/PrivateLinkServices", "NewConnections",
                {"Service Id": world.ids["service"]}) == THROUGH_ENDPOINT
    assert _sum(provider, "AWS/PrivateLinkEndpoints", "NewConnections", dims) == 0


def test_the_balancer_counts_both_paths(world):
    cloudwatch = world.client("cloudwatch", PROVIDER)
    dims = {"LoadBalancer": _balancer_dimension(world)}
    expected = sum(world.sent["endpoint"]) + sum(world.sent["balancer"])
    processed = _settled(lambda: _sum(cloudwatch, "AWS/NetworkELB", "ProcessedBytes", dims),
                         expected, "ProcessedBytes")
    assert abs(processed - expected) <= expected * 0.01, (processed, expected)
    assert _sum(cloudwatch, "AWS/NetworkELB", "NewFlowCount", dims) == \
        THROUGH_ENDPOINT + STRAIGHT
    assert _sum(cloudwatch, "AWS/NetworkELB", "TCP_ELB_Reset_Count", dims) == 0
    assert _sum(cloudwatch, "AWS/NetworkELB", "TCP_Target_Reset_Count", dims) == 0
    groups = world.client("elbv2", PROVIDER).describe_target_groups(
        LoadBalancerArn=world.ids["balancer"])["TargetGroups"]
    plain = next(g for g in groups if g["TargetGroupName"] == "seed-plain")
    health = {**dims, "TargetGroup": plain["TargetGroupArn"].rsplit(":", 1)[1]}
    assert _sum(cloudwatch, "AWS/NetworkELB", "HealthyHostCount", health, "Maximum") == 1
    assert _sum(cloudwatch, "AWS/NetworkELB", "UnHealthyHostCount", health, "Maximum") == 0
    listed = cloudwatch.list_metrics(Namespace="AWS/NetworkELB", MetricName="ProcessedBytes")
    assert {tuple(sorted(d["Name"] for d in m["Dimensions"])) for m in listed["Metrics"]} == \
        {("LoadBalancer",), ("AvailabilityZone", "LoadBalancer")}


def test_get_metric_data_agrees(world):
    cloudwatch = world.client("cloudwatch", CONSUMER)
    dims = [{"Name": k, "Value": v} for k, v in _endpoint_dimensions(world).items()]
    queries = [{"Id": name.lower(), "MetricStat": {
        "Metric": {"Namespace": "AWS/PrivateLinkEndpoints", "MetricName": name,
                   "Dimensions": dims}, "Period": 60, "Stat": "Sum"}}
        for name in ("BytesProcessed", "NewConnections")]
    expected = sum(world.sent["endpoint"])
    results = {r["Id"]: r for r in cloudwatch.get_metric_data(
        MetricDataQueries=queries, ScanBy="TimestampAscending", **_window())["MetricDataResults"]}
    assert abs(sum(results["bytesprocessed"]["Values"]) - expected) <= expected * 0.01
    assert sum(results["newconnections"]["Values"]) == THROUGH_ENDPOINT
    assert results["newconnections"]["StatusCode"] == "Complete"
    stamps = results["bytesprocessed"]["Timestamps"]
    assert stamps == sorted(stamps) and all(s.second == 0 for s in stamps)


def test_the_prometheus_page(world):
    page = urllib.request.urlopen(f"{world.daemon.endpoint}/_pocketlink/metrics",
                                  timeout=10).read().decode()
    families = {f.name: f for f in text_string_to_metric_families(page)}
    endpoint = world.ids["endpoint"]
    processed = [s.value for s in families["aws_private_link_endpoints_bytes_processed"].samples
                 if s.labels.get("vpc_endpoint_id") == endpoint]
    expected = sum(world.sent["endpoint"])
    assert abs(sum(processed) - expected) <= expected * 0.01
    new = [s.value for s in families["aws_network_elb_new_flow_count"].samples
           if s.labels["load_balancer"] == _balancer_dimension(world)]
    assert sum(new) == THROUGH_ENDPOINT + STRAIGHT
    assert families["aws_network_elb_new_flow_count"].type == "counter"
    assert families["aws_network_elb_active_flow_count"].type == "gauge"
    assert {s.labels["account"] for s in families["aws_network_elb_new_flow_count"].samples} \
        == {PROVIDER}
    # The same page on the control socket, the daemon's user's only.
    record = control.RuntimeRecord.read(world.daemon.state)
    connection = control._UnixConnection(record.socket, 10)
    connection.request("GET", "/_pocketlink/metrics")
    answer = connection.getresponse()
    assert answer.status == 200 and b"aws_network_elb_new_flow_count_total" in answer.read()
    connection.close()


def test_pocketlink_cost_bills_the_measured_endpoint_traffic(world):
    done = subprocess.run([sys.executable, "-m", "pocketlink", "cost", "--state",
                           str(world.daemon.state)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["account", "resource", "kind", "hours", "GB", "hourly", "$",
                                "data", "$", "total", "$"]
    [row] = [line.split() for line in lines if world.ids["endpoint"] in line]
    account, resource, kind, hours, gigabytes, hourly, data, total = \
        row[0], row[1], " ".join(row[2:4]), int(row[4]), *map(float, row[5:9])
    assert (account, resource, kind) == (CONSUMER, world.ids["endpoint"], "interface endpoint")
    assert hours in (1, 2)  # one zone, for the clock hour(s) the test ran in
    assert hourly == pytest.approx(hours * 0.01)
    expected = sum(world.sent["endpoint"]) / 2**30
    assert gigabytes == pytest.approx(expected, rel=0.01)
    assert data == pytest.approx(expected * 0.01, rel=0.01, abs=1e-6)
    assert total == pytest.approx(hourly + data, abs=1e-5)
    assert lines[-2].startswith("total")
    assert "us-east-1" in lines[-1] and "https://aws.amazon.com/privatelink/pricing/" in lines[-1]
    later = subprocess.run([sys.executable, "-m", "pocketlink", "cost", "--state",
                            str(world.daemon.state), "--since", "0s"], capture_output=True,
                           text=True, timeout=30)
    assert later.returncode == 0, later.stderr
    assert not any(world.ids["endpoint"] in line and float(line.split()[-1]) > 0.02
                   for line in later.stdout.splitlines())


def test_a_refused_connect_is_the_targets_reset(world):
    """A listener whose target listens on nothing: the target's RST reaches the client
    through the NLB, and CloudWatch counts it as the target's (TCP_Target_Reset_Count),
    not the NLB's."""
    ec2, elb = world.client("ec2", PROVIDER), world.client("elbv2", PROVIDER)
    [reservation] = ec2.describe_instances(InstanceIds=[world.ids["plain"]])["Reservations"]
    ec2.authorize_security_group_ingress(  # the target answers port 81 itself, with a reset
        GroupId=reservation["Instances"][0]["SecurityGroups"][0]["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 81, "ToPort": 81,
                        "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    [group] = elb.create_target_group(Name="seed-closed", Protocol="TCP", Port=81,
                                      VpcId=world.ids["provider_vpc"],
                                      TargetType="instance")["TargetGroups"]
    elb.register_targets(TargetGroupArn=group["TargetGroupArn"],
                         Targets=[{"Id": world.ids["plain"]}])
    elb.create_listener(LoadBalancerArn=world.ids["balancer"], Protocol="TCP", Port=81,
                        DefaultActions=[{"Type": "forward",
                                         "TargetGroupArn": group["TargetGroupArn"]}])
    cloudwatch = world.client("cloudwatch", PROVIDER)
    dims = {"LoadBalancer": _balancer_dimension(world)}
    before = _sum(cloudwatch, "AWS/NetworkELB", "TCP_Target_Reset_Count", dims)

    def refused() -> bool:  # once the listener is bound, curl's connect is reset (exit 56)
        done = world.run("curl", "-sS", "-m", "5", f"http://{world.node}:81/", on="proxy")
        return done.returncode in (52, 56)
    wait_for(refused, "a reset from port 81")
    resets = wait_for(lambda: _sum(cloudwatch, "AWS/NetworkELB", "TCP_Target_Reset_Count",
                                   dims) - before, "TCP_Target_Reset_Count")
    assert resets >= 1
    assert _sum(cloudwatch, "AWS/NetworkELB", "TCP_ELB_Reset_Count", dims) == 0
