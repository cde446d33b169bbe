"""Resource providers: one module per resource type, each making its resource through
pocketlink's own API handlers (``api.call``) or the backend's services (``api.backend``).

A provider is a subclass of ``Provider`` naming its ``type_name``, with three coroutines:

- ``create(api, properties) -> Done``: makes the resource from its resolved properties;
  ``Done`` carries the physical id (what ``Ref`` returns) and the read-only attributes
  (what ``Fn::GetAtt`` returns, in AWS's formats). It waits, with ``api.until``, for
  whatever AWS's own handler waits for (an NLB turning ``active``), after telling
  ``api.initiated(physical_id)`` what it made.
- ``update(api, physical_id, properties, previous) -> Done``: changes it in place. The
  engine calls it only when no create-only property changed (schemas.py); otherwise it
  creates a replacement and deletes the old resource afterwards.
- ``delete(api, physical_id, properties)``: removes it; a resource already gone is not
  an error (``unless_gone`` around the call).

Failures are ``ProviderError`` (calls.py words a service's refusal as AWS's handlers do).
A module dropped into this package is found by ``providers()``: adding a type touches
nothing else.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from pocketlink.cloudformation.calls import STABILIZE_TIMEOUT, Api, ProviderError
from pocketlink.model.base import Resource


@dataclass
class Done:
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


class Provider:
    type_name: ClassVar[str]

    async def create(self, api: Api, properties: dict) -> Done:
        raise NotImplementedError

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        raise ProviderError(f"{self.type_name} cannot be changed in place")

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        raise NotImplementedError


@cache
def providers() -> dict[str, Provider]:
    """Every provider in this package's modules, by resource type."""
    import pocketlink.cloudformation.providers as package

    table: dict[str, Provider] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Provider) and \
                    value is not Provider and value.__module__ == module.__name__ and \
                    getattr(value, "type_name", None):
                if value.type_name in table:
                    raise RuntimeError(f"two providers for {value.type_name}")
                table[value.type_name] = value()
    return table


def tags_of(properties: dict) -> list[dict]:
    """A template's Tags (a list of Key/Value) as the APIs take them."""
    return [{"Key": t["Key"], "Value": str(t.get("Value", ""))}
            for t in properties.get("Tags") or []]


def ec2_tag_specifications(resource_type: str, properties: dict) -> list[dict]:
    tags = tags_of(properties)
    return [{"ResourceType": resource_type, "Tags": tags}] if tags else []


def gone(error: Exception) -> bool:
    """A delete that found nothing to delete."""
    return "NotFound" in str(error) or "NoSuch" in str(error) or "does not exist" in str(error)


async def settled_state(api: Api, cls: type[Resource], resource_id: str,
                        passing: tuple[str, ...], what: str, *, gone: str = "deleted",
                        member: str = "state", timeout: float = STABILIZE_TIMEOUT) -> str:
    """The state (its ``member``) the resource settles in once past the ``passing`` ones,
    or ``gone`` if it was deleted meanwhile: what a create waits for before the stack goes
    on, as CloudFormation waits for a resource to stabilize. ``what``: the failure's
    reason when it stays in ``passing`` past ``timeout``."""
    def settled() -> str | None:
        found = api.context.store.get(cls, resource_id)
        if found is None:
            return gone
        state = getattr(found, member)
        return None if state in passing else state
    return await api.until(settled, what, timeout)


@contextlib.contextmanager
def unless_gone(*also: str) -> Iterator[None]:
    """Around a provider's delete: a resource already gone (deleted outside the stack, or
    with its parent) is deleted, not an error, as CloudFormation's delete treats it.
    ``also``: words of the kind's own error that mean the same (``NotAttached``)."""
    try:
        yield
    except ProviderError as error:
        if not gone(error) and not any(word in str(error) for word in also):
            raise
