"""Transit gateways for the reconciler: each live gateway's router handed to the network
reconciler as a key of its own (beside the VPCs'), and the moves that are nobody's call:
a gateway (and its route tables) ``available`` once its router's namespace is there,
``deleted`` once it is gone; an attachment ``available`` once its link is up, ``deleted``
(its ENIs released, static routes to it blackholed) once the link is gone; ended ones
forgotten after a while, as AWS stops showing them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pocketlink.model.base import now
from pocketlink.model.ec2 import NetworkInterface
from pocketlink.model.states import checked
from pocketlink.model.transit_gateways import (
    TransitGateway,
    TransitGatewayRouteTable,
    TransitGatewayState,
    TransitGatewayVpcAttachment,
    route_states,
)
from pocketlink.network import names
from pocketlink.network.topology import RouterSpec, VpcTopology
from pocketlink.network.transit_gateways import gateway_router, gateways_wanted
from pocketlink.reconcile.changes import Change, forget, set_fields
from pocketlink.store import Store, Transaction

# How long a deleted gateway, attachment or route table stays describable (AWS documents
# no figure; pocketlink's guess, as its deleted endpoints'.)
ENDED_RETENTION = timedelta(minutes=10)



class GatewayRouters:
    """The routers last handed to the network reconciler, so that a pass hands over only
    what changed (a worker's finished run nudges a pass: handing over the same spec each
    pass would never rest)."""

    def __init__(self) -> None:
        self._given: dict[str, RouterSpec] = {}

    def want(self, store: Store, want: Callable[[str, VpcTopology | None, bool], None],
             full: bool) -> None:
        routers = {g.id: gateway_router(store, g) for g in gateways_wanted(store)}
        for gateway_id, spec in routers.items():
            if full or self._given.get(gateway_id) != spec:
                self._given[gateway_id] = spec
                want(gateway_id, VpcTopology(spec, ()), full)
        for gateway_id in set(self._given) - set(routers):
            del self._given[gateway_id]
            want(gateway_id, None, False)



def _released(attachment: TransitGatewayVpcAttachment) -> Change:
    """A deleted attachment's ENIs go; static routes to it and its VPC's routes to the
    gateway turn blackholes."""
    def change(tx: Transaction) -> None:
        mine = tx.get(TransitGatewayVpcAttachment, attachment.id)
        if mine is None or mine.state != TransitGatewayState.DELETING:
            return
        mine.state = checked(mine.id, mine.state, TransitGatewayState.DELETED)
        mine.ended_at = now().isoformat()
        route_states(tx, mine, "blackhole")
        for eni_id in attachment.network_interface_ids:
            eni = tx.store.get(NetworkInterface, eni_id)
            if eni is not None:
                tx.delete(eni)
        for table in tx.store.all(TransitGatewayRouteTable):
            if any(r.attachment_id == attachment.id for r in table.routes):
                edited = tx.edit(TransitGatewayRouteTable, table.id)
                for route in edited.routes:
                    if route.attachment_id == attachment.id:
                        route.attachment_id, route.blackhole = None, True
    return change


def _available(attachment: TransitGatewayVpcAttachment) -> Change:
    """The link is up: the attachment and its VPC's routes to the gateway are in use."""
    def change(tx: Transaction) -> None:
        mine = tx.get(TransitGatewayVpcAttachment, attachment.id)
        if mine is not None and mine.state == TransitGatewayState.PENDING:
            mine.state = checked(mine.id, mine.state, TransitGatewayState.AVAILABLE)
            route_states(tx, mine, "active")
    return change


def _expired(ended_at: str | None, moment: datetime) -> bool:
    return ended_at is not None and \
        datetime.fromisoformat(ended_at) + ENDED_RETENTION <= moment


def transit_gateway_transitions(store: Store, moment: datetime, linked: set[str] | None,
                                namespaces: set[str] | None) -> list[tuple[str, Change]]:
    """What is due; ``linked``: the attachments whose link the network's last runs made,
    ``namespaces``: the pocketlink namespaces there now (both None without a network:
    nothing to wait for)."""
    due: list[tuple[str, Change]] = []
    ended = now().isoformat()
    for gateway in store.all(TransitGateway):
        there = namespaces is None or names.namespace(gateway.id) in namespaces
        if gateway.state == TransitGatewayState.PENDING and there:
            due.append((f"{gateway.id} available", set_fields(TransitGateway, gateway.id, state=(
                checked(gateway.id, gateway.state, TransitGatewayState.AVAILABLE)))))
        elif gateway.state == TransitGatewayState.DELETING and \
                (namespaces is None or not there):
            due.append((f"{gateway.id} deleted", set_fields(
                TransitGateway, gateway.id, ended_at=ended,
                state=checked(gateway.id, gateway.state, TransitGatewayState.DELETED))))
        elif gateway.state == TransitGatewayState.DELETED and _expired(gateway.ended_at, moment):
            due.append((f"{gateway.id} forgotten", forget(TransitGateway, gateway.id)))
    for table in store.all(TransitGatewayRouteTable):
        gateway = store.get(TransitGateway, table.transit_gateway_id)
        if table.state == TransitGatewayState.PENDING and gateway is not None and \
                gateway.state == TransitGatewayState.AVAILABLE:
            due.append((f"{table.id} available", set_fields(
                TransitGatewayRouteTable, table.id,
                state=checked(table.id, table.state, TransitGatewayState.AVAILABLE))))
        elif table.state == TransitGatewayState.DELETING:
            due.append((f"{table.id} deleted", set_fields(
                TransitGatewayRouteTable, table.id, ended_at=ended,
                state=checked(table.id, table.state, TransitGatewayState.DELETED))))
        elif table.state == TransitGatewayState.DELETED and _expired(table.ended_at, moment):
            due.append((f"{table.id} forgotten", forget(TransitGatewayRouteTable, table.id)))
    for attachment in store.all(TransitGatewayVpcAttachment):
        up = linked is None or attachment.id in linked
        if attachment.state == TransitGatewayState.PENDING and up:
            due.append((f"{attachment.id} available", _available(attachment)))
        elif attachment.state == TransitGatewayState.DELETING and (linked is None or not up):
            due.append((f"{attachment.id} deleted", _released(attachment)))
        elif attachment.state == TransitGatewayState.DELETED and \
                _expired(attachment.ended_at, moment):
            due.append((f"{attachment.id} forgotten",
                        forget(TransitGatewayVpcAttachment, attachment.id)))
    return due
