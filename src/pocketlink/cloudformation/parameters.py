"""A stack's parameter values: given, previous or default, checked by type and constraint,
AWS-specific types checked against the account's resources, and the template's Rules.

``values()`` is what ``Ref`` sees (a ``List<...>`` or ``CommaDelimitedList`` parameter is
a list); ``AWS::SSM::Parameter::Value<...>`` parameters name an SSM parameter whose value
is read from the backend when the stack is deployed (``ssm_names`` / ``values(ssm=...)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pocketlink.api.context import RequestContext
from pocketlink.cloudformation.errors import ValidationError
from pocketlink.cloudformation.intrinsics import Scope, resolve
from pocketlink.cloudformation.template import Template
from pocketlink.model import regions
from pocketlink.model.base import Resource
from pocketlink.model.ec2 import Instance, SecurityGroup, Subnet, Vpc
from pocketlink.model.route53 import HostedZone

SSM_VALUE = re.compile(r"AWS::SSM::Parameter::Value<(.+)>")
_PLAIN = ("String", "Number", "CommaDelimitedList", "List<Number>", "AWS::SSM::Parameter::Name")
# The AWS-specific types whose values must be the caller's resources, and where to look.
_STORED: dict[str, type[Resource]] = {
    "AWS::EC2::VPC::Id": Vpc,
    "AWS::EC2::Subnet::Id": Subnet,
    "AWS::EC2::SecurityGroup::Id": SecurityGroup,
    "AWS::EC2::Instance::Id": Instance,
    "AWS::Route53::HostedZone::Id": HostedZone,
}
# AWS-specific types that pocketlink accepts as strings (nothing of theirs to look up).
_UNCHECKED = ("AWS::EC2::KeyPair::KeyName", "AWS::EC2::Image::Id", "AWS::EC2::Volume::Id",
              "AWS::EC2::SecurityGroup::GroupName", "AWS::EC2::AvailabilityZone::Name")


def _element_type(kind: str) -> tuple[str, bool]:
    """(the element type, whether a list) of a parameter type."""
    if kind.startswith("List<") and kind.endswith(">"):
        return kind[5:-1], True
    return kind, kind == "CommaDelimitedList"


def known_type(kind: str) -> bool:
    element, _ = _element_type(kind)
    ssm = SSM_VALUE.fullmatch(kind)
    if ssm:
        element, _ = _element_type(ssm.group(1))
    return element in _PLAIN or element in _STORED or element in _UNCHECKED or \
        element == "CommaDelimitedList"


def given_values(template: Template, given: list[dict], previous: dict[str, str]
                 ) -> dict[str, str]:
    """The value of each of the template's parameters, as DescribeStacks shows them."""
    unknown = [p["ParameterKey"] for p in given if p.get("ParameterKey") not in template.parameters]
    if unknown:
        raise ValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    by_key = {p["ParameterKey"]: p for p in given}
    values: dict[str, str] = {}
    missing = []
    for name, declaration in template.parameters.items():
        if not known_type(str(declaration["Type"])):
            raise ValidationError(f"Template format error: Unrecognized parameter type: "
                                  f"{declaration['Type']}")
        entry = by_key.get(name)
        if entry is not None and entry.get("UsePreviousValue"):
            if name not in previous:
                raise ValidationError(f"Invalid input for parameter key {name}. Cannot specify "
                                      "usePreviousValue as true for a parameter key not in the "
                                      "previous template")
            values[name] = previous[name]
        elif entry is not None and "ParameterValue" in entry:
            values[name] = str(entry["ParameterValue"])
        elif "Default" in declaration:
            default = declaration["Default"]
            values[name] = ",".join(map(str, default)) if isinstance(default, list) \
                else text_of(default)
        else:
            missing.append(name)
    if missing:
        raise ValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    return values


def text_of(value: Any) -> str:
    """A template's scalar as CloudFormation writes it back (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ssm_names(template: Template, values: dict[str, str]) -> dict[str, str]:
    """The SSM parameter each ``AWS::SSM::Parameter::Value<...>`` parameter names."""
    return {name: values[name] for name, declaration in template.parameters.items()
            if SSM_VALUE.fullmatch(str(declaration["Type"]))}


def check(context: RequestContext, template: Template, values: dict[str, str]) -> None:
    """Each value against its type, its constraints and the account's resources."""
    for name, declaration in template.parameters.items():
        kind = str(declaration["Type"])
        if SSM_VALUE.fullmatch(kind):
            continue
        element, is_list = _element_type(kind)
        raw = values[name]
        items = [v.strip() for v in raw.split(",")] if is_list and raw != "" else \
            ([] if is_list else [raw])
        for value in items:
            _constraints(name, declaration, value)
            if element in ("Number", "List<Number>") or kind == "Number":
                try:
                    float(value)
                except ValueError:
                    raise ValidationError(f"Parameter '{name}' must be a number.") from None
            cls = _STORED.get(element)
            if cls is not None and not _exists(context, cls, value):
                raise ValidationError(f"Parameter validation failed: parameter value {value} "
                                      f"for parameter name {name} does not exist")
            if element == "AWS::EC2::AvailabilityZone::Name" and \
                    regions.zone_by_name_or_id(context.account, context.region, value) is None:
                raise ValidationError(f"Parameter validation failed: parameter value {value} "
                                      f"for parameter name {name} does not exist")


def _exists(context: RequestContext, cls: type[Resource], value: str) -> bool:
    if cls is HostedZone:
        value = value.rpartition("/")[2]
        zone = context.store.get(HostedZone, value)
        return zone is not None and zone.account == context.account
    resource = context.store.get(cls, value)
    return resource is not None and resource.account == context.account and \
        resource.region == context.region


def _constraints(name: str, declaration: dict, value: str) -> None:
    description = declaration.get("ConstraintDescription")
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [text_of(a) for a in allowed]:
        raise ValidationError(description or f"Parameter '{name}' must be one of AllowedValues")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ValidationError(description or f"Parameter '{name}' must match pattern {pattern}")
    if "MinLength" in declaration and len(value) < int(declaration["MinLength"]):
        raise ValidationError(description or f"Parameter '{name}' must contain at least "
                              f"{declaration['MinLength']} characters")
    if "MaxLength" in declaration and len(value) > int(declaration["MaxLength"]):
        raise ValidationError(description or f"Parameter '{name}' must contain at most "
                              f"{declaration['MaxLength']} characters")
    for bound, compare, word in (("MinValue", float.__lt__, "larger than or equal to"),
                                 ("MaxValue", float.__gt__, "less than or equal to")):
        if bound in declaration:
            try:
                number = float(value)
            except ValueError:
                continue
            if compare(number, float(declaration[bound])):
                raise ValidationError(description or f"Parameter '{name}' must be a number "
                                      f"{word} {declaration[bound]}")


def values(template: Template, given: dict[str, str], ssm: dict[str, str] | None = None
           ) -> dict[str, Any]:
    """What ``Ref`` of each parameter returns: lists for list types; an SSM parameter's
    value (``ssm``, by parameter key) for the SSM-typed ones."""
    out: dict[str, Any] = {}
    for name, declaration in template.parameters.items():
        kind = str(declaration["Type"])
        raw = given[name]
        ssm_type = SSM_VALUE.fullmatch(kind)
        if ssm_type:
            kind = ssm_type.group(1)
            raw = (ssm or {}).get(name, raw)
        _, is_list = _element_type(kind)
        out[name] = ([v.strip() for v in raw.split(",")] if raw != "" else []) if is_list else raw
    return out


def pseudo(account: str, region: str, stack_id: str, stack_name: str,
           notification_arns: list[str]) -> dict[str, Any]:
    return {"AWS::AccountId": account, "AWS::Region": region, "AWS::StackId": stack_id,
            "AWS::StackName": stack_name, "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": notification_arns}


def check_rules(template: Template, scope_for: Callable[[], Scope]) -> None:
    """Each rule whose RuleCondition holds: its assertions must hold, or the request fails
    with the assertion's description (as AWS's Rules do)."""
    for name, rule in template.rules.items():
        scope = scope_for()
        scope.no_resources = "Rules"
        if "RuleCondition" in rule and not resolve(rule["RuleCondition"], scope):
            continue
        for assertion in rule.get("Assertions") or []:
            if not resolve(assertion.get("Assert"), scope):
                raise ValidationError(assertion.get("AssertDescription") or
                                      f"Template error: rule {name} failed its assertion")
