"""Tags: TagSpecifications at create time, and the ``tagSet`` every resource describes."""

from __future__ import annotations

import unicodedata

from pocketlink.api.errors import ec2

MAX_TAGS = 50


def printable(text: str) -> bool:
    """No control characters (NUL, tab, newline, DEL...): AWS's tag pattern allows letters,
    numbers, separators and ``_ . : / = + - @``; EC2 allows more, but no tool shows a tag
    with a control character in it. The message below is pocketlink's, in EC2's words."""
    return not any(unicodedata.category(c) == "Cc" for c in text)


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def validate(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise ec2.TagLimitExceeded(
            f"The maximum number of tags for a resource ({MAX_TAGS}) has been reached")
    for key, value in tags.items():
        if not key or len(key) > 128:
            raise ec2.InvalidParameterValue(
                f"Tag key exceeds the maximum length of 128 characters or is empty: {key!r}")
        if key.lower().startswith("aws:"):
            raise ec2.InvalidParameterValue(
                "Tag keys starting with 'aws:' are reserved for internal use")
        if len(value) > 256:
            raise ec2.InvalidParameterValue(
                "Tag value exceeds the maximum length of 256 characters")
        if not printable(key) or not printable(value):
            raise ec2.InvalidParameterValue(
                f"Tag {'key' if not printable(key) else 'value'} contains invalid "
                "characters")


def from_specifications(params: dict, resource_type: str) -> dict[str, str]:
    """The tags a create call's TagSpecifications give a resource of ``resource_type``."""
    tags: dict[str, str] = {}
    for spec in params.get("TagSpecifications") or []:
        kind = spec.get("ResourceType")
        if kind is None:
            raise ec2.InvalidParameterValue(
                "Value for parameter resourceType is missing in TagSpecification")
        if kind != resource_type:
            raise ec2.InvalidParameterValue(
                f"'{kind}' is not a valid taggable resource type for this operation.")
        for tag in spec.get("Tags") or []:
            tags[tag.get("Key", "")] = tag.get("Value", "")
    validate(tags)
    return tags
