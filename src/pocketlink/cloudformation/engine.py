"""The engine: runs a stack operation (create, update, delete) through the providers, in
the order of the template's graph, independent resources concurrently, and rolls back.

A create or update resolves each resource's properties when its dependencies are done
(their physical ids and attributes known), and decides then: create it, leave it, update
it in place, or replace it (a create-only property changed: the new one is made first, the
old deleted in the cleanup phase, unless its UpdateReplacePolicy is Retain). Resources the
new template drops are deleted in the cleanup too, dependents first. When a resource
fails, nothing new starts; a create rolls back by deleting what it made, in reverse order;
an update puts modified resources back as they were and deletes what it made; with
DisableRollback the stack stays ``*_FAILED`` as it is. DeletionPolicy Retain keeps a
resource on delete and on rollback.

Operations run as tasks of the daemon's event loop (``start``); a stack found
``*_IN_PROGRESS`` with no task (the daemon restarted under it) is failed by ``settle``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Awaitable, Callable, Coroutine
from graphlib import TopologicalSorter
from typing import Any

from pocketlink.api.context import RequestContext
from pocketlink.cloudformation import parameters
from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.errors import TemplateError, ValidationError
from pocketlink.cloudformation.events import resource_status, restore, stack_status
from pocketlink.cloudformation.intrinsics import Scope, resolve
from pocketlink.cloudformation.plan import MODIFY, NO_CHANGE, Graph, change_of, graph
from pocketlink.cloudformation.providers import Provider, providers
from pocketlink.cloudformation.template import Template, parse
from pocketlink.model import regions
from pocketlink.model.base import now
from pocketlink.model.cloudformation import Stack, StackResource
from pocketlink.wire.errors import ServiceError

log = logging.getLogger("pocketlink.cloudformation")

# The stacks this daemon is working on now, by StackId.
_running: dict[str, asyncio.Task] = {}
_REPLACING = ("Requested update requires the creation of a new physical resource; hence "
              "creating one.")
_INTERRUPTED = {"CREATE_IN_PROGRESS": "CREATE_FAILED", "ROLLBACK_IN_PROGRESS": "ROLLBACK_FAILED",
                "DELETE_IN_PROGRESS": "DELETE_FAILED", "UPDATE_IN_PROGRESS": "UPDATE_FAILED",
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_COMPLETE",
                "UPDATE_ROLLBACK_IN_PROGRESS": "UPDATE_ROLLBACK_FAILED",
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_ROLLBACK_COMPLETE"}


def start(stack_id: str, work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _running[stack_id] = task
    task.add_done_callback(lambda _: _running.pop(stack_id, None))


def busy(stack_id: str) -> bool:
    return stack_id in _running


def settle(context: RequestContext, stack: Stack) -> Stack:
    """A stack left in progress by a daemon that stopped: failed, saying so."""
    final = _INTERRUPTED.get(stack.status)
    if final is None or busy(stack.id):
        return stack
    return stack_status(context.store, stack.id, final,
                        "pocketlink stopped while this operation ran")


def unsupported(plan: Graph) -> list[str]:
    return sorted({d["Type"] for d in plan.resources.values() if d["Type"] not in providers()})


def unsupported_message(types: list[str]) -> str:
    return (f"Unsupported resource types: [{', '.join(types)}]: pocketlink has no provider "
            "for them, so it makes none of this stack rather than pretend")


class Engine:
    def __init__(self, context: RequestContext, stack_id: str) -> None:
        self.context = context
        self.store = context.store
        self.stack_id = stack_id
        self.live: dict[str, StackResource] = {}
        self.imports: set[str] = set()
        self.ssm: dict[str, str] = {}

    @property
    def stack(self) -> Stack:
        stack = self.store.get(Stack, self.stack_id)
        assert stack is not None
        return stack

    # --- resolution ------------------------------------------------------------------------
    def scope(self, template: Template, values: dict[str, Any]) -> Scope:
        stack = self.stack
        account, region = self.context.account, self.context.region
        return Scope(
            parameters={**values, **parameters.pseudo(account, region, stack.id, stack.name,
                                                      stack.notification_arns)},
            mappings=template.mappings, conditions=template.conditions,
            resources=frozenset(template.resources), ref=self._ref, get_att=self._get_att,
            azs=lambda name: [z.name for z in regions.zones(account, name)]
            if regions.is_region(name) else [],
            import_value=self._import)

    def _ref(self, name: str) -> str:
        resource = self.live.get(name)
        if resource is None or not resource.physical_id:
            raise TemplateError(f"Template format error: Unresolved resource dependencies "
                                f"[{name}] in the Resources block of the template")
        return resource.physical_id

    def _get_att(self, name: str, attribute: str) -> Any:
        resource = self.live.get(name)
        if resource is None:
            raise TemplateError(f"Template error: instance of Fn::GetAtt references undefined "
                                f"resource {name}")
        if attribute not in resource.attributes:
            raise TemplateError(f"Template error: resource {name} does not support attribute "
                                f"type {attribute} in Fn::GetAtt")
        return resource.attributes[attribute]

    def _import(self, name: str) -> str:
        for stack in self.store.all(Stack):
            if stack.account == self.context.account and stack.region == self.context.region \
                    and stack.deleted is None and stack.id != self.stack_id:
                for output in stack.outputs:
                    if output.get("ExportName") == name:
                        self.imports.add(name)
                        return output["OutputValue"]
        raise TemplateError(f"No export named {name} found. Rollback requested by user.")

    async def _ssm(self, template: Template, given: dict[str, str]) -> dict[str, str]:
        names = parameters.ssm_names(template, given)
        if not names:
            return {}
        api = Api(self.context, self.stack.name, "")
        found = await api.backend("ssm", "GetParameters", {"Names": sorted(set(names.values()))})
        if found.get("InvalidParameters"):
            raise ValidationError(f"Unable to fetch parameters "
                                  f"[{','.join(found['InvalidParameters'])}] from parameter "
                                  "store for this account.")
        by_name = {p["Name"]: p["Value"] for p in found.get("Parameters") or []}
        return {key: by_name[name] for key, name in names.items()}

    async def resolved(self, text: str, given: dict[str, str]) -> tuple[Template, Scope, Graph]:
        template = parse(text)
        ssm = self.ssm = await self._ssm(template, given)
        scope = self.scope(template, parameters.values(template, given, ssm))
        plan = graph(template, scope)
        missing = unsupported(plan)
        if missing:
            raise ValidationError(unsupported_message(missing))
        return template, scope, plan

    # --- create and update -----------------------------------------------------------------
    async def deploy(self, text: str, given: dict[str, str], updating: bool, **fields: Any
                     ) -> None:
        """Create the stack, or update it to ``text`` with parameters ``given``."""
        before = copy.deepcopy(self.stack)
        prefix = "UPDATE" if updating else "CREATE"
        stack_status(self.store, self.stack_id, f"{prefix}_IN_PROGRESS", "User Initiated",
                     template=text, parameters=given, **fields,
                     **({"updated": now()} if updating else {}))
        self.live = copy.deepcopy(before.resources)
        self.touched: dict[str, tuple[str, StackResource | None]] = {}
        self.replaced: dict[str, StackResource] = {}
        failed: list[str] = []
        reason = None
        template: Template | None = None
        try:
            template, scope, plan = await self.resolved(text, given)
            failed = await self._run(plan, scope)
            outputs = self._outputs(template, scope) if not failed else []
        except (ServiceError, ProviderError) as error:
            reason = error.message if isinstance(error, ServiceError) else str(error)
        if failed or reason is not None:
            reason = reason or (f"The following resource(s) failed to {prefix.lower()}: "
                                f"[{', '.join(sorted(failed))}]. ")
            if before.disable_rollback:
                stack_status(self.store, self.stack_id, f"{prefix}_FAILED", reason)
            elif updating:
                await self._roll_back_update(before, template, reason)
            else:
                await self._roll_back_create(template, reason)
            return
        assert template is not None
        if updating:
            stack_status(self.store, self.stack_id, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                         outputs=outputs, imports=sorted(self.imports),
                         resolved_parameters=self.ssm)
            old_plan = self._plan_of(before)
            # What the new template no longer keeps (dropped, or its condition now false).
            gone = {name: r for name, r in before.resources.items()
                    if name not in plan.resources}
            gone.update({f"{name} (replaced)": r for name, r in self.replaced.items()})
            await self._delete(gone, old_plan, "UpdateReplacePolicy", before)
            stack_status(self.store, self.stack_id, "UPDATE_COMPLETE")
        else:
            stack_status(self.store, self.stack_id, "CREATE_COMPLETE", outputs=outputs,
                         imports=sorted(self.imports), resolved_parameters=self.ssm)

    async def _run(self, plan: Graph, scope: Scope) -> list[str]:
        """Every resource of ``plan``, dependencies first; the names of those that failed."""
        return await in_order(plan.sorter(),
                              lambda name: self._apply(name, plan.resources[name], scope),
                              halt_on_failure=True)

    async def _apply(self, name: str, definition: dict, scope: Scope) -> bool:
        type_name = definition["Type"]
        provider = providers()[type_name]
        api = Api(self.context, self.stack.name, name)
        before = self.live.get(name)
        fresh = StackResource(logical_id=name, type=type_name, status="CREATE_IN_PROGRESS")
        try:
            properties = resolve(definition.get("Properties") or {}, scope)
        except ServiceError as error:
            target = fresh if before is None else before
            resource_status(self.store, self.stack_id, target,
                            "CREATE_FAILED" if before is None else "UPDATE_FAILED",
                            error.message)
            return False
        if before is None:
            return await self._create(api, provider, fresh, properties, "CREATE")
        kind, _, _ = change_of(type_name, before.properties, properties)
        if kind == NO_CHANGE:
            return True
        if kind == MODIFY:
            current = copy.deepcopy(before)
            resource_status(self.store, self.stack_id, current, "UPDATE_IN_PROGRESS",
                            properties=properties)
            try:
                done = await provider.update(api, before.physical_id, properties,
                                             before.properties)
            except ProviderError as error:
                resource_status(self.store, self.stack_id, current, "UPDATE_FAILED", str(error))
                return False
            current.physical_id, current.properties = done.physical_id, properties
            current.attributes = done.attributes
            resource_status(self.store, self.stack_id, current, "UPDATE_COMPLETE")
            self.live[name] = current
            self.touched[name] = ("Modify", before)
            return True
        resource_status(self.store, self.stack_id, copy.deepcopy(before), "UPDATE_IN_PROGRESS",
                        _REPLACING, properties)
        fresh.status = "UPDATE_IN_PROGRESS"
        made = await self._create(api, provider, fresh, properties, "UPDATE")
        if made:
            self.touched[name] = ("Replace", before)
            self.replaced[name] = before
        else:
            restore(self.store, self.stack_id, before)
        return made

    async def _create(self, api: Api, provider: Provider, resource: StackResource,
                      properties: dict, prefix: str) -> bool:
        name = resource.logical_id
        if prefix == "CREATE":
            resource_status(self.store, self.stack_id, resource, "CREATE_IN_PROGRESS",
                            properties=properties)

        def initiated(physical_id: str) -> None:
            resource.physical_id = physical_id
            resource_status(self.store, self.stack_id, resource, f"{prefix}_IN_PROGRESS",
                            "Resource creation Initiated", keep=prefix == "CREATE")
        api = Api(api.context, api.stack_name, api.logical_id, initiated)
        try:
            done = await provider.create(api, properties)
        except ProviderError as error:
            resource_status(self.store, self.stack_id, resource, f"{prefix}_FAILED", str(error),
                            keep=prefix == "CREATE")
            return False
        resource.physical_id, resource.attributes = done.physical_id, done.attributes
        resource.properties = properties
        resource_status(self.store, self.stack_id, resource, f"{prefix}_COMPLETE")
        self.live[name] = resource
        self.touched.setdefault(name, ("Add", None))
        return True

    def _outputs(self, template: Template, scope: Scope) -> list[dict[str, str]]:
        outputs = []
        for key, output in template.outputs.items():
            if "Condition" in output and not scope.condition(output["Condition"]):
                continue
            value = resolve(output.get("Value"), scope)
            item = {"OutputKey": key,
                    "OutputValue": ",".join(map(str, value)) if isinstance(value, list)
                    else parameters.text_of(value)}
            if output.get("Description"):
                item["Description"] = str(output["Description"])
            if "Export" in output:
                item["ExportName"] = str(resolve(output["Export"].get("Name"), scope))
                self._check_export(item["ExportName"])
            outputs.append(item)
        return outputs

    def _check_export(self, name: str) -> None:
        for stack in self.store.all(Stack):
            if stack.id != self.stack_id and stack.deleted is None and \
                    stack.account == self.context.account and \
                    stack.region == self.context.region and \
                    any(o.get("ExportName") == name for o in stack.outputs):
                raise ValidationError(f"Export with name {name} is already exported by stack "
                                      f"{stack.name}")

    # --- rollback --------------------------------------------------------------------------
    async def _roll_back_create(self, template: Template | None, reason: str) -> None:
        reason = f"{reason}Rollback requested by user." if reason.endswith(". ") else reason
        stack_status(self.store, self.stack_id, "ROLLBACK_IN_PROGRESS", reason)
        plan = self._plan_of(self.stack) if template is not None else None
        failed = await self._delete(dict(self.stack.resources), plan, "DeletionPolicy",
                                    self.stack, rolling_back=True)
        # The stack keeps saying why it rolled back, as AWS's does.
        stack_status(self.store, self.stack_id,
                     "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE",
                     f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
                     if failed else reason)

    async def _roll_back_update(self, before: Stack, template: Template | None,
                                reason: str) -> None:
        stack_status(self.store, self.stack_id, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
        failed = []
        for name, (action, old) in reversed(list(self.touched.items())):
            if action != "Modify" or old is None:
                continue
            current = self.live[name]
            api = Api(self.context, self.stack.name, name)
            resource_status(self.store, self.stack_id, current, "UPDATE_IN_PROGRESS")
            try:
                done = await providers()[old.type].update(api, old.physical_id, old.properties,
                                                          current.properties)
                old.attributes = done.attributes
                resource_status(self.store, self.stack_id, copy.deepcopy(old),
                                "UPDATE_COMPLETE")
            except ProviderError as error:
                resource_status(self.store, self.stack_id, current, "UPDATE_FAILED", str(error))
                failed.append(name)
        if failed:
            stack_status(self.store, self.stack_id, "UPDATE_ROLLBACK_FAILED",
                         f"The following resource(s) failed to update: [{', '.join(failed)}]. ")
            return
        stack_status(self.store, self.stack_id, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                     template=before.template, parameters=before.parameters)
        made = {name: self.live[name] for name, (action, _) in self.touched.items()
                if action in ("Add", "Replace")}
        made.update({name: r for name, r in self.stack.resources.items()
                     if name not in before.resources and name not in made})
        for action, old in self.touched.values():
            if action == "Replace" and old is not None:
                restore(self.store, self.stack_id, old)
        plan = self._plan_of(self.stack, text=self.stack.template)
        await self._delete(made, plan, "DeletionPolicy", self.stack, rolling_back=True)
        stack_status(self.store, self.stack_id, "UPDATE_ROLLBACK_COMPLETE",
                     outputs=before.outputs)

    # --- delete ----------------------------------------------------------------------------
    async def destroy(self, retain: list[str]) -> None:
        stack = self.stack
        stack_status(self.store, self.stack_id, "DELETE_IN_PROGRESS", "User Initiated")
        in_use = self._exports_in_use(stack)
        if in_use:
            stack_status(self.store, self.stack_id, "DELETE_FAILED", in_use)
            return
        failed = await self._delete(dict(stack.resources), self._plan_of(stack),
                                    "DeletionPolicy", stack, retain=set(retain))
        if failed:
            stack_status(self.store, self.stack_id, "DELETE_FAILED",
                         f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        else:
            stack_status(self.store, self.stack_id, "DELETE_COMPLETE", deleted=now(),
                         outputs=[], imports=[])

    def _exports_in_use(self, stack: Stack) -> str | None:
        exported = {o["ExportName"] for o in stack.outputs if o.get("ExportName")}
        for other in self.store.all(Stack):
            if other.id != stack.id and other.deleted is None:
                used = exported & set(other.imports)
                if used:
                    return (f"Export {sorted(used)[0]} cannot be deleted as it is in use by "
                            f"{other.name}")
        return None

    def _plan_of(self, stack: Stack, text: str | None = None) -> Graph | None:
        """The graph of the template ``stack`` was made from, for the order of deletion."""
        try:
            template = parse(text if text is not None else stack.template)
            scope = self.scope(template, parameters.values(
                template, stack.parameters, stack.resolved_parameters))
            return graph(template, scope)
        except (ServiceError, KeyError):
            return None

    async def _delete(self, resources: dict[str, StackResource], plan: Graph | None,
                      policy: str, stack: Stack, retain: set[str] = frozenset(),  # type: ignore[assignment]
                      rolling_back: bool = False) -> list[str]:
        """Deletes ``resources`` (keyed by logical id, or "<id> (replaced)" for a replaced
        resource's old self), dependents first; the logical ids that failed."""
        definitions = {}
        with contextlib.suppress(ServiceError):
            definitions = parse(stack.template).resources
        depends = plan.depends if plan is not None else {}
        logical = {key: r.logical_id for key, r in resources.items()}
        edges: dict[str, set[str]] = {key: set() for key in resources}
        for key in resources:
            for other in resources:
                if logical[key] in depends.get(logical[other], ()):
                    edges[key].add(other)  # ``other`` needs ``key``: it goes first
        async def one(key: str) -> bool:
            resource = copy.deepcopy(resources[key])
            kept = definitions.get(resource.logical_id, {}).get(policy, "Delete")
            if not resource.physical_id:  # it was never made (its create failed)
                resource_status(self.store, self.stack_id, resource, "DELETE_COMPLETE",
                                keep=False)
                return True
            if kept == "Retain" or (kept == "RetainExceptOnCreate" and not rolling_back) or \
                    resource.logical_id in retain:
                resource_status(self.store, self.stack_id, resource, "DELETE_SKIPPED",
                                keep=False)
                return True
            # A replaced resource's old self is not the stack's resource by that logical id.
            own = key == resource.logical_id
            resource_status(self.store, self.stack_id, resource, "DELETE_IN_PROGRESS", keep=own)
            api = Api(self.context, stack.name, resource.logical_id)
            try:
                await providers()[resource.type].delete(api, resource.physical_id,
                                                        resource.properties)
            except ProviderError as error:
                resource_status(self.store, self.stack_id, resource, "DELETE_FAILED", str(error),
                                keep=own)
                return False
            resource_status(self.store, self.stack_id, resource, "DELETE_COMPLETE", keep=False)
            return True

        failed = await in_order(TopologicalSorter(edges), one, halt_on_failure=False)
        return [logical[key] for key in failed]


async def in_order(sorter: TopologicalSorter[str], one: Callable[[str], Awaitable[bool]], *,
                   halt_on_failure: bool) -> list[str]:
    """Runs ``one`` on each node of ``sorter`` once those it depends on succeeded, all that
    are ready at once (CloudFormation works a stack's graph in parallel); the nodes that
    failed. A failed node's dependants never run; with ``halt_on_failure`` nothing new
    starts after a failure either (a create or update stops there to roll back, while a
    delete goes on with what it still can)."""
    sorter.prepare()
    running: dict[asyncio.Task[bool], str] = {}
    failed: list[str] = []
    while sorter.is_active():
        if not (halt_on_failure and failed):
            for node in sorter.get_ready():
                running[asyncio.ensure_future(one(node))] = node
        if not running:
            break
        done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            node = running.pop(task)
            if task.result():
                sorter.done(node)
            else:
                failed.append(node)
    return failed


async def guarded(context: RequestContext, stack_id: str, work: Callable[[], Awaitable[None]]
                  ) -> None:
    """``work``, with a bug in it reported as the stack's failure, never a stuck stack."""
    try:
        await work()
    except Exception:
        log.exception("stack %s: the operation failed", stack_id)
        stack = context.store.get(Stack, stack_id)
        if stack is not None and stack.status.endswith("_IN_PROGRESS"):
            final = _INTERRUPTED.get(stack.status, "UPDATE_FAILED")
            stack_status(context.store, stack_id, final, "Internal failure in pocketlink's "
                         "CloudFormation engine (its log has the details)")

