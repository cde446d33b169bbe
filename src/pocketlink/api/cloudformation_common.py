"""What the CloudFormation handlers share: finding a stack by name or id, checking a
template and its parameters before anything runs, and stacks as AWS describes them."""

from __future__ import annotations

import dataclasses
import re
import uuid

from pocketlink.api.context import RequestContext
from pocketlink.cloudformation import engine, parameters
from pocketlink.cloudformation.errors import ValidationError, cloudformation, stack_not_found
from pocketlink.cloudformation.intrinsics import Scope
from pocketlink.cloudformation.plan import Graph, graph
from pocketlink.cloudformation.template import Template, parse
from pocketlink.model import regions
from pocketlink.model.cloudformation import ChangeSet, Stack

STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
UPDATABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
             "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE")
# Resource types that need CAPABILITY_IAM, and the properties that name them (which need
# CAPABILITY_NAMED_IAM).
IAM_NAMES = {"AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName",
             "AWS::IAM::Group": "GroupName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
             "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::Policy": None,
             "AWS::IAM::AccessKey": None, "AWS::IAM::UserToGroupAddition": None}


def check_stack_name(name: str) -> None:
    if not STACK_NAME.fullmatch(name or ""):
        raise ValidationError(f"1 validation error detected: Value '{name}' at 'stackName' "
                              "failed to satisfy constraint: Member must satisfy regular "
                              "expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*")


def new_stack_id(context: RequestContext, name: str) -> str:
    return f"arn:aws:cloudformation:{context.region}:{context.account}:stack/{name}/{uuid.uuid4()}"


def find_stack(context: RequestContext, name: str, deleted: bool = False) -> Stack | None:
    """The caller's stack by name (the live one) or by StackId (deleted ones too)."""
    if name.startswith("arn:"):
        stack = context.store.get(Stack, name)
        if stack is None or stack.account != context.account or stack.region != context.region:
            return None
        return engine.settle(context, stack) if deleted or stack.deleted is None else None
    for stack in context.store.all(Stack):
        if stack.name == name and stack.deleted is None and stack.account == context.account \
                and stack.region == context.region:
            return engine.settle(context, stack)
    return None


def require_stack(context: RequestContext, name: str | None, deleted: bool = True) -> Stack:
    stack = find_stack(context, name or "", deleted)
    if stack is None:
        raise stack_not_found(name or "")
    return stack


def template_of(params: dict, stack: Stack | None = None, url: bool = False) -> str | None:
    """The template's text; None for a TemplateURL where ``url`` says the caller reads it
    (later: S3 is the backend's, and a handler does not wait)."""
    if params.get("UsePreviousTemplate"):
        if stack is None:
            raise ValidationError("UsePreviousTemplate can only be used with an existing stack")
        return stack.template
    if params.get("TemplateBody") is not None:
        return params["TemplateBody"]
    if params.get("TemplateURL"):
        if url:
            return None
        raise ValidationError("pocketlink reads a TemplateURL in CreateChangeSet only; "
                              "give CreateStack and UpdateStack a TemplateBody")
    raise ValidationError("Either Template URL or Template Body must be specified.")


@dataclasses.dataclass
class Checked:
    template: Template
    values: dict[str, str]  # as given, for DescribeStacks
    plan: Graph


def check(context: RequestContext, text: str, given: list[dict], previous: dict[str, str],
          capabilities: list[str], stack_id: str = "", stack_name: str = "") -> Checked:
    """What AWS checks before it answers: the template's shape and references, the
    parameters, the Rules, the capabilities."""
    template = parse(text)
    values = parameters.given_values(template, given, previous)
    parameters.check(context, template, values)
    base = parameters.pseudo(context.account, context.region, stack_id, stack_name, [])

    def scope() -> Scope:
        return Scope(parameters={**parameters.values(template, values), **base},
                     mappings=template.mappings, conditions=template.conditions,
                     resources=frozenset(template.resources),
                     azs=lambda name: [z.name for z in regions.zones(context.account, name)]
                     if regions.is_region(name) else [])
    parameters.check_rules(template, scope)
    plan = graph(template, scope())
    needed = required_capabilities(template)
    if needed and not set(capabilities) & {needed, "CAPABILITY_NAMED_IAM"}:
        raise cloudformation.InsufficientCapabilitiesException(
            f"Requires capabilities : [{needed}]")
    return Checked(template, values, plan)


def required_capabilities(template: Template) -> str | None:
    needed = None
    for definition in template.resources.values():
        if definition["Type"] in IAM_NAMES:
            name = IAM_NAMES[definition["Type"]]
            if name and name in (definition.get("Properties") or {}):
                return "CAPABILITY_NAMED_IAM"
            needed = "CAPABILITY_IAM"
    return needed


def tags_in(params: dict) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}


def described_parameters(stack_or_set: Stack | ChangeSet) -> list[dict]:
    try:
        declared = parse(stack_or_set.template).parameters
    except ValidationError:
        declared = {}
    out = []
    for key, value in stack_or_set.parameters.items():
        item = {"ParameterKey": key,
                "ParameterValue": "****" if str(declared.get(key, {}).get("NoEcho", "")).lower()
                == "true" else value}
        resolved = getattr(stack_or_set, "resolved_parameters", {}).get(key)
        if resolved is not None:
            item["ResolvedValue"] = resolved
        out.append(item)
    return out


def describe_stack(stack: Stack) -> dict:
    item: dict = {
        "StackId": stack.id, "StackName": stack.name, "CreationTime": stack.created,
        "StackStatus": stack.status, "DisableRollback": stack.disable_rollback,
        "NotificationARNs": stack.notification_arns, "Capabilities": stack.capabilities,
        "Parameters": described_parameters(stack),
        "Tags": [{"Key": k, "Value": v} for k, v in stack.tags.items()],
        "EnableTerminationProtection": stack.termination_protection,
        "RollbackConfiguration": {},
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    optional = {"Description": stack.description, "StackStatusReason": stack.status_reason,
                "LastUpdatedTime": stack.updated, "DeletionTime": stack.deleted,
                "ChangeSetId": stack.change_set_id, "RoleARN": stack.role_arn}
    item.update({k: v for k, v in optional.items() if v is not None})
    if stack.outputs:
        item["Outputs"] = stack.outputs
    return item


def describe_resource(stack: Stack, resource) -> dict:  # type: ignore[no-untyped-def]
    item = {"StackName": stack.name, "StackId": stack.id,
            "LogicalResourceId": resource.logical_id, "ResourceType": resource.type,
            "ResourceStatus": resource.status,
            "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
    if resource.physical_id:
        item["PhysicalResourceId"] = resource.physical_id
    if resource.reason:
        item["ResourceStatusReason"] = resource.reason
    return item
