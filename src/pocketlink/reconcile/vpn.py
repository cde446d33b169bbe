"""The moves of Site-to-Site VPN's records that are nobody's call (model/vpn.py): an
attachment ``attaching`` becomes ``attached`` and one ``detaching`` ``detached``, a VPN
connection and its static routes ``pending`` become ``available``, a connection
``deleting`` becomes ``deleted`` and a route ``deleting`` goes; the route tables that
propagate the gateway follow each move. Nothing waits on the network: a VPN has no far
side here, so each move is due at the next pass. Deleted records are forgotten after the
retention AWS keeps showing them for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pocketlink.model.base import now
from pocketlink.model.states import checked
from pocketlink.model.vpn import (
    AttachmentState,
    CustomerGateway,
    VpnConnection,
    VpnGateway,
    VpnState,
    sync_gateway_routes,
)
from pocketlink.reconcile.changes import Change, forget
from pocketlink.store import Store, Transaction

DELETED_RETENTION = timedelta(minutes=10)
# The move each unsettled state makes at the next pass (checked in model/states.py's table).
_SETTLED = {AttachmentState.ATTACHING: AttachmentState.ATTACHED,
            AttachmentState.DETACHING: AttachmentState.DETACHED,
            VpnState.PENDING: VpnState.AVAILABLE,
            VpnState.DELETING: VpnState.DELETED}


def _settle_attachments(gateway_id: str) -> Change:
    def change(tx: Transaction) -> None:
        mine = tx.get(VpnGateway, gateway_id)
        if mine is None:
            return
        for attachment in mine.attachments:
            if attachment.state in _SETTLED:
                attachment.state = checked(f"{gateway_id}'s attachment to {attachment.vpc_id}",
                                           attachment.state, _SETTLED[attachment.state])
        sync_gateway_routes(tx, gateway_id)
    return change


def _settle_connection(connection_id: str) -> Change:
    def change(tx: Transaction) -> None:
        mine = tx.get(VpnConnection, connection_id)
        if mine is None:
            return
        if mine.state in _SETTLED:
            mine.state = checked(mine.id, mine.state, _SETTLED[mine.state])
            if mine.state == VpnState.DELETED:
                mine.deleted_at = now().isoformat()
        if mine.state == VpnState.AVAILABLE:
            mine.routes = [r for r in mine.routes if r.state != VpnState.DELETING]
            for route in mine.routes:
                if route.state == VpnState.PENDING:
                    route.state = checked(f"{mine.id}'s route to {route.destination_cidr_block}",
                                          route.state, VpnState.AVAILABLE)
        sync_gateway_routes(tx, mine.vpn_gateway_id)
    return change


def _expired(deleted_at: str | None, moment: datetime) -> bool:
    return deleted_at is not None and \
        datetime.fromisoformat(deleted_at) + DELETED_RETENTION <= moment


def vpn_transitions(store: Store, moment: datetime) -> list[tuple[str, Change]]:
    due: list[tuple[str, Change]] = []
    for gateway in store.all(VpnGateway):
        if any(a.state in (AttachmentState.ATTACHING, AttachmentState.DETACHING)
               for a in gateway.attachments):
            due.append((f"{gateway.id} attachments settled", _settle_attachments(gateway.id)))
        elif gateway.state == VpnState.DELETED and _expired(gateway.deleted_at, moment):
            due.append((f"{gateway.id} forgotten", forget(VpnGateway, gateway.id)))
    for connection in store.all(VpnConnection):
        unsettled = connection.state in (VpnState.PENDING, VpnState.DELETING) or (
            connection.state == VpnState.AVAILABLE and
            any(r.state != VpnState.AVAILABLE for r in connection.routes))
        if unsettled:
            due.append((f"{connection.id} settled", _settle_connection(connection.id)))
        elif connection.state == VpnState.DELETED and _expired(connection.deleted_at, moment):
            due.append((f"{connection.id} forgotten", forget(VpnConnection, connection.id)))
    due += [(f"{g.id} forgotten", forget(CustomerGateway, g.id))
            for g in store.all(CustomerGateway)
            if g.state == VpnState.DELETED and _expired(g.deleted_at, moment)]
    return due
