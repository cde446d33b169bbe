"""Pages of a listing, behind opaque tokens: ``window`` for every service whose token is
ours to make (EC2's NextToken, ACM's, Auto Scaling's, ELBv2's Marker, CloudWatch's), and
``page``, EC2's MaxResults / NextToken rules on top of it. (Route 53's markers are the next
item's id, as AWS's: route53.py.)"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TypeVar

from pocketlink.api.errors import ec2

T = TypeVar("T")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"pl:{offset}".encode()).decode()


def _offset(token: str) -> int:
    """The offset a token of ``_token`` names; ValueError for any other text."""
    text = base64.urlsafe_b64decode(token.encode()).decode()  # UnicodeDecodeError: a ValueError
    prefix, _, number = text.partition(":")
    if prefix != "pl" or not (number.isascii() and number.isdigit()):
        raise ValueError(token)
    return int(number)


def window(items: list[T], token: str | None, size: int,
           invalid: Callable[[], Exception]) -> tuple[list[T], str | None]:
    """``size`` of ``items`` from where ``token`` (None: the first page) says, and the token
    of the next page (None on the last). A token this module did not make raises
    ``invalid()``, the service's own error."""
    try:
        start = _offset(token) if token else 0
    except ValueError:
        raise invalid() from None
    end = start + size
    return items[start:end], _token(end) if end < len(items) else None


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
    size = max_results if max_results is not None else high
    chunk, following = window(items, token, size, lambda: ec2.InvalidPaginationToken(token))
    return chunk, {"NextToken": following} if following else {}
