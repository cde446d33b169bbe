"""What every resource shares, and how a resource becomes JSON for the store and back."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, TypeVar


def now() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(kw_only=True)
class Resource:
    """A stored thing: ``kind`` names its table of the store, ``id`` is its AWS id."""

    kind: ClassVar[str]

    id: str
    account: str
    region: str
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    created: datetime = dataclasses.field(default_factory=now)


R = TypeVar("R")


def encode(value: Any) -> Any:
    """A resource (or anything inside it) as JSON-ready data."""
    if dataclasses.is_dataclass(value):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[R], data: Any) -> R:
    """The inverse of ``encode``, guided by the dataclass's type hints."""
    return _decode(cls, data)


def _decode(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_decode(item, v) for v in data]
    if origin is dict:
        _, item = typing.get_args(hint)
        return {k: _decode(item, v) for k, v in data.items()}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(options[0], data) if len(options) == 1 else data
    if hint is datetime:
        return datetime.fromisoformat(data)
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        return hint(**{k: _decode(hints[k], v) for k, v in data.items() if k in hints})
    return data
