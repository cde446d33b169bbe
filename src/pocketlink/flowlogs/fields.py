"""Flow log records as AWS writes them: the fields a format may name (with the version
that brought each), the default format, a format's validation, and one record as a line.

A format is ``${field}`` words separated by single spaces; the record's ``version`` is the
highest version among the format's fields (2 for the default). A field pocketlink does not
know the answer to is ``-``, as AWS writes a field that does not apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Each field, by the version of the record format that brought it (AWS's table).
VERSIONS: dict[str, int] = {
    **dict.fromkeys(("version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport",
                     "dstport", "protocol", "packets", "bytes", "start", "end", "action",
                     "log-status"), 2),
    **dict.fromkeys(("vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr",
                     "pkt-dstaddr"), 3),
    **dict.fromkeys(("region", "az-id", "sublocation-type", "sublocation-id"), 4),
    **dict.fromkeys(("pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction",
                     "traffic-path"), 5),
    **dict.fromkeys(("ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn",
                     "ecs-container-instance-id", "ecs-container-id", "ecs-second-container-id",
                     "ecs-service-name", "ecs-task-definition-arn", "ecs-task-arn",
                     "ecs-task-id"), 7),
    "reject-reason": 8,
}
DEFAULT_FIELDS = tuple(f for f, v in VERSIONS.items() if v == 2)
DEFAULT_FORMAT = " ".join(f"${{{f}}}" for f in DEFAULT_FIELDS)
_WORD = re.compile(r"\$\{([a-z0-9-]+)\}")


class BadFormat(ValueError):
    """The format is not AWS's: the message is EC2's answer."""


def parse(log_format: str) -> tuple[str, ...]:
    """The format's fields, in order; ``BadFormat`` for one EC2 refuses (a word that is not
    ``${field}``, spaces other than one between words, a field AWS does not define)."""
    words = log_format.split(" ")
    invalid = f"1 validation error detected: Value '{log_format}' at 'logFormat' has an " \
              "invalid format"
    if not log_format or any(not w for w in words):
        raise BadFormat(invalid)
    fields = []
    for word in words:
        match = _WORD.fullmatch(word)
        if match is None:
            raise BadFormat(invalid)
        fields.append(match.group(1))
    unknown = [f for f in fields if f not in VERSIONS]
    if unknown:  # AWS's exact words here are a guess: it names the field it does not know
        raise BadFormat(f"Unknown fields provided: {', '.join('${' + f + '}' for f in unknown)}")
    return tuple(fields)


def version(fields: tuple[str, ...]) -> int:
    return max(VERSIONS[f] for f in fields)


@dataclass(frozen=True)
class Interface:
    """What a record says of the ENI it was captured on."""

    id: str
    account: str  # "unknown" for ENIs an AWS service made (endpoints, load balancer nodes)
    vpc_id: str
    subnet_id: str
    instance_id: str | None
    region: str
    az_id: str


@dataclass(frozen=True)
class Record:
    """One flow, one direction, on one ENI, over one aggregation interval."""

    interface: Interface
    srcaddr: str
    dstaddr: str
    srcport: int
    dstport: int
    protocol: int
    packets: int
    bytes: int
    start: int  # Unix seconds: the first packet of the flow seen in the interval
    end: int  # the last
    action: str  # ACCEPT | REJECT
    tcp_flags: int
    direction: str  # ingress | egress (flow-direction)
    traffic_path: int | None  # egress only: 1 in the VPC, 4 through a peering, ...


def _value(field: str, record: Record, fields: tuple[str, ...]) -> str:
    eni = record.interface
    value: object = {
        "version": version(fields), "account-id": eni.account, "interface-id": eni.id,
        "srcaddr": record.srcaddr, "dstaddr": record.dstaddr, "srcport": record.srcport,
        "dstport": record.dstport, "protocol": record.protocol, "packets": record.packets,
        "bytes": record.bytes, "start": record.start, "end": record.end,
        "action": record.action, "log-status": "OK", "vpc-id": eni.vpc_id,
        "subnet-id": eni.subnet_id, "instance-id": eni.instance_id,
        "tcp-flags": record.tcp_flags if record.protocol == 6 else 0,
        "type": "IPv6" if ":" in record.srcaddr else "IPv4",
        # No address translation happens on an ENI here: the packet's addresses are the flow's.
        "pkt-srcaddr": record.srcaddr, "pkt-dstaddr": record.dstaddr,
        "region": eni.region, "az-id": eni.az_id, "flow-direction": record.direction,
        "traffic-path": record.traffic_path,
    }.get(field)
    return "-" if value is None else str(value)


def line(record: Record, fields: tuple[str, ...]) -> str:
    return " ".join(_value(f, record, fields) for f in fields)


def header(fields: tuple[str, ...]) -> str:
    """The first line of an S3 log file: the field names, as the format orders them."""
    return " ".join(fields)
