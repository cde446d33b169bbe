"""Every resource's state machine, once: its states (AWS's own strings) and its transitions.

The enums are ``StrEnum``s, so a stored resource keeps the plain strings AWS shows
(``"pendingAcceptance"``) and compares equal to them; the tuples below name the groups of
states that other layers act on (the data plane listens for an endpoint in
``ENDPOINT_LISTENING``), so that each group is written down in one place.

``TRANSITIONS`` holds the moves each state may make, by whoever makes them (an API call or
the reconciler); ``may_become`` (or ``checked``, which raises) is how the reconciler checks
its own before it writes them. The enums of resources that keep their state beside them
(peering, transit gateways, Site-to-Site VPN, ACM) are imported here, so that their
machines are in the one table too.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pocketlink.model.acm import CertificateStatus
from pocketlink.model.ec2 import Instance
from pocketlink.model.peering import PeeringState
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.model.transit_gateways import TransitGatewayState
from pocketlink.model.vpn import AttachmentState, VpnState

if TYPE_CHECKING:
    from pocketlink.store import Store


class InstanceState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SHUTTING_DOWN = "shutting-down"
    TERMINATED = "terminated"


class VpcEndpointState(StrEnum):
    PENDING_ACCEPTANCE = "pendingAcceptance"
    PENDING = "pending"
    AVAILABLE = "available"
    REJECTED = "rejected"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"


class LoadBalancerState(StrEnum):
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    FAILED = "failed"


class PrivateDnsState(StrEnum):
    PENDING_VERIFICATION = "pendingVerification"
    VERIFIED = "verified"
    FAILED = "failed"


class NatGatewayState(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"


State = InstanceState | VpcEndpointState | LoadBalancerState | PrivateDnsState | \
    NatGatewayState | PeeringState | TransitGatewayState | VpnState | AttachmentState | \
    CertificateStatus

_I, _E, _L, _P = InstanceState, VpcEndpointState, LoadBalancerState, PrivateDnsState
_N, _X, _T = NatGatewayState, PeeringState, TransitGatewayState
_V, _A, _C = VpnState, AttachmentState, CertificateStatus
# Per machine: the same string ("pending", "failed") is a state of several of them.
TRANSITIONS: dict[type[State], dict[str, tuple[State, ...]]] = {
    InstanceState: {
        _I.PENDING: (_I.RUNNING, _I.SHUTTING_DOWN),
        _I.RUNNING: (_I.STOPPING, _I.SHUTTING_DOWN),
        _I.STOPPING: (_I.STOPPED, _I.SHUTTING_DOWN),
        _I.STOPPED: (_I.PENDING, _I.SHUTTING_DOWN),
        _I.SHUTTING_DOWN: (_I.TERMINATED,),
        _I.TERMINATED: (),
    },
    VpcEndpointState: {
        _E.PENDING_ACCEPTANCE: (_E.PENDING, _E.REJECTED, _E.DELETING),
        _E.PENDING: (_E.AVAILABLE, _E.FAILED, _E.REJECTED, _E.DELETING),
        _E.AVAILABLE: (_E.FAILED, _E.REJECTED, _E.DELETING),
        # A failure the reconciler recorded clears once the network converges again.
        _E.FAILED: (_E.PENDING, _E.DELETING),
        _E.REJECTED: (_E.DELETING,),
        _E.DELETING: (_E.DELETED,),
        _E.DELETED: (),
    },
    LoadBalancerState: {
        _L.PROVISIONING: (_L.ACTIVE, _L.FAILED),
        _L.ACTIVE: (),
        _L.FAILED: (),
    },
    PrivateDnsState: {
        _P.PENDING_VERIFICATION: (_P.VERIFIED, _P.FAILED),
        _P.VERIFIED: (_P.FAILED,),
        _P.FAILED: (_P.VERIFIED, _P.PENDING_VERIFICATION),
    },
    NatGatewayState: {
        _N.PENDING: (_N.AVAILABLE, _N.FAILED, _N.DELETING),
        _N.AVAILABLE: (_N.DELETING,),
        _N.FAILED: (_N.DELETING, _N.DELETED),
        _N.DELETING: (_N.DELETED,),
        _N.DELETED: (),
    },
    # AWS's VpcPeeringConnectionStateReason; ``deleting`` is not modelled (a deletion is
    # at once ``deleted``), nor is a ``failed`` request's being tried again.
    PeeringState: {
        _X.INITIATING_REQUEST: (_X.PENDING_ACCEPTANCE, _X.FAILED),
        _X.PENDING_ACCEPTANCE: (_X.PROVISIONING, _X.REJECTED, _X.EXPIRED, _X.DELETED),
        _X.PROVISIONING: (_X.ACTIVE, _X.DELETED),
        _X.ACTIVE: (_X.DELETED,),
        _X.REJECTED: (),
        _X.FAILED: (),
        _X.EXPIRED: (),
        _X.DELETED: (),
    },
    # A transit gateway, its route tables and its VPC attachments (TransitGatewayState,
    # ...RouteTableState, ...AttachmentState); ``modifying`` and the attachments' acceptance
    # states (pendingAcceptance, rejected, failed...) are not modelled. Each may be
    # deleted while still pending.
    TransitGatewayState: {
        _T.PENDING: (_T.AVAILABLE, _T.DELETING),
        _T.AVAILABLE: (_T.DELETING,),
        _T.DELETING: (_T.DELETED,),
        _T.DELETED: (),
    },
    # VpnState, shared by virtual private gateways, customer gateways, VPN connections and
    # their static routes: a connection or route goes through ``deleting``, the two
    # gateways (``available`` from their creation) straight to ``deleted``.
    VpnState: {
        _V.PENDING: (_V.AVAILABLE, _V.DELETING),
        _V.AVAILABLE: (_V.DELETING, _V.DELETED),
        _V.DELETING: (_V.DELETED,),
        _V.DELETED: (),
    },
    # A virtual private gateway's attachment to a VPC; attaching the VPC again after
    # ``detached`` makes a new attachment (AttachVpnGateway), it is not a move of the old.
    AttachmentState: {
        _A.ATTACHING: (_A.ATTACHED, _A.DETACHING),
        _A.ATTACHED: (_A.DETACHING,),
        _A.DETACHING: (_A.DETACHED,),
        _A.DETACHED: (),
    },
    # ACM's CertificateStatus: a request is validated within 72 hours (ISSUED) or not
    # (VALIDATION_TIMED_OUT), or fails (FAILED); an issued certificate expires, is revoked
    # or turns INACTIVE. Renewal keeps a certificate ISSUED. pocketlink makes the first two
    # moves only (reconcile/certificates.py).
    CertificateStatus: {
        _C.PENDING_VALIDATION: (_C.ISSUED, _C.VALIDATION_TIMED_OUT, _C.FAILED),
        _C.ISSUED: (_C.EXPIRED, _C.REVOKED, _C.INACTIVE),
        _C.INACTIVE: (),
        _C.EXPIRED: (),
        _C.VALIDATION_TIMED_OUT: (),
        _C.REVOKED: (),
        _C.FAILED: (),
    },
}


def may_become(current: str | None, new: State) -> bool:
    """Whether a resource in state ``current`` (as stored) may move to ``new``."""
    return new in TRANSITIONS[type(new)].get(current or "", ())


def checked(resource_id: str, current: str | None, new: State) -> State:
    """``new``, which ``current`` may become; a planner that asks for any other move has a
    bug, and the pass fails rather than write it."""
    if not may_become(current, new):
        raise ValueError(f"{resource_id}: no move from {current} to {new}")
    return new


# Instance states in which the instance's namespace exists.
INSTANCE_HOSTED = (_I.PENDING, _I.RUNNING, _I.STOPPING, _I.STOPPED)
# Instance states in which its processes run (its UserData is booted).
INSTANCE_BOOTED = (_I.PENDING, _I.RUNNING)
# Instance states in which it neither runs nor will again without a StartInstances.
INSTANCE_STOPPED = (_I.STOPPING, _I.STOPPED, _I.SHUTTING_DOWN, _I.TERMINATED)
# Endpoint states in which its ENIs let traffic in and the data plane listens on them.
ENDPOINT_LISTENING = (_E.PENDING, _E.AVAILABLE)
# Endpoint states that count as a live connection of its service.
ENDPOINT_CONNECTED = (_E.AVAILABLE, _E.PENDING_ACCEPTANCE, _E.PENDING)
# Endpoint states whose records keep their DNS names (a rejected one keeps them too).
ENDPOINT_NAMED = (_E.PENDING_ACCEPTANCE, _E.PENDING, _E.AVAILABLE, _E.REJECTED)
# NAT gateway states in which its namespace exists and translates.
NAT_GATEWAY_HOSTED = (_N.PENDING, _N.AVAILABLE)
# Load balancer states in which its nodes listen.
BALANCER_LISTENING = (_L.PROVISIONING, _L.ACTIVE)


def failures(store: Store) -> list[dict[str, str]]:
    """The resources held out of their ready state by a failure, and why, as ``pocketlink
    status`` lists them: endpoints ``failed`` with a LastError, instances with a StateReason
    while still pending."""
    found = [{"id": e.id, "account": e.account, "state": e.state, "code": e.last_error.code,
              "message": e.last_error.message}
             for e in store.all(VpcEndpoint) if e.state == _E.FAILED and e.last_error]
    found += [{"id": i.id, "account": i.account, "state": i.state, "code": i.state_reason,
               "message": i.state_reason_message or i.state_reason}
              for i in store.all(Instance) if i.state == _I.PENDING and i.state_reason]
    return found
