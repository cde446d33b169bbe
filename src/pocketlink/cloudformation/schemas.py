"""What the CloudFormation registry says of each resource type: its primary identifier,
its read-only properties (the attributes ``Fn::GetAtt`` may ask for) and its create-only
properties (a change to one replaces the resource).

The table (schemas.json) is trimmed from the registry schemas cfn-lint ships
(``cfnlint/data/schemas``, us-east-1), for the types pocketlink has or will have providers
for; nested read-only paths are left out. Regenerate it the same way to add a type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Schema:
    primary_identifier: tuple[str, ...] = ()
    read_only: frozenset[str] = frozenset()
    create_only: tuple[str, ...] = ()  # paths, "DnsOptions/PrivateDnsPreference"


@cache
def _table() -> dict[str, dict]:
    text = resources.files("pocketlink.cloudformation").joinpath("schemas.json").read_text()
    return json.loads(text)


def schema(type_name: str) -> Schema:
    entry = _table().get(type_name)
    if entry is None:
        return Schema()
    return Schema(tuple(entry["primaryIdentifier"]), frozenset(entry["readOnlyProperties"]),
                  tuple(entry["createOnlyProperties"]))
