"""AWS Fault Injection Service: experiment templates and the experiments run from them.

A template keeps its targets, actions and stop conditions as FIS takes them (its own keys,
``resourceType``, ``selectionMode``...), since FIS gives them back as it was given them.
An experiment copies its template at its start, with each target's resolved resources and
each action's state; ``faults/experiments.py`` moves it on, and the faults it injects are
stored ``Fault``s that name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pocketlink.model.base import Resource

FINAL = ("completed", "stopped", "failed", "cancelled")  # an experiment's last states


@dataclass(kw_only=True)
class ExperimentTemplate(Resource):
    kind = "fis-experiment-template"

    description: str
    role_arn: str
    targets: dict[str, dict] = field(default_factory=dict)
    actions: dict[str, dict] = field(default_factory=dict)
    stop_conditions: list[dict] = field(default_factory=list)
    experiment_options: dict = field(default_factory=dict)
    client_token: str = ""
    last_update: datetime | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:fis:{self.region}:{self.account}:experiment-template/{self.id}"


@dataclass(kw_only=True)
class ExperimentAction:
    """An action of a running experiment: its template part, its state and its times."""

    action_id: str
    description: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    start_after: list[str] = field(default_factory=list)
    status: str = "pending"
    reason: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    ends_at: datetime | None = None  # when its duration runs out, while it runs
    faults: list[str] = field(default_factory=list)  # the faults it injected, while it runs


@dataclass(kw_only=True)
class Experiment(Resource):
    kind = "fis-experiment"

    template_id: str
    role_arn: str
    targets: dict[str, dict] = field(default_factory=dict)
    resolved: dict[str, list[str]] = field(default_factory=dict)  # target -> resource ids
    actions: dict[str, ExperimentAction] = field(default_factory=dict)
    stop_conditions: list[dict] = field(default_factory=list)
    experiment_options: dict = field(default_factory=dict)
    status: str = "initiating"
    reason: str = "Experiment is initiating."
    error_code: str | None = None
    error_location: str | None = None
    client_token: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:fis:{self.region}:{self.account}:experiment/{self.id}"
