"""The Condition element: its operators, and how one condition meets a request context.

The rules, from the IAM User Guide ("Condition operators", "Condition with multiple keys or
values", "Single-valued vs. multivalued context keys"):

- several operators, or several keys under one operator: AND; several values for one key: OR,
  except under a negated operator (StringNotEquals ...), where they work as a NOR.
- a key absent from the request makes a condition false, except for the negated operators
  (true), ``...IfExists`` (true) and ``Null`` (which tests exactly that).
- ``ForAllValues:`` is true when every request value matches some policy value, and also when
  the key is absent or empty; ``ForAnyValue:`` when at least one does, false when absent.
- a multivalued key (a list in the context) needs a set operator: a plain operator is false.
- policy variables work with the string, ARN and Bool operators only.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pocketlink.policy.patterns import Pieces, arn_like, expand, like, literal

Value = str | tuple[str, ...]  # one value, or a multivalued key's values


def _number(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


_W3C_SHORT = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def _date(text: str) -> float:
    """A W3C ISO 8601 date (YYYY ... YYYY-MM-DDThh:mm:ss.sTZD) or epoch seconds, as epoch seconds."""
    if re.fullmatch(r"-?\d+", text) and len(text) != 4:
        return float(text)
    short = _W3C_SHORT.match(text)
    if short:
        moment = datetime(int(short.group(1)), int(short.group(2) or 1), 1, tzinfo=UTC)
    else:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _binary(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text.strip(), strict=False)  # no prefix: /32 (or /128)


def _bool(text: str) -> str:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower()


@dataclass(frozen=True)
class _Kind:
    """One family of operators: how a policy value is checked, and how it meets a request value."""

    check: Callable[[str], object] | None  # validates a policy value at parse time
    variables: bool  # policy variables allowed ("Where you can use policy variables")
    test: Callable[[Pieces, str], bool]


def _compare(parse: Callable[[str], object], relation: Callable[[object, object], bool]):
    def test(pieces: Pieces, value: str) -> bool:
        try:
            return relation(parse(value), parse(literal(pieces)))
        except (ValueError, TypeError):
            return False  # a request value of the wrong type matches nothing
    return test


def _ip_test(pieces: Pieces, value: str) -> bool:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return address in _network(literal(pieces))


def _binary_test(pieces: Pieces, value: str) -> bool:
    try:
        return _binary(value) == _binary(literal(pieces))
    except (ValueError, binascii.Error):
        return False


_STRING = _Kind(None, True, lambda p, v: literal(p) == v)
_STRING_IC = _Kind(None, True, lambda p, v: literal(p).lower() == v.lower())
_STRING_LIKE = _Kind(None, True, like)
_ARN = _Kind(None, True, arn_like)
_BOOL = _Kind(_bool, True, lambda p, v: literal(p).lower() == v.lower())
_BINARY = _Kind(_binary, False, _binary_test)
_IP = _Kind(_network, False, _ip_test)


def _numeric(relation: Callable[[float, float], bool]) -> _Kind:
    return _Kind(_number, False, _compare(_number, relation))


def _dated(relation: Callable[[float, float], bool]) -> _Kind:
    return _Kind(_date, False, _compare(_date, relation))


# Base operator -> (kind, negated). A negated operator is true when no policy value matches.
OPERATORS: dict[str, tuple[_Kind, bool]] = {
    "StringEquals": (_STRING, False),
    "StringNotEquals": (_STRING, True),
    "StringEqualsIgnoreCase": (_STRING_IC, False),
    "StringNotEqualsIgnoreCase": (_STRING_IC, True),
    "StringLike": (_STRING_LIKE, False),
    "StringNotLike": (_STRING_LIKE, True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_dated(lambda a, b: a == b), False),
    "DateNotEquals": (_dated(lambda a, b: a == b), True),
    "DateLessThan": (_dated(lambda a, b: a < b), False),
    "DateLessThanEquals": (_dated(lambda a, b: a <= b), False),
    "DateGreaterThan": (_dated(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_dated(lambda a, b: a >= b), False),
    "Bool": (_BOOL, False),
    "BinaryEquals": (_BINARY, False),
    "IpAddress": (_IP, False),
    "NotIpAddress": (_IP, True),
    "ArnEquals": (_ARN, False),
    "ArnLike": (_ARN, False),
    "ArnNotEquals": (_ARN, True),
    "ArnNotLike": (_ARN, True),
}
# Null only checks its values ("true"/"false"); condition_matches handles it apart.
_NULL = _Kind(_bool, False, lambda pieces, value: False)
_BY_LOWER = {name.lower(): name for name in [*OPERATORS, "Null"]}
SET_OPERATORS = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class Condition:
    """One key under one operator, e.g. ``ForAnyValue:StringLikeIfExists`` / ``aws:TagKeys``."""

    operator: str  # as written in the policy
    base: str  # canonical base operator: "StringLike", "Null" ...
    set_operator: str | None  # "ForAnyValue" | "ForAllValues" | None
    if_exists: bool
    key: str  # lower-cased: condition key names are case-insensitive
    values: tuple[str, ...]


def parse_condition_block(block: object) -> tuple[Condition, ...]:
    """Validate a statement's ``Condition`` element; raises ValueError with the reason."""
    if not isinstance(block, Mapping):
        raise ValueError("Condition must be an object of operators")
    conditions: list[Condition] = []
    for operator, keys in block.items():
        set_operator, base, if_exists = _operator(operator)
        if not isinstance(keys, Mapping) or not keys:
            raise ValueError(f"Condition operator {operator} must map condition keys to values")
        for key, raw in keys.items():
            values = _values(raw, operator, key)
            kind = _NULL if base == "Null" else OPERATORS[base][0]
            for value in values:
                if kind.check is None or (kind.variables and "${" in value):
                    continue
                try:
                    kind.check(value)
                except (ValueError, binascii.Error):
                    raise ValueError(f"Invalid value {value!r} for condition operator {operator}") from None
            conditions.append(Condition(operator, base, set_operator, if_exists, key.lower(), values))
    return tuple(conditions)


def _operator(operator: object) -> tuple[str | None, str, bool]:
    if not isinstance(operator, str):
        raise ValueError("Condition operator must be a string")
    set_operator, _, rest = operator.rpartition(":")
    if set_operator:
        canonical = next((s for s in SET_OPERATORS if s.lower() == set_operator.lower()), None)
        if canonical is None:
            raise ValueError(f"Unknown set operator {set_operator!r} in {operator!r}")
        set_operator = canonical
    if_exists = rest.lower().endswith("ifexists")
    base = _BY_LOWER.get(rest[: -len("IfExists")].lower() if if_exists else rest.lower())
    if base is None:
        raise ValueError(f"Unknown condition operator {operator!r}")
    if base == "Null" and if_exists:
        raise ValueError("IfExists cannot be added to the Null condition operator")
    return set_operator or None, base, if_exists


def _values(raw: object, operator: str, key: object) -> tuple[str, ...]:
    if not isinstance(key, str) or not key:
        raise ValueError(f"Condition key under {operator} must be a non-empty string")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ValueError(f"Condition {operator} {key} has no value")
    values = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            values.append(str(item))
        else:
            raise ValueError(f"Condition {operator} {key}: values must be strings, numbers or booleans")
    return tuple(values)


def condition_matches(condition: Condition, context: Mapping[str, Value], variables: bool) -> bool:
    """Whether ``condition`` holds for a request whose context keys are lower-cased."""
    value = context.get(condition.key)
    if condition.base == "Null":
        # "true (the key doesn't exist - it is null) or false (the key exists and its value is not null)"
        wanted = "true" if value is None else "false"
        return any(v.lower() == wanted for v in condition.values)
    kind, negated = OPERATORS[condition.base]
    patterns = [expand(v, context, variables and kind.variables) for v in condition.values]

    def one(request_value: str) -> bool:
        # OR over the policy values; a value whose variable has no value matches nothing.
        hit = any(p is not None and kind.test(p, request_value) for p in patterns)
        return not hit if negated else hit

    if condition.set_operator == "ForAllValues":
        if value is None:
            return True
        return all(one(v) for v in (value if isinstance(value, tuple) else (value,)))
    if condition.set_operator == "ForAnyValue":
        if value is None:
            return condition.if_exists
        return any(one(v) for v in (value if isinstance(value, tuple) else (value,)))
    if value is None:
        return condition.if_exists or negated
    if isinstance(value, tuple):
        return False  # "Multivalued context keys require a condition set operator."
    return one(value)


def normalize_context(context: Mapping[str, object]) -> dict[str, Value]:
    """The request context keyed by lower-cased key, with every value as text.

    A value is a string, a bool (``true``/``false``), a number, bytes (for BinaryEquals), or a
    list of those (a multivalued key); None means absent.
    """
    normalized: dict[str, Value] = {}
    for key, value in context.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            normalized[key.lower()] = tuple(_scalar(v) for v in value)
        else:
            normalized[key.lower()] = _scalar(value)
    return normalized


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
