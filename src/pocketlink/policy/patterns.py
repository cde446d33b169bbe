"""Wildcards and policy variables: how a policy string matches a request string.

A policy string is first *expanded*: in a 2012-10-17 policy, ``${key}`` becomes the request
context's value for ``key`` (``${key, 'default'}`` when it is absent), and ``${*}``, ``${?}``
and ``${$}`` become those characters taken literally (the IAM User Guide, "Policy variables:
special characters"). Expansion yields pieces that remember whether their text came from the
policy (where ``*`` and ``?`` are wildcards) or from a value (always literal). A variable
whose key is absent has "effectively null" value: the whole string then matches nothing.

Matching is then ``literal`` (StringEquals), ``like`` (StringLike, actions: ``*`` and ``?``
anywhere) or ``arn_like`` (Resource, ArnLike: the six colon-delimited parts of an ARN are
matched one by one, so a wildcard never spans a colon before the resource part).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

Pieces = tuple[tuple[str, bool], ...]  # (text, wildcards active)

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*(.*?)\s*,\s*'(.*)'\s*$")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def expand(text: str, context: Mapping[str, object], variables: bool) -> Pieces | None:
    """``text`` with its policy variables replaced; None when one has no value.

    ``context`` is keyed by lower-cased condition key (key names are case-insensitive).
    """
    if not variables or "${" not in text:
        return ((text, True),)
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > position:
            pieces.append((text[position:match.start()], True))
        name = match.group(1)
        default = _DEFAULT.match(name)
        if name in _SPECIAL:
            value: object = _SPECIAL[name]
        else:
            key = default.group(1) if default else name.strip()
            value = context.get(key.lower())
            if value is None or isinstance(value, (list, tuple)):
                # Absent, or multivalued ("You can't use a multivalued condition key as a variable").
                if not default:
                    return None
                value = default.group(2)
        pieces.append((_text(value), False))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], True))
    return tuple(pieces)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def literal(pieces: Pieces) -> str:
    return "".join(text for text, _ in pieces)


def like(pieces: Pieces, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pieces, segmented=False, ignore_case=ignore_case).fullmatch(value) is not None


def arn_like(pieces: Pieces, value: str) -> bool:
    """ArnLike: both sides must be ARNs (six parts); each part is matched on its own."""
    if value.count(":") < 5 or not value.startswith("arn:"):
        return False
    if literal(pieces).count(":") < 5:
        return False
    return _glob(pieces, segmented=True, ignore_case=False).fullmatch(value) is not None


def resource_like(pieces: Pieces, value: str) -> bool:
    """The Resource element: ``*`` is every resource; anything else matches as ArnLike."""
    if pieces == (("*", True),):
        return True
    return arn_like(pieces, value)


@lru_cache(maxsize=4096)
def _glob(pieces: Pieces, *, segmented: bool, ignore_case: bool) -> re.Pattern:
    out: list[str] = []
    colons = 0
    for text, wild in pieces:
        for char in text:
            in_head = segmented and colons < 5
            if char == ":":
                colons += 1
                out.append(":")
            elif wild and char == "*":
                out.append("[^:]*" if in_head else ".*")
            elif wild and char == "?":
                out.append("[^:]" if in_head else ".")
            else:
                out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))
