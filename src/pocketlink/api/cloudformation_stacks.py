"""CloudFormation stacks: create, update, delete and describe them, their events and resources.

A handler checks what AWS checks before it answers (the template, the parameters, the
stack's state) and starts the operation on the engine (cloudformation/engine.py); the
stack's status then moves as the resources are made, which DescribeStacks and
DescribeStackEvents show, and botocore's waiters wait for.
"""

from __future__ import annotations

from pocketlink.api.cloudformation_common import (
    UPDATABLE,
    check,
    check_stack_name,
    describe_resource,
    describe_stack,
    find_stack,
    new_stack_id,
    require_stack,
    tags_in,
    template_of,
)
from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.cloudformation import engine
from pocketlink.cloudformation.errors import ValidationError, cloudformation
from pocketlink.model.cloudformation import ChangeSet, Stack

DELETED = "DELETE_COMPLETE"


@operation("cloudformation", "CreateStack")
def create_stack(context: RequestContext, params: dict) -> dict:
    name = params["StackName"]
    check_stack_name(name)
    if find_stack(context, name) is not None:
        raise cloudformation.AlreadyExistsException(f"Stack [{name}] already exists")
    text = template_of(params)
    stack_id = new_stack_id(context, name)
    checked = check(context, text, params.get("Parameters") or [], {},
                    params.get("Capabilities") or [], stack_id, name)
    missing = engine.unsupported(checked.plan)
    if missing:
        raise ValidationError(engine.unsupported_message(missing))
    on_failure = params.get("OnFailure") or "ROLLBACK"
    if params.get("DisableRollback") and params.get("OnFailure"):
        raise ValidationError("You cannot specify both DisableRollback and OnFailure.")
    stack = Stack(id=stack_id, account=context.account, region=context.region, name=name,
                  status="CREATE_IN_PROGRESS", template=text,
                  description=checked.template.description, parameters=checked.values,
                  capabilities=params.get("Capabilities") or [],
                  notification_arns=params.get("NotificationARNs") or [],
                  role_arn=params.get("RoleARN"), tags=tags_in(params),
                  disable_rollback=bool(params.get("DisableRollback")) or
                  on_failure == "DO_NOTHING",
                  termination_protection=bool(params.get("EnableTerminationProtection")))
    with context.store.transaction() as tx:
        tx.put(stack)
    run = engine.Engine(context, stack_id)

    async def work() -> None:
        await run.deploy(text, checked.values, updating=False)
        if on_failure == "DELETE" and run.stack.status == "ROLLBACK_COMPLETE":
            await run.destroy([])
    engine.start(stack_id, engine.guarded(context, stack_id, work))
    return {"StackId": stack_id}


def check_updatable(stack: Stack) -> None:
    if engine.busy(stack.id) or stack.status not in UPDATABLE:
        raise ValidationError(f"Stack:{stack.id} is in {stack.status} state and can not be "
                              "updated.")


@operation("cloudformation", "UpdateStack")
def update_stack(context: RequestContext, params: dict) -> dict:
    stack = require_stack(context, params["StackName"], deleted=False)
    check_updatable(stack)
    text = template_of(params, stack)
    capabilities = params.get("Capabilities") or []
    checked = check(context, text, params.get("Parameters") or [], stack.parameters,
                    capabilities, stack.id, stack.name)
    missing = engine.unsupported(checked.plan)
    if missing:
        raise ValidationError(engine.unsupported_message(missing))
    tags = tags_in(params) if "Tags" in params else stack.tags
    if text == stack.template and checked.values == stack.parameters and tags == stack.tags:
        raise ValidationError("No updates are to be performed.")
    run = engine.Engine(context, stack.id)
    fields = {"description": checked.template.description, "capabilities": capabilities,
              "tags": tags, "change_set_id": None}
    if "DisableRollback" in params:
        with context.store.transaction() as tx:
            tx.edit(Stack, stack.id).disable_rollback = bool(params["DisableRollback"])
    engine.start(stack.id, engine.guarded(
        context, stack.id, lambda: run.deploy(text, checked.values, updating=True, **fields)))
    return {"StackId": stack.id}


@operation("cloudformation", "DeleteStack")
def delete_stack(context: RequestContext, params: dict) -> dict:
    stack = find_stack(context, params["StackName"], deleted=True)
    if stack is None or stack.status == DELETED:
        return {}  # AWS answers a delete of a stack that is not there with success
    if engine.busy(stack.id):
        raise ValidationError(f"Stack [{stack.name}] cannot be deleted while in status "
                              f"{stack.status}")
    if stack.termination_protection:
        raise ValidationError(f"Stack [{stack.name}] cannot be deleted while "
                              "TerminationProtection is enabled")
    retain = params.get("RetainResources") or []
    if retain and stack.status != "DELETE_FAILED":
        raise ValidationError("Invalid operation on stack: RetainResources can only be "
                              "specified when the stack is in the DELETE_FAILED state")
    with context.store.transaction() as tx:
        for change_set in context.store.all(ChangeSet):
            if change_set.stack_id == stack.id:
                tx.delete(change_set)
    run = engine.Engine(context, stack.id)
    engine.start(stack.id, engine.guarded(context, stack.id, lambda: run.destroy(retain)))
    return {}


@operation("cloudformation", "UpdateTerminationProtection")
def update_termination_protection(context: RequestContext, params: dict) -> dict:
    stack = require_stack(context, params["StackName"], deleted=False)
    with context.store.transaction() as tx:
        tx.edit(Stack, stack.id).termination_protection = bool(
            params["EnableTerminationProtection"])
    return {"StackId": stack.id}


@operation("cloudformation", "DescribeStacks")
def describe_stacks(context: RequestContext, params: dict) -> dict:
    name = params.get("StackName")
    if name:
        return {"Stacks": [describe_stack(require_stack(context, name))]}
    stacks = [engine.settle(context, s) for s in context.store.all(Stack)
              if s.account == context.account and s.region == context.region and
              s.deleted is None]
    return {"Stacks": [describe_stack(s) for s in reversed(stacks)]}


@operation("cloudformation", "ListStacks")
def list_stacks(context: RequestContext, params: dict) -> dict:
    wanted = set(params.get("StackStatusFilter") or [])
    summaries = []
    for stack in reversed(list(context.store.all(Stack))):
        if stack.account != context.account or stack.region != context.region:
            continue
        stack = engine.settle(context, stack)
        if wanted and stack.status not in wanted:
            continue
        item = {"StackId": stack.id, "StackName": stack.name, "CreationTime": stack.created,
                "StackStatus": stack.status,
                "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"}}
        optional = {"TemplateDescription": stack.description, "LastUpdatedTime": stack.updated,
                    "DeletionTime": stack.deleted, "StackStatusReason": stack.status_reason}
        item.update({k: v for k, v in optional.items() if v is not None})
        summaries.append(item)
    return {"StackSummaries": summaries}


@operation("cloudformation", "DescribeStackEvents")
def describe_stack_events(context: RequestContext, params: dict) -> dict:
    stack = require_stack(context, params.get("StackName"))
    events = []
    for event in reversed(stack.events):
        item = {"StackId": stack.id, "EventId": event.event_id, "StackName": stack.name,
                "LogicalResourceId": event.logical_id, "PhysicalResourceId": event.physical_id,
                "ResourceType": event.resource_type, "Timestamp": event.timestamp,
                "ResourceStatus": event.status}
        if event.reason:
            item["ResourceStatusReason"] = event.reason
        if event.properties:
            item["ResourceProperties"] = event.properties
        events.append(item)
    return {"StackEvents": events}


@operation("cloudformation", "DescribeStackResource")
def describe_stack_resource(context: RequestContext, params: dict) -> dict:
    stack = require_stack(context, params["StackName"])
    resource = stack.resources.get(params["LogicalResourceId"])
    if resource is None:
        raise ValidationError(f"Resource {params['LogicalResourceId']} does not exist for stack "
                              f"{params['StackName']}")
    item = describe_resource(stack, resource)
    item["LastUpdatedTimestamp"] = resource.updated
    item["Metadata"] = "{}"
    return {"StackResourceDetail": item}


@operation("cloudformation", "DescribeStackResources")
def describe_stack_resources(context: RequestContext, params: dict) -> dict:
    physical = params.get("PhysicalResourceId")
    if physical:
        stacks = [s for s in context.store.all(Stack) if s.account == context.account and
                  s.region == context.region and s.deleted is None and
                  any(r.physical_id == physical for r in s.resources.values())]
        if not stacks:
            raise ValidationError(f"Stack for {physical} does not exist")
        stack = stacks[0]
    else:
        stack = require_stack(context, params.get("StackName"))
    wanted = params.get("LogicalResourceId")
    resources = []
    for resource in stack.resources.values():
        if wanted and resource.logical_id != wanted:
            continue
        item = describe_resource(stack, resource)
        item["Timestamp"] = resource.updated
        resources.append(item)
    return {"StackResources": resources}


@operation("cloudformation", "ListStackResources")
def list_stack_resources(context: RequestContext, params: dict) -> dict:
    stack = require_stack(context, params["StackName"])
    summaries = []
    for resource in stack.resources.values():
        item = describe_resource(stack, resource)
        del item["StackName"], item["StackId"]
        item["LastUpdatedTimestamp"] = resource.updated
        summaries.append(item)
    return {"StackResourceSummaries": summaries}
