"""The seam for NAT gateways' figures: whatever carries a NAT gateway's traffic (its
SNAT in nftables, say) hands the sampler a reader, an async callable giving each NAT
gateway's counts since it was made. The sampler turns them into AWS/NATGateway's metrics
(per ``NatGatewayId``, in the gateway's account and region) and ``pocketlink cost`` bills
them; with no reader there are none.

Wiring: ``Sampler(..., nat=namespace_reader(store))`` in daemon.py, when the network is
built. Counts are cumulative and may start again from zero (a ruleset rebuilt): a count
that went down is taken as new from zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations name it
    from pocketlink.store import Store


@dataclass(frozen=True)
class NatGatewayCounts:
    account: str
    region: str
    nat_gateway_id: str
    bytes_out_to_destination: int = 0
    bytes_in_from_destination: int = 0
    bytes_out_to_source: int = 0
    bytes_in_from_source: int = 0
    packets_out_to_destination: int = 0
    packets_in_from_destination: int = 0
    packets_out_to_source: int = 0
    packets_in_from_source: int = 0
    connection_attempts: int = 0
    connections_established: int = 0
    active_connections: int = 0  # open now, not cumulative


NatGatewayReader = Callable[[], Awaitable[Iterable[NatGatewayCounts]]]

# Each cumulative count, by the CloudWatch metric it feeds.
METRIC_OF = {
    "bytes_out_to_destination": "BytesOutToDestination",
    "bytes_in_from_destination": "BytesInFromDestination",
    "bytes_out_to_source": "BytesOutToSource",
    "bytes_in_from_source": "BytesInFromSource",
    "packets_out_to_destination": "PacketsOutToDestination",
    "packets_in_from_destination": "PacketsInFromDestination",
    "packets_out_to_source": "PacketsOutToSource",
    "packets_in_from_source": "PacketsInFromSource",
    "connection_attempts": "ConnectionAttemptCount",
    "connections_established": "ConnectionEstablishedCount",
}
assert set(METRIC_OF) | {"account", "region", "nat_gateway_id", "active_connections"} == \
    {f.name for f in fields(NatGatewayCounts)}


class NatDeltas:
    """Per NAT gateway, its counts' growth since the last look. The first look only takes
    the counts as they are: a NAT gateway's namespace outlives a restarted daemon, and what
    its counters held then was counted before (the metric store keeps it); a NAT gateway
    first seen later is new, and counts from zero."""

    def __init__(self) -> None:
        self._last: dict[str, NatGatewayCounts] | None = None

    def take(self, counts: Iterable[NatGatewayCounts]
             ) -> list[tuple[str, str, str, dict[str, int], int]]:
        out = []
        seen = {}
        for now in counts:
            seen[now.nat_gateway_id] = now
            before = now if self._last is None else self._last.get(now.nat_gateway_id)
            deltas = {}
            for attribute, name in METRIC_OF.items():
                value, old = getattr(now, attribute), getattr(before, attribute, 0)
                deltas[name] = value - old if value >= old else value
            out.append((now.account, now.region, now.nat_gateway_id, deltas,
                        now.active_connections))
        self._last = seen
        return out


def namespace_reader(store: Store) -> NatGatewayReader:
    """The reader of the NAT gateways pocketlink builds: each one's nftables counters and
    connection table, in its own namespace (network/internet.py), read off the event loop.
    Which NAT gateways there are is read on the loop, where the store is written (a commit
    while a thread walked its dicts would end that walk). A NAT gateway forwards what it
    takes in, so what goes out to the source is what came in from the destination, and the
    other way round."""
    from pocketlink.model.internet import NatGateway
    from pocketlink.model.states import NAT_GATEWAY_HOSTED
    from pocketlink.network.internet import nat_gateway_traffic

    def read(hosted: list[tuple[str, str, str]]) -> list[NatGatewayCounts]:
        counts = []
        for account, region, nat_id in hosted:
            seen = nat_gateway_traffic(nat_id)
            if seen is None:
                continue
            counts.append(NatGatewayCounts(
                account, region, nat_id,
                bytes_out_to_destination=seen.bytes_out_to_destination,
                bytes_in_from_destination=seen.bytes_in_from_destination,
                bytes_out_to_source=seen.bytes_in_from_destination,
                bytes_in_from_source=seen.bytes_out_to_destination,
                packets_out_to_destination=seen.packets_out_to_destination,
                packets_in_from_destination=seen.packets_in_from_destination,
                packets_out_to_source=seen.packets_in_from_destination,
                packets_in_from_source=seen.packets_out_to_destination,
                connection_attempts=seen.connection_attempt_count,
                connections_established=seen.connection_established_count,
                active_connections=seen.active_connection_count))
        return counts

    async def reader() -> list[NatGatewayCounts]:
        hosted = [(nat.account, nat.region, nat.id) for nat in store.all(NatGateway)
                  if nat.state in NAT_GATEWAY_HOSTED]
        return await asyncio.to_thread(read, hosted)

    return reader
