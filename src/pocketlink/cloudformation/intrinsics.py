"""The intrinsic functions, conditions and rule functions, resolved against a ``Scope``.

A ``Scope`` says what names mean: parameters and pseudo parameters, mappings, conditions,
and (through callables, so that this module knows no stack) the resources' physical ids and
attributes, the zones of a region, the exports of the account. While a change set is
computed, a resource not created yet resolves to ``Unknown``: any string built from one is
unknown too, and a property holding one is "known after apply" (a conditional replacement).
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pocketlink.cloudformation.errors import TemplateError


class Unknown:
    """A value known only once a resource exists."""

    def __repr__(self) -> str:
        return "{{changeSet:KNOWN_AFTER_APPLY}}"

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__


NO_VALUE = object()  # AWS::NoValue: the property (or list item) is left out
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SUB_NAME = re.compile(r"[A-Za-z0-9_.:]+")


@dataclass
class Scope:
    parameters: dict[str, Any]  # the template's, by name, and the pseudo parameters
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)  # as written
    resources: frozenset[str] = frozenset()  # the logical ids a Ref or GetAtt may name
    ref: Callable[[str], Any] = lambda name: Unknown()
    get_att: Callable[[str, str], Any] = lambda name, attribute: Unknown()
    azs: Callable[[str], list[str]] = lambda region: []
    import_value: Callable[[str], Any] = lambda name: Unknown()
    # Where Ref and GetAtt may not name resources (the Conditions, Rules, Outputs' Export
    # names are fine): what it is called, for the error.
    no_resources: str | None = None
    _evaluated: dict[str, bool] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"Template error: unresolved condition dependency {name} "
                                "in Fn::If")
        if name not in self._evaluated:
            if name in self._evaluating:
                raise TemplateError(f"Template error: circular condition dependency {name}")
            self._evaluating.add(name)
            conditions = Scope(**{**self.__dict__, "no_resources": "Conditions",
                                  "_evaluated": self._evaluated,
                                  "_evaluating": self._evaluating})
            value = resolve(self.conditions[name], conditions)
            self._evaluating.discard(name)
            if not isinstance(value, bool):
                raise TemplateError(f"Template error: condition {name} must evaluate to a "
                                    "boolean (Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition)")
            self._evaluated[name] = value
        return self._evaluated[name]


def resolve(value: Any, scope: Scope) -> Any:
    """``value`` with every intrinsic function in it resolved; AWS::NoValue removed."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, argument), = value.items()
            function = FUNCTIONS.get(key)
            if function is not None:
                return function(argument, scope)
        out = {}
        for key, item in value.items():
            resolved = resolve(item, scope)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out
    if isinstance(value, list):
        return [r for r in (resolve(item, scope) for item in value) if r is not NO_VALUE]
    return value


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def _string(value: Any, function: str) -> str | Unknown:
    if isinstance(value, Unknown | str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TemplateError(f"Template error: every {function} object requires string values "
                        f"(got {type(value).__name__})")


def _list(value: Any, function: str) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, str):  # a CommaDelimitedList parameter's Ref is a list already
        raise TemplateError(f"Template error: {function} requires a list, got a string")
    raise TemplateError(f"Template error: {function} requires a list")


def _ref(argument: Any, scope: Scope) -> Any:
    name = resolve(argument, scope)
    if not isinstance(name, str):
        raise TemplateError("Template format error: Every Ref object must have a single "
                            "String value.")
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in scope.parameters:
        return scope.parameters[name]
    if name in scope.resources and scope.no_resources is None:
        return scope.ref(name)
    if name in scope.resources:
        raise TemplateError(f"Template format error: Unresolved dependencies [{name}]. Cannot "
                            f"reference resources in the {scope.no_resources} block of the "
                            "template")
    raise TemplateError(f"Template format error: Unresolved resource dependencies [{name}] in "
                        "the Resources block of the template")


def _get_att(argument: Any, scope: Scope) -> Any:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Template error: every Fn::GetAtt object requires two non-empty "
                            "parameters")
    name, attribute = argument[0], resolve(argument[1], scope)
    if name not in scope.resources or scope.no_resources is not None:
        raise TemplateError(f"Template error: instance of Fn::GetAtt references undefined "
                            f"resource {name}")
    return scope.get_att(name, attribute)


def _sub(argument: Any, scope: Scope) -> Any:
    if isinstance(argument, list):
        if len(argument) != 2 or not isinstance(argument[1], dict):
            raise TemplateError("Template error: One or more Fn::Sub intrinsic functions don't "
                                "specify expected arguments. Specify a string as first argument, "
                                "and an optional second argument to specify a mapping of values "
                                "to replace in the string")
        text, variables = argument[0], {k: resolve(v, scope) for k, v in argument[1].items()}
    else:
        text, variables = argument, {}
    if not isinstance(text, str):
        raise TemplateError("Template error: Fn::Sub's first argument must be a string")
    unknown = False

    def value_of(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        name = name.strip()
        if not _SUB_NAME.fullmatch(name):
            raise TemplateError("Template error: variable names in Fn::Sub syntax must contain "
                                "only alphanumeric characters, underscores, periods, and colons")
        if name in variables:
            value = variables[name]
        elif name in scope.parameters or name in scope.resources:
            value = _ref(name, scope)
        elif "." in name:
            value = _get_att(name.split(".", 1), scope)
        else:
            raise TemplateError(f"Template format error: Unresolved resource dependencies "
                                f"[{name}] in the Resources block of the template")
        text = _string(value, "Fn::Sub")
        if isinstance(text, Unknown):
            unknown = True
            return ""
        return text

    result = _SUB_VARIABLE.sub(value_of, text)
    return Unknown() if unknown else result


def _join(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Template error: every Fn::Join object requires two parameters, "
                            "(1) a string delimiter and (2) a list of strings to be joined or a "
                            "function that returns a list of strings (such as Fn::GetAZs) to be "
                            "joined.")
    delimiter = resolve(argument[0], scope)
    items = [_string(v, "Fn::Join") for v in _list(resolve(argument[1], scope), "Fn::Join")]
    if any(isinstance(v, Unknown) for v in items):
        return Unknown()
    return delimiter.join(items)  # type: ignore[arg-type]


def _select(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Template error: Fn::Select requires a list argument with two "
                            "elements: an integer index and a list")
    index = resolve(argument[0], scope)
    items = resolve(argument[1], scope)
    if isinstance(items, Unknown):
        return Unknown()
    items = _list(items, "Fn::Select")
    try:
        index = int(index)
    except (TypeError, ValueError):
        raise TemplateError("Template error: Fn::Select requires a list argument with two "
                            "elements: an integer index and a list") from None
    if not 0 <= index < len(items):
        raise TemplateError(f"Template error: Fn::Select cannot select nonexistent value at "
                            f"index {index}")
    return items[index]


def _split(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Template error: every Fn::Split object requires two parameters, "
                            "(1) a string delimiter and (2) a string to be split or a function "
                            "that returns a string to be split.")
    delimiter, text = resolve(argument[0], scope), resolve(argument[1], scope)
    if isinstance(text, Unknown):
        return Unknown()
    return _string(text, "Fn::Split").split(delimiter)  # type: ignore[union-attr]


def _get_azs(argument: Any, scope: Scope) -> Any:
    region = resolve(argument, scope) or scope.parameters["AWS::Region"]
    return list(scope.azs(region))


def _if(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 3 or not isinstance(argument[0], str):
        raise TemplateError("Template error: Fn::If requires a list argument with three "
                            "elements: a condition name, a true value and a false value")
    return resolve(argument[1] if scope.condition(argument[0]) else argument[2], scope)


def _boolean(value: Any, function: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise TemplateError(f"Template error: every {function} object requires boolean values")


def _equals(argument: Any, scope: Scope) -> bool:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Template error: every Fn::Equals object requires a list of 2 "
                            "string parameters.")
    left, right = (resolve(v, scope) for v in argument)
    return _comparable(left) == _comparable(right)


def _comparable(value: Any) -> Any:
    """Equals compares what the values say: 1 and "1", true and "true" are equal."""
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, bool | int | float):
        return _string(value, "Fn::Equals")
    return value


def _and(argument: Any, scope: Scope) -> bool:
    _count(argument, "Fn::And")
    return all(_boolean(resolve(v, scope), "Fn::And") for v in argument)


def _or(argument: Any, scope: Scope) -> bool:
    _count(argument, "Fn::Or")
    return any(_boolean(resolve(v, scope), "Fn::Or") for v in argument)


def _count(argument: Any, function: str) -> None:
    if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
        raise TemplateError(f"Template error: every {function} object requires a list of at "
                            "least 2 and at most 10 boolean parameters.")


def _not(argument: Any, scope: Scope) -> bool:
    if not isinstance(argument, list) or len(argument) != 1:
        raise TemplateError("Template error: every Fn::Not object requires a list of one "
                            "boolean parameter.")
    return not _boolean(resolve(argument[0], scope), "Fn::Not")


def _condition(argument: Any, scope: Scope) -> bool:
    if not isinstance(argument, str):
        raise TemplateError("Template error: a Condition must name a condition")
    return scope.condition(argument)


def _find_in_map(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise TemplateError("Template error: every Fn::FindInMap object requires three "
                            "parameters, the map name, map key and the attribute for return "
                            "value")
    names = [resolve(v, scope) for v in argument]
    if any(isinstance(n, Unknown) for n in names):
        return Unknown()
    mapping = scope.mappings.get(names[0])
    if mapping is None:
        raise TemplateError(f"Template error: Mapping named '{names[0]}' is not present in the "
                            "'Mappings' section of template.")
    try:
        return mapping[names[1]][names[2]]
    except (KeyError, TypeError):
        raise TemplateError(f"Template error: Unable to get mapping for "
                            f"{names[0]}::{names[1]}::{names[2]}") from None


def _base64(argument: Any, scope: Scope) -> Any:
    text = _string(resolve(argument, scope), "Fn::Base64")
    if isinstance(text, Unknown):
        return text
    return base64.b64encode(text.encode()).decode()


def _cidr(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise TemplateError("Template error: Fn::Cidr requires a list argument with three "
                            "elements: an ip block, a count and the number of subnet bits")
    block, count, bits = (resolve(v, scope) for v in argument)
    if isinstance(block, Unknown):
        return Unknown()
    try:
        network = ipaddress.ip_network(block, strict=False)
        count, bits = int(count), int(bits)
        subnets = network.subnets(new_prefix=network.max_prefixlen - bits)
        out = [str(next(subnets)) for _ in range(count)]
    except (ValueError, StopIteration):
        raise TemplateError(f"Template error: Fn::Cidr cannot make {count} blocks of {bits} "
                            f"host bits in {block}") from None
    return out


def _import_value(argument: Any, scope: Scope) -> Any:
    name = resolve(argument, scope)
    if isinstance(name, Unknown):
        return name
    return scope.import_value(_string(name, "Fn::ImportValue"))  # type: ignore[arg-type]


def _contains(argument: Any, scope: Scope) -> bool:
    items, value = (resolve(v, scope) for v in argument)
    return value in _list(items, "Fn::Contains")


def _each_member_equals(argument: Any, scope: Scope) -> bool:
    items, value = (resolve(v, scope) for v in argument)
    return all(item == value for item in _list(items, "Fn::EachMemberEquals"))


def _each_member_in(argument: Any, scope: Scope) -> bool:
    items, allowed = (resolve(v, scope) for v in argument)
    return all(item in _list(allowed, "Fn::EachMemberIn") for item in _list(
        items, "Fn::EachMemberIn"))


FUNCTIONS: dict[str, Callable[[Any, Scope], Any]] = {
    "Ref": _ref, "Fn::GetAtt": _get_att, "Fn::Sub": _sub, "Fn::Join": _join,
    "Fn::Select": _select, "Fn::Split": _split, "Fn::GetAZs": _get_azs, "Fn::If": _if,
    "Fn::Equals": _equals, "Fn::And": _and, "Fn::Or": _or, "Fn::Not": _not,
    "Condition": _condition, "Fn::FindInMap": _find_in_map, "Fn::Base64": _base64,
    "Fn::Cidr": _cidr, "Fn::ImportValue": _import_value, "Fn::Contains": _contains,
    "Fn::EachMemberEquals": _each_member_equals, "Fn::EachMemberIn": _each_member_in,
}


def references(value: Any) -> set[str]:
    """The names a value's Ref, GetAtt and Sub mention (resources among them)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else argument
                if isinstance(parts, list) and parts and isinstance(parts[0], str):
                    found.add(parts[0])
            elif key == "Fn::Sub":
                text = argument[0] if isinstance(argument, list) else argument
                variables = argument[1] if isinstance(argument, list) and len(argument) > 1 \
                    and isinstance(argument[1], dict) else {}
                if isinstance(text, str):
                    for name in _SUB_VARIABLE.findall(text):
                        if not name.startswith("!") and name not in variables:
                            found.add(name.split(".", 1)[0])
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found
