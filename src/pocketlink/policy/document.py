"""A policy document, parsed and validated into plain frozen data.

IAM's grammar, as the IAM User Guide's "IAM JSON policy elements" pages define it: a
``Version`` (2012-10-17 or 2008-10-17; policy variables only in the first), a ``Statement``
that is one object or a list, and in each statement ``Effect``, one of ``Principal`` /
``NotPrincipal`` (required in resource-based policies such as endpoint policies), one of
``Action`` / ``NotAction``, one of ``Resource`` / ``NotResource``, an optional ``Sid`` and
``Condition``. A document that breaks the grammar raises ``MalformedPolicy`` with a reason,
which the API layer answers as ``MalformedPolicyDocument`` / ``InvalidPolicyDocument``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from pocketlink.policy.conditions import Condition, parse_condition_block

VERSIONS = ("2012-10-17", "2008-10-17")
# The version that applies when a document names none (the IAM User Guide, "Version").
DEFAULT_VERSION = "2008-10-17"

# "The size of an endpoint policy cannot exceed 20,480 characters, including white space."
ENDPOINT_POLICY_MAX_CHARS = 20480

_DOCUMENT_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
    "Condition",
}
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class MalformedPolicy(ValueError):
    """The document breaks IAM's policy grammar; ``str(error)`` is the reason."""


@dataclass(frozen=True)
class Principals:
    """A ``Principal`` or ``NotPrincipal`` element: ``"*"``, or identifiers by type.

    Account ids are kept in their ARN form (``arn:aws:iam::123456789012:root``): the IAM
    User Guide says the two forms "behave the same way".
    """

    everyone: bool
    identifiers: tuple[tuple[str, str], ...] = ()  # (type, identifier), e.g. ("AWS", "arn:...")


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str  # "Allow" | "Deny"
    principal: Principals | None
    not_principal: Principals | None
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditions: tuple[Condition, ...]

    @property
    def name(self) -> str:
        """How a decision names this statement: its Sid, else its position."""
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index}"


@dataclass(frozen=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]
    # A gateway endpoint's policy reads an account principal ("AWS": "ID" or its
    # ``:root`` ARN) as that account's root user alone, not every principal of it ("Control
    # access to VPC endpoints using endpoint policies", Principals for gateway endpoints).
    account_is_root: bool = False

    @property
    def variables(self) -> bool:
        """Whether ``${...}`` is a policy variable here, or literal text (2008-10-17)."""
        return self.version == "2012-10-17"


def parse_policy(document: str | Mapping, *, require_principal: bool = False) -> Policy:
    """Parse ``document`` (JSON text or an already decoded object) into a ``Policy``.

    ``require_principal``: resource-based policies (endpoint, bucket) must name a
    principal in every statement ("It must contain a Principal element").
    """
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise MalformedPolicy(f"Syntax errors in policy: {error.msg} at line {error.lineno}") from None
    if not isinstance(document, Mapping):
        raise MalformedPolicy("The policy must be a JSON object")
    unknown = set(document) - _DOCUMENT_KEYS
    if unknown:
        raise MalformedPolicy(f"Policy document has an unknown element: {sorted(unknown)[0]}")
    version = document.get("Version", DEFAULT_VERSION)
    if version not in VERSIONS:
        raise MalformedPolicy(f"The policy Version {version!r} is not valid: use 2012-10-17 or 2008-10-17")
    if "Statement" not in document:
        raise MalformedPolicy("Missing required field Statement")
    raw = document["Statement"]
    raws = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(raws, list) or not raws:
        raise MalformedPolicy("Statement must be an object or a non-empty list of objects")
    statements = tuple(_statement(index, item, require_principal) for index, item in enumerate(raws))
    return Policy(version=version, statements=statements)


def parse_endpoint_policy(document: str | Mapping) -> Policy:
    """A VPC endpoint's PolicyDocument: a resource-based policy, so every statement names a
    principal, and at most 20,480 characters ("Control access to VPC endpoints using endpoint
    policies", Considerations)."""
    text = document if isinstance(document, str) else json.dumps(document)
    if len(text) > ENDPOINT_POLICY_MAX_CHARS:
        raise MalformedPolicy(f"The policy is {len(text)} characters; an endpoint policy has at most "
                              f"{ENDPOINT_POLICY_MAX_CHARS}")
    return parse_policy(document, require_principal=True)


def _statement(index: int, raw: object, require_principal: bool) -> Statement:
    if not isinstance(raw, Mapping):
        raise MalformedPolicy(f"Statement #{index} must be an object")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise MalformedPolicy(f"Statement #{index} has an unknown element: {sorted(unknown)[0]}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        # Only "In IAM" must a Sid be unique and alphanumeric; other services set their own rules.
        raise MalformedPolicy(f"Statement #{index}: Sid must be a string")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Statement #{index}: Effect must be Allow or Deny, not {effect!r}")
    principal, not_principal = _pair(raw, index, "Principal", "NotPrincipal", required=require_principal)
    actions, not_actions = _pair(raw, index, "Action", "NotAction", required=True)
    resources, not_resources = _pair(raw, index, "Resource", "NotResource", required=True)
    for action in actions or not_actions:
        if action != "*" and (action.count(":") != 1 or not all(action.split(":"))):
            raise MalformedPolicy(f"Statement #{index}: action {action!r} must be 'service:Action' or '*'")
    for resource in resources or not_resources:
        if resource != "*" and (not resource.startswith("arn:") or resource.count(":") < 5):
            raise MalformedPolicy(f"Statement #{index}: resource {resource!r} must be an ARN or '*'")
    condition = raw.get("Condition", {})
    try:
        conditions = parse_condition_block(condition)
    except ValueError as error:
        raise MalformedPolicy(f"Statement #{index}: {error}") from None
    return Statement(
        index=index, sid=sid, effect=effect,
        principal=_principals(principal, index) if principal is not None else None,
        not_principal=_principals(not_principal, index) if not_principal is not None else None,
        actions=actions, not_actions=not_actions, resources=resources, not_resources=not_resources,
        conditions=conditions,
    )


def _pair(raw: Mapping, index: int, positive: str, negative: str, *, required: bool) -> tuple:
    if positive in raw and negative in raw:
        raise MalformedPolicy(f"Statement #{index} cannot have both {positive} and {negative}")
    if required and positive not in raw and negative not in raw:
        raise MalformedPolicy(f"Statement #{index} must have {positive} or {negative}")
    if positive in raw or negative in raw:
        name = positive if positive in raw else negative
        value = raw[name]
        if value is None:
            raise MalformedPolicy(f"Statement #{index}: {name} cannot be null")
        if name.endswith("Principal"):
            return (value, None) if name == positive else (None, value)
        values = _strings(value, index, name)
        return (values, None) if name == positive else (None, values)
    return None, None


def _strings(value: object, index: int, element: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise MalformedPolicy(f"Statement #{index}: {element} must be a string or a non-empty string list")
    return tuple(values)


def _principals(value: object, index: int) -> Principals:
    if value == "*":
        return Principals(everyone=True)
    if not isinstance(value, Mapping) or not value:
        raise MalformedPolicy(f"Statement #{index}: Principal must be '*' or an object like {{'AWS': ...}}")
    identifiers: list[tuple[str, str]] = []
    for kind, raw in value.items():
        if kind not in _PRINCIPAL_TYPES:
            raise MalformedPolicy(f"Statement #{index}: unknown principal type {kind!r}")
        for identifier in _strings(raw, index, f"Principal {kind}"):
            if kind == "AWS" and identifier == "*":
                return Principals(everyone=True)  # {"AWS": "*"} is "*" (IAM User Guide, "All principals")
            identifiers.append((kind, _aws_identifier(identifier, index) if kind == "AWS" else identifier))
    return Principals(everyone=False, identifiers=tuple(identifiers))


def _aws_identifier(identifier: str, index: int) -> str:
    if identifier.isdigit() and len(identifier) == 12:
        return f"arn:aws:iam::{identifier}:root"
    if not identifier.startswith("arn:") or identifier.count(":") < 5:
        raise MalformedPolicy(f"Statement #{index}: invalid principal {identifier!r}")
    if "*" in identifier or "?" in identifier:
        # "You cannot use a wildcard to match part of a principal name or ARN."
        raise MalformedPolicy(f"Statement #{index}: a principal cannot hold a wildcard: {identifier!r}")
    return identifier
