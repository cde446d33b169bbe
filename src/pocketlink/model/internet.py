"""The way out of a VPC: internet gateways (and egress-only ones, IPv6), public IPv4
addresses (Elastic IPs and the ones EC2 hands out at launch) and NAT gateways.

Public addresses come from TEST-NET-2 and TEST-NET-3 (198.51.100.0/24, 203.0.113.0/24, RFC
5737): addresses that look public, are never routed on the real internet, and are only
ever used inside pocketlink's own namespaces (the "internet" namespace and the VPC routers
joined to it). One daemon has one internet, so the pool is shared by every account and
region it serves.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pocketlink.model.base import Resource

PUBLIC_POOL = (ipaddress.IPv4Network("198.51.100.0/24"), ipaddress.IPv4Network("203.0.113.0/24"))


@dataclass(kw_only=True)
class InternetGateway(Resource):
    """One gateway, attached to at most one VPC (``vpc_id``), as at AWS."""

    kind = "internet-gateway"

    vpc_id: str | None = None


@dataclass(kw_only=True)
class EgressOnlyInternetGateway(Resource):
    """IPv6 out of one VPC, and only replies back in."""

    kind = "egress-only-internet-gateway"

    vpc_id: str


@dataclass(kw_only=True)
class Address(Resource):
    """A public IPv4 address. An Elastic IP (``elastic``: its id is its allocation id,
    ``eipalloc-...``) is the account's until released and shows in DescribeAddresses; a
    public IP EC2 gave an instance at launch (its id ``eip-`` + the ENI's) lives and dies
    with that ENI and shows only on it. Associated with one ENI's primary private address
    (``network_interface_id``; ``vpc_id`` is that ENI's VPC, by which the network finds it).
    An association whose ENI is gone counts as none: addresses follow their ENIs."""

    kind = "address"

    public_ip: str
    elastic: bool = True
    network_interface_id: str | None = None
    private_ip_address: str | None = None
    association_id: str | None = None
    vpc_id: str | None = None


@dataclass(kw_only=True)
class NatGatewayAddress:
    allocation_id: str
    network_interface_id: str
    private_ip: str
    public_ip: str
    association_id: str


@dataclass(kw_only=True)
class NatGateway(Resource):
    """A public NAT gateway in one subnet, with one Elastic IP and its own ENI."""

    kind = "nat-gateway"

    vpc_id: str
    subnet_id: str
    connectivity_type: str = "public"
    client_token: str | None = None
    addresses: list[NatGatewayAddress] = field(default_factory=list)
    state: str = "pending"
    failure_code: str | None = None
    failure_message: str | None = None
    deleted_at: str | None = None
