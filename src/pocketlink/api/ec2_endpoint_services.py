"""The provider's side of PrivateLink: endpoint service configurations, who may connect,
the private DNS name and its verification, and the connections to accept or reject.

Verification itself (a real DNS query for the TXT record) is the reconciler's: a handler
only asks for it, as StartVpcEndpointServicePrivateDnsVerification does at AWS.
"""

from __future__ import annotations

import re
import secrets
import string

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import find, owned, require
from pocketlink.api.privatelink_common import (
    Unsuccessful,
    base_dns_name,
    custom_view,
    dns_entries,
    made_with,
    record_event,
    service_zone_ids,
    token_echo,
)
from pocketlink.model import ids, regions
from pocketlink.model.ec2 import Subnet
from pocketlink.model.elbv2 import LoadBalancer
from pocketlink.model.privatelink import AllowedPrincipal, EndpointService, VpcEndpoint
from pocketlink.model.states import ENDPOINT_CONNECTED
from pocketlink.store import Store

DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PRINCIPAL = re.compile(r"^(\*|arn:aws:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+))$")

SERVICE_FILTERS: dict[str, filters.Field] = {
    "service-name": lambda s: s.service_name,
    "service-id": lambda s: s.id,
    "service-state": lambda s: s.state,
    "supported-ip-address-types": lambda s: s.supported_ip_address_types,
}


def describe_configuration(store: Store, service: EndpointService) -> dict:
    zone_ids = service_zone_ids(store, service)
    view = custom_view(store, service)
    item: dict = {
        "ServiceType": [{"ServiceType": "Interface"}],
        "ServiceId": service.id,
        "ServiceName": service.service_name,
        "ServiceState": service.state,
        "AvailabilityZoneIds": zone_ids,
        "AvailabilityZones": sorted(z.name for z in regions.zones(service.account, service.region)
                                    if z.zone_id in zone_ids),
        "AcceptanceRequired": service.acceptance_required,
        "ManagesVpcEndpoints": False,
        "NetworkLoadBalancerArns": list(service.network_load_balancer_arns),
        "SupportedIpAddressTypes": list(service.supported_ip_address_types),
        "BaseEndpointDnsNames": [base_dns_name(view, service.region)],
        "PayerResponsibility": "ServiceOwner",
        "SupportedRegions": [{"Region": service.region, "ServiceState": "Available"}],
        "RemoteAccessEnabled": False,
    }
    if service.private_dns_name:
        item["PrivateDnsName"] = service.private_dns_name
        item["PrivateDnsNameConfiguration"] = {
            "State": service.private_dns_state, "Type": "TXT",
            "Value": service.verification_value, "Name": service.verification_name}
    if service.tags:
        item["Tags"] = tags.tag_set(service.tags)
    return item


def require_service(context: RequestContext, service_id: str) -> EndpointService:
    """The caller's service, as ``require`` finds it: one being deleted is not found."""
    service = require(context, EndpointService, service_id)
    if service.state != "Available":
        raise ec2.InvalidVpcEndpointServiceIdNotFound(service_id)
    return service


def _balancers(context: RequestContext, arns: list[str], service_id: str | None
               ) -> list[LoadBalancer]:
    found = []
    for balancer_arn in dict.fromkeys(arns):
        balancer = find(context, LoadBalancer, balancer_arn)
        if balancer is None:
            raise ec2.InvalidParameter(f"Load balancer {balancer_arn} does not exist")
        for other in context.store.all(EndpointService):
            if other.id != service_id and balancer_arn in other.network_load_balancer_arns:
                raise ec2.InvalidParameter(
                    f"Load balancer {balancer_arn} is already associated with "
                    f"another VPC Endpoint Service: {other.id}")
        found.append(balancer)
    return found


def _check_ip_types(types: list[str], balancers: list[LoadBalancer]) -> list[str]:
    for kind in types:
        if kind not in ("ipv4", "ipv6"):
            raise ec2.InvalidParameter(
                f"Supported IP address type {kind} is invalid. Valid types are "
                "ipv4 and ipv6.")
    if not types:
        raise ec2.InvalidParameter("An endpoint service supports at least one IP "
                                   "address type.")
    if "ipv6" in types:
        for balancer in balancers:
            if balancer.ip_address_type != "dualstack":
                raise ec2.InvalidParameter(
                    f"Load balancer {balancer.id} does not support IPv6: make it "
                    "dualstack (SetIpAddressType) before the service supports ipv6.")
    return list(dict.fromkeys(types))


def _check_domain(name: str) -> str:
    name = name.lower().rstrip(".")
    if len(name) > 255 or not DOMAIN.match(name):
        raise ec2.InvalidParameter(f"The private DNS name '{name}' is not valid.")
    if name.endswith("amazonaws.com") or name.endswith(".internal"):
        raise ec2.InvalidParameter(f"The private DNS name '{name}' is in a domain reserved by AWS.")
    return name


def _verification() -> tuple[str, str]:
    """A TXT record's name label and value, as AWS mints them (``_`` + 20, ``vpce:`` + token)."""
    lower = string.ascii_lowercase + string.digits
    mixed = string.ascii_letters + string.digits
    return ("_" + "".join(secrets.choice(lower) for _ in range(20)),
            "vpce:" + "".join(secrets.choice(mixed) for _ in range(20)))


def _set_private_dns_name(service: EndpointService, name: str | None) -> None:
    if name == service.private_dns_name:
        return
    service.private_dns_name = name
    service.verification_requested = False
    if name is None:
        service.private_dns_state = service.verification_name = None
        service.verification_value = None
        return
    service.private_dns_state = "pendingVerification"
    service.verification_name, service.verification_value = _verification()


@operation("ec2", "CreateVpcEndpointServiceConfiguration")
def create_service(context: RequestContext, params: dict) -> dict:
    if params.get("GatewayLoadBalancerArns"):
        raise ec2.InvalidParameter("pocketlink serves endpoint services backed by "
                                   "Network Load Balancers, not Gateway Load Balancers.")
    arns = params.get("NetworkLoadBalancerArns") or []
    if not arns:
        raise ec2.InvalidParameter("NetworkLoadBalancerArns must be specified.")
    token = params.get("ClientToken")
    if existing := made_with(context, EndpointService, token):
        return {"ServiceConfiguration": describe_configuration(context.store, existing),
                **token_echo(token)}
    balancers = _balancers(context, arns, None)
    types = _check_ip_types(params.get("SupportedIpAddressTypes") or ["ipv4"], balancers)
    for region in params.get("SupportedRegions") or []:
        if region != context.region:
            raise ec2.InvalidParameter("pocketlink serves endpoint services in their "
                                       "own region only.")
    service_id = ids.new_id("vpce-svc")
    service = EndpointService(
        id=service_id, account=context.account, region=context.region,
        service_name=f"com.amazonaws.vpce.{context.region}.{service_id}",
        network_load_balancer_arns=[b.id for b in balancers],
        acceptance_required=params.get("AcceptanceRequired", True),
        supported_ip_address_types=types, client_token=token,
        tags=tags.from_specifications(params, "vpc-endpoint-service"))
    if params.get("PrivateDnsName"):
        _set_private_dns_name(service, _check_domain(params["PrivateDnsName"]))
    with context.store.transaction() as tx:
        tx.put(service)
    return {"ServiceConfiguration": describe_configuration(context.store, service),
            **token_echo(token)}


@operation("ec2", "DescribeVpcEndpointServiceConfigurations")
def describe_services(context: RequestContext, params: dict) -> dict:
    services = [s for s in owned(context, EndpointService) if s.state == "Available"]
    if params.get("ServiceIds"):
        services = [require_service(context, i) for i in dict.fromkeys(params["ServiceIds"])]
    services = filters.apply(services, params.get("Filters"), SERVICE_FILTERS)
    chunk, more = pages.page(services, params)
    return {"ServiceConfigurations": [describe_configuration(context.store, s)
                                      for s in chunk], **more}


def _live_connections(store: Store, service: EndpointService) -> list[VpcEndpoint]:
    return [e for e in store.all(VpcEndpoint)
            if e.service_id == service.id and e.state in ENDPOINT_CONNECTED]


@operation("ec2", "ModifyVpcEndpointServiceConfiguration")
def modify_service(context: RequestContext, params: dict) -> dict:
    service = require_service(context, params["ServiceId"])
    if params.get("AddGatewayLoadBalancerArns"):
        raise ec2.InvalidParameter("pocketlink serves endpoint services backed by "
                                   "Network Load Balancers, not Gateway Load Balancers.")
    if params.get("PrivateDnsName") and params.get("RemovePrivateDnsName"):
        raise ec2.InvalidParameter("PrivateDnsName and RemovePrivateDnsName cannot be "
                                   "specified together.")
    arns = [a for a in service.network_load_balancer_arns
            if a not in (params.get("RemoveNetworkLoadBalancerArns") or [])]
    arns += [a for a in params.get("AddNetworkLoadBalancerArns") or [] if a not in arns]
    if not arns:
        raise ec2.InvalidParameter("An endpoint service needs at least one load "
                                   "balancer.")
    removed = set(service.network_load_balancer_arns) - set(arns)
    if removed and _live_connections(context.store, service):
        raise ec2.ExistingVpcEndpointConnections()
    balancers = _balancers(context, arns, service.id)
    types = [t for t in service.supported_ip_address_types
             if t not in (params.get("RemoveSupportedIpAddressTypes") or [])]
    types += [t for t in params.get("AddSupportedIpAddressTypes") or [] if t not in types]
    types = _check_ip_types(types, balancers)
    private_name = service.private_dns_name
    if params.get("RemovePrivateDnsName"):
        private_name = None
    elif params.get("PrivateDnsName"):
        private_name = _check_domain(params["PrivateDnsName"])
    with context.store.transaction() as tx:
        mine = tx.edit(EndpointService, service.id)
        mine.network_load_balancer_arns = arns
        mine.supported_ip_address_types = types
        if "AcceptanceRequired" in params:
            mine.acceptance_required = params["AcceptanceRequired"]
        _set_private_dns_name(mine, private_name)
    return {"Return": True}


@operation("ec2", "DeleteVpcEndpointServiceConfigurations")
def delete_services(context: RequestContext, params: dict) -> dict:
    unsuccessful = Unsuccessful()
    with context.store.transaction() as tx:
        for service_id in dict.fromkeys(params["ServiceIds"]):
            with unsuccessful.of(service_id):
                service = require_service(context, service_id)
                if _live_connections(context.store, service):
                    raise ec2.ExistingVpcEndpointConnections()
                tx.delete(service)
    return {"Unsuccessful": unsuccessful}


def _principal_type(principal: str) -> str:
    if principal == "*":
        return "All"
    if principal.endswith(":root"):
        return "Account"
    return "Role" if ":role/" in principal else "User"


def _described_principal(service: EndpointService, principal: AllowedPrincipal) -> dict:
    return {"PrincipalType": principal.principal_type, "Principal": principal.principal,
            "ServicePermissionId": principal.permission_id, "ServiceId": service.id}


@operation("ec2", "ModifyVpcEndpointServicePermissions")
def modify_permissions(context: RequestContext, params: dict) -> dict:
    service = require_service(context, params["ServiceId"])
    added = []
    for principal in dict.fromkeys(params.get("AddAllowedPrincipals") or []):
        if not PRINCIPAL.match(principal):
            raise ec2.InvalidParameter(f"Invalid principal {principal}")
    removed = set(params.get("RemoveAllowedPrincipals") or [])
    with context.store.transaction() as tx:
        mine = tx.edit(EndpointService, service.id)
        mine.allowed_principals = [p for p in mine.allowed_principals
                                   if p.principal not in removed]
        for principal in dict.fromkeys(params.get("AddAllowedPrincipals") or []):
            if any(p.principal == principal for p in mine.allowed_principals):
                continue
            entry = AllowedPrincipal(principal=principal,
                                     principal_type=_principal_type(principal),
                                     permission_id=ids.new_id("vpce-svc-perm"))
            mine.allowed_principals.append(entry)
            added.append(_described_principal(mine, entry))
    result: dict = {"ReturnValue": True}
    if added:
        result["AddedPrincipals"] = added
    return result


PERMISSION_FILTERS: dict[str, filters.Field] = {
    "principal": lambda p: p.principal,
    "principal-type": lambda p: p.principal_type,
}


class _PrincipalRow:
    def __init__(self, principal: AllowedPrincipal) -> None:
        self.principal = principal.principal
        self.principal_type = principal.principal_type
        self.entry = principal
        self.tags: dict[str, str] = {}


@operation("ec2", "DescribeVpcEndpointServicePermissions")
def describe_permissions(context: RequestContext, params: dict) -> dict:
    service = require_service(context, params["ServiceId"])
    rows = filters.apply([_PrincipalRow(p) for p in service.allowed_principals],  # type: ignore[arg-type]
                         params.get("Filters"), PERMISSION_FILTERS)
    chunk, more = pages.page(rows, params)
    return {"AllowedPrincipals": [_described_principal(service, r.entry) for r in chunk], **more}


@operation("ec2", "StartVpcEndpointServicePrivateDnsVerification")
def start_private_dns_verification(context: RequestContext, params: dict) -> dict:
    service = require_service(context, params["ServiceId"])
    if not service.private_dns_name:
        raise ec2.InvalidParameter(f"The service {service.id} does not have a private DNS name.")
    with context.store.transaction() as tx:
        mine = tx.edit(EndpointService, service.id)
        mine.verification_requested = True
        if mine.private_dns_state == "failed":
            mine.private_dns_state = "pendingVerification"
    return {"ReturnValue": True}


def _described_connection(context: RequestContext, service: EndpointService,
                          endpoint: VpcEndpoint) -> dict:
    zones = sorted({subnet.availability_zone for subnet in (
        context.store.get(Subnet, s) for s in endpoint.subnet_ids) if subnet})
    return {
        "ServiceId": service.id,
        "VpcEndpointId": endpoint.id,
        "VpcEndpointOwner": endpoint.account,
        "VpcEndpointState": endpoint.state,
        "CreationTimestamp": endpoint.created,
        "DnsEntries": dns_entries(context.store, endpoint, zones),
        "NetworkLoadBalancerArns": list(service.network_load_balancer_arns),
        "GatewayLoadBalancerArns": [],
        "IpAddressType": endpoint.ip_address_type,
        "VpcEndpointConnectionId": "vpce-con-" + endpoint.id[len("vpce-"):],
        "VpcEndpointRegion": endpoint.region,
    }


CONNECTION_FILTERS: dict[str, filters.Field] = {
    "service-id": lambda row: row.service.id,
    "vpc-endpoint-owner": lambda row: row.endpoint.account,
    "vpc-endpoint-id": lambda row: row.endpoint.id,
    "vpc-endpoint-state": lambda row: row.endpoint.state,
    "ip-address-type": lambda row: row.endpoint.ip_address_type,
}


class _ConnectionRow:
    """A connection: an endpoint, seen from its service. Tag filters see the endpoint's tags."""

    def __init__(self, service: EndpointService, endpoint: VpcEndpoint) -> None:
        self.service, self.endpoint, self.tags = service, endpoint, endpoint.tags


@operation("ec2", "DescribeVpcEndpointConnections")
def describe_connections(context: RequestContext, params: dict) -> dict:
    services = {s.id: s for s in owned(context, EndpointService)}
    rows = [_ConnectionRow(services[e.service_id], e) for e in context.store.all(VpcEndpoint)
            if e.service_id in services and e.state != "deleted"]
    rows = filters.apply(rows, params.get("Filters"), CONNECTION_FILTERS)  # type: ignore[arg-type]
    chunk, more = pages.page(rows, params)
    return {"VpcEndpointConnections": [
        _described_connection(context, r.service, r.endpoint) for r in chunk], **more}


def _decide(context: RequestContext, params: dict, accept: bool) -> dict:
    service = require_service(context, params["ServiceId"])
    unsuccessful = Unsuccessful()
    with context.store.transaction() as tx:
        for endpoint_id in dict.fromkeys(params["VpcEndpointIds"]):
            endpoint = context.store.get(VpcEndpoint, endpoint_id)
            if endpoint is None or endpoint.service_id != service.id or \
                    endpoint.state == "deleted":
                unsuccessful.add(endpoint_id, ec2.InvalidVpcEndpointIdNotFound(endpoint_id))
                continue
            allowed = ("pendingAcceptance",) if accept else ("pendingAcceptance", "available",
                                                              "pending")
            if endpoint.state not in allowed:
                unsuccessful.add(endpoint_id, ec2.InvalidState(
                    f"Endpoint {endpoint_id} is in state {endpoint.state}; it cannot be "
                    f"{'accepted' if accept else 'rejected'}."))
                continue
            mine = tx.edit(VpcEndpoint, endpoint_id)
            mine.state = "pending" if accept else "rejected"
            record_event(tx, context.store, mine, "Accept" if accept else "Reject")
    return {"Unsuccessful": unsuccessful}


@operation("ec2", "AcceptVpcEndpointConnections")
def accept_connections(context: RequestContext, params: dict) -> dict:
    return _decide(context, params, accept=True)


@operation("ec2", "RejectVpcEndpointConnections")
def reject_connections(context: RequestContext, params: dict) -> dict:
    return _decide(context, params, accept=False)
