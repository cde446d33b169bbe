"""What the provider's and the consumer's sides of PrivateLink share: which services a
caller may see, their zones, the endpoints' DNS names, and connection events."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.lookups import owned
from pocketlink.model import regions
from pocketlink.model.aws_services import (
    VPCE_HOSTED_ZONES,
    AwsService,
    aws_service,
    endpoint_services,
)
from pocketlink.model.base import now
from pocketlink.model.elbv2 import LoadBalancer
from pocketlink.model.privatelink import (
    ConnectionEvent,
    ConnectionNotification,
    EndpointService,
    VpcEndpoint,
    endpoint_private_names,
    vpce_names,
)
from pocketlink.store import Store, Transaction
from pocketlink.wire.errors import Ec2Error

R = TypeVar("R", VpcEndpoint, EndpointService)

MAX_RECORDED_EVENTS = 100


class Unsuccessful(list[dict]):
    """The ``Unsuccessful`` list of EC2's batch calls: one entry per id that failed, with its
    error; the other ids go ahead."""

    def add(self, resource_id: str, failure: Ec2Error) -> None:
        self.append({"ResourceId": resource_id,
                     "Error": {"Code": failure.code, "Message": failure.message}})

    @contextmanager
    def of(self, resource_id: str) -> Iterator[None]:
        """Records an EC2 error raised for ``resource_id`` and goes on with the next id."""
        try:
            yield
        except Ec2Error as failure:
            self.add(resource_id, failure)


@dataclass
class ServiceView:
    """One service as a caller sees it in DescribeVpcEndpointServices."""

    name: str
    owner: str  # an account id, or "amazon"
    service_type: str  # Interface | Gateway
    zone_ids: list[str]
    dns_part: str  # vpce-svc-0abc... or api.ecr
    private_dns_names: list[str] = field(default_factory=list)
    private_dns_state: str | None = None
    acceptance_required: bool = False
    supported_ip_address_types: list[str] = field(default_factory=lambda: ["ipv4"])
    policy_supported: bool = True
    service: EndpointService | None = None
    # Private DNS when the call does not say: on for AWS's services, but off for those that
    # have gateway endpoints too (S3, DynamoDB), whose private DNS needs more (see
    # ec2_vpc_endpoints._inbound_only). The "off" is a guess: AWS's docs show S3's private
    # DNS only as something to turn on.
    private_dns_default: bool = True
    gateway_too: bool = False  # an AWS service that also has a Gateway endpoint

    @property
    def service_id(self) -> str | None:
        return self.service.id if self.service else None


def vpce_hosted_zone(region: str) -> str:
    return VPCE_HOSTED_ZONES.get(region, "Z7HUB22UULQXV")


def service_zone_ids(store: Store, service: EndpointService) -> list[str]:
    """The physical zones an endpoint service is in: those of its load balancers' nodes."""
    found = []
    for balancer_arn in service.network_load_balancer_arns:
        balancer = store.get(LoadBalancer, balancer_arn)
        for node in balancer.nodes if balancer else []:
            zone = regions.zone_by_name_or_id(service.account, service.region,
                                              node.availability_zone)
            if zone and zone.zone_id not in found:
                found.append(zone.zone_id)
    return sorted(found)


def base_dns_name(view: ServiceView, region: str) -> str:
    return f"{view.dns_part}.{region}.vpce.amazonaws.com"


def allows(service: EndpointService, context: RequestContext) -> bool:
    """Whether the caller may see and connect to ``service``: its owner always may."""
    if service.account == context.account:
        return True
    return any(p.principal in ("*", f"arn:aws:iam::{context.account}:root", context.principal)
               for p in service.allowed_principals)


def custom_view(store: Store, service: EndpointService) -> ServiceView:
    return ServiceView(
        name=service.service_name, owner=service.account, service_type="Interface",
        zone_ids=service_zone_ids(store, service), dns_part=service.id,
        private_dns_names=[service.private_dns_name] if service.private_dns_name else [],
        private_dns_state=service.private_dns_state,
        acceptance_required=service.acceptance_required,
        supported_ip_address_types=list(service.supported_ip_address_types),
        policy_supported=False, service=service)


def aws_views(region: str, services: list[AwsService] | None = None) -> list[ServiceView]:
    """The views of AWS's ``services`` (all of the region's by default), one per type."""
    zone_ids = regions.zone_ids(region)
    chosen = list(endpoint_services(region).values()) if services is None else services
    return [ServiceView(name=s.name(region), owner="amazon", service_type=kind,
                        zone_ids=zone_ids, dns_part=s.dns_form(),
                        private_dns_names=s.private_names(region) if kind == "Interface" else [],
                        private_dns_state="verified" if kind == "Interface" else None,
                        supported_ip_address_types=["ipv4", "ipv6"],
                        private_dns_default="Gateway" not in s.types,
                        gateway_too="Gateway" in s.types)
            for s in chosen for kind in s.types]


def visible_services(context: RequestContext) -> list[ServiceView]:
    custom = [custom_view(context.store, s) for s in context.store.all(EndpointService)
              if s.region == context.region and s.state == "Available" and allows(s, context)]
    return aws_views(context.region) + custom


def find_service(context: RequestContext, name: str) -> list[ServiceView]:
    """The service ``name`` in each of its types, or InvalidServiceName as AWS answers both
    for a name that does not exist and for one the caller is not allowed to see."""
    service_info = aws_service(name, context.region)
    if service_info is not None:
        return aws_views(context.region, [service_info])
    for service in context.store.all(EndpointService):
        if service.service_name == name and service.region == context.region and \
                service.state == "Available" and allows(service, context):
            return [custom_view(context.store, service)]
    raise ec2.InvalidServiceName(name)


def consumer_zone_names(context: RequestContext, zone_ids: list[str]) -> list[str]:
    zones = regions.zones(context.account, context.region)
    return sorted(z.name for z in zones if z.zone_id in zone_ids)


def private_hosted_zone(endpoint: VpcEndpoint) -> str:
    """The id of the private hosted zone AWS keeps for an endpoint's private DNS names."""
    digest = hashlib.sha256(endpoint.id.encode()).hexdigest().upper()
    return "Z" + "".join(c for c in digest if c.isalnum())[:20]


def dns_entries(store: Store, endpoint: VpcEndpoint, zones: list[str]) -> list[dict]:
    """Regional name, one zonal name per zone, then the private names: AWS's order."""
    if endpoint.endpoint_type != "Interface":
        return []
    zone_id = vpce_hosted_zone(endpoint.region)
    entries = [{"DnsName": name, "HostedZoneId": zone_id} for name in vpce_names(endpoint, zones)]
    entries += [{"DnsName": name, "HostedZoneId": private_hosted_zone(endpoint)}
                for name in endpoint_private_names(store, endpoint)]
    return entries


def made_with(context: RequestContext, cls: type[R], token: str | None) -> R | None:
    """What an earlier call with this ClientToken made: EC2 answers a retry with it."""
    return next((r for r in owned(context, cls) if token and r.client_token == token), None)


def token_echo(token: str | None) -> dict[str, str]:
    """The ClientToken a create answer repeats, when the call gave one."""
    return {"ClientToken": token} if token else {}


def record_event(tx: Transaction, store: Store, endpoint: VpcEndpoint, event: str) -> None:
    """An Accept/Connect/Reject/Delete event, kept on every notification that covers it,
    ready to be delivered to its SNS topic when pocketlink has SNS."""
    for notification in store.all(ConnectionNotification):
        covers = (notification.service_id and notification.service_id == endpoint.service_id) \
            or notification.vpc_endpoint_id == endpoint.id
        if not covers or event not in notification.events or notification.state != "Enabled":
            continue
        mine = tx.edit(ConnectionNotification, notification.id)
        mine.recorded.append(ConnectionEvent(event=event, vpc_endpoint_id=endpoint.id,
                                             time=now().isoformat()))
        del mine.recorded[:-MAX_RECORDED_EVENTS]
