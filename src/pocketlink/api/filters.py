"""Describe filters, as EC2 applies them.

Each area declares its filter names as functions from a resource to the values it has for
that name; ``tag:KEY``, ``tag-key`` and ``tag-value`` come for free. Filter values match
with ``*`` and ``?`` wildcards; values of one filter are OR-ed, filters are AND-ed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from pocketlink.api.errors import ec2
from pocketlink.model.base import Resource

R = TypeVar("R", bound=Resource)
Field = Callable[[Any], Any]


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, bool):
        return ["true" if raw else "false"]
    if isinstance(raw, str | int):
        return [str(raw)]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in raw if v is not None]


def _tag_values(resource: Resource, name: str) -> list[str]:
    if name.startswith("tag:"):
        key = name[4:]
        return [resource.tags[key]] if key in resource.tags else []
    if name == "tag-key":
        return list(resource.tags)
    if name == "tag-value":
        return list(resource.tags.values())
    raise KeyError(name)


def apply(items: Iterable[R], filters: list[dict] | None, fields: dict[str, Field]) -> list[R]:
    items = list(items)
    for flt in filters or []:
        name = flt.get("Name")
        if not name:
            raise ec2.MissingParameter("Filter.N.Name")
        wanted = flt.get("Values") or []
        if name in fields:
            extract = fields[name]
        elif name.startswith("tag:") or name in ("tag-key", "tag-value"):
            def extract(resource: Resource, _name: str = name) -> list[str]:
                return _tag_values(resource, _name)
        else:
            raise ec2.InvalidParameterValue(f"The filter '{name}' is invalid")
        items = [
            r for r in items
            if any(fnmatchcase(have, want) for have in _values(extract(r)) for want in wanted)
        ]
    return items
