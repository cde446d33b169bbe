"""The seam for NAT gateways' figures: whatever carries a NAT gateway's traffic (its
SNAT in nftables, say) hands the sampler a reader, an async callable giving each NAT
gateway's counts since it was made. The sampler turns them into AWS/NATGateway's metrics
(per ``NatGatewayId``, in the gateway's account and region) and ``pocketlink cost`` bills
them; with no reader there are none.

Wiring: ``Sampler(..., nat=reader)`` in daemon.py. Counts are cumulative and may start
again from zero (a ruleset rebuilt): a count that went down is taken as new from zero.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, fields


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
    "connections_established": "ConnectionEstablishedCount",
}
assert set(METRIC_OF) | {"account", "region", "nat_gateway_id", "active_connections"} == \
    {f.name for f in fields(NatGatewayCounts)}


class NatDeltas:
    """Per NAT gateway, its counts' growth since the last look."""

    def __init__(self) -> None:
        self._last: dict[str, NatGatewayCounts] = {}

    def take(self, counts: Iterable[NatGatewayCounts]
             ) -> list[tuple[str, str, str, dict[str, int], int]]:
        out = []
        seen = {}
        for now in counts:
            seen[now.nat_gateway_id] = now
            before = self._last.get(now.nat_gateway_id)
            deltas = {}
            for attribute, name in METRIC_OF.items():
                value, old = getattr(now, attribute), getattr(before, attribute, 0)
                deltas[name] = value - old if value >= old else value
            out.append((now.account, now.region, now.nat_gateway_id, deltas,
                        now.active_connections))
        self._last = seen
        return out
