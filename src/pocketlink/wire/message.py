"""The HTTP request and response as the wire layer sees them: plain data, no sockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qsl


@dataclass
class HttpRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    # (operation, params) or the error, when the gateway parsed the request ahead, off the
    # daemon's loop (gateway/dispatch.py ``parse_ahead``); taken by the handling.
    parsed: tuple | BaseException | None = field(default=None, repr=False, compare=False)

    @cached_property
    def form(self) -> dict[str, str]:
        """Query-string and url-encoded body parameters, as the query protocols send them."""
        pairs = parse_qsl(self.query, keep_blank_values=True)
        content_type = self.headers.get("content-type", "")
        if self.body and (
            content_type.startswith("application/x-www-form-urlencoded") or not content_type
        ):
            pairs += parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return dict(pairs)


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds the connection is not read after this answer (a client throttled for its rate).
    hold_off: float = 0.0
