"""Who is calling, in which region, and the state they act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pocketlink.store import Store


@dataclass
class RequestContext:
    account: str
    region: str
    request_id: str
    store: Store
    # The caller's principal ARN (STS GetCallerIdentity, endpoint service permissions).
    principal: str = ""
    # Where an instance's console output is kept (GetConsoleOutput), when there is one.
    consoles: Callable[[str], Path] | None = None

    def __post_init__(self) -> None:
        if not self.principal:
            self.principal = f"arn:aws:iam::{self.account}:root"
