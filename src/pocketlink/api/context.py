"""Who is calling, in which region, and the state they act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pocketlink.store import Store

if TYPE_CHECKING:
    from pocketlink.imds.roles import InstanceProfiles
    from pocketlink.metrics.store import MetricStore
    from pocketlink.services.backend import Backend


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
    # IAM's instance profiles, as asked of the backend before the handler ran.
    instance_profiles: InstanceProfiles | None = None
    # GetCallerIdentity's UserId: the account, or ROLEID:SESSION for an assumed role.
    user_id: str = ""
    # CloudWatch's data points (pocketlink's own metrics and PutMetricData's).
    metrics: MetricStore | None = None
    # The backend's services (moto), for handlers that make resources there (CloudFormation).
    backend: Backend | None = None

    def __post_init__(self) -> None:
        if not self.principal:
            self.principal = f"arn:aws:iam::{self.account}:root"
        if not self.user_id:
            self.user_id = self.account
