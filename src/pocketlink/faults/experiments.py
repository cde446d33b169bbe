"""FIS experiments, moved on: targets resolved, actions started in their order and ended
when their durations run out, everything an action did undone when it ends or the
experiment is stopped.

An experiment starts ``initiating``; the runner resolves its targets (resource ARNs or
tags, then filters on the resources' EC2 descriptions, then the selection mode) and makes
it ``running``, or ``failed`` when a target an action needs resolves to nothing (unless
the template's ``emptyTargetResolutionMode`` is ``skip``: the action is ``skipped``). An
action starts once every action it names in ``startAfter`` is done; the experiment is
``completed`` when every action is. ``StopExperiment`` makes it ``stopping``; the runner
undoes its running actions (``stopped``), cancels its pending ones and makes it
``stopped``. The state reasons are pocketlink's words (AWS does not document FIS's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime

from pocketlink.api import ec2_instances
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_subnets import describe_subnet
from pocketlink.api.lookups import owned
from pocketlink.faults.fis_catalog import ACTIONS, duration, select
from pocketlink.model.base import now
from pocketlink.model.ec2 import Instance, Subnet
from pocketlink.model.faults import OWNER, Fault
from pocketlink.model.fis import FINAL, Experiment, ExperimentAction
from pocketlink.model.ids import new_id
from pocketlink.store import Store
from pocketlink.wire.errors import ServiceError

log = logging.getLogger("pocketlink.fis")

LOOK_EVERY = 0.25  # seconds
DONE = ("completed", "skipped")


def _context(store: Store, experiment: Experiment) -> RequestContext:
    return RequestContext(experiment.account, experiment.region, str(uuid.uuid4()), store)


def _path(item: object, path: list[str]) -> list[str]:
    """Every value at ``path`` in a description (a list holds each of its items')."""
    if isinstance(item, list):
        return [v for each in item for v in _path(each, path)]
    if not path:
        return [str(item).lower() if isinstance(item, bool) else str(item)]
    return _path(item[path[0]], path[1:]) if isinstance(item, dict) and path[0] in item else []


def _resources(context: RequestContext, resource_type: str) -> list[tuple[str, str, dict, dict]]:
    """(id, ARN, tags, EC2 description) of each resource of the type in the account."""
    if resource_type == "aws:ec2:subnet":
        return [(s.id, f"arn:aws:ec2:{s.region}:{s.account}:subnet/{s.id}", s.tags,
                 describe_subnet(context, s)) for s in owned(context, Subnet)]
    return [(i.id, f"arn:aws:ec2:{i.region}:{i.account}:instance/{i.id}", i.tags,
             ec2_instances.describe_instance(context.store, i))
            for i in owned(context, Instance) if i.state != "terminated"]


def resolve(context: RequestContext, target: dict) -> list[str]:
    """The ids of the resources a template target names, after its selection mode."""
    found = []
    arns = set(target.get("resourceArns") or [])
    wanted_tags = target.get("resourceTags") or {}
    for resource_id, arn, tags, description in _resources(context, target["resourceType"]):
        if arns and arn not in arns:
            continue
        if wanted_tags and any(tags.get(k) != v for k, v in wanted_tags.items()):
            continue
        if all(set(_path(description, f["path"].split("."))) & set(f["values"])
               for f in target.get("filters") or []):
            found.append(resource_id)
    return select(found, target.get("selectionMode", "ALL"))


class ExperimentRunner:
    def __init__(self, store: Store) -> None:
        self.store = store

    def advance(self) -> None:
        """One look at every experiment not yet over."""
        for experiment in list(self.store.all(Experiment)):
            if experiment.status in FINAL:
                continue
            try:
                self._advance(experiment)
            except Exception:  # one experiment's bug must not stop the others
                log.exception("experiment %s", experiment.id)
                self._end(experiment, "failed", "pocketlink failed to run the experiment.")

    def _advance(self, experiment: Experiment) -> None:
        if experiment.status == "initiating":
            self._initiate(experiment)
        elif experiment.status == "running":
            self._run(experiment)
        elif experiment.status == "stopping":
            self._end(experiment, "stopped", "Experiment stopped.")

    def _initiate(self, experiment: Experiment) -> None:
        context = _context(self.store, experiment)
        resolved = {name: resolve(context, target) for name, target in experiment.targets.items()}
        skip = experiment.experiment_options.get("emptyTargetResolutionMode") == "skip"
        with self.store.transaction() as tx:
            mine = tx.edit(Experiment, experiment.id)
            mine.resolved = resolved
            for action in mine.actions.values():
                empty = [t for t in action.targets.values() if not resolved.get(t)]
                if action.status != "pending":  # skipped by actionsMode skip-all
                    continue
                if empty and not skip:
                    mine.status, mine.end_time = "failed", now()
                    mine.reason = f"Target resolution returned an empty set for {empty[0]}."
                    mine.error_code, mine.error_location = "TargetResolutionFailed", \
                        f"targets.{empty[0]}"
                    for each in mine.actions.values():
                        each.status, each.reason = "cancelled", "Experiment failed."
                    return
                if empty:
                    action.status, action.reason = "skipped", "Target resolution returned " \
                        "an empty set."
            mine.status, mine.reason, mine.start_time = "running", "Experiment is running.", now()

    def _run(self, experiment: Experiment) -> None:
        moment = now()
        for name, action in experiment.actions.items():
            if action.status == "pending" and all(
                    experiment.actions[a].status in DONE for a in action.start_after):
                try:
                    self._start(experiment, name, action, moment)
                except ServiceError as error:
                    self._end(experiment, "failed", f"Action {name} failed: {error.message}")
                    return
            elif action.status == "running" and (action.ends_at is None or
                                                 action.ends_at <= moment) and \
                    not self._stopping(experiment, action):
                self._finish(experiment, name, action, "completed", "Action completed.")
        current = self.store.get(Experiment, experiment.id)
        if current is not None and all(a.status in DONE for a in current.actions.values()):
            with self.store.transaction() as tx:
                mine = tx.edit(Experiment, experiment.id)
                mine.status, mine.reason, mine.end_time = "completed", "Experiment completed.", \
                    now()

    def _start(self, experiment: Experiment, name: str, action: ExperimentAction,
               moment: datetime) -> None:
        """Does what the action does, and marks it running until its duration runs out."""
        context = _context(self.store, experiment)
        targets = [r for t in action.targets.values() for r in experiment.resolved.get(t, [])]
        made = []
        if action.action_id == "aws:network:disrupt-connectivity":
            made = [Fault(id=new_id("fault"), account=OWNER, region=experiment.region,
                          action="disrupt-subnet", target=subnet, experiment=experiment.id)
                    for subnet in targets]
        elif action.action_id == "aws:ec2:stop-instances":
            ec2_instances.stop_instances(context, {"InstanceIds": targets})
        elif action.action_id == "aws:ec2:terminate-instances":
            ec2_instances.terminate_instances(context, {"InstanceIds": targets})
        lasting = [duration(action.parameters[p]) for p in ACTIONS[action.action_id].durations
                   if p in action.parameters]
        with self.store.transaction() as tx:
            for fault in made:
                tx.put(fault)
            mine = tx.edit(Experiment, experiment.id).actions[name]
            mine.status, mine.reason, mine.start_time = "running", "Action is running.", moment
            mine.faults = [f.id for f in made]
            mine.ends_at = moment + lasting[0] if lasting and lasting[0] else None

    def _stopping(self, experiment: Experiment, action: ExperimentAction) -> bool:
        """Whether instances the action stops are still on their way: it completes once
        they are stopped (and only then can they be started again)."""
        if action.action_id != "aws:ec2:stop-instances":
            return False
        targets = [r for t in action.targets.values() for r in experiment.resolved.get(t, [])]
        return any((i := self.store.get(Instance, r)) is not None and i.state == "stopping"
                   for r in targets)

    def _undo(self, experiment: Experiment, action: ExperimentAction) -> None:
        """Clears the action's faults (those ``fault clear`` left) and starts the instances
        it stopped, when it was to start them again."""
        if action.action_id == "aws:ec2:stop-instances" and \
                "startInstancesAfterDuration" in action.parameters:
            targets = [r for t in action.targets.values() for r in experiment.resolved.get(t, [])]
            with contextlib.suppress(ServiceError):  # terminated meanwhile: nothing to start
                ec2_instances.start_instances(_context(self.store, experiment),
                                              {"InstanceIds": targets})
        with self.store.transaction() as tx:
            for fault_id in action.faults:
                if self.store.get(Fault, fault_id) is not None:
                    tx.delete(self.store.get(Fault, fault_id))

    def _finish(self, experiment: Experiment, name: str, action: ExperimentAction,
                status: str, reason: str) -> None:
        self._undo(experiment, action)
        with self.store.transaction() as tx:
            mine = tx.edit(Experiment, experiment.id).actions[name]
            mine.status, mine.reason, mine.end_time, mine.ends_at = status, reason, now(), None

    def _end(self, experiment: Experiment, status: str, reason: str) -> None:
        """Stops or fails the experiment: its running actions undone and ``stopped``
        (``failed`` with it), its pending ones ``cancelled``."""
        current = self.store.get(Experiment, experiment.id) or experiment
        for name, action in current.actions.items():
            if action.status == "running":
                self._finish(current, name, action, "stopped" if status == "stopped"
                             else "failed", "Action was stopped." if status == "stopped"
                             else "Experiment failed.")
        with self.store.transaction() as tx:
            mine = tx.edit(Experiment, experiment.id)
            for action in mine.actions.values():
                if action.status == "pending":
                    action.status, action.reason = "cancelled", "Experiment ended."
            mine.status, mine.reason, mine.end_time = status, reason, now()

    async def run(self, stop: asyncio.Event) -> None:
        """Looks at the experiments every ``LOOK_EVERY`` seconds, on the loop, where the
        store is written."""
        while not stop.is_set():
            self.advance()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LOOK_EVERY)
