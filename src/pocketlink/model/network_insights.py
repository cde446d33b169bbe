"""Reachability Analyzer's resources (EC2's API): a path to analyse and its analyses.

An analysis is computed once, by the ``diagnose`` walk, when it is started, and kept as
AWS describes it (its components and explanations already in AWS's shapes): a later
change to the network does not rewrite an old analysis, as at AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pocketlink.model.base import Resource


@dataclass(kw_only=True)
class NetworkInsightsPath(Resource):
    kind = "network-insights-path"

    arn: str
    source: str  # an instance or ENI id, as given (an ARN is kept as its id)
    destination: str | None = None  # an instance, ENI or VPC endpoint id
    source_ip: str | None = None
    destination_ip: str | None = None
    protocol: str = "tcp"
    destination_port: int | None = None
    filter_at_source: dict = field(default_factory=dict)  # PathFilter, as AWS describes it
    filter_at_destination: dict = field(default_factory=dict)


@dataclass(kw_only=True)
class NetworkInsightsAnalysis(Resource):
    kind = "network-insights-analysis"

    arn: str
    path_id: str
    status: str  # running | succeeded | failed
    status_message: str | None = None  # why it failed
    warning_message: str | None = None  # the walk's notes (pending, proxy protocol...)
    network_path_found: bool | None = None
    forward_path_components: list[dict] = field(default_factory=list)
    explanations: list[dict] = field(default_factory=list)
    filter_in_arns: list[str] = field(default_factory=list)
