"""Site-to-Site VPN: virtual private gateways (the VPC's end), customer gateways (the
on-premises end, as the account describes it) and the VPN connections between them.

pocketlink has no on-premises network, so none of these carries a packet: they are the
API's records, with AWS's state machines. A virtual private gateway is ``available`` from
its creation and ``deleted`` (still described for a while) after; its attachment to a VPC
goes ``attaching`` -> ``attached`` and ``detaching`` -> ``detached``. A VPN connection and
each of its static routes are ``pending`` until the lifecycle makes them ``available``
(reconcile/vpn.py); a deleted connection is ``deleting``, then ``deleted``. The tunnels'
outside addresses are drawn from TEST-NET-1 (192.0.2.0/24, RFC 5737), never routed
anywhere: pocketlink's internet (model/internet.py) uses the other two TEST-NETs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from pocketlink.model.base import Resource
from pocketlink.model.ec2 import Route, RouteTable

if TYPE_CHECKING:
    from pocketlink.store import Transaction

VPN_TYPE = "ipsec.1"  # the only type AWS offers for all three
DEFAULT_AMAZON_SIDE_ASN = 64512
TUNNEL_OUTSIDE_POOL = ipaddress.IPv4Network("192.0.2.0/24")


class VpnState(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    DELETING = "deleting"
    DELETED = "deleted"


class AttachmentState(StrEnum):
    ATTACHING = "attaching"
    ATTACHED = "attached"
    DETACHING = "detaching"
    DETACHED = "detached"


# An attachment that still holds its VPC (the gateway's routes there are live).
HOLDING = (AttachmentState.ATTACHING, AttachmentState.ATTACHED)


@dataclass(kw_only=True)
class VpcAttachment:
    vpc_id: str
    state: str = AttachmentState.ATTACHING


@dataclass(kw_only=True)
class VpnGateway(Resource):
    """A VPC's end of Site-to-Site VPN, attached to at most one VPC at a time; AWS keeps
    a detached attachment in the list, so does ``attachments`` (one per VPC, the last state).
    The route tables that propagate it name it (``RouteTable.propagating_vgws``)."""

    kind = "vpn-gateway"

    type: str = VPN_TYPE
    amazon_side_asn: int = DEFAULT_AMAZON_SIDE_ASN
    availability_zone: str | None = None
    state: str = VpnState.AVAILABLE
    attachments: list[VpcAttachment] = field(default_factory=list)
    deleted_at: str | None = None

    @property
    def vpc_id(self) -> str | None:
        """The VPC the gateway holds (attaching or attached), if any."""
        return next((a.vpc_id for a in self.attachments if a.state in HOLDING), None)


@dataclass(kw_only=True)
class CustomerGateway(Resource):
    kind = "customer-gateway"

    type: str = VPN_TYPE
    bgp_asn: str = "65000"
    ip_address: str | None = None
    device_name: str | None = None
    certificate_arn: str | None = None
    state: str = VpnState.AVAILABLE
    deleted_at: str | None = None


@dataclass(kw_only=True)
class VpnStaticRoute:
    destination_cidr_block: str
    state: str = VpnState.PENDING
    source: str = "Static"


@dataclass(kw_only=True)
class VpnConnection(Resource):
    kind = "vpn-connection"

    type: str = VPN_TYPE
    customer_gateway_id: str
    vpn_gateway_id: str
    static_routes_only: bool = False
    local_ipv4_network_cidr: str = "0.0.0.0/0"
    remote_ipv4_network_cidr: str = "0.0.0.0/0"
    tunnel_outside_addresses: list[str] = field(default_factory=list)
    tunnel_inside_cidrs: list[str] = field(default_factory=list)
    routes: list[VpnStaticRoute] = field(default_factory=list)
    state: str = VpnState.PENDING
    deleted_at: str | None = None


def free_outside_addresses(taken: set[str], count: int = 2) -> list[str]:
    """Two tunnel outside addresses no live connection holds (None left: reuse is fine,
    nothing is ever sent to them)."""
    free = [str(a) for a in TUNNEL_OUTSIDE_POOL.hosts() if str(a) not in taken]
    return (free or [str(a) for a in TUNNEL_OUTSIDE_POOL.hosts()])[:count]


def tunnel_inside_cidrs(taken: set[str]) -> list[str] | None:
    """Two /30s from 169.254.0.0/16 that no live connection holds, as AWS picks a tunnel's
    inside CIDR (it refuses a few reserved ones; the blocks from 169.254.100.0 are clear of
    those)."""
    for index in range(2000):
        base = ipaddress.IPv4Address("169.254.100.0") + index * 8
        pair = [f"{base}/30", f"{base + 4}/30"]
        if not taken.intersection(pair):
            return pair
    return None


PROPAGATED = "EnableVgwRoutePropagation"  # a propagated route's Origin


def gateway_route_state(gateway: VpnGateway | None, vpc_id: str) -> str:
    """A route to a virtual private gateway is ``active`` while the gateway is attached to
    the route table's VPC, ``blackhole`` otherwise (as a route to a detached internet
    gateway). The VPC router drops its traffic either way: there is no far side."""
    return "active" if gateway is not None and gateway.vpc_id == vpc_id else "blackhole"


def _propagated(tx: Transaction, gateway: VpnGateway) -> list[str]:
    """The static routes of the gateway's available VPN connections, as route tables that
    propagate the gateway see them: only while it is attached."""
    attached = any(a.state == AttachmentState.ATTACHED for a in gateway.attachments)
    if not attached or gateway.state != VpnState.AVAILABLE:
        return []
    destinations: dict[str, None] = {}
    for stored in tx.store.all(VpnConnection):
        if stored.vpn_gateway_id != gateway.id:
            continue
        connection = tx.get(VpnConnection, stored.id)  # as this transaction leaves it
        if connection is not None and connection.state == VpnState.AVAILABLE:
            destinations.update((r.destination_cidr_block, None) for r in connection.routes
                                if r.state == VpnState.AVAILABLE)
    return list(destinations)


def sync_gateway_routes(tx: Transaction, gateway_id: str, also: str | None = None) -> None:
    """Bring every route table's routes to ``gateway_id`` in line with the gateway as the
    transaction sees it: its static routes' states, and the propagated routes of the
    tables that propagate it (a destination a static route already holds is left to it).
    The tables are found as stored, and ``also`` (a table whose propagation this
    transaction turns on or off)."""
    gateway = tx.get(VpnGateway, gateway_id)
    wanted = _propagated(tx, gateway) if gateway is not None else []
    for stored in tx.store.all(RouteTable):
        if stored.id != also and gateway_id not in stored.propagating_vgws and \
                not any(r.gateway_id == gateway_id for r in stored.routes):
            continue
        table = tx.edit(RouteTable, stored.id)
        propagates = gateway_id in table.propagating_vgws
        state = gateway_route_state(gateway, table.vpc_id)
        kept = [r for r in table.routes
                if not (r.gateway_id == gateway_id and r.origin == PROPAGATED)]
        for route in kept:
            if route.gateway_id == gateway_id:
                route.state = state
        held = {r.destination_cidr_block for r in kept}
        if propagates and gateway is not None and gateway.vpc_id == table.vpc_id:
            kept += [Route(destination_cidr_block=d, gateway_id=gateway_id, origin=PROPAGATED)
                     for d in wanted if d not in held]
        table.routes = kept
