"""Every resource's state machine, once: its states (AWS's own strings) and its transitions.

The enums are ``StrEnum``s, so a stored resource keeps the plain strings AWS shows
(``"pendingAcceptance"``) and compares equal to them; the tuples below name the groups of
states that other layers act on (the data plane listens for an endpoint in
``ENDPOINT_LISTENING``), so that each group is written down in one place.

``TRANSITIONS`` holds the moves each state may make, by whoever makes them (an API call or
the reconciler); ``may_become`` is how the reconciler checks its own before it writes them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pocketlink.model.ec2 import Instance
from pocketlink.model.privatelink import VpcEndpoint

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


State = InstanceState | VpcEndpointState | LoadBalancerState | PrivateDnsState | NatGatewayState

_I, _E, _L, _P = InstanceState, VpcEndpointState, LoadBalancerState, PrivateDnsState
_N = NatGatewayState
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
}


def may_become(current: str | None, new: State) -> bool:
    """Whether a resource in state ``current`` (as stored) may move to ``new``."""
    return new in TRANSITIONS[type(new)].get(current or "", ())


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
