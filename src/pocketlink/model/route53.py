"""Route 53 hosted zones and their record sets: what pocketlink's public DNS serves."""

from __future__ import annotations

from dataclasses import dataclass, field

from pocketlink.model.base import Resource


@dataclass(kw_only=True)
class RecordSet:
    name: str  # absolute, lower-case, with the trailing dot
    type: str
    ttl: int | None = None
    values: list[str] = field(default_factory=list)
    alias_target: dict | None = None  # {HostedZoneId, DNSName, EvaluateTargetHealth}
    # A routing policy other than simple: the set's identifier among the sets of its name
    # and type, and its policy's members as the API gave them ({"Weight": 50} ...).
    set_identifier: str | None = None
    routing: dict = field(default_factory=dict)


@dataclass(kw_only=True)
class HostedZone(Resource):
    kind = "hosted-zone"

    name: str  # absolute, lower-case, with the trailing dot
    caller_reference: str
    comment: str | None = None
    private: bool = False
    vpcs: list[dict] = field(default_factory=list)  # [{VPCRegion, VPCId}]
    # VPCs of other accounts whose owners may associate them (CreateVPCAssociationAuthorization)
    authorized_vpcs: list[dict] = field(default_factory=list)  # [{VPCRegion, VPCId}]
    name_servers: list[str] = field(default_factory=list)
    record_sets: list[RecordSet] = field(default_factory=list)


@dataclass(kw_only=True)
class Change(Resource):
    """A submitted change batch, answered by GetChange."""

    kind = "route53-change"

    comment: str | None = None


@dataclass(kw_only=True)
class HealthCheck(Resource):
    """A Route 53 health check. ``config`` is its HealthCheckConfig as the API gives it back
    (defaults filled in); ``healthy`` and ``observation`` are what pocketlink's checker saw
    last (network/route53_checker.py), and ``healthy`` is what the DNS answers by."""

    kind = "route53-health-check"

    caller_reference: str
    config: dict
    version: int = 1
    healthy: bool = True  # as at AWS, a new check counts as healthy until checkers say not
    # {"IPAddress", "StatusReport": {"Status", "CheckedTime"}}: the last probe's outcome
    observation: dict | None = None
    # consecutive probes that disagreed with ``healthy`` (FailureThreshold of them flip it)
    streak: int = 0
