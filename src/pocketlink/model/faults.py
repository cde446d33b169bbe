"""Faults pocketlink injects on demand: its own (``pocketlink fault ...``), or an FIS
experiment's (``model.fis``; the fault names the experiment, which clears it).

A fault is desired state like any resource: stored, so that it survives a restart and is
listed, and undone by deleting it. ``faults/`` turns the stored faults into the kernel's
state; the DNS reads ``lost_subnets`` to drop a lost zone's addresses from the names AWS
publishes, as Route 53's health-checked failover does for an NLB's or endpoint's nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pocketlink.model.base import Resource
from pocketlink.model.ec2 import Subnet

if TYPE_CHECKING:
    from pocketlink.store import Store

OWNER = "pocketlink"  # the account a fault is stored under: no tenant's
# action -> (what it names, the value it takes and its bounds)
ACTIONS: dict[str, tuple[str, tuple[str, int, int] | None]] = {
    "lose-az": ("zone", None),
    "kill-target": ("instance", None),
    "hang-target": ("instance", None),
    "latency": ("eni", ("ms", 1, 60_000)),
    "loss": ("eni", ("percent", 1, 100)),
    "stop-resolver": ("vpc", None),
    "disrupt-subnet": ("subnet", None),
}


@dataclass(kw_only=True)
class Fault(Resource):
    kind = "fault"

    action: str  # lose-az | kill-target | hang-target | latency | loss | stop-resolver |
    #              disrupt-subnet
    target: str  # a zone id (use1-az1), an instance, an ENI, a VPC or a subnet id
    value: int | None = None  # latency's milliseconds, loss's percent
    experiment: str | None = None  # the FIS experiment that injected it, if one did


def lost_zone_ids(store: Store) -> set[str]:
    return {f.target for f in store.all(Fault) if f.action == "lose-az"}


def lost_subnets(store: Store) -> set[str]:
    """The subnets of every lost zone (by zone id, the same in every account)."""
    lost = lost_zone_ids(store)
    return {s.id for s in store.all(Subnet) if s.availability_zone_id in lost} if lost else set()
