"""What the data plane is told about one listener: where it listens, where its
connections go, and how it terminates TLS. Kept apart from the planning (plan.py, which
reads the store and its models) so that the processes that only carry flows (worker.py)
or speak the control channel (control.py, the DNS process) import these alone, not the
models, the network's topology or botocore's data: their start-up is part of how soon a
restarted daemon carries traffic again."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """Where one listener's connections go."""

    namespace: str  # the provider VPC's router, where outbound sockets are made
    source: str  # the NLB node's address the targets see
    targets: tuple[tuple[str, int], ...]  # candidates, health and zones applied
    proxy_protocol: bool
    endpoint_id: str | None
    idle_timeout: float
    # A gateway endpoint's listener: (subnet CIDR, endpoint id) for each subnet that routes
    # the service through an endpoint; the caller's address picks its endpoint.
    gateway_routes: tuple[tuple[str, str], ...] = ()
    # The target group ``targets`` are of (its ARN; "" for what no target group holds):
    # the daemon's alone, the worker is not told (hyperplane.py ``target_counts``).
    target_group: str = ""


@dataclass(frozen=True)
class TlsTermination:
    """What a TLS listener's worker needs to terminate TLS."""

    certificates: tuple[tuple[str, str], ...]  # (chain file, key file), the default first
    ssl_policy: str
    alpn: tuple[str, ...]
    reencrypt: bool  # a TLS target group: TLS again towards the targets


@dataclass(frozen=True)
class ListenerSpec:
    namespace: str
    address: str
    port: int
    owner: str  # the endpoint id or load balancer ARN it serves
    backend: Backend
    tls: TlsTermination | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.namespace, self.address, self.port)
