"""Transit gateways: a regional router that VPCs attach to, routing between them by its
own route tables.

A transit gateway is ``pending`` until its router exists, then ``available``; deleted, it
is ``deleting`` until the router is gone, then ``deleted``. A VPC attachment goes the same
way (``pending`` until its link to the gateway's router is up). Each attachment is
associated with at most one route table (the one that routes what arrives through it) and
propagates its VPC's CIDR blocks into any number of them; a table's static routes name
an attachment or are blackholes. The gateway's route tables are kept apart from the
gateway (their own kind), as the API names them by their own ids.

An attachment's link (a veth pair between the gateway's router and the VPC's) takes its
addresses from ``link_index``, unique among live attachments, in a range of its own beside
the peerings' (model/peering.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from pocketlink.model.base import Resource
from pocketlink.model.ec2 import RouteTable

if TYPE_CHECKING:
    from pocketlink.store import Store, Transaction


class TransitGatewayState(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    DELETING = "deleting"
    DELETED = "deleted"


# Attachments and route tables move through the same words (AWS's
# TransitGatewayAttachmentState and TransitGatewayRouteTableState hold more: the
# acceptance and modification states pocketlink does not model).
LIVE = (TransitGatewayState.PENDING, TransitGatewayState.AVAILABLE)

# The links' addresses: a /30 per attachment from link-local space above the peerings'
# 169.254.0.0/17 and clear of 169.254.169.x (the resolver, the metadata service), and a
# /126 of unique-local IPv6 beside the peerings' fd00:ec2:0:1::/64.
_LINKS_V4 = ipaddress.IPv4Network("169.254.192.0/19")
_LINKS_V6 = ipaddress.IPv6Network("fd00:ec2:0:2::/64")
MAX_LINKS = _LINKS_V4.num_addresses // 4
DEFAULT_ASN = 64512


@dataclass(kw_only=True)
class TransitGatewayOptions:
    amazon_side_asn: int = DEFAULT_ASN
    auto_accept_shared_attachments: str = "disable"
    default_route_table_association: str = "enable"
    default_route_table_propagation: str = "enable"
    vpn_ecmp_support: str = "enable"
    dns_support: str = "enable"
    security_group_referencing_support: str = "disable"
    multicast_support: str = "disable"
    association_default_route_table_id: str | None = None
    propagation_default_route_table_id: str | None = None


@dataclass(kw_only=True)
class TransitGateway(Resource):
    kind = "transit-gateway"

    description: str = ""
    state: str = TransitGatewayState.PENDING
    options: TransitGatewayOptions = field(default_factory=TransitGatewayOptions)
    ended_at: str | None = None


@dataclass(kw_only=True)
class TransitGatewayVpcAttachment(Resource):
    kind = "transit-gateway-vpc-attachment"

    transit_gateway_id: str
    vpc_id: str
    subnet_ids: list[str] = field(default_factory=list)
    network_interface_ids: list[str] = field(default_factory=list)
    state: str = TransitGatewayState.PENDING
    link_index: int = 0
    dns_support: str = "enable"
    ipv6_support: str = "disable"
    appliance_mode_support: str = "disable"
    ended_at: str | None = None


@dataclass(kw_only=True)
class TransitGatewayRoute:
    destination_cidr_block: str
    attachment_id: str | None = None  # None: a blackhole
    blackhole: bool = False


@dataclass(kw_only=True)
class TransitGatewayRouteTable(Resource):
    kind = "transit-gateway-route-table"

    transit_gateway_id: str
    state: str = TransitGatewayState.PENDING
    default_association: bool = False
    default_propagation: bool = False
    associations: list[str] = field(default_factory=list)  # attachment ids
    propagations: list[str] = field(default_factory=list)  # attachment ids
    routes: list[TransitGatewayRoute] = field(default_factory=list)  # static ones
    ended_at: str | None = None


def link_addresses(index: int, gateway: bool) -> tuple[str, str]:
    """One end's addresses on an attachment's link (IPv4 /30, IPv6 /126): the gateway's
    router holds the first host, the VPC's router the second."""
    host = 1 if gateway else 2
    v4 = _LINKS_V4.network_address + 4 * index + host
    v6 = _LINKS_V6.network_address + 4 * index + host
    return f"{v4}/30", f"{v6}/126"


def attachment_of(store: Store, gateway_id: str, vpc_id: str
                  ) -> TransitGatewayVpcAttachment | None:
    """The live attachment of ``vpc_id`` to the gateway, if there is one."""
    return next((a for a in store.all(TransitGatewayVpcAttachment)
                 if a.transit_gateway_id == gateway_id and a.vpc_id == vpc_id
                 and a.state in LIVE), None)


def attached_to(store: Store, gateway_id: str, account: str, vpc_id: str) -> bool:
    """Whether ``account``'s live gateway ``gateway_id`` has ``vpc_id`` attached."""
    gateway = store.get(TransitGateway, gateway_id)
    return gateway is not None and gateway.account == account and gateway.state in LIVE \
        and attachment_of(store, gateway_id, vpc_id) is not None


def route_states(tx: Transaction, attachment: TransitGatewayVpcAttachment, state: str) -> None:
    """The routes of the attachment's VPC to its gateway set to ``state``: ``blackhole``
    while the VPC is not attached, ``active`` once it is."""
    for table in tx.store.all(RouteTable):
        if table.vpc_id == attachment.vpc_id and any(
                r.transit_gateway_id == attachment.transit_gateway_id and r.state != state
                for r in table.routes):
            for route in tx.edit(RouteTable, table.id).routes:
                if route.transit_gateway_id == attachment.transit_gateway_id:
                    route.state = state
