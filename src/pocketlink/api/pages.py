"""MaxResults / NextToken pagination, as EC2's Describe calls do it."""

from __future__ import annotations

import base64
from typing import TypeVar

from pocketlink.api.errors import ec2

T = TypeVar("T")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"pl:{offset}".encode()).decode()


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "pl" or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise ec2.InvalidPaginationToken(token) from None


def page(items: list[T], params: dict, *, low: int = 5, high: int = 1000,
         ids_param: str | None = None) -> tuple[list[T], dict[str, str]]:
    """This page of ``items``, and the ``NextToken`` of the next one to add to the result
    (empty on the last page): ``chunk, more = page(...)``, ``{"Vpcs": ..., **more}``."""
    max_results = params.get("MaxResults")
    token = params.get("NextToken")
    if max_results is None and token is None:
        return items, {}
    if ids_param and params.get(ids_param) and max_results is not None:
        raise ec2.InvalidParameterCombination(
            f"The parameter {ids_param} cannot be used with the parameter maxResults")
    if max_results is not None and not low <= max_results <= high:
        raise ec2.InvalidParameterValue(
            f"Value ( {max_results} ) for parameter maxResults is invalid. "
            f"Parameter must be between {low} and {high}.")
    start = _offset(token) if token else 0
    size = max_results if max_results is not None else high
    chunk = items[start:start + size]
    more = start + size < len(items)
    return chunk, {"NextToken": _token(start + size)} if more else {}
