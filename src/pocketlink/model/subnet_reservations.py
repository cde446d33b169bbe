"""Subnet CIDR reservations: a block of a subnet that EC2 never picks an address from on
its own. ``explicit``: addresses in it are only given when asked for by name; ``prefix``:
kept for prefix delegation (which pocketlink does not do, so nothing comes from it)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pocketlink.model.base import Resource

if TYPE_CHECKING:
    from pocketlink.store import Store


@dataclass(kw_only=True)
class SubnetCidrReservation(Resource):
    kind = "subnet-cidr-reservation"

    subnet_id: str
    cidr: str
    reservation_type: str  # prefix | explicit
    description: str | None = None


def in_reservation(store: Store, subnet_id: str, address: str) -> bool:
    """Whether ``address`` lies in one of the subnet's reservations."""
    ip = ipaddress.ip_address(address)
    return any(r.subnet_id == subnet_id and ip in ipaddress.ip_network(r.cidr)
               for r in store.all(SubnetCidrReservation))
