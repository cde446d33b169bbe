"""A stack's history as it happens: each status change of the stack or of one of its
resources is one transaction that sets the status and appends its event.

Events have unique ids (the resource's logical id and a UUID, as AWS's), times that never
go backwards within a stack, and the stack's own events carry the StackId as their
PhysicalResourceId.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from typing import Any

from pocketlink.model.base import now
from pocketlink.model.cloudformation import Stack, StackEvent, StackResource
from pocketlink.store import Store

STACK_TYPE = "AWS::CloudFormation::Stack"
# A resource's history, as DescribeStackEvents keeps it, is bounded per stack.
MAX_EVENTS = 2000


def _event(stack: Stack, logical_id: str, physical_id: str, type_name: str, status: str,
           reason: str | None, properties: dict | None) -> StackEvent:
    moment = now()
    if stack.events and moment <= stack.events[-1].timestamp:
        moment = stack.events[-1].timestamp + timedelta(microseconds=1)
    return StackEvent(event_id=f"{logical_id}-{uuid.uuid4()}" if logical_id != stack.name
                      else str(uuid.uuid4()),
                      logical_id=logical_id, physical_id=physical_id, resource_type=type_name,
                      status=status, timestamp=moment, reason=reason,
                      properties=json.dumps(properties, default=str, separators=(",", ":"))
                      if properties is not None else None)


def stack_status(store: Store, stack_id: str, status: str, reason: str | None = None,
                 **fields: Any) -> Stack:
    """The stack's status (and other fields), with its event."""
    with store.transaction() as tx:
        stack = tx.edit(Stack, stack_id)
        stack.status = status
        stack.status_reason = reason
        for name, value in fields.items():
            setattr(stack, name, value)
        stack.events.append(_event(stack, stack.name, stack.id, STACK_TYPE, status, reason, None))
        del stack.events[:-MAX_EVENTS]
    return stack


def resource_status(store: Store, stack_id: str, resource: StackResource, status: str,
                    reason: str | None = None, properties: dict | None = None,
                    keep: bool = True) -> None:
    """``resource``'s status, with its event; ``keep=False`` drops it from the stack's
    resources (deleted), unless the stack now holds another physical resource by that
    logical id (a replaced resource's old self, deleted after its replacement was made)."""
    with store.transaction() as tx:
        stack = tx.edit(Stack, stack_id)
        resource.status, resource.reason, resource.updated = status, reason, now()
        if keep:
            stack.resources[resource.logical_id] = copy.deepcopy(resource)
        elif (stored := stack.resources.get(resource.logical_id)) is not None and \
                stored.physical_id == resource.physical_id:
            del stack.resources[resource.logical_id]
        stack.events.append(_event(stack, resource.logical_id, resource.physical_id,
                                   resource.type, status, reason, properties))
        del stack.events[:-MAX_EVENTS]


def restore(store: Store, stack_id: str, resource: StackResource) -> None:
    """The stack holds ``resource`` again by its logical id (an update rolled back)."""
    with store.transaction() as tx:
        tx.edit(Stack, stack_id).resources[resource.logical_id] = copy.deepcopy(resource)
