"""A template's text as data: JSON or YAML (short-form tags), and the checks AWS makes of its shape.

YAML as CloudFormation reads it: ``!Ref X`` is ``{"Ref": "X"}``, ``!GetAtt A.B`` is
``{"Fn::GetAtt": ["A", "B"]}``, any other ``!Tag`` is ``{"Fn::Tag": ...}``; an unquoted date
(``Version: 2012-10-17``) stays the string it was written as; aliases and anchors are
refused, as AWS refuses them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from pocketlink.cloudformation.errors import TemplateError

SECTIONS = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
            "Mappings", "Conditions", "Transform", "Resources", "Outputs")
# The short-form tags whose long form is not ``Fn::<tag>``.
_PLAIN_TAGS = {"Ref": "Ref", "Condition": "Condition"}


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps (a date stays a string) and without aliases."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise TemplateError(f"Template format error: YAML aliases are not allowed in "
                                f"CloudFormation templates (line {event.start_mark.line + 1})")
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _tagged(loader: _Loader, suffix: str, node: yaml.Node) -> dict:
    name = _PLAIN_TAGS.get(suffix, f"Fn::{suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tagged)


def load_text(text: str) -> dict:
    """The template's text as data, or AWS's 'not well-formed' error."""
    if text.lstrip().startswith("{"):
        try:
            body = json.loads(text)
        except json.JSONDecodeError as error:
            raise TemplateError(f"Template format error: JSON not well-formed. (line "
                                f"{error.lineno}, column {error.colno})") from None
    else:
        try:
            body = yaml.load(text, Loader=_Loader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise TemplateError(f"Template format error: YAML not well-formed.{where}") from None
        except yaml.YAMLError:
            raise TemplateError("Template format error: YAML not well-formed.") from None
    if not isinstance(body, dict):
        raise TemplateError("Template format error: unsupported structure.")
    return body


@dataclass
class Template:
    """A parsed template, its sections checked for shape (not yet resolved)."""

    text: str
    body: dict
    description: str | None = None
    parameters: dict[str, dict] = field(default_factory=dict)
    rules: dict[str, dict] = field(default_factory=dict)
    mappings: dict[str, dict] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)


def parse(text: str) -> Template:
    body = load_text(text)
    unknown = [key for key in body if key not in SECTIONS]
    if unknown:
        raise TemplateError(f"Template format error: Invalid template property or properties "
                            f"[{', '.join(unknown)}]")
    if body.get("Transform"):
        raise TemplateError("Template format error: pocketlink does not run transforms "
                            f"({body['Transform']})")
    resources = body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("Template format error: At least one Resources member must be "
                            "defined.")
    for section in ("Parameters", "Rules", "Mappings", "Conditions", "Outputs"):
        if section in body and not isinstance(body[section], dict):
            raise TemplateError(f"Template format error: {section} must be an object")
    for name, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(f"Template format error: [/Resources/{name}] Every Resources "
                                "object must contain a Type member.")
        if not isinstance(resource.get("Properties", {}), dict):
            raise TemplateError(f"Template format error: [/Resources/{name}/Properties] "
                                "Properties must be an object")
    for name, parameter in (body.get("Parameters") or {}).items():
        if not isinstance(parameter, dict) or "Type" not in parameter:
            raise TemplateError(f"Template format error: Every Parameters object must "
                                f"contain a Type member. ({name})")
    description = body.get("Description")
    return Template(text=text, body=body,
                    description=description if isinstance(description, str) else None,
                    parameters=body.get("Parameters") or {}, rules=body.get("Rules") or {},
                    mappings=body.get("Mappings") or {}, conditions=body.get("Conditions") or {},
                    resources=resources, outputs=body.get("Outputs") or {})


def depends_on(resource: dict) -> list[str]:
    value = resource.get("DependsOn") or []
    return [value] if isinstance(value, str) else list(value)
