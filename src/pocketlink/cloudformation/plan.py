"""What a template asks for, before anything runs: the resources its conditions keep, the
order their references impose (stdlib graphlib), and what changes against a stack's
resources as they are (a change set's Add / Modify / Remove, and whether a Modify replaces).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from pocketlink.cloudformation.errors import TemplateError
from pocketlink.cloudformation.intrinsics import Scope, Unknown, contains_unknown, references, resolve
from pocketlink.cloudformation.schemas import schema
from pocketlink.cloudformation.template import Template, depends_on
from pocketlink.model.cloudformation import StackResource

NO_CHANGE, MODIFY, REPLACE = "None", "Modify", "Replace"


@dataclass
class Graph:
    resources: dict[str, dict]  # the definitions the conditions keep, by logical id
    depends: dict[str, set[str]]  # logical id -> the logical ids it needs first

    def sorter(self, among: set[str] | None = None, reverse: bool = False
               ) -> TopologicalSorter[str]:
        """The order of ``among`` (all by default), not yet prepared; ``reverse``:
        dependents first, as deletions run."""
        names = set(self.resources) if among is None else among
        edges: dict[str, set[str]] = {name: set() for name in names}
        for name in names:
            for needed in self.depends.get(name, ()):
                if needed in names:
                    if reverse:
                        edges[needed].add(name)
                    else:
                        edges[name].add(needed)
        return TopologicalSorter(edges)


def graph(template: Template, scope: Scope) -> Graph:
    kept = {name: definition for name, definition in template.resources.items()
            if "Condition" not in definition or scope.condition(definition["Condition"])}
    depends: dict[str, set[str]] = {}
    for name, definition in kept.items():
        explicit = depends_on(definition)
        unknown = [d for d in explicit if d not in template.resources]
        if unknown:
            raise TemplateError(f"Template format error: Unresolved resource dependencies "
                                f"[{', '.join(unknown)}] in the Resources block of the template")
        named = references(definition.get("Properties") or {}) | set(explicit)
        undefined = sorted(n for n in named if n not in template.resources and
                           n not in template.parameters and not n.startswith("AWS::"))
        if undefined:
            raise TemplateError(f"Template format error: Unresolved resource dependencies "
                                f"[{', '.join(undefined)}] in the Resources block of the template")
        depends[name] = {n for n in named if n in kept and n != name}
    try:
        TopologicalSorter(depends).prepare()
    except CycleError as error:
        raise TemplateError(f"Circular dependency between resources: "
                            f"[{', '.join(sorted(set(error.args[1])))}]") from None
    return Graph(kept, depends)


def _at(value: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def change_of(type_name: str, old: dict, new: dict) -> tuple[str, list[str], str]:
    """(NO_CHANGE | MODIFY | REPLACE, the top-level properties that differ, AWS's
    Replacement: "True", "False" or "Conditional" when a create-only value is unknown)."""
    names = sorted(k for k in set(old) | set(new) if not _same(old.get(k), new.get(k)))
    if not names:
        return NO_CHANGE, [], "False"
    replacement = "False"
    for path in schema(type_name).create_only:
        parts = path.split("/")
        before, after = _at(old, parts), _at(new, parts)
        if _same(before, after):
            continue
        if contains_unknown(after):
            replacement = "Conditional" if replacement == "False" else replacement
        else:
            replacement = "True"
    return (REPLACE if replacement == "True" else MODIFY), names, replacement


def _same(a: Any, b: Any) -> bool:
    if contains_unknown(a) or contains_unknown(b):
        return False
    return _normal(a) == _normal(b)


def _normal(value: Any) -> Any:
    """Values as AWS compares them: 443 and "443", true and "true" alike."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def preview(template: Template, scope: Scope, old: dict[str, StackResource]) -> list[dict]:
    """A change set's Changes: every resource added, modified or removed, in the order the
    template's graph runs them."""
    plan = graph(template, scope)
    fresh: set[str] = set()  # resources whose physical id the change set cannot know yet

    def ref(name: str) -> Any:
        return Unknown() if name in fresh or name not in old else old[name].physical_id

    def get_att(name: str, attribute: str) -> Any:
        if name in fresh or name not in old:
            return Unknown()
        return old[name].attributes.get(attribute, Unknown())

    scoped = dataclasses.replace(scope, ref=ref, get_att=get_att,
                                 resources=frozenset(plan.resources))
    changes = []
    for name in plan.sorter().static_order():
        definition = plan.resources[name]
        type_name = definition["Type"]
        properties = resolve(definition.get("Properties") or {}, scoped)
        before = old.get(name)
        if before is None:
            fresh.add(name)
            changes.append(_change("Add", name, type_name, None))
            continue
        if before.type != type_name:
            raise TemplateError(f"Update of resource type is not permitted. The new template "
                                f"modifies resource type of the following resources: [{name}]")
        kind, names, replacement = change_of(type_name, before.properties, properties)
        if kind == NO_CHANGE:
            continue
        if kind == REPLACE:
            fresh.add(name)
        details = [{"Target": {"Attribute": "Properties", "Name": prop,
                               "RequiresRecreation": _recreation(type_name, prop)},
                    "Evaluation": "Dynamic" if contains_unknown(properties.get(prop))
                    else "Static",
                    "ChangeSource": "DirectModification"} for prop in names]
        changes.append(_change("Modify", name, type_name, before.physical_id, replacement,
                               details))
    for name, before in old.items():
        if name not in plan.resources:
            changes.append(_change("Remove", name, before.type, before.physical_id))
    return changes


def _recreation(type_name: str, prop: str) -> str:
    paths = schema(type_name).create_only
    if prop in paths:
        return "Always"
    return "Conditionally" if any(p.startswith(prop + "/") for p in paths) else "Never"


def _change(action: str, name: str, type_name: str, physical_id: str | None,
            replacement: str | None = None, details: list | None = None) -> dict:
    change: dict = {"Action": action, "LogicalResourceId": name, "ResourceType": type_name}
    if physical_id:
        change["PhysicalResourceId"] = physical_id
    if action == "Modify":
        change["Replacement"] = replacement
        change["Scope"] = ["Properties"]
        change["Details"] = details or []
    else:
        change["Scope"] = []
        change["Details"] = []
    return {"Type": "Resource", "ResourceChange": change}
