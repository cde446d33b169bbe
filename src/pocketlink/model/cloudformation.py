"""CloudFormation's stacks and change sets, as the store keeps them.

A stack is stored whole: its template, the parameter values it was given, and its
resources as last applied (each with the properties it was made from, resolved, and the
attributes its provider reported, which ``Fn::GetAtt`` reads), and its events. A
stack's ``id`` is its StackId ARN, which stays the stack's after it is deleted
(``DELETE_COMPLETE`` stacks are listed, and found by id, as AWS keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pocketlink.model.base import Resource, now


@dataclass(kw_only=True)
class StackEvent:
    event_id: str
    logical_id: str
    physical_id: str
    resource_type: str
    status: str
    timestamp: datetime
    reason: str | None = None
    properties: str | None = None  # ResourceProperties: the resolved properties, as JSON


@dataclass(kw_only=True)
class StackResource:
    logical_id: str
    type: str
    status: str
    physical_id: str = ""
    reason: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    updated: datetime = field(default_factory=now)


@dataclass(kw_only=True)
class Stack(Resource):
    kind = "cloudformation-stack"

    name: str
    status: str
    status_reason: str | None = None
    template: str = ""
    description: str | None = None
    # The parameters as given (UsePreviousValue applied), by key: what DescribeStacks shows.
    parameters: dict[str, str] = field(default_factory=dict)
    # SSM-typed parameters' values, as resolved at the last deployment.
    resolved_parameters: dict[str, str] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    notification_arns: list[str] = field(default_factory=list)
    role_arn: str | None = None
    disable_rollback: bool = False
    termination_protection: bool = False
    outputs: list[dict[str, str]] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # the exports its Fn::ImportValue read
    resources: dict[str, StackResource] = field(default_factory=dict)
    events: list[StackEvent] = field(default_factory=list)
    updated: datetime | None = None
    deleted: datetime | None = None
    change_set_id: str | None = None


@dataclass(kw_only=True)
class ChangeSet(Resource):
    kind = "cloudformation-change-set"

    name: str
    stack_id: str
    stack_name: str
    change_set_type: str  # CREATE or UPDATE
    status: str = "CREATE_PENDING"
    execution_status: str = "UNAVAILABLE"
    status_reason: str | None = None
    template: str = ""
    description: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    notification_arns: list[str] = field(default_factory=list)
    role_arn: str | None = None
    stack_tags: dict[str, str] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
