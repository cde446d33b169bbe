"""How handlers are found: by (service, operation name), from marks on plain functions."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

Handler = Callable[..., dict[str, Any] | None]

_MARK = "__aws_operation__"


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    """Marks ``fn`` as the handler of ``service``'s operation ``name`` (the model's name)."""

    def mark(fn: Handler) -> Handler:
        setattr(fn, _MARK, (service, name))
        return fn

    return mark


def collect() -> dict[tuple[str, str], Handler]:
    """Every marked function in the modules of ``pocketlink.api``."""
    import pocketlink.api as package

    table: dict[tuple[str, str], Handler] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            key = getattr(value, _MARK, None)
            if key is not None:
                if key in table and table[key] is not value:
                    raise RuntimeError(f"two handlers for {key}")
                table[key] = value
    return table
