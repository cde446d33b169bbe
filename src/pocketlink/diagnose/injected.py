"""Faults injected on purpose (``pocketlink fault ...``, model/faults.py) that a hop meets:
a lost zone, a killed or hung target, a stopped resolver break the path as surely as a
missing rule, and the fix is ``pocketlink fault clear``; latency and loss slow it."""

from __future__ import annotations

from collections.abc import Iterable

from pocketlink.model.ec2 import Subnet
from pocketlink.model.faults import Fault
from pocketlink.store import Store

BREAKS = {"lose-az", "kill-target", "hang-target", "stop-resolver"}
WORDS = {
    "lose-az": "zone {target} is lost: its NLB nodes, endpoint ENIs and instances stop "
               "answering",
    "kill-target": "{target} is killed: it resets every connection",
    "hang-target": "{target} is hung (SIGSTOP): it completes handshakes and answers nothing",
    "stop-resolver": "the resolver of {target} is stopped: names do not resolve",
    "latency": "{target} has {value} ms of latency added",
    "loss": "{target} loses {value}% of its packets",
}


def faults_on(store: Store, targets: Iterable[str] = (), subnets: Iterable[str] = ()
              ) -> list[Fault]:
    """The faults that name one of ``targets`` (instances, ENIs, VPCs) or lose the zone of
    one of ``subnets``."""
    targets, subnets = set(targets), set(subnets)
    faults = list(store.all(Fault))
    zones = {s.availability_zone_id for s in map(lambda i: store.get(Subnet, i), subnets)
             if s is not None} if faults and subnets else set()
    return [f for f in faults if f.target in targets or
            (f.action == "lose-az" and f.target in zones)]


def words(fault: Fault) -> str:
    return f"{fault.id}: " + WORDS[fault.action].format(target=fault.target, value=fault.value)
