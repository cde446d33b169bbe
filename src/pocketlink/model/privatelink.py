"""PrivateLink: endpoint services (the provider's side), VPC endpoints (the consumer's), the
permissions between them and the notifications of their connections.

A connection is not stored apart: it *is* the endpoint, seen from the service's account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pocketlink.model.aws_services import aws_service
from pocketlink.model.base import Resource

if TYPE_CHECKING:
    from pocketlink.store import Store

DEFAULT_POLICY = ('{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
                  '"Action":"*","Resource":"*"}]}')


@dataclass(kw_only=True)
class AllowedPrincipal:
    principal: str  # arn:aws:iam::<acct>:root | ...:role/x | ...:user/x | *
    principal_type: str  # Account | Role | User | All
    permission_id: str  # vpce-svc-perm-...


@dataclass(kw_only=True)
class EndpointService(Resource):
    kind = "vpc-endpoint-service"

    service_name: str
    network_load_balancer_arns: list[str] = field(default_factory=list)
    acceptance_required: bool = True
    supported_ip_address_types: list[str] = field(default_factory=lambda: ["ipv4"])
    private_dns_name: str | None = None
    private_dns_state: str | None = None  # pendingVerification | verified | failed
    verification_name: str | None = None  # _ + 20 lowercase alphanumerics
    verification_value: str | None = None  # vpce:<token>
    verification_requested: bool = False  # StartVpcEndpointServicePrivateDnsVerification called
    allowed_principals: list[AllowedPrincipal] = field(default_factory=list)
    state: str = "Available"
    client_token: str | None = None


@dataclass(kw_only=True)
class LastError:
    """Why an endpoint is ``failed``, as DescribeVpcEndpoints shows it."""

    code: str
    message: str


@dataclass(kw_only=True)
class VpcEndpoint(Resource):
    kind = "vpc-endpoint"

    vpc_id: str
    service_name: str
    service_id: str | None  # vpce-svc-... for a custom service, None for AWS's
    service_owner: str  # the provider's account, or "amazon"
    endpoint_type: str  # Interface | Gateway
    state: str
    dns_label: str = ""  # the 8 random characters of every DNS name
    subnet_ids: list[str] = field(default_factory=list)
    network_interface_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    route_table_ids: list[str] = field(default_factory=list)
    policy_document: str | None = None
    private_dns_enabled: bool = False
    ip_address_type: str = "ipv4"
    dns_record_ip_type: str = "ipv4"
    private_dns_only_for_inbound_resolver_endpoint: bool = False
    last_error: LastError | None = None
    deleted_at: str | None = None  # ISO time it reached ``deleted``
    client_token: str | None = None


@dataclass(kw_only=True)
class ConnectionEvent:
    event: str  # Connect | Accept | Reject | Delete
    vpc_endpoint_id: str
    time: str


@dataclass(kw_only=True)
class ConnectionNotification(Resource):
    kind = "vpc-endpoint-connection-notification"

    arn: str  # the SNS topic
    events: list[str]
    service_id: str | None = None
    vpc_endpoint_id: str | None = None
    state: str = "Enabled"
    recorded: list[ConnectionEvent] = field(default_factory=list)


def dns_part(endpoint: VpcEndpoint) -> str:
    """The part of an endpoint's DNS names that names its service: ``vpce-svc-...`` for a
    custom service, the service's DNS form (``api.ecr``) for AWS's."""
    if endpoint.service_id:
        return endpoint.service_id
    service = aws_service(endpoint.service_name, endpoint.region)
    return service.dns_form() if service else endpoint.service_name


def vpce_names(endpoint: VpcEndpoint, zones: list[str]) -> list[str]:
    """The endpoint's own DNS names: the regional one, then one per zone (by zone name),
    as DnsEntries lists them. S3's are wildcards, as AWS publishes them: a client names
    ``bucket.vpce-...``, ``accesspoint.vpce-...`` or ``control.vpce-...``."""
    service = None if endpoint.service_id else aws_service(endpoint.service_name,
                                                           endpoint.region)
    star = "*." if service is not None and service.vpce_wildcard else ""
    tail = f"{dns_part(endpoint)}.{endpoint.region}.vpce.amazonaws.com"
    return [f"{star}{endpoint.id}-{endpoint.dns_label}.{tail}"] + [
        f"{star}{endpoint.id}-{endpoint.dns_label}-{zone}.{tail}" for zone in zones]


def endpoint_private_names(store: Store, endpoint: VpcEndpoint) -> list[str]:
    """The private DNS names an endpoint brings into its VPC while private DNS is on: its
    service's one name, or an AWS service's (``*.dkr.ecr...`` among them)."""
    if not endpoint.private_dns_enabled:
        return []
    if endpoint.service_id:
        service = store.get(EndpointService, endpoint.service_id)
        return [service.private_dns_name] if service and service.private_dns_name else []
    service_info = aws_service(endpoint.service_name, endpoint.region)
    return service_info.private_names(endpoint.region) if service_info else []
