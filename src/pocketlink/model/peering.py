"""VPC peering connections: a request from one VPC's owner, accepted by the other's, and
then a link between the two VPC routers that the route tables of both sides may use.

The states are AWS's (``VpcPeeringConnectionStateReason``), each with the message AWS
shows beside it; their moves are in model/states.py's one table. A peering is the
requester's resource (its ``account``); the accepter's owner sees it and acts on it too.
Its link's addresses come from ``link_index``, unique among the peerings that hold one, so
that a route names its next hop by address alone.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from pocketlink.model.base import Resource
from pocketlink.model.ec2 import RouteTable, Vpc

if TYPE_CHECKING:
    from pocketlink.store import Transaction


class PeeringState(StrEnum):
    INITIATING_REQUEST = "initiating-request"
    PENDING_ACCEPTANCE = "pending-acceptance"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    REJECTED = "rejected"
    FAILED = "failed"
    EXPIRED = "expired"
    DELETED = "deleted"


# The states in which the peering holds a link between the routers.
PEERING_LINKED = (PeeringState.PROVISIONING, PeeringState.ACTIVE)
# The states in which it is over: describable for a while, then forgotten.
PEERING_ENDED = (PeeringState.REJECTED, PeeringState.FAILED, PeeringState.EXPIRED,
                 PeeringState.DELETED)
# AWS's words for a request it could not make: the accepter VPC is not there (or not the
# named account's), or its CIDR blocks overlap the requester's.
FAILED_MESSAGE = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"

# The links' addresses: a /30 per peering from link-local space (no VPC may hold it) below
# the 169.254.169.x of the resolver and the metadata service, and a /126 of unique-local
# IPv6 beside the resolver's fd00:ec2::/64.
_LINKS_V4 = ipaddress.IPv4Network("169.254.0.0/17")
_LINKS_V6 = ipaddress.IPv6Network("fd00:ec2:0:1::/64")
MAX_LINKS = _LINKS_V4.num_addresses // 4


@dataclass(kw_only=True)
class PeeringOptions:
    allow_dns_resolution_from_remote_vpc: bool = False


@dataclass(kw_only=True)
class VpcPeeringConnection(Resource):
    kind = "vpc-peering-connection"

    requester_vpc_id: str
    accepter_vpc_id: str
    accepter_owner_id: str
    accepter_region: str
    status: str = PeeringState.INITIATING_REQUEST
    message: str = ""
    requester_options: PeeringOptions = field(default_factory=PeeringOptions)
    accepter_options: PeeringOptions = field(default_factory=PeeringOptions)
    expiration_time: str | None = None
    link_index: int | None = None  # set on acceptance
    ended_at: str | None = None  # when it was rejected, deleted, failed or expired

    def side_of(self, vpc_id: str) -> str | None:
        """``requester`` or ``accepter``: which end ``vpc_id`` is, if either."""
        if vpc_id == self.requester_vpc_id:
            return "requester"
        return "accepter" if vpc_id == self.accepter_vpc_id else None

    def other_vpc(self, vpc_id: str) -> str:
        return self.accepter_vpc_id if vpc_id == self.requester_vpc_id else self.requester_vpc_id


def link_addresses(index: int, requester: bool) -> tuple[str, str]:
    """One end's addresses on the peering's link (IPv4 /30, IPv6 /126)."""
    host = 1 if requester else 2
    v4 = _LINKS_V4.network_address + 4 * index + host
    v6 = _LINKS_V6.network_address + 4 * index + host
    return f"{v4}/30", f"{v6}/126"


def overlapping(requester: Vpc, accepter: Vpc) -> bool:
    """Whether an IPv4 block of one VPC overlaps one of the other's (IPv6 blocks do not
    count, as the VPC peering guide says)."""
    mine = [ipaddress.ip_network(a.cidr) for a in requester.cidr_associations]
    theirs = [ipaddress.ip_network(a.cidr) for a in accepter.cidr_associations]
    return any(a.overlaps(b) for a in mine for b in theirs)


def route_states(tx: Transaction, peering_id: str, state: str) -> None:
    """Every route through ``peering_id``, in either account, set to ``state``: routes
    through a peering that is not active are ``blackhole``."""
    for table in tx.store.all(RouteTable):
        if any(r.vpc_peering_connection_id == peering_id and r.state != state
               for r in table.routes):
            mine = tx.edit(RouteTable, table.id)
            for route in mine.routes:
                if route.vpc_peering_connection_id == peering_id:
                    route.state = state
