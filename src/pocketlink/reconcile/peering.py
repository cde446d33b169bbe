"""The moves of VPC peering connections that are nobody's call: a request checked
(``pending-acceptance``, or ``failed`` in AWS's words), an accepted one made ``active`` once
the link between the two routers is up, an unanswered one ``expired``, one whose VPC is
gone ``deleted``, and an ended one forgotten after the two hours AWS keeps showing it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pocketlink.model.base import now
from pocketlink.model.ec2 import Vpc
from pocketlink.model.peering import (
    FAILED_MESSAGE,
    PEERING_ENDED,
    PeeringState,
    VpcPeeringConnection,
    overlapping,
    route_states,
)
from pocketlink.model.states import checked
from pocketlink.reconcile.changes import Change, forget
from pocketlink.store import Store, Transaction

ENDED_RETENTION = timedelta(hours=2)



def _move(peering: VpcPeeringConnection, state: PeeringState, message: str,
          routes: str | None = None) -> tuple[str, Change]:
    checked(peering.id, peering.status, state)

    def change(tx: Transaction) -> None:
        mine = tx.get(VpcPeeringConnection, peering.id)
        if mine is None or mine.status != peering.status:
            return
        mine.status, mine.message = state, message
        if state in PEERING_ENDED:
            mine.ended_at = now().isoformat()
        if routes is not None:
            route_states(tx, peering.id, routes)
    return f"{peering.id} {state}", change


def _forget(peering: VpcPeeringConnection) -> tuple[str, Change]:
    return f"{peering.id} forgotten", forget(VpcPeeringConnection, peering.id)


def _checked(store: Store, peering: VpcPeeringConnection) -> tuple[str, Change]:
    requester = store.get(Vpc, peering.requester_vpc_id)
    accepter = store.get(Vpc, peering.accepter_vpc_id)
    if requester is None or accepter is None or accepter.account != peering.accepter_owner_id \
            or accepter.region != peering.accepter_region or overlapping(requester, accepter):
        return _move(peering, PeeringState.FAILED, FAILED_MESSAGE)
    return _move(peering, PeeringState.PENDING_ACCEPTANCE,
                 f"Pending Acceptance by {peering.accepter_owner_id}")


def peering_transitions(store: Store, moment: datetime, linked: set[str] | None
                        ) -> list[tuple[str, Change]]:
    """What is due for every peering; ``linked``: the peerings whose link the network's
    last runs made (None without a network: nothing to wait for)."""
    due = []
    for peering in store.all(VpcPeeringConnection):
        state = peering.status
        gone = next((owner for vpc_id, owner in (
            (peering.requester_vpc_id, peering.account),
            (peering.accepter_vpc_id, peering.accepter_owner_id))
            if store.get(Vpc, vpc_id) is None), None)
        if state == PeeringState.INITIATING_REQUEST:
            due.append(_checked(store, peering))
        elif state not in PEERING_ENDED and gone is not None:
            due.append(_move(peering, PeeringState.DELETED, f"Deleted by {gone}", "blackhole"))
        elif state == PeeringState.PENDING_ACCEPTANCE and peering.expiration_time and \
                datetime.fromisoformat(peering.expiration_time) <= moment:
            due.append(_move(peering, PeeringState.EXPIRED, "Expired"))
        elif state == PeeringState.PROVISIONING and (linked is None or peering.id in linked):
            due.append(_move(peering, PeeringState.ACTIVE, "Active", "active"))
        elif state in PEERING_ENDED and peering.ended_at and \
                datetime.fromisoformat(peering.ended_at) + ENDED_RETENTION <= moment:
            due.append(_forget(peering))
    return due
