"""A fault asked for, checked against the store and stored; faults cleared; as JSON.

Each action names what it breaks: ``lose-az`` a zone id (``use1-az1``: the same zone in
every account, as AWS's zone ids are), ``kill-target``/``hang-target`` an instance,
``latency``/``loss`` an instance's ENI (endpoint ENIs and NLB nodes are addresses of the
VPC router, with no link of their own to shape), ``stop-resolver`` a VPC,
``disrupt-subnet`` a subnet.
"""

from __future__ import annotations

import re

from pocketlink.faults.kernel import netem_missing
from pocketlink.model.base import encode
from pocketlink.model.ec2 import Instance, NetworkInterface, Subnet, Vpc
from pocketlink.model.faults import ACTIONS, OWNER, Fault
from pocketlink.model.ids import new_id
from pocketlink.store import Store

ZONE_ID = re.compile(r"^[a-z]+[0-9]+-az[0-9]+$")


class FaultError(ValueError):
    pass


def _region(store: Store, name: str, target: str) -> str:
    if name == "zone":
        if not ZONE_ID.match(target):
            raise FaultError(f"'{target}' is not a zone id (use1-az1)")
        return ""
    kind = {"instance": Instance, "eni": NetworkInterface, "vpc": Vpc, "subnet": Subnet}[name]
    found = store.get(kind, target)
    if found is None:
        raise FaultError(f"no {name} '{target}'")
    if isinstance(found, NetworkInterface) and found.instance_id is None:
        raise FaultError(f"{target} is a {found.interface_type} ENI, an address of its VPC's "
                         "router: latency and loss need an instance's ENI")
    return found.region


def add(store: Store, form: dict[str, str]) -> Fault:
    action = form.get("action", "")
    if action not in ACTIONS:
        raise FaultError(f"action: one of {', '.join(ACTIONS)}")
    name, takes = ACTIONS[action]
    target = form.get(name, "")
    value = None
    if takes is not None:
        key, low, high = takes
        raw = form.get(key, "")
        if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
            raise FaultError(f"{action} takes --{key} from {low} to {high}")
        value = int(raw)
    region = _region(store, name, target)
    if action == "latency" and (missing := netem_missing()) is not None:
        raise FaultError(missing)
    for fault in store.all(Fault):
        if (fault.action, fault.target) == (action, target):
            raise FaultError(f"{action} {target} is already injected as {fault.id}")
    fault = Fault(id=new_id("fault"), account=OWNER, region=region, action=action,
                  target=target, value=value)
    with store.transaction() as tx:
        tx.put(fault)
    return fault


def clear(store: Store, fault_id: str | None) -> list[Fault]:
    faults = [f for f in store.all(Fault) if fault_id in (None, f.id)]
    if fault_id is not None and not faults:
        raise FaultError(f"no fault '{fault_id}'")
    with store.transaction() as tx:
        for fault in faults:
            tx.delete(fault)
    return faults


def as_json(fault: Fault) -> dict:
    return {key: value for key, value in encode(fault).items() if key not in ("account", "tags")}
