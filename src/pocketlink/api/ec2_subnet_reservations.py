"""Subnet CIDR reservations: Create/Delete/GetSubnetCidrReservations. The allocator
(``api/addresses``) never picks an address inside one; an address there is given only when
named (PrivateIpAddress, AssignPrivateIpAddresses ...). Where AWS documents no wording (a
block outside the subnet, two reservations that overlap), the messages are pocketlink's.
"""

from __future__ import annotations

import ipaddress

from pocketlink.api import filters, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import require
from pocketlink.model import ids
from pocketlink.model.ec2 import Subnet
from pocketlink.model.subnet_reservations import SubnetCidrReservation
from pocketlink.wire.errors import ServiceError

TYPES = ("prefix", "explicit")

RESERVATION_FILTERS: dict[str, filters.Field] = {
    "reservationType": lambda r: r.reservation_type,
    "subnet-id": lambda r: r.subnet_id,
    "owner-id": lambda r: r.account,
}


def describe_reservation(reservation: SubnetCidrReservation) -> dict:
    item = {"SubnetCidrReservationId": reservation.id, "SubnetId": reservation.subnet_id,
            "Cidr": reservation.cidr, "ReservationType": reservation.reservation_type,
            "OwnerId": reservation.account}
    if reservation.description:
        item["Description"] = reservation.description
    if reservation.tags:
        item["Tags"] = tags.tag_set(reservation.tags)
    return item


def _block(subnet: Subnet, cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        raise ec2.InvalidParameterValue(f"The CIDR '{cidr}' is invalid.") from None
    blocks = [subnet.cidr_block] if subnet.cidr_block else []
    blocks += [a.cidr for a in subnet.ipv6_associations]
    if not any(network.version == ipaddress.ip_network(b).version and
               network.subnet_of(ipaddress.ip_network(b)) for b in blocks):  # type: ignore[arg-type]
        raise ec2.InvalidParameterValue(f"The CIDR '{cidr}' is not within a CIDR block of "
                                        f"subnet {subnet.id}.")
    return network


@operation("ec2", "CreateSubnetCidrReservation")
def create_subnet_cidr_reservation(context: RequestContext, params: dict) -> dict:
    subnet = require(context, Subnet, params["SubnetId"])
    kind = params["ReservationType"]
    if kind not in TYPES:
        raise ec2.InvalidParameterValue(f"Value ({kind}) for parameter reservationType is "
                                        "invalid. Valid values are prefix and explicit.")
    network = _block(subnet, params["Cidr"])
    for other in context.store.all(SubnetCidrReservation):
        if other.subnet_id == subnet.id and network.overlaps(ipaddress.ip_network(other.cidr)):  # type: ignore[arg-type]
            raise ServiceError(f"The CIDR '{network}' conflicts with the subnet CIDR "
                               f"reservation {other.id}.",
                               code="InvalidSubnetCidrReservation.Conflict")
    reservation = SubnetCidrReservation(
        id=ids.new_id("scr"), account=context.account, region=context.region,
        subnet_id=subnet.id, cidr=str(network), reservation_type=kind,
        description=params.get("Description"),
        tags=tags.from_specifications(params, "subnet-cidr-reservation"))
    with context.store.transaction() as tx:
        tx.put(reservation)
    return {"SubnetCidrReservation": describe_reservation(reservation)}


@operation("ec2", "GetSubnetCidrReservations")
def get_subnet_cidr_reservations(context: RequestContext, params: dict) -> dict:
    subnet = require(context, Subnet, params["SubnetId"])
    found = [r for r in context.store.all(SubnetCidrReservation) if r.subnet_id == subnet.id]
    found = filters.apply(found, params.get("Filters"), RESERVATION_FILTERS)
    return {"SubnetIpv4CidrReservations": [describe_reservation(r) for r in found
                                           if ":" not in r.cidr],
            "SubnetIpv6CidrReservations": [describe_reservation(r) for r in found
                                           if ":" in r.cidr]}


@operation("ec2", "DeleteSubnetCidrReservation")
def delete_subnet_cidr_reservation(context: RequestContext, params: dict) -> dict:
    reservation_id = params["SubnetCidrReservationId"]
    found = context.store.get(SubnetCidrReservation, reservation_id)
    if found is None or found.account != context.account or found.region != context.region:
        raise ServiceError(f"The subnet CIDR reservation ID '{reservation_id}' does not exist",
                           code="InvalidSubnetCidrReservationID.NotFound")
    with context.store.transaction() as tx:
        tx.delete(found)
    return {"DeletedSubnetCidrReservation": describe_reservation(found)}
