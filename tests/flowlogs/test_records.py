"""Flow log records of real traffic (seed 000's world): an accepted flow (curl through the
interface endpoint) and a rejected one (a port the endpoint's security group does not
admit), read back from CloudWatch Logs and from S3 through boto3 and parsed field by field;
a custom format; the NLB node's leg to its target; a bucket that is not there, or a
delivery role IAM does not know, turning the flow log's DeliverLogsStatus to FAILED; an
IPv6 flow once the endpoint is dual-stack.

The daemon runs with ``POCKETLINK_FLOW_LOG_INTERVAL`` (the test knob for the aggregation
interval: a few seconds instead of 60), so records come in seconds. A flow may straddle two
intervals: the checks add up every record of one flow (its addresses, ports and action).
"""

from __future__ import annotations

import gzip
import re

import pytest

from pocketlink.flowlogs import fields
from pocketlink.polling import wait_for
from pocketlink.seeds.seed000 import CONSUMER, PLAIN_PORT, PROVIDER, REGION, Seed000

BODY = 200_000  # bytes of the file the target serves
REFUSED_PORT = 9090  # no rule of the endpoint's security group admits it
CUSTOM = ("${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} "
          "${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} "
          "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${tcp-flags} "
          "${log-status} ${region} ${az-id} ${flow-direction} ${traffic-path}")
BUCKET = "consumer-flow-logs"
KEY = re.compile(rf"^flows/AWSLogs/{CONSUMER}/vpcflowlogs/{REGION}/\d{{4}}/\d\d/\d\d/"
                 rf"{CONSUMER}_vpcflowlogs_{REGION}_(fl-[0-9a-f]+)_\d{{8}}T\d{{4}}Z_"
                 r"[0-9a-f]{8}\.log\.gz$")


@pytest.fixture(scope="module")
def world(make_daemon):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POCKETLINK_FLOW_LOG_INTERVAL", "3")
        daemon = make_daemon()
    seed = Seed000(daemon.endpoint, say=lambda line: None)
    seed.build_provider()
    seed.build_consumer()
    seed.section1_create_and_accept()
    ec2 = seed.consumer
    [endpoint] = ec2.describe_vpc_endpoints(VpcEndpointIds=[seed.ids["endpoint"]])[
        "VpcEndpoints"]
    [eni] = ec2.describe_network_interfaces(
        NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"]
    [instance] = [i for r in ec2.describe_instances(InstanceIds=[seed.ids["instance"]])[
        "Reservations"] for i in r["Instances"]]
    role = seed.client("iam", CONSUMER).create_role(
        RoleName="flow-logs", AssumeRolePolicyDocument='{"Version": "2012-10-17", '
        '"Statement": [{"Effect": "Allow", "Principal": {"Service": '
        '"vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')["Role"]["Arn"]
    seed.client("s3", CONSUMER).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    vpc = seed.ids["consumer_vpc"]
    made = {
        "logs": ec2.create_flow_logs(
            ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", LogGroupName="consumer",
            DeliverLogsPermissionArn=role, MaxAggregationInterval=60)["FlowLogIds"][0],
        "s3": ec2.create_flow_logs(
            ResourceType="NetworkInterface", ResourceIds=[eni["NetworkInterfaceId"]],
            TrafficType="ALL", LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{BUCKET}/flows", LogFormat=CUSTOM,
            MaxAggregationInterval=60)["FlowLogIds"][0],
        "rejects": ec2.create_flow_logs(
            ResourceType="Subnet", ResourceIds=[seed.ids["consumer_subnet"]],
            TrafficType="REJECT", LogGroupName="consumer-rejects",
            DeliverLogsPermissionArn=role, MaxAggregationInterval=60)["FlowLogIds"][0],
        "no-role": ec2.create_flow_logs(
            ResourceType="Subnet", ResourceIds=[seed.ids["consumer_subnet"]],
            TrafficType="ACCEPT", LogGroupName="consumer-no-role",
            DeliverLogsPermissionArn=f"arn:aws:iam::{CONSUMER}:role/no-such-role")[
            "FlowLogIds"][0],
        "nowhere": ec2.create_flow_logs(
            ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", LogDestinationType="s3",
            LogDestination="arn:aws:s3:::no-such-bucket-here")["FlowLogIds"][0],
    }
    provider_role = seed.client("iam", PROVIDER).create_role(
        RoleName="flow-logs", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    seed.provider.create_flow_logs(
        ResourceType="VPC", ResourceIds=[seed.ids["provider_vpc"]], TrafficType="ALL",
        LogGroupName="provider", DeliverLogsPermissionArn=provider_role)
    made_file = seed.run("sh", "-c", f"head -c {BODY} /dev/urandom > /var/www/html/body",
                         on="plain")
    assert made_file.returncode == 0, made_file.stderr
    url = f"http://{seed.ids['regional_name']}/body"
    done = wait_for(lambda: (d := seed.run(
        "curl", "-sS", "-m", "5", "-o", "/dev/null", "-w",
        "%{http_code} %{size_request} %{size_download} %{size_header} %{local_port}",
        url)).stdout.startswith("200 ") and d, "a 200 through the endpoint", 60)
    _, request, download, header, port = done.stdout.split()
    refused = seed.run("curl", "-sS", "-m", "3", f"http://{eni['PrivateIpAddress']}:"
                       f"{REFUSED_PORT}/")
    assert refused.returncode == 28, (refused.returncode, refused.stderr)  # a hang, as at AWS
    return {"seed": seed, "eni": eni, "instance": instance, "flow_logs": made,
            "request": int(request), "response": int(download) + int(header),
            "port": int(port)}


def _events(logs, group: str, stream: str) -> list[str]:
    try:
        return [e["message"] for e in logs.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True)["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def _parse(lines: list[str], format_fields: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(format_fields, line.split(" "), strict=True)) for line in lines]


def _flow(records: list[dict[str, str]], **match: object) -> dict[str, int] | None:
    """Packets and bytes of every record matching ``match`` (a flow may straddle intervals)."""
    found = [r for r in records if all(r[k.replace("_", "-")] == str(v)
                                       for k, v in match.items())]
    if not found:
        return None
    return {"packets": sum(int(r["packets"]) for r in found),
            "bytes": sum(int(r["bytes"]) for r in found), "records": found}  # type: ignore[dict-item]


def _settled(read, what: str) -> dict:
    """The flow once two looks a few seconds apart agree (its last interval delivered)."""
    last: list = [None]

    def check():
        now = read()
        same = now is not None and last[0] is not None and \
            (now["packets"], now["bytes"]) == (last[0]["packets"], last[0]["bytes"])
        last[0] = now
        return now if same else None
    return wait_for(check, what, 90, every=4)


def test_the_accepted_flow_on_the_endpoint_eni_in_cloudwatch_logs(world):
    logs = world["seed"].client("logs", CONSUMER)
    eni, instance = world["eni"], world["instance"]
    wait_for(lambda: _events(logs, "consumer", eni["NetworkInterfaceId"]), "records", 60,
             every=0.5)
    streams = {s["logStreamName"] for s in logs.describe_log_streams(
        logGroupName="consumer")["logStreams"]}
    assert eni["NetworkInterfaceId"] in streams  # a stream per ENI, named by its id
    assert instance["NetworkInterfaces"][0]["NetworkInterfaceId"] in streams

    def records():
        return _parse(_events(logs, "consumer", eni["NetworkInterfaceId"]),
                      fields.DEFAULT_FIELDS)
    tuple_in = {"srcaddr": instance["PrivateIpAddress"], "dstaddr": eni["PrivateIpAddress"],
                "srcport": world["port"], "dstport": PLAIN_PORT, "action": "ACCEPT"}
    inbound = _settled(lambda: _flow(records(), **tuple_in), "the request on the ENI")
    outbound = _settled(lambda: _flow(records(), srcaddr=eni["PrivateIpAddress"],
                                      dstaddr=instance["PrivateIpAddress"], srcport=PLAIN_PORT,
                                      dstport=world["port"], action="ACCEPT"),
                        "the response on the ENI")
    for record in inbound["records"] + outbound["records"]:
        assert record["version"] == "2"
        assert record["account-id"] == "unknown"  # an ENI an AWS service made
        assert record["interface-id"] == eni["NetworkInterfaceId"]
        assert record["protocol"] == "6"
        assert record["log-status"] == "OK"
        assert int(record["start"]) <= int(record["end"])
    # IP packets: at least the payload curl counted, plus 20-60 bytes of headers a packet.
    assert inbound["packets"] >= 3
    assert world["request"] + 40 * inbound["packets"] <= inbound["bytes"] <= \
        world["request"] + 80 * inbound["packets"]
    assert outbound["packets"] >= BODY // 65_536
    assert world["response"] + 40 * outbound["packets"] <= outbound["bytes"] <= \
        world["response"] + 80 * outbound["packets"]
    # The instance's own ENI saw the same flow leave it, in its owner's account.
    own = _parse(_events(logs, "consumer", instance["NetworkInterfaces"][0][
        "NetworkInterfaceId"]), fields.DEFAULT_FIELDS)
    mine = _flow(own, **tuple_in)
    assert mine is not None and mine["records"][0]["account-id"] == CONSUMER


def test_the_rejected_flow_decided_by_the_endpoint_s_security_group(world):
    logs = world["seed"].client("logs", CONSUMER)
    eni, instance = world["eni"], world["instance"]
    rejected = wait_for(lambda: _flow(_parse(_events(
        logs, "consumer-rejects", eni["NetworkInterfaceId"]), fields.DEFAULT_FIELDS),
        srcaddr=instance["PrivateIpAddress"], dstaddr=eni["PrivateIpAddress"],
        dstport=REFUSED_PORT, action="REJECT"), "the REJECT record", 60, every=0.5)
    assert rejected["packets"] >= 1  # the SYN and its retries
    assert rejected["bytes"] >= 40 * rejected["packets"]
    assert rejected["records"][0]["protocol"] == "6"
    # A REJECT-only flow log records no accepted flow; the ALL one records both.
    everything = _parse(_events(logs, "consumer-rejects", eni["NetworkInterfaceId"]),
                        fields.DEFAULT_FIELDS)
    assert {r["action"] for r in everything} == {"REJECT"}
    both = _parse(_events(logs, "consumer", eni["NetworkInterfaceId"]), fields.DEFAULT_FIELDS)
    assert _flow(both, dstport=REFUSED_PORT, action="REJECT") is not None
    # The instance's egress rules let the attempt out: its ENI says ACCEPT.
    own = _parse(_events(logs, "consumer", instance["NetworkInterfaces"][0][
        "NetworkInterfaceId"]), fields.DEFAULT_FIELDS)
    assert _flow(own, dstport=REFUSED_PORT, action="ACCEPT") is not None


def test_s3_files_in_aws_s_keys_with_the_custom_format(world):
    s3 = world["seed"].client("s3", CONSUMER)
    eni, instance = world["eni"], world["instance"]
    format_fields = fields.parse(CUSTOM)

    def records() -> list[dict[str, str]]:
        out = []
        for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="flows/").get("Contents", []):
            match = KEY.match(item["Key"])
            assert match, item["Key"]
            assert match.group(1) == world["flow_logs"]["s3"]
            text = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=item["Key"])[
                "Body"].read()).decode()
            head, *lines = text.splitlines()
            assert head == " ".join(format_fields)  # the field names, as AWS's first line
            out += _parse(lines, format_fields)
        return out
    inbound = wait_for(lambda: _flow(records(), srcaddr=instance["PrivateIpAddress"],
                                     dstport=PLAIN_PORT, action="ACCEPT"), "S3 records", 60, every=0.5)
    record = inbound["records"][0]
    subnet = world["seed"].consumer.describe_subnets(SubnetIds=[eni["SubnetId"]])[
        "Subnets"][0]
    assert record["version"] == "5"  # the highest of the format's fields
    assert record["vpc-id"] == world["seed"].ids["consumer_vpc"]
    assert record["subnet-id"] == eni["SubnetId"]
    assert record["instance-id"] == "-"  # an endpoint's ENI has no instance
    assert record["interface-id"] == eni["NetworkInterfaceId"]
    assert record["type"] == "IPv4"
    assert (record["pkt-srcaddr"], record["pkt-dstaddr"]) == \
        (instance["PrivateIpAddress"], eni["PrivateIpAddress"])
    assert record["flow-direction"] == "ingress"
    assert record["traffic-path"] == "-"  # egress only
    assert record["region"] == REGION
    assert record["az-id"] == subnet["AvailabilityZoneId"]
    assert int(record["tcp-flags"]) & 2  # the SYN
    outbound = _flow(records(), srcaddr=eni["PrivateIpAddress"], srcport=PLAIN_PORT)
    assert outbound is not None
    assert outbound["records"][0]["flow-direction"] == "egress"
    assert outbound["records"][0]["traffic-path"] == "1"  # within the VPC
    assert int(outbound["records"][0]["tcp-flags"]) & 18 == 18  # the SYN-ACK
    rejected = _flow(records(), dstport=REFUSED_PORT, action="REJECT")
    assert rejected is not None


def test_the_nlb_node_s_leg_to_its_target(world):
    seed = world["seed"]
    logs = seed.client("logs", PROVIDER)
    nodes = seed.provider.describe_network_interfaces(Filters=[
        {"Name": "vpc-id", "Values": [seed.ids["provider_vpc"]]},
        {"Name": "interface-type", "Values": ["network_load_balancer"]}])["NetworkInterfaces"]
    [target] = [i for r in seed.provider.describe_instances(InstanceIds=[seed.ids["plain"]])[
        "Reservations"] for i in r["Instances"]]

    def found():
        for node in nodes:
            records = _parse(_events(logs, "provider", node["NetworkInterfaceId"]),
                             fields.DEFAULT_FIELDS)
            flow = _flow(records, srcaddr=node["PrivateIpAddress"],
                         dstaddr=target["PrivateIpAddress"], dstport=PLAIN_PORT,
                         action="ACCEPT")
            if flow is not None and flow["bytes"] > world["request"]:
                return flow
        return None
    leg = wait_for(found, "the node's flow to the target", 60, every=0.5)
    assert leg["records"][0]["account-id"] == "unknown"


@pytest.mark.parametrize("which", ["nowhere", "no-role"])
def test_a_destination_that_cannot_be_written_fails_the_delivery(world, which):
    """A bucket that is not there; a delivery role IAM does not know."""
    ec2 = world["seed"].consumer
    flow_log_id = world["flow_logs"][which]
    failed = wait_for(lambda: (f := ec2.describe_flow_logs(FlowLogIds=[flow_log_id])[
        "FlowLogs"][0])["DeliverLogsStatus"] == "FAILED" and f, "FAILED delivery", 60, every=0.5)
    assert failed["DeliverLogsErrorMessage"] == "Access error"
    working = ec2.describe_flow_logs(FlowLogIds=[world["flow_logs"]["logs"]])["FlowLogs"][0]
    assert working["DeliverLogsStatus"] == "SUCCESS"
    assert "DeliverLogsErrorMessage" not in working
    assert flow_log_id in {f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=[
        {"Name": "deliver-log-status", "Values": ["FAILED"]}])["FlowLogs"]}
    assert working["FlowLogId"] not in {f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=[
        {"Name": "deliver-log-status", "Values": ["FAILED"]}])["FlowLogs"]}


def test_an_ipv6_flow_last(world):
    """Last: it makes the endpoint dual-stack (seed 000's section 2), then curls its IPv6
    address; the records carry IPv6 addresses, from conntrack's IPv6 entries."""
    seed = world["seed"]
    seed.section2_dual_stack()
    [eni] = seed.consumer.describe_network_interfaces(
        NetworkInterfaceIds=[world["eni"]["NetworkInterfaceId"]])["NetworkInterfaces"]
    [address] = [a["Ipv6Address"] for a in eni["Ipv6Addresses"]]
    done = wait_for(lambda: (d := seed.curl("-g", f"http://[{address}]/")).returncode == 0
                    and d, "a curl to the endpoint's IPv6 address", 60)
    assert "Hello World" in done.stdout
    logs = seed.client("logs", CONSUMER)
    inbound = wait_for(lambda: _flow(_parse(_events(logs, "consumer", eni["NetworkInterfaceId"]),
                                            fields.DEFAULT_FIELDS),
                                     srcaddr=world["instance"]["Ipv6Address"], dstaddr=address,
                                     dstport=PLAIN_PORT, action="ACCEPT"),
                       "the IPv6 record", 60, every=0.5)
    assert inbound["packets"] >= 3 and inbound["records"][0]["protocol"] == "6"
