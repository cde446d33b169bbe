"""Who is calling, in which region, and the state they act on."""

from __future__ import annotations

from dataclasses import dataclass

from pocketlink.store import Store


@dataclass
class RequestContext:
    account: str
    region: str
    request_id: str
    store: Store
    # The caller's principal ARN (STS GetCallerIdentity, endpoint service permissions).
    principal: str = ""

    def __post_init__(self) -> None:
        if not self.principal:
            self.principal = f"arn:aws:iam::{self.account}:root"
