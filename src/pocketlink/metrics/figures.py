"""What the data plane's counters mean in CloudWatch's words: for one second, every
metric's value, by AWS's namespaces, names and dimensions, in the account that owns it.

A listener's flows (dataplane.hyperplane.Counters) count for the interface endpoint it
listens for (AWS/PrivateLinkEndpoints, the consumer's account, per endpoint and per
subnet), the endpoint service behind it (AWS/PrivateLinkServices, the provider's), and
the NLB whose node carries them (AWS/NetworkELB, per load balancer and per zone), as at
AWS, where a flow through an endpoint is a flow of the NLB too. Target health gives the
NLB's HealthyHostCount and UnHealthyHostCount; NAT gateways' counts come from a reader
(nat.py). No I/O here: the store and the counters in, ``Figure``s out.

Bytes are the TCP payload each way (the proxy sees no packets): AWS's ProcessedBytes also
counts TCP/IP headers, a few percent more on a bulk flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pocketlink.dataplane.plan import ListenerSpec
from pocketlink.metrics.store import Metric
from pocketlink.model.ec2 import NetworkInterface
from pocketlink.model.elbv2 import Listener, LoadBalancer, TargetGroup
from pocketlink.model.internet import NatGateway
from pocketlink.model.privatelink import EndpointService, VpcEndpoint
from pocketlink.model.states import ENDPOINT_LISTENING, NatGatewayState, VpcEndpointState
from pocketlink.store import Store

NLB = "AWS/NetworkELB"
ENDPOINTS = "AWS/PrivateLinkEndpoints"
SERVICES = "AWS/PrivateLinkServices"
NAT = "AWS/NATGateway"

# Counted per second (Sum is what they mean); the rest are levels (gauges).
COUNT, BYTES = "Count", "Bytes"


@dataclass(frozen=True)
class Delta:
    """What one listener carried in one second, and its open flows now."""

    new: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    elb_resets: int = 0
    target_resets: int = 0
    client_resets: int = 0
    active: int = 0

    @property
    def carried(self) -> bool:
        return any((self.new, self.bytes_in, self.bytes_out, self.elb_resets,
                    self.target_resets, self.client_resets))


@dataclass(frozen=True)
class Figure:
    """One metric's value for the second: a count (``counter``: added over a period) or
    a level. ``finest``: its most detailed dimensions (the Prometheus page shows those)."""

    metric: Metric
    value: float
    unit: str
    counter: bool
    finest: bool


@dataclass(frozen=True)
class Route:
    """Whom a listener's flows count for."""

    endpoint: VpcEndpoint | None
    subnet_id: str | None
    service: EndpointService | None
    balancer: LoadBalancer | None
    zone: str | None  # the zone of the NLB node that carries them, by its owner's name


def balancer_dimension(balancer: LoadBalancer) -> str:
    """``net/NAME/ID``: the ARN's tail after ``loadbalancer/``, as CloudWatch names it."""
    return balancer.id.split(":loadbalancer/", 1)[-1]


def target_group_dimension(arn: str) -> str:
    """``targetgroup/NAME/ID``."""
    return arn.rsplit(":", 1)[-1]


def route(store: Store, spec: ListenerSpec) -> Route:
    endpoint = store.get(VpcEndpoint, spec.owner) if spec.owner.startswith("vpce-") else None
    subnet_id = service = None
    balancers: list[LoadBalancer] = []
    if endpoint is not None:
        for eni_id in endpoint.network_interface_ids:
            eni = store.get(NetworkInterface, eni_id)
            if eni is not None and spec.address in (eni.private_ip_address,
                                                    *eni.ipv6_addresses):
                subnet_id = eni.subnet_id
        service = store.get(EndpointService, endpoint.service_id or "")
        if service is not None:
            balancers = [b for arn in service.network_load_balancer_arns
                         if (b := store.get(LoadBalancer, arn)) is not None]
    elif (own := store.get(LoadBalancer, spec.owner)) is not None:
        balancers = [own]
    source = spec.backend.source
    for balancer in balancers:
        for node in balancer.nodes:
            if source in (node.private_ipv4_address, node.ipv6_address):
                return Route(endpoint, subnet_id, service, balancer, node.availability_zone)
    return Route(endpoint, subnet_id, service, None, None)


class Figures:
    """Adds up one second's figures; a resource's counts are all put down (zeros too)
    for a second it carried anything, its levels every second it exists."""

    def __init__(self, levels: dict[Metric, list] | None = None) -> None:
        """``levels``: another's ``levels`` to start from (the resources' own, which change
        only when the store does)."""
        self._counts: dict[Metric, list] = {}  # metric -> [value, unit, finest, carried]
        self.levels: dict[Metric, list] = {m: list(e) for m, e in (levels or {}).items()}

    def count(self, metric: Metric, value: float, unit: str, carried: bool,
              finest: bool = False) -> None:
        entry = self._counts.setdefault(metric, [0.0, unit, finest, False])
        entry[0] += value
        entry[3] = entry[3] or carried

    def level(self, metric: Metric, value: float, unit: str = COUNT,
              finest: bool = False) -> None:
        entry = self.levels.setdefault(metric, [0.0, unit, finest])
        entry[0] += value

    def result(self) -> list[Figure]:
        carried = {_family(m) for m, entry in self._counts.items() if entry[3]}
        return [Figure(m, value, unit, True, finest) for m, (value, unit, finest, _)
                in self._counts.items() if _family(m) in carried] + \
            [Figure(m, value, unit, False, finest) for m, (value, unit, finest)
             in self.levels.items()]


def _family(metric: Metric) -> tuple:
    return (metric.account, metric.region, metric.namespace, tuple(sorted(metric.dimensions)),
            tuple(sorted(metric.dimensions.values())))


def endpoint_dimensions(endpoint: VpcEndpoint) -> dict[str, str]:
    return {"Endpoint Type": endpoint.endpoint_type, "Service Name": endpoint.service_name,
            "VPC Endpoint Id": endpoint.id, "VPC Id": endpoint.vpc_id}


def listener_figures(figures: Figures, where: Route, delta: Delta) -> None:
    carried = delta.carried
    processed = delta.bytes_in + delta.bytes_out
    if where.endpoint is not None and where.endpoint.endpoint_type == "Interface":
        endpoint = where.endpoint  # (a gateway endpoint has no metrics at AWS)
        base = endpoint_dimensions(endpoint)
        views = [base] + ([{**base, "Subnet Id": where.subnet_id}] if where.subnet_id else [])
        for index, dims in enumerate(views):
            finest = index == len(views) - 1
            metric = _metrics(endpoint.account, endpoint.region, ENDPOINTS, dims)
            figures.count(metric("NewConnections"), delta.new, COUNT, carried, finest)
            figures.count(metric("BytesProcessed"), processed, BYTES, carried, finest)
            figures.count(metric("PacketsDropped"), 0, COUNT, carried, finest)
            figures.count(metric("RstPacketsReceived"), delta.elb_resets + delta.target_resets,
                          COUNT, carried, finest)
            figures.level(metric("ActiveConnections"), delta.active, COUNT, finest)
    if where.service is not None and where.endpoint is not None:
        service = where.service
        views = [{"Service Id": service.id}, {"Service Id": service.id,
                                              "VPC Endpoint Id": where.endpoint.id}]
        if where.balancer is not None:
            views.append({"Service Id": service.id, "Load Balancer Arn": where.balancer.id})
        for index, dims in enumerate(views):
            finest = index == 1
            metric = _metrics(service.account, service.region, SERVICES, dims)
            figures.count(metric("NewConnections"), delta.new, COUNT, carried, finest)
            figures.count(metric("BytesProcessed"), processed, BYTES, carried, finest)
            figures.count(metric("RstPacketsSent"), delta.elb_resets + delta.target_resets,
                          COUNT, carried, finest)
            figures.level(metric("ActiveConnections"), delta.active, COUNT, finest)
    if where.balancer is not None:
        balancer = where.balancer
        base = {"LoadBalancer": balancer_dimension(balancer)}
        views = [base] + ([{**base, "AvailabilityZone": where.zone}] if where.zone else [])
        for index, dims in enumerate(views):
            finest = index == len(views) - 1
            metric = _metrics(balancer.account, balancer.region, NLB, dims)
            for suffix in ("", "_TCP"):
                figures.count(metric(f"NewFlowCount{suffix}"), delta.new, COUNT, carried,
                              finest)
                figures.count(metric(f"ProcessedBytes{suffix}"), processed, BYTES, carried,
                              finest)
                figures.level(metric(f"ActiveFlowCount{suffix}"), delta.active, COUNT, finest)
            figures.count(metric("TCP_ELB_Reset_Count"), delta.elb_resets, COUNT, carried,
                          finest)
            figures.count(metric("TCP_Target_Reset_Count"), delta.target_resets, COUNT,
                          carried, finest)
            figures.count(metric("TCP_Client_Reset_Count"), delta.client_resets, COUNT,
                          carried, finest)


def resource_figures(figures: Figures, store: Store) -> None:
    """The levels of what exists, flows or not: endpoints' and NLBs' open flows start at
    zero, target health, services' endpoint counts."""
    for endpoint in store.all(VpcEndpoint):
        if endpoint.endpoint_type != "Interface" or endpoint.state not in ENDPOINT_LISTENING:
            continue
        base = endpoint_dimensions(endpoint)
        figures.level(_metrics(endpoint.account, endpoint.region, ENDPOINTS, base)(
            "ActiveConnections"), 0)
        for eni_id in endpoint.network_interface_ids:
            eni = store.get(NetworkInterface, eni_id)
            if eni is not None:
                figures.level(_metrics(endpoint.account, endpoint.region, ENDPOINTS,
                                       {**base, "Subnet Id": eni.subnet_id})(
                    "ActiveConnections"), 0, finest=True)
    for service in store.all(EndpointService):
        connected = sum(1 for e in store.all(VpcEndpoint) if e.service_id == service.id
                        and e.state in ENDPOINT_LISTENING)
        figures.level(_metrics(service.account, service.region, SERVICES,
                               {"Service Id": service.id})("EndpointsCount"), connected,
                      finest=True)
    groups_of: dict[str, set[str]] = {}
    for listener in store.all(Listener):
        groups_of.setdefault(listener.load_balancer_arn, set()).add(listener.target_group_arn)
    for balancer in store.all(LoadBalancer):
        base = {"LoadBalancer": balancer_dimension(balancer)}
        metric = _metrics(balancer.account, balancer.region, NLB, base)
        for suffix in ("", "_TCP"):
            figures.level(metric(f"ActiveFlowCount{suffix}"), 0)
        for node in balancer.nodes:
            zoned = _metrics(balancer.account, balancer.region, NLB,
                             {**base, "AvailabilityZone": node.availability_zone})
            for suffix in ("", "_TCP"):
                figures.level(zoned(f"ActiveFlowCount{suffix}"), 0, finest=True)
        for arn in sorted(groups_of.get(balancer.id, ())):
            group = store.get(TargetGroup, arn)
            if group is not None:
                _health(figures, balancer, group)


def _health(figures: Figures, balancer: LoadBalancer, group: TargetGroup) -> None:
    dims = {"LoadBalancer": balancer_dimension(balancer),
            "TargetGroup": target_group_dimension(group.id)}
    zones = sorted({node.availability_zone for node in balancer.nodes})
    views: list[tuple[dict[str, str], str | None]] = [(dims, None)] + [
        ({**dims, "AvailabilityZone": zone}, zone) for zone in zones]
    for view, zone in views:
        targets = [t for t in group.targets if t.deregistered is None
                   and (zone is None or t.availability_zone in (zone, "all"))]
        metric = _metrics(balancer.account, balancer.region, NLB, view)
        figures.level(metric("HealthyHostCount"),
                      sum(1 for t in targets if t.health == "healthy"), finest=zone is not None)
        figures.level(metric("UnHealthyHostCount"),
                      sum(1 for t in targets if t.health == "unhealthy"),
                      finest=zone is not None)


def _metrics(account: str, region: str, namespace: str, dimensions: dict[str, str]):
    def make(name: str) -> Metric:
        return Metric(account, region, namespace, name, dict(dimensions))
    return make


def nat_figures(figures: Figures, counts: Iterable[tuple[str, str, str, dict[str, int], int]]
                ) -> None:
    """(account, region, NAT gateway id, its counts this second by metric name, its active
    connections) -> AWS/NATGateway's figures, per NatGatewayId."""
    for account, region, nat_id, deltas, active in counts:
        metric = _metrics(account, region, NAT, {"NatGatewayId": nat_id})
        carried = any(deltas.values())
        for name, value in deltas.items():
            figures.count(metric(name), value, BYTES if name.startswith("Bytes") else COUNT,
                          carried, True)
        figures.level(metric("ActiveConnectionCount"), active, COUNT, True)


# The dimensions that name a resource; the others (a zone, a subnet, a VPC) narrow a view.
NAMING = frozenset({"VPC Endpoint Id", "Service Id", "Load Balancer Arn", "LoadBalancer",
                    "TargetGroup", "NatGatewayId"})


def live_names(store: Store) -> set[tuple[str, str]]:
    """(dimension, value) of each resource that still has figures: in the store and not
    ``deleted`` (a deleted endpoint or NAT gateway is shown for a while, and carries
    nothing)."""
    live = {("VPC Endpoint Id", e.id) for e in store.all(VpcEndpoint)
            if e.state != VpcEndpointState.DELETED}
    live |= {("Service Id", s.id) for s in store.all(EndpointService)}
    for balancer in store.all(LoadBalancer):
        live |= {("Load Balancer Arn", balancer.id),
                 ("LoadBalancer", balancer_dimension(balancer))}
    live |= {("TargetGroup", target_group_dimension(g.id)) for g in store.all(TargetGroup)}
    live |= {("NatGatewayId", n.id) for n in store.all(NatGateway)
             if n.state != NatGatewayState.DELETED}
    return live


def alive(metric: Metric, live: set[tuple[str, str]]) -> bool:
    """Whether every resource a metric is about is in ``live`` (``live_names``)."""
    return all(item in live for item in metric.dimensions.items() if item[0] in NAMING)
