"""EC2 launch templates: a name, numbered versions, and which version is the default.

A version's ``data`` is its LaunchTemplateData as the request gave it (AWS's own keys), so
that DescribeLaunchTemplateVersions answers with what was asked and RunInstances can take
it as its own parameters. Versions are immutable once made; only the default moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pocketlink.model.base import Resource, now


@dataclass(kw_only=True)
class LaunchTemplateVersion:
    number: int
    description: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    created: datetime = field(default_factory=now)


@dataclass(kw_only=True)
class LaunchTemplate(Resource):
    kind = "launch-template"

    name: str
    created_by: str
    default_version: int = 1
    latest_version: int = 1
    versions: list[LaunchTemplateVersion] = field(default_factory=list)
    client_token: str | None = None  # CreateLaunchTemplate's: a retry gets this template

    def version(self, number: int) -> LaunchTemplateVersion | None:
        return next((v for v in self.versions if v.number == number), None)
