"""The flow logs' loop: look at the namespaces that hold the ENIs some flow log covers,
turn what grew there into records per ENI and direction, add them up over each flow log's
aggregation interval, then deliver them and say how that went (``DeliverLogsStatus``).

Which ENI a flow belongs to is told by its addresses: an instance's ENIs live in its own
namespace, endpoint ENIs and load balancer nodes on their VPC's router (network/topology.py).
Traffic AWS does not log is left out here too: to and from the VPC's resolver (base+2,
169.254.169.253, fd00:ec2::253), the instance metadata service and the VPC router's own
addresses. The looks come every five seconds (four times an interval, when that is
shorter); ``start`` and ``end`` are the first and the last look (Unix seconds) at which
the flow had grown in the interval.

The interval is each flow log's ``MaxAggregationInterval`` (60 or 600 seconds), or, for
tests and development, the seconds in ``POCKETLINK_FLOW_LOG_INTERVAL`` for every flow log.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pocketlink.flowlogs import fields
from pocketlink.flowlogs.capture import Counts, Seen, observe
from pocketlink.flowlogs.delivery import Delivery
from pocketlink.model.ec2 import NetworkInterface, Subnet, Vpc
from pocketlink.model.flow_logs import FlowLog
from pocketlink.model.peering import VpcPeeringConnection
from pocketlink.network import names
from pocketlink.network.addresses import (
    METADATA_IPV4,
    METADATA_IPV6,
    RESOLVER_IPV6,
    RESOLVER_LINK_LOCAL,
    gateway,
    resolver_address,
)
from pocketlink.network.topology import ROUTER_HELD
from pocketlink.services.backend import Backend
from pocketlink.store import Store

log = logging.getLogger("pocketlink.flowlogs")

INTERVAL_VARIABLE = "POCKETLINK_FLOW_LOG_INTERVAL"
# Seconds between looks, at most: conntrack keeps a closed TCP flow 10 s (after a reset) to
# two minutes (after a FIN), UDP and ICMP 30 s, so a look every few seconds misses none.
LOOK_EVERY = 5.0
SYN, FIN, RST, SYN_ACK = 2, 1, 4, 18
NOT_LOGGED = {RESOLVER_LINK_LOCAL, RESOLVER_IPV6, METADATA_IPV4, METADATA_IPV6, "169.254.169.123"}


def interval_override() -> float | None:
    value = os.environ.get(INTERVAL_VARIABLE)
    return float(value) if value else None


@dataclass
class _Sum:
    packets: int
    bytes: int
    start: int
    end: int
    tcp_flags: int


@dataclass
class _Window:
    opened: float  # monotonic
    sums: dict[tuple, _Sum]


@dataclass(frozen=True)
class _Place:
    """What the collector knows of one ENI: the record's words for it, its VPC's blocks
    and those of the VPCs peered with it (traffic-path)."""

    interface: fields.Interface
    own: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    peered: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def path(self, remote: str) -> int:
        address = ipaddress.ip_address(remote)
        if any(address in n for n in self.own if n.version == address.version):
            return 1
        if any(address in n for n in self.peered if n.version == address.version):
            return 4
        return 2


def _blocks(vpc: Vpc | None) -> tuple:
    if vpc is None:
        return ()
    cidrs = {vpc.cidr_block, *(a.cidr for a in vpc.cidr_associations),
             *(a.cidr for a in vpc.ipv6_associations)}
    return tuple(ipaddress.ip_network(c) for c in cidrs if c)


def _covers(flow_log: FlowLog, eni: NetworkInterface) -> bool:
    return {"VPC": eni.vpc_id, "Subnet": eni.subnet_id,
            "NetworkInterface": eni.id}.get(flow_log.resource_type) == flow_log.resource_id


def _namespace(eni: NetworkInterface) -> str | None:
    if eni.interface_type in ROUTER_HELD:
        return names.namespace(eni.vpc_id)
    if eni.instance_id:
        return names.namespace(eni.instance_id)
    return None  # not attached (or a NAT gateway's: its namespace translates, not logged)


class FlowLogCollector:
    def __init__(self, store: Store, backend: Backend, interval: float | None = None) -> None:
        self.store = store
        self.delivery = Delivery(store, backend)
        self.interval = interval
        self.look_every = min(LOOK_EVERY, interval / 4) if interval else LOOK_EVERY
        self.counts = Counts()
        self.windows: dict[str, _Window] = {}
        self._delivering: set[asyncio.Task] = set()

    def _places(self, flow_logs: list[FlowLog]) -> dict[str, dict[str, tuple[str, _Place]]]:
        """By namespace: each address of a covered ENI, with the ENI's id and place."""
        store = self.store
        peerings = [p for p in store.all(VpcPeeringConnection) if p.status == "active"]
        vpcs: dict[str, Vpc | None] = {}
        out: dict[str, dict[str, tuple[str, _Place]]] = {}
        for eni in store.all(NetworkInterface):
            if not any(_covers(f, eni) for f in flow_logs):
                continue
            namespace = _namespace(eni)
            subnet = store.get(Subnet, eni.subnet_id)
            if namespace is None or subnet is None:
                continue
            for vpc_id in (eni.vpc_id, *(p.other_vpc(eni.vpc_id) for p in peerings
                                         if p.side_of(eni.vpc_id))):
                if vpc_id not in vpcs:
                    vpcs[vpc_id] = store.get(Vpc, vpc_id)
            place = _Place(
                fields.Interface(eni.id, "unknown" if eni.requester_managed else eni.account,
                                 eni.vpc_id, eni.subnet_id, eni.instance_id, eni.region,
                                 subnet.availability_zone_id),
                _blocks(vpcs[eni.vpc_id]),
                tuple(n for p in peerings if p.side_of(eni.vpc_id)
                      for n in _blocks(vpcs.get(p.other_vpc(eni.vpc_id)))))
            held = out.setdefault(namespace, {})
            for address in (eni.private_ip_address, *eni.secondary_private_ip_addresses,
                            *eni.ipv6_addresses):
                if address:
                    held[address] = (eni.id, place)
        return out

    def _quiet(self, namespace_places: dict[str, tuple[str, _Place]]) -> set[str]:
        """The addresses whose traffic AWS does not log, for the VPCs in view."""
        quiet = set(NOT_LOGGED)
        for vpc_id in {p.interface.vpc_id for _, p in namespace_places.values()}:
            vpc = self.store.get(Vpc, vpc_id)
            if vpc is not None:
                quiet.add(resolver_address(vpc))
        for subnet_id in {p.interface.subnet_id for _, p in namespace_places.values()}:
            subnet = self.store.get(Subnet, subnet_id)
            if subnet is not None and subnet.cidr_block:
                quiet.add(str(gateway(subnet.cidr_block)))
            for association in subnet.ipv6_associations if subnet is not None else ():
                quiet.add(str(gateway(association.cidr)))
        return quiet

    def in_view(self, flow_logs: list[FlowLog]
                ) -> dict[str, tuple[dict[str, tuple[str, _Place]], set[str]]]:
        """By namespace: the places ``look`` logs and the addresses it does not. Read on
        the event loop, where the store is written (a commit while a thread walked its
        dicts would end that walk)."""
        return {namespace: (places, self._quiet(places))
                for namespace, places in self._places(flow_logs).items()}

    def look(self, in_view: dict[str, tuple[dict[str, tuple[str, _Place]], set[str]]],
             now: int) -> list[tuple[fields.Record, str]]:
        """One look at every namespace in view: the records of what grew, with the ENI
        they belong to (runs off the event loop: it waits for the kernel)."""
        pieces = []
        self.counts.keep_only(set(in_view))
        for namespace, (places, quiet) in in_view.items():
            seen = observe(namespace)
            for flow, packets, size, reply_packets, reply_size, fresh in \
                    self.counts.grown(namespace, seen):
                if flow.srcaddr == flow.dstaddr or flow.srcaddr in quiet or \
                        flow.dstaddr in quiet:
                    continue
                pieces += _records(flow, places, now, packets, size, reply_packets,
                                   reply_size, fresh)
            self.counts.forget(namespace, seen)
        return pieces

    def add(self, flow_logs: list[FlowLog], pieces: list[tuple[fields.Record, str]],
            opened: float) -> None:
        for flow_log in flow_logs:
            window = self.windows.setdefault(flow_log.id, _Window(opened, {}))
            for record, eni_id in pieces:
                if flow_log.traffic_type not in ("ALL", record.action):
                    continue
                if not _covers_id(flow_log, record.interface, eni_id):
                    continue
                key = (record.interface, record.srcaddr, record.dstaddr, record.srcport,
                       record.dstport, record.protocol, record.action, record.direction,
                       record.traffic_path)
                total = window.sums.get(key)
                if total is None:
                    window.sums[key] = _Sum(record.packets, record.bytes, record.start,
                                            record.end, record.tcp_flags)
                else:
                    total.packets += record.packets
                    total.bytes += record.bytes
                    total.end = record.end
                    total.tcp_flags |= record.tcp_flags

    def due(self, flow_logs: list[FlowLog], clock: float) -> list[tuple[FlowLog, list]]:
        """The flow logs whose interval has ended, with their records; their next begins."""
        out = []
        for flow_log in flow_logs:
            window = self.windows.get(flow_log.id)
            length = self.interval or flow_log.max_aggregation_interval
            if window is None or clock - window.opened < length:
                continue
            records = [fields.Record(interface, src, dst, sport, dport, proto, s.packets,
                                     s.bytes, s.start, s.end, action, s.tcp_flags, direction,
                                     path)
                       for (interface, src, dst, sport, dport, proto, action, direction, path),
                       s in window.sums.items()]
            self.windows[flow_log.id] = _Window(clock, {})
            if records:
                out.append((flow_log, records))
        return out

    async def deliver(self, flow_log: FlowLog, records: list[fields.Record]) -> None:
        problem = await self.delivery.deliver(flow_log, records, datetime.now(UTC))
        status = "FAILED" if problem else "SUCCESS"
        current = self.store.get(FlowLog, flow_log.id)
        if current is None or (current.deliver_logs_status, current.deliver_logs_error_message) \
                == (status, problem):
            return
        if problem:
            log.warning("flow log %s could not deliver to %s: %s", flow_log.id,
                        flow_log.log_destination, problem)
        with self.store.transaction() as tx:
            mine = tx.edit(FlowLog, flow_log.id)
            mine.deliver_logs_status, mine.deliver_logs_error_message = status, problem

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            flow_logs = list(self.store.all(FlowLog))
            for gone in set(self.windows) - {f.id for f in flow_logs}:
                del self.windows[gone]
            if flow_logs:
                clock = time.monotonic()
                try:
                    pieces = await asyncio.to_thread(self.look, self.in_view(flow_logs),
                                                     int(time.time()))
                except Exception:  # a bug here must not stop the daemon; the next look retries
                    log.exception("flow logs: a look at the namespaces failed")
                    pieces = []
                self.add(flow_logs, pieces, clock)
                for flow_log, records in self.due(flow_logs, time.monotonic()):
                    task = asyncio.create_task(self.deliver(flow_log, records))
                    self._delivering.add(task)
                    task.add_done_callback(self._delivering.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.look_every)
        if self._delivering:
            await asyncio.wait(self._delivering, timeout=5)


def _covers_id(flow_log: FlowLog, interface: fields.Interface, eni_id: str) -> bool:
    return {"VPC": interface.vpc_id, "Subnet": interface.subnet_id,
            "NetworkInterface": eni_id}.get(flow_log.resource_type) == flow_log.resource_id


def _records(flow: Seen, places: dict[str, tuple[str, _Place]], now: int, packets: int,
             size: int, reply_packets: int, reply_size: int, fresh: bool
             ) -> list[tuple[fields.Record, str]]:
    """The records one flow's growth makes on the ENIs at either end of it: the first
    direction is egress where it began and ingress where it arrived, the reply the
    other way round. TCP flags are conntrack's view: SYN (and SYN-ACK back) when the
    flow is new, FIN once it is finishing, RST once reset; a rejected TCP flow is taken as
    connection attempts (SYN)."""
    base = (FIN if flow.finished else 0) | (RST if flow.reset else 0)
    there = base | (SYN if fresh or flow.action == "REJECT" else 0)
    back = base | (SYN_ACK if fresh else 0)
    out = []
    for end, remote, outward in ((flow.srcaddr, flow.dstaddr, True),
                                 (flow.dstaddr, flow.srcaddr, False)):
        found = places.get(end)
        if found is None:
            continue
        eni_id, place = found
        first = fields.Record(place.interface, flow.srcaddr, flow.dstaddr, flow.srcport,
                              flow.dstport, flow.protocol, packets, size, now, now,
                              flow.action, there, "egress" if outward else "ingress",
                              place.path(remote) if outward else None)
        if packets:
            out.append((first, eni_id))
        if reply_packets:
            out.append((replace(first, srcaddr=flow.dstaddr, dstaddr=flow.srcaddr,
                                srcport=flow.dstport, dstport=flow.srcport,
                                packets=reply_packets, bytes=reply_size, tcp_flags=back,
                                direction="ingress" if outward else "egress",
                                traffic_path=None if outward else place.path(remote)),
                        eni_id))
    return out
