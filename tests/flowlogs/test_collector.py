"""The flow logs' pure parts, without a kernel: growth between looks, the records one flow
makes on the ENIs at its ends, sums over an interval, lines and S3 keys."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime

from pocketlink.flowlogs import fields
from pocketlink.flowlogs.capture import Counts, Seen
from pocketlink.flowlogs.collector import FlowLogCollector, _Place, _records
from pocketlink.flowlogs.delivery import object_key
from pocketlink.model.flow_logs import FlowLog

CLIENT, ENDPOINT = "10.0.1.10", "10.0.1.20"
VPC_BLOCK = (ipaddress.ip_network("10.0.0.0/16"),)


def _interface(eni_id: str, account: str) -> fields.Interface:
    return fields.Interface(eni_id, account, "vpc-1", "subnet-1",
                            "i-1" if account != "unknown" else None, "us-west-2", "usw2-az1")


PLACES = {CLIENT: ("eni-client", _Place(_interface("eni-client", "222222222222"), VPC_BLOCK, ())),
          ENDPOINT: ("eni-endpoint", _Place(_interface("eni-endpoint", "unknown"), VPC_BLOCK,
                                            ()))}


def _seen(packets=5, size=400, reply_packets=4, reply_size=3000, action="ACCEPT",
          key=("ct", 1), **more) -> Seen:
    return Seen(key, CLIENT, ENDPOINT, 40000, 80, 6, packets, size, reply_packets, reply_size,
                action, **more)


def test_growth_between_looks_and_a_count_that_starts_again():
    counts = Counts()
    [(_, p, b, rp, rb, fresh)] = counts.grown("ns", [_seen()])
    assert (p, b, rp, rb, fresh) == (5, 400, 4, 3000, True)
    assert counts.grown("ns", [_seen()]) == []  # nothing grew
    [(_, p, b, rp, rb, fresh)] = counts.grown("ns", [_seen(7, 500, 6, 3500)])
    assert (p, b, rp, rb, fresh) == (2, 100, 2, 500, False)
    # A rejected set's element that expired and came back counts from zero again.
    [(_, p, *_rest, fresh)] = counts.grown("ns", [_seen(1, 60, 0, 0)])
    assert (p, fresh) == (1, True)
    counts.keep_only(set())
    assert counts.grown("ns", [_seen(1, 60, 0, 0)])[0][-1] is True  # forgotten


def test_one_accepted_flow_makes_two_records_on_each_end():
    made = _records(_seen(finished=True), PLACES, 1000, 5, 400, 4, 3000, fresh=True)
    by = {(eni, r.direction, r.srcaddr): r for r, eni in made}
    assert set(by) == {("eni-client", "egress", CLIENT), ("eni-client", "ingress", ENDPOINT),
                       ("eni-endpoint", "ingress", CLIENT), ("eni-endpoint", "egress", ENDPOINT)}
    out = by[("eni-client", "egress", CLIENT)]
    assert (out.dstaddr, out.srcport, out.dstport, out.packets, out.bytes) == \
        (ENDPOINT, 40000, 80, 5, 400)
    assert out.traffic_path == 1 and out.tcp_flags == 2 | 1  # SYN, FIN
    back = by[("eni-endpoint", "egress", ENDPOINT)]
    assert (back.dstaddr, back.srcport, back.dstport, back.packets, back.bytes) == \
        (CLIENT, 80, 40000, 4, 3000)
    assert back.tcp_flags == 18 | 1  # SYN-ACK, FIN
    assert by[("eni-endpoint", "ingress", CLIENT)].traffic_path is None


def test_a_rejected_flow_is_recorded_one_way():
    rejected = _seen(2, 120, 0, 0, action="REJECT", key=("rejected",))
    made = _records(rejected, {ENDPOINT: PLACES[ENDPOINT]}, 1000, 2, 120, 0, 0, fresh=True)
    [(record, eni)] = made
    assert (eni, record.direction, record.action, record.tcp_flags) == \
        ("eni-endpoint", "ingress", "REJECT", 2)


def test_lines_in_the_default_and_a_custom_format():
    [(record, _)] = [m for m in _records(_seen(), PLACES, 1000, 5, 400, 4, 3000, True)
                     if m[1] == "eni-endpoint" and m[0].direction == "ingress"]
    assert fields.line(record, fields.DEFAULT_FIELDS) == \
        f"2 unknown eni-endpoint {CLIENT} {ENDPOINT} 40000 80 6 5 400 1000 1000 ACCEPT OK"
    custom = fields.parse("${instance-id} ${type} ${az-id} ${flow-direction} ${traffic-path} "
                          "${ecs-cluster-name} ${tcp-flags}")
    assert fields.line(record, custom) == "- IPv4 usw2-az1 ingress - - 2"
    assert fields.header(custom).startswith("instance-id type az-id")


def _flow_log(flow_log_id: str, traffic: str) -> FlowLog:
    return FlowLog(id=flow_log_id, account="222222222222", region="us-west-2",
                   resource_id="vpc-1", resource_type="VPC", traffic_type=traffic,
                   log_destination_type="s3", log_destination="arn:aws:s3:::b",
                   log_format=fields.DEFAULT_FORMAT, max_aggregation_interval=60)


def test_an_interval_adds_up_its_looks_and_each_flow_log_takes_its_traffic_type():
    collector = FlowLogCollector(store=None, backend=None)  # type: ignore[arg-type]
    everything, rejects = _flow_log("fl-all", "ALL"), _flow_log("fl-rej", "REJECT")
    flow_logs = [everything, rejects]
    collector.add(flow_logs, _records(_seen(), PLACES, 1000, 5, 400, 4, 3000, True), 0.0)
    collector.add(flow_logs, _records(_seen(), PLACES, 1005, 2, 100, 1, 60, False), 5.0)
    assert collector.due(flow_logs, 59.0) == []  # the interval is not over
    due = dict((f.id, records) for f, records in collector.due(flow_logs, 60.0))
    assert set(due) == {"fl-all"}  # nothing was rejected
    [inbound] = [r for r in due["fl-all"]
                 if r.interface.id == "eni-endpoint" and r.direction == "ingress"]
    assert (inbound.packets, inbound.bytes, inbound.start, inbound.end) == (7, 500, 1000, 1005)
    assert collector.due(flow_logs, 61.0) == []  # the next interval began at 60


def test_aws_s_s3_key():
    flow_log = _flow_log("fl-0123456789abcdef0", "ALL")
    key = object_key(flow_log, datetime(2026, 12, 1, 9, 5, tzinfo=UTC), "some/prefix/")
    assert re.fullmatch(r"some/prefix/AWSLogs/222222222222/vpcflowlogs/us-west-2/2026/12/01/"
                        r"222222222222_vpcflowlogs_us-west-2_fl-0123456789abcdef0_"
                        r"20261201T0905Z_[0-9a-f]{8}\.log\.gz", key), key
    assert object_key(flow_log, datetime(2026, 12, 1, tzinfo=UTC)).startswith("AWSLogs/")
