"""URL patterns of the console: ``vpc/endpoints/{id}`` matches one path segment per
``{name}``; a page's handler is marked with ``@get``/``@post`` and its pattern."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

Handler = Callable[[Any], Any]  # View -> Reply (app.py)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler

    @property
    def regex(self) -> re.Pattern[str]:
        return _compile(self.pattern)


_compiled: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    if pattern not in _compiled:
        parts = re.split(r"\{(\w+)\}", pattern)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                        for i, part in enumerate(parts))
        _compiled[pattern] = re.compile(regex)
    return _compiled[pattern]


def get(pattern: str) -> Callable[[Handler], Handler]:
    return _mark("GET", pattern)


def post(pattern: str) -> Callable[[Handler], Handler]:
    return _mark("POST", pattern)


def _mark(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        handler.__dict__.setdefault("routes", []).append(Route(method, pattern, handler))
        return handler
    return mark


def collect(*modules: Any) -> list[Route]:
    """The routes the modules' handlers are marked with; a fixed path (``vpc/endpoints/create``)
    before the patterns it would also match (``vpc/endpoints/{id}``)."""
    found: list[Route] = []
    for module in modules:
        for value in vars(module).values():
            if callable(value) and getattr(value, "__module__", None) == module.__name__:
                found.extend(getattr(value, "routes", []))
    return sorted(found, key=lambda route: route.pattern.count("{"))


def match(routes: list[Route], method: str, path: str
          ) -> tuple[Route, dict[str, str]] | bool | None:
    """The route and its captured segments; False when only another method matches the
    path; None when nothing does."""
    other = False
    for route in routes:
        found = route.regex.fullmatch(path)
        if found is None:
            continue
        if route.method != method:
            other = True
            continue
        return route, {k: unquote(v) for k, v in found.groupdict().items()}
    return False if other else None
