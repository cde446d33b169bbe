"""The resources a request acts on, as ARNs, for the ``Resource`` element of an endpoint policy.

The ARN formats are AWS's Service Authorization Reference, word for word, and which request
member fills which part is data (resources.json), checked against the Reference by
tests/policy/test_resources.py. An operation the table does not list acts on ``*``, as the
Reference's actions without a resource type do. Three members need reading, not copying:
SQS's ``QueueUrl`` (``https://sqs.../ACCOUNT/NAME``: the queue's account and name), S3's
``CopySource`` (``/bucket/key?versionId=...``, URL-encoded) and a KMS ``KeyId`` that names an
alias (``alias/name``: the alias's ARN, where AWS would authorize the key behind it).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources as files
from urllib.parse import unquote, urlsplit

_VARIABLE = re.compile(r"\$\{(\w+)\}")
_CONTEXT = ("Partition", "Region", "Account")


@cache
def _table() -> dict:
    return json.loads(files.files("pocketlink.policy").joinpath("resources.json").read_text())


def resource_arns(service: str, operation: str, params: dict, account: str, region: str,
                  partition: str = "aws") -> tuple[tuple[str, ...], ...]:
    """Per IAM action of the operation (``iam_actions``' order), the ARNs it acts on; an
    action the table names no resource for gets ``("*",)``."""
    entry = _table().get(service, {}).get("operations", {}).get(operation)
    specs = [entry] if isinstance(entry, str) else entry or []
    return tuple(_arns(service, spec, params, account, region, partition) for spec in specs) or (("*",),)


def _arns(service: str, spec: str, params: dict, account: str, region: str,
          partition: str) -> tuple[str, ...]:
    kind, *members = spec.split()
    owner = next((params.get(m[1:]) for m in members if m.startswith("@")), None)
    members = [m for m in members if not m.startswith("@")]
    first = params.get(members[0])
    if not first:
        return ("*",)
    values = list(first) if isinstance(first, (list, dict)) else [first]
    rest = [str(params.get(m, "")) for m in members[1:]]
    found = []
    for value in values:
        arn = _arn(service, kind, members[0], str(value), rest,
                   {"Partition": partition, "Region": region, "Account": str(owner or account)})
        if arn is not None:
            found.append(arn)
    return tuple(found) or ("*",)


def _arn(service: str, kind: str, member: str, value: str, rest: list[str],
         context: dict[str, str]) -> str | None:
    if value.startswith("arn:") and not rest:
        return value  # named by its ARN already (SSM's Name, a SecretId, a TableName, a KeyId)
    table = _table()[service]["resources"]
    parts = [value, *rest]
    if member == "QueueUrl":
        path = urlsplit(value).path.strip("/").split("/")
        if len(path) != 2:
            return None
        context["Account"], parts = path[0], [path[1]]
    elif member == "CopySource":
        source = unquote(value.split("?", 1)[0]).lstrip("/")
        bucket, _, key = source.partition("/")
        parts = [bucket, key]
    elif kind == "key" and value.startswith("alias/"):
        kind, parts = "alias", [value.removeprefix("alias/")]
    template = table[kind]
    names = [n for n in _VARIABLE.findall(template) if n not in _CONTEXT]
    if len(parts) != len(names) or not all(parts):
        return None
    values = dict(context)
    for name, part in zip(names, parts, strict=True):
        values[name] = part.lstrip("/") if name.endswith("WithoutLeadingSlash") else part
    return _VARIABLE.sub(lambda m: values[m[1]], template)
