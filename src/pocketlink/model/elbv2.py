"""Network Load Balancers, their target groups and listeners.

ELBv2 names things by ARN, so a resource's ``id`` is its ARN. Attributes are kept as AWS's
own key/value strings (``proxy_protocol_v2.enabled`` = ``"false"``), with AWS's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pocketlink.model.base import Resource

LOAD_BALANCER_ATTRIBUTES = {
    "deletion_protection.enabled": "false",
    "load_balancing.cross_zone.enabled": "false",
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "ipv6.deny_all_igw_traffic": "true",
    "dns_record.client_routing_policy": "any_availability_zone",
    "zonal_shift.config.enabled": "false",
}

TARGET_GROUP_ATTRIBUTES = {
    "deregistration_delay.timeout_seconds": "300",
    "deregistration_delay.connection_termination.enabled": "false",
    "proxy_protocol_v2.enabled": "false",
    "preserve_client_ip.enabled": "false",
    "stickiness.enabled": "false",
    "stickiness.type": "source_ip",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_health_state.unhealthy.connection_termination.enabled": "true",
    "target_health_state.unhealthy.draining_interval_seconds": "0",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}

LISTENER_ATTRIBUTES = {"tcp.idle_timeout.seconds": "350"}


@dataclass(kw_only=True)
class LoadBalancerNode:
    """The load balancer's presence in one subnet: one ENI, one zone."""

    subnet_id: str
    availability_zone: str
    network_interface_id: str
    private_ipv4_address: str | None = None
    ipv6_address: str | None = None


@dataclass(kw_only=True)
class LoadBalancer(Resource):
    kind = "load-balancer"

    name: str
    load_balancer_id: str  # the hex tail of the ARN
    scheme: str
    vpc_id: str
    ip_address_type: str
    dns_name: str
    nodes: list[LoadBalancerNode] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    enforce_inbound_rules_on_privatelink: str = "on"
    attributes: dict[str, str] = field(default_factory=lambda: dict(LOAD_BALANCER_ATTRIBUTES))
    state: str = "provisioning"


@dataclass(kw_only=True)
class Target:
    id: str  # an instance id or an IP address
    port: int
    availability_zone: str | None = None
    registered: str = ""  # ISO time
    deregistered: str | None = None  # ISO time once draining began
    # What the health checks found; the data plane writes these.
    health: str = "initial"
    health_reason: str | None = "Elb.InitialHealthChecking"


@dataclass(kw_only=True)
class TargetGroup(Resource):
    kind = "target-group"

    name: str
    protocol: str
    port: int | None
    vpc_id: str | None
    target_type: str
    ip_address_type: str = "ipv4"
    health_check_protocol: str = "TCP"
    health_check_port: str = "traffic-port"
    health_check_enabled: bool = True
    health_check_path: str | None = None
    health_check_interval: int = 30
    health_check_timeout: int = 10
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str | None = None
    targets: list[Target] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=lambda: dict(TARGET_GROUP_ATTRIBUTES))


@dataclass(kw_only=True)
class Listener(Resource):
    kind = "listener"

    load_balancer_arn: str
    protocol: str
    port: int
    target_group_arn: str
    certificates: list[str] = field(default_factory=list)
    ssl_policy: str | None = None
    alpn_policy: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=lambda: dict(LISTENER_ATTRIBUTES))


def drained(group: TargetGroup, target: Target, moment: datetime) -> bool:
    """Whether a draining target's deregistration delay has run out at ``moment``."""
    if target.deregistered is None:
        return False
    delay = timedelta(seconds=int(group.attributes["deregistration_delay.timeout_seconds"]))
    return datetime.fromisoformat(target.deregistered) + delay <= moment
