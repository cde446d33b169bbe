"""Change sets: what a deployment would change, computed when the change set is created
(CREATE_PENDING, then CREATE_COMPLETE or FAILED with the reason), executed on request.

A change set of type CREATE makes its stack at once, in REVIEW_IN_PROGRESS, as AWS does
(``aws cloudformation deploy`` and ``cdk deploy`` work this way). A change set with no
changes fails with the words clients look for ("The submitted information didn't contain
changes..."); one naming a resource type pocketlink has no provider for fails naming it.
"""

from __future__ import annotations

import logging
import uuid

from pocketlink.api.cloudformation_common import (
    check,
    check_stack_name,
    described_parameters,
    find_stack,
    new_stack_id,
    require_stack,
    tags_in,
    template_of,
)
from pocketlink.api.cloudformation_stacks import check_updatable
from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.cloudformation import engine, plan, template_url
from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.errors import ValidationError, cloudformation
from pocketlink.cloudformation.events import stack_status
from pocketlink.cloudformation.template import parse
from pocketlink.model.cloudformation import ChangeSet, Stack
from pocketlink.wire.errors import ServiceError

log = logging.getLogger("pocketlink.cloudformation")

NO_CHANGES = ("The submitted information didn't contain changes. Submit different information "
              "to create a change set.")


def _set(context: RequestContext, change_set_id: str, **fields) -> None:  # type: ignore[no-untyped-def]
    with context.store.transaction() as tx:
        change_set = tx.get(ChangeSet, change_set_id)
        if change_set is not None:
            for name, value in fields.items():
                setattr(change_set, name, value)


@operation("cloudformation", "CreateChangeSet")
def create_change_set(context: RequestContext, params: dict) -> dict:
    name = params["StackName"]
    kind = params.get("ChangeSetType") or "UPDATE"
    if kind == "IMPORT":
        raise ValidationError("pocketlink does not import existing resources into stacks")
    stack = find_stack(context, name)
    if kind == "CREATE":
        check_stack_name(name)
        if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
            raise cloudformation.AlreadyExistsException(f"Stack [{name}] already exists")
    elif stack is None or stack.status == "REVIEW_IN_PROGRESS":
        raise ValidationError(f"Stack [{name}] does not exist")
    else:
        check_updatable(stack)
    change_set_name = params["ChangeSetName"]
    if stack is not None and any(c.stack_id == stack.id and c.name == change_set_name
                                 for c in context.store.all(ChangeSet)):
        raise cloudformation.AlreadyExistsException(f"ChangeSet [{change_set_name}] already "
                                                    "exists")
    stack_id = stack.id if stack is not None else new_stack_id(context, name)
    text = template_of(params, stack, url=True)
    given = params.get("Parameters") or []
    previous = stack.parameters if stack is not None else {}
    capabilities = params.get("Capabilities") or []
    # A template in S3 is read, and checked, while the change set is computed.
    checked = check(context, text, given, previous, capabilities, stack_id, name) \
        if text is not None else None
    change_set = ChangeSet(
        id=f"arn:aws:cloudformation:{context.region}:{context.account}:changeSet/"
           f"{change_set_name}/{uuid.uuid4()}",
        account=context.account, region=context.region, name=change_set_name,
        stack_id=stack_id, stack_name=name, change_set_type=kind, template=text or "",
        description=params.get("Description"),
        parameters=checked.values if checked is not None else {}, capabilities=capabilities,
        notification_arns=params.get("NotificationARNs") or [], role_arn=params.get("RoleARN"),
        stack_tags=tags_in(params) if "Tags" in params or stack is None else stack.tags)
    with context.store.transaction() as tx:
        if stack is None:
            tx.put(Stack(id=stack_id, account=context.account, region=context.region, name=name,
                         status="REVIEW_IN_PROGRESS", template=text or "",
                         description=checked.template.description if checked else None,
                         tags=change_set.stack_tags))
        tx.put(change_set)
    if stack is None:
        stack_status(context.store, stack_id, "REVIEW_IN_PROGRESS", "User Initiated")
    run = engine.Engine(context, stack_id)
    old = dict(stack.resources) if stack is not None else {}

    async def compute() -> None:
        _set(context, change_set.id, status="CREATE_IN_PROGRESS")
        try:
            body, done = text, checked
            if body is None or done is None:
                body = await template_url.fetch(Api(context, name), params["TemplateURL"])
                done = check(context, body, given, previous, capabilities, stack_id, name)
                _set(context, change_set.id, template=body, parameters=done.values)
            _template, scope, _plan = await run.resolved(body, done.values)
            changes = plan.preview(done.template, scope, old)
        except ServiceError as error:
            _set(context, change_set.id, status="FAILED", status_reason=error.message)
            return
        except ProviderError as error:
            _set(context, change_set.id, status="FAILED", status_reason=str(error))
            return
        except Exception:
            log.exception("change set %s: computing its changes failed", change_set.id)
            _set(context, change_set.id, status="FAILED", status_reason="Internal failure in "
                 "pocketlink's CloudFormation engine (its log has the details)")
            return
        unchanged = stack is not None and not changes and body == stack.template and \
            done.values == stack.parameters and change_set.stack_tags == stack.tags
        if unchanged:
            _set(context, change_set.id, status="FAILED", status_reason=NO_CHANGES)
            return
        _set(context, change_set.id, status="CREATE_COMPLETE", execution_status="AVAILABLE",
             changes=changes)
    engine.start(change_set.id, compute())
    return {"Id": change_set.id, "StackId": stack_id}


def require_change_set(context: RequestContext, name: str, stack_name: str | None) -> ChangeSet:
    for change_set in context.store.all(ChangeSet):
        if change_set.account != context.account or change_set.region != context.region:
            continue
        if change_set.id == name or (change_set.name == name and stack_name in (
                change_set.stack_name, change_set.stack_id)):
            return change_set
    if not name.startswith("arn:") and not stack_name:
        raise ValidationError("StackName must be specified if ChangeSetName is not specified "
                              "as an ARN.")
    raise cloudformation.ChangeSetNotFoundException(f"ChangeSet [{name}] does not exist")


def _described(change_set: ChangeSet) -> dict:
    item: dict = {
        "ChangeSetName": change_set.name, "ChangeSetId": change_set.id,
        "StackId": change_set.stack_id, "StackName": change_set.stack_name,
        "CreationTime": change_set.created, "ExecutionStatus": change_set.execution_status,
        "Status": change_set.status, "IncludeNestedStacks": False,
    }
    optional = {"Description": change_set.description, "StatusReason": change_set.status_reason}
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


@operation("cloudformation", "DescribeChangeSet")
def describe_change_set(context: RequestContext, params: dict) -> dict:
    change_set = require_change_set(context, params["ChangeSetName"], params.get("StackName"))
    return {**_described(change_set), "Parameters": described_parameters(change_set),
            "NotificationARNs": change_set.notification_arns,
            "Capabilities": change_set.capabilities,
            "Tags": [{"Key": k, "Value": v} for k, v in change_set.stack_tags.items()],
            "Changes": change_set.changes}


@operation("cloudformation", "ListChangeSets")
def list_change_sets(context: RequestContext, params: dict) -> dict:
    stack = require_stack(context, params["StackName"], deleted=False)
    return {"Summaries": [_described(c) for c in context.store.all(ChangeSet)
                          if c.stack_id == stack.id]}


@operation("cloudformation", "DeleteChangeSet")
def delete_change_set(context: RequestContext, params: dict) -> dict:
    change_set = require_change_set(context, params["ChangeSetName"], params.get("StackName"))
    if change_set.execution_status == "EXECUTE_IN_PROGRESS" or engine.busy(change_set.id):
        raise cloudformation.InvalidChangeSetStatusException(
            f"Cannot delete ChangeSet {change_set.id} in status {change_set.status}")
    with context.store.transaction() as tx:
        tx.delete(change_set)
    return {}


@operation("cloudformation", "ExecuteChangeSet")
def execute_change_set(context: RequestContext, params: dict) -> dict:
    change_set = require_change_set(context, params["ChangeSetName"], params.get("StackName"))
    if change_set.execution_status != "AVAILABLE":
        raise cloudformation.InvalidChangeSetStatusException(
            f"ChangeSet [{change_set.id}] cannot be executed in its current status of "
            f"[{change_set.status}]")
    stack = require_stack(context, change_set.stack_id, deleted=False)
    if engine.busy(stack.id):
        raise ValidationError(f"Stack:{stack.id} is in {stack.status} state and can not be "
                              "updated.")
    updating = change_set.change_set_type == "UPDATE"
    with context.store.transaction() as tx:
        mine = tx.edit(ChangeSet, change_set.id)
        mine.execution_status = "EXECUTE_IN_PROGRESS"
        for other in context.store.all(ChangeSet):
            if other.stack_id == stack.id and other.id != change_set.id:
                tx.delete(other)
        if "DisableRollback" in params:
            tx.edit(Stack, stack.id).disable_rollback = bool(params["DisableRollback"])
    run = engine.Engine(context, stack.id)

    async def work() -> None:
        await run.deploy(change_set.template, change_set.parameters, updating=updating,
                         description=change_set_description(change_set, stack),
                         capabilities=change_set.capabilities, tags=change_set.stack_tags,
                         notification_arns=change_set.notification_arns,
                         role_arn=change_set.role_arn, change_set_id=change_set.id)
        final = run.stack.status
        _set(context, change_set.id, execution_status="EXECUTE_COMPLETE"
             if final in ("CREATE_COMPLETE", "UPDATE_COMPLETE") else "EXECUTE_FAILED")
    engine.start(stack.id, engine.guarded(context, stack.id, work))
    return {}


def change_set_description(change_set: ChangeSet, stack: Stack) -> str | None:
    try:
        return parse(change_set.template).description
    except ValidationError:
        return stack.description
