"""The consumer's side of PrivateLink: interface and gateway endpoints, and the services a
caller may see.

An interface endpoint gets one requester-managed ENI per subnet (one subnet per zone, in a
zone of the service). Its state starts at ``pendingAcceptance`` or ``pending``; the
reconciler, not a handler, makes it ``available``. A gateway endpoint puts a prefix-list
route into each chosen route table and is ``available`` at once, as at AWS.
"""

from __future__ import annotations

import json

from pocketlink.api import addresses, filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_network_interfaces import check_groups, new_interface
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.api.privatelink_common import (
    ServiceView,
    Unsuccessful,
    base_dns_name,
    consumer_zone_names,
    custom_view,
    dns_entries,
    find_service,
    made_with,
    record_event,
    token_echo,
    visible_services,
)
from pocketlink.model import ids
from pocketlink.model.aws_services import gateway_prefix_lists
from pocketlink.model.ec2 import NetworkInterface, Route, RouteTable, SecurityGroup, Subnet, Vpc
from pocketlink.model.privatelink import (
    DEFAULT_POLICY,
    EndpointService,
    VpcEndpoint,
    endpoint_private_names,
)
from pocketlink.policy import MalformedPolicy, parse_endpoint_policy
from pocketlink.store import Store, Transaction
from pocketlink.wire.errors import Ec2Error

INTERFACE_ENDPOINTS_PER_VPC = 50
GATEWAY_ENDPOINTS_PER_REGION = 20
POLICY_LIMIT = 20480
UNSUPPORTED_TYPES = ("GatewayLoadBalancer", "Resource", "ServiceNetwork")
# DnsRecordIpType -> the endpoint IpAddressTypes it goes with (the reference's table).
DNS_RECORD_TYPES = {"ipv4": ("ipv4", "dualstack"), "ipv6": ("ipv6", "dualstack"),
                    "dualstack": ("dualstack",), "service-defined": ("dualstack",)}
GONE = ("deleted",)

ENDPOINT_FILTERS: dict[str, filters.Field] = {
    "service-name": lambda e: e.service_name,
    "vpc-id": lambda e: e.vpc_id,
    "vpc-endpoint-id": lambda e: e.id,
    "vpc-endpoint-state": lambda e: e.state,
    "vpc-endpoint-type": lambda e: e.endpoint_type,
    "ip-address-type": lambda e: e.ip_address_type,
}


def describe_endpoint(store: Store, endpoint: VpcEndpoint) -> dict:
    zones = sorted({s.availability_zone for s in (store.get(Subnet, i)
                                                  for i in endpoint.subnet_ids) if s})
    item: dict = {
        "VpcEndpointId": endpoint.id,
        "VpcEndpointType": endpoint.endpoint_type,
        "VpcId": endpoint.vpc_id,
        "ServiceName": endpoint.service_name,
        "State": endpoint.state,
        "RouteTableIds": list(endpoint.route_table_ids),
        "SubnetIds": list(endpoint.subnet_ids),
        "Groups": [{"GroupId": g, "GroupName": group.group_name if group else ""}
                   for g in endpoint.group_ids
                   for group in [store.get(SecurityGroup, g)]],
        "PrivateDnsEnabled": endpoint.private_dns_enabled,
        "RequesterManaged": False,
        "NetworkInterfaceIds": list(endpoint.network_interface_ids),
        "DnsEntries": dns_entries(store, endpoint, zones),
        "CreationTimestamp": endpoint.created,
        "OwnerId": endpoint.account,
        "ServiceRegion": endpoint.region,
    }
    if endpoint.endpoint_type == "Interface":
        item["IpAddressType"] = endpoint.ip_address_type
        item["DnsOptions"] = {"DnsRecordIpType": endpoint.dns_record_ip_type,
                              "PrivateDnsOnlyForInboundResolverEndpoint":
                                  endpoint.private_dns_only_for_inbound_resolver_endpoint}
    if endpoint.policy_document is not None:
        item["PolicyDocument"] = endpoint.policy_document
    if endpoint.last_error:
        item["LastError"] = {"Code": endpoint.last_error.code,
                             "Message": endpoint.last_error.message}
    if endpoint.tags:
        item["Tags"] = tags.tag_set(endpoint.tags)
    return item


def _policy(params: dict, view: ServiceView) -> str | None:
    document = params.get("PolicyDocument")
    if not view.policy_supported:
        if document:
            raise ec2.InvalidParameter(f"VPC endpoint policies are not supported by the service "
                                       f"{view.name}.")
        return None
    if document is None:
        return DEFAULT_POLICY
    if len(document) > POLICY_LIMIT:
        raise ec2.InvalidPolicyDocument(
            f"The policy document exceeds the limit of {POLICY_LIMIT} characters.")
    try:
        json.loads(document)
    except ValueError:
        raise ec2.InvalidPolicyDocument("The policy document is not valid JSON.") from None
    try:  # what is enforced must parse: a document the grammar refuses would deny everything
        parse_endpoint_policy(document)
    except MalformedPolicy as error:
        # AWS: "The Policy Document is not valid. Syntax error at position (1,75)"; its
        # wording for each grammar rule is not published, the reason here is pocketlink's.
        raise ec2.InvalidPolicyDocument(f"The Policy Document is not valid. {error}") from None
    return document


def _subnets(context: RequestContext, vpc: Vpc, view: ServiceView, subnet_ids: list[str]
             ) -> list[Subnet]:
    subnets: list[Subnet] = []
    for subnet_id in dict.fromkeys(subnet_ids):
        subnet = require(context, Subnet, subnet_id)  # Malformed / NotFound, as EC2 says
        if subnet.vpc_id != vpc.id:
            raise ec2.InvalidSubnetIDNotFound(subnet_id)
        if subnet.availability_zone_id not in view.zone_ids:
            raise ec2.InvalidParameter(f"The VPC endpoint service {view.name} does not support the "
                                       f"availability zone of the subnet: {subnet_id}.")
        if any(s.availability_zone == subnet.availability_zone for s in subnets):
            raise ec2.DuplicateSubnetsInSameZone(
                f"Found another VPC endpoint subnet in the availability zone of "
                f"{subnet_id}. VPC endpoint subnets should be in different "
                "availability zones supported by the VPC endpoint service.")
        subnets.append(subnet)
    return subnets


def _ip_types(params: dict, view: ServiceView, subnets: list[Subnet],
              current: VpcEndpoint | None = None) -> tuple[str, str]:
    """The endpoint's IpAddressType and DnsRecordIpType, checked against the subnets, the
    service and each other as AWS checks them."""
    has4 = all(s.cidr_block for s in subnets)
    has6 = all(s.ipv6_associations for s in subnets)
    supported = view.supported_ip_address_types
    if "IpAddressType" in params:
        ip_type = params["IpAddressType"]
    elif current is not None:
        ip_type = current.ip_address_type
    else:
        ip_type = "ipv4" if "ipv4" in supported and has4 else (
            "ipv6" if "ipv6" in supported and has6 else "ipv4")
    needs = {"ipv4": ("ipv4",), "ipv6": ("ipv6",), "dualstack": ("ipv4", "ipv6")}
    if ip_type not in needs:
        raise ec2.InvalidParameter(f"IpAddressType {ip_type} is not valid.")
    for family in needs[ip_type]:
        if family not in supported:
            raise ec2.InvalidParameter(
                f"The VPC endpoint service {view.name} does not support IP address "
                f"type {ip_type}.")
    if ip_type in ("ipv4", "dualstack") and not has4:
        raise ec2.InvalidParameter(f"IpAddressType {ip_type} needs subnets with IPv4 CIDR blocks.")
    if ip_type in ("ipv6", "dualstack") and not has6:
        raise ec2.InvalidParameter(f"IpAddressType {ip_type} needs subnets with IPv6 CIDR blocks.")
    if ip_type == "ipv6" and has4:
        raise ec2.InvalidParameter("IpAddressType ipv6 needs IPv6-only subnets.")
    options = params.get("DnsOptions") or {}
    if "DnsRecordIpType" in options:
        record_type = options["DnsRecordIpType"]
    elif current is not None and "IpAddressType" not in params:
        record_type = current.dns_record_ip_type
    else:
        record_type = ip_type
    if record_type not in DNS_RECORD_TYPES:
        raise ec2.InvalidParameter(f"DnsRecordIpType {record_type} is not valid.")
    if ip_type not in DNS_RECORD_TYPES[record_type]:
        raise ec2.InvalidParameter(
            f"DnsRecordIpType {record_type} is incompatible with IpAddressType "
            f"{ip_type}.")
    return ip_type, record_type


def _private_dns(context: RequestContext, vpc: Vpc, view: ServiceView, wanted: bool | None,
                 endpoint_id: str | None) -> bool:
    """Whether private DNS is on, with AWS's three refusals when it cannot be."""
    if wanted is None:
        wanted = bool(view.private_dns_names) and view.private_dns_state == "verified" and \
            view.private_dns_default and vpc.enable_dns_support and vpc.enable_dns_hostnames
    if not wanted:
        return False
    if not view.private_dns_names:
        raise ec2.InvalidParameter(
            f"Private DNS can't be enabled because the service {view.name} does not "
            "provide a private DNS name.")
    if view.private_dns_state != "verified":
        raise ec2.InvalidParameter(
            f"Private DNS can't be enabled because the service {view.name} has not "
            "verified the private DNS name.")
    if not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
        raise ec2.InvalidParameter("Enabling private DNS requires both enableDnsSupport and "
                                   f"enableDnsHostnames VPC attributes set to true for {vpc.id}")
    for other in context.store.all(VpcEndpoint):
        if other.vpc_id != vpc.id or other.id == endpoint_id or other.state in GONE:
            continue
        for name in set(endpoint_private_names(context.store, other)) & set(
                view.private_dns_names):
            raise ec2.InvalidParameter(
                "private-dns-enabled cannot be set because there is already a "
                f"conflicting DNS domain for {name} in the VPC {vpc.id}")
    return True


def _inbound_only(context: RequestContext, vpc: Vpc, view: ServiceView, params: dict,
                  private: bool, current: bool = False) -> bool:
    """``PrivateDnsOnlyForInboundResolverEndpoint``: only for a service that has gateway
    endpoints too (S3, DynamoDB), where it is on by default with private DNS and needs the
    VPC's gateway endpoint for the service, which then carries the VPC's own traffic.
    (AWS's message as users report it; the default is the console's and Terraform's.)"""
    options = params.get("DnsOptions") or {}
    wanted = options.get("PrivateDnsOnlyForInboundResolverEndpoint")
    if wanted is None:
        wanted = current if "PrivateDnsEnabled" not in params else (private and view.gateway_too)
    if not wanted:
        return False
    if not view.gateway_too:
        raise ec2.InvalidParameter(  # guessed wording
            "PrivateDnsOnlyForInboundResolverEndpoint is only supported for services that "
            "support both gateway and interface endpoints.")
    if private and not any(e.vpc_id == vpc.id and e.endpoint_type == "Gateway" and
                           e.service_name == view.name and e.state not in GONE
                           for e in context.store.all(VpcEndpoint)):
        raise ec2.InvalidParameter("To set PrivateDnsOnlyForInboundResolverEndpoint to true, "
                                   "the VPC must have a Gateway endpoint for the service.")
    return private


def _route_tables(context: RequestContext, vpc: Vpc, table_ids: list[str]) -> list[RouteTable]:
    """The caller's route tables, by EC2's rules: ``InvalidRouteTableID.Malformed`` /
    ``.NotFound`` (EC2 spells it ``ID``) for a bad id, InvalidParameter for another VPC's."""
    tables = []
    for table_id in dict.fromkeys(table_ids):
        table = require(context, RouteTable, table_id)
        if table.vpc_id != vpc.id:
            raise ec2.InvalidParameter(f"The route table {table_id} does not belong to the VPC {vpc.id}.")
        tables.append(table)
    return tables


def _prefix_list_id(view: ServiceView, region: str) -> str:
    return next(p.prefix_list_id for p in gateway_prefix_lists(region) if p.name == view.name)


def _add_gateway_routes(tx: Transaction, endpoint: VpcEndpoint, tables: list[RouteTable],
                        prefix_list: str) -> None:
    for table in tables:
        if any(r.destination_prefix_list_id == prefix_list for r in table.routes):
            raise ec2.RouteAlreadyExists(f"route table {table.id} already has a route with "
                                         f"destination-prefix-list-id {prefix_list}")
        mine = tx.edit(RouteTable, table.id)
        mine.routes.append(Route(destination_prefix_list_id=prefix_list, gateway_id=endpoint.id,
                                 origin="CreateRoute"))


def _remove_gateway_routes(tx: Transaction, store: Store, endpoint: VpcEndpoint,
                           table_ids: list[str]) -> None:
    for table_id in table_ids:
        if store.get(RouteTable, table_id) is None:
            continue
        mine = tx.edit(RouteTable, table_id)
        mine.routes = [r for r in mine.routes if r.gateway_id != endpoint.id]


def _interfaces(context: RequestContext, endpoint: VpcEndpoint, subnets: list[Subnet],
                group_ids: list[str]) -> list[NetworkInterface]:
    taken: set[str] = set()
    enis = []
    for subnet in subnets:
        enis.append(new_interface(
            context, subnet, group_ids=group_ids,
            ipv6_count=1 if endpoint.ip_address_type in ("ipv6", "dualstack") else 0,
            description=f"VPC Endpoint Interface {endpoint.id}", interface_type="vpc_endpoint",
            taken=taken, requester_managed=True, status="in-use"))
        if endpoint.ip_address_type == "ipv6":
            enis[-1].private_ip_address = None
    return enis


def _readdress(context: RequestContext, eni: NetworkInterface, ip_type: str,
               taken: set[str]) -> None:
    """A new IpAddressType on a kept subnet: the ENI and its IPv4 address stay (AWS keeps an
    endpoint's addresses until it is deleted, and clients may have them); only the IPv6
    address comes or goes. The subnet decides the rest: ipv6 needs IPv6-only subnets,
    dualstack needs IPv4 ones, so a kept subnet never moves between them."""
    if ip_type in ("ipv6", "dualstack") and not eni.ipv6_addresses:
        subnet = context.store.get(Subnet, eni.subnet_id)
        assert subnet is not None
        address = addresses.allocate_ipv6(context.store, subnet, taken)
        taken.add(address)
        eni.ipv6_addresses = [address]
    elif ip_type == "ipv4":
        eni.ipv6_addresses = []


@operation("ec2", "CreateVpcEndpoint")
def create_vpc_endpoint(context: RequestContext, params: dict) -> dict:
    endpoint_type = params.get("VpcEndpointType", "Gateway")
    if endpoint_type in UNSUPPORTED_TYPES:
        raise ec2.InvalidParameter(
            f"pocketlink does not support VPC endpoints of type {endpoint_type}; "
            "it serves Interface and Gateway endpoints.")
    if endpoint_type not in ("Interface", "Gateway"):
        raise ec2.InvalidParameter(f"VpcEndpointType {endpoint_type} is not valid.")
    token = params.get("ClientToken")
    if existing := made_with(context, VpcEndpoint, token):
        return {"VpcEndpoint": describe_endpoint(context.store, existing), **token_echo(token)}
    vpc = require(context, Vpc, params["VpcId"])
    name = params.get("ServiceName")
    if not name:
        raise ec2.MissingParameter("ServiceName")
    views = find_service(context, name)
    view = next((v for v in views if v.service_type == endpoint_type), None)
    if view is None:
        raise ec2.InvalidVpcEndpointType(
            f"Endpoint type ({endpoint_type}) does not match available service "
            f"types ({[v.service_type for v in views]}).")
    if endpoint_type == "Gateway":
        return _create_gateway(context, params, vpc, view, token)
    return _create_interface(context, params, vpc, view, token)


def _create_gateway(context: RequestContext, params: dict, vpc: Vpc, view: ServiceView,
                    token: str | None) -> dict:
    if params.get("SubnetIds"):
        raise ec2.InvalidParameter("Subnet IDs are only supported for Interface and "
                                   "GatewayLoadBalancer type VPC Endpoints.")
    if params.get("SecurityGroupIds"):
        raise ec2.InvalidParameter("Security group IDs are only supported for "
                                   "Interface type VPC Endpoints.")
    if params.get("PrivateDnsEnabled"):
        raise ec2.InvalidParameter("Private DNS is only supported for Interface type "
                                   "VPC Endpoints.")
    if sum(1 for e in owned(context, VpcEndpoint) if e.endpoint_type == "Gateway" and
           e.state not in GONE) >= GATEWAY_ENDPOINTS_PER_REGION:
        raise ec2.VpcEndpointLimitExceeded(
            f"The maximum number of gateway endpoints ({GATEWAY_ENDPOINTS_PER_REGION}) "
            "in this region has been reached.")
    tables = _route_tables(context, vpc, params.get("RouteTableIds") or [])
    endpoint = VpcEndpoint(
        id=ids.new_id("vpce"), account=context.account, region=context.region, vpc_id=vpc.id,
        service_name=view.name, service_id=None, service_owner="amazon", endpoint_type="Gateway",
        state="available", route_table_ids=[t.id for t in tables],
        policy_document=_policy(params, view), client_token=token,
        tags=tags.from_specifications(params, "vpc-endpoint"))
    with context.store.transaction() as tx:
        _add_gateway_routes(tx, endpoint, tables, _prefix_list_id(view, context.region))
        tx.put(endpoint)
    return {"VpcEndpoint": describe_endpoint(context.store, endpoint), **token_echo(token)}


def _create_interface(context: RequestContext, params: dict, vpc: Vpc, view: ServiceView,
                      token: str | None) -> dict:
    if params.get("RouteTableIds"):
        raise ec2.InvalidParameter("Route table IDs are only supported for Gateway "
                                   "type VPC Endpoints.")
    if sum(1 for e in context.store.all(VpcEndpoint) if e.vpc_id == vpc.id and
           e.endpoint_type == "Interface" and e.state not in GONE) >= \
            INTERFACE_ENDPOINTS_PER_VPC:
        raise ec2.VpcEndpointLimitExceeded(f"The maximum number of interface endpoints "
                                           f"({INTERFACE_ENDPOINTS_PER_VPC}) in {vpc.id} has been reached.")
    subnets = _subnets(context, vpc, view, params.get("SubnetIds") or [])
    ip_type, record_type = _ip_types(params, view, subnets)
    group_ids = check_groups(context, vpc.id, params.get("SecurityGroupIds") or [])
    endpoint_id = ids.new_id("vpce")
    private = _private_dns(context, vpc, view, params.get("PrivateDnsEnabled"), endpoint_id)
    custom = view.service
    endpoint = VpcEndpoint(
        id=endpoint_id, account=context.account, region=context.region, vpc_id=vpc.id,
        service_name=view.name, service_id=view.service_id, service_owner=view.owner,
        endpoint_type="Interface",
        state="pendingAcceptance" if custom and custom.acceptance_required else "pending",
        dns_label=ids.random_label(8), subnet_ids=[s.id for s in subnets], group_ids=group_ids,
        policy_document=_policy(params, view), private_dns_enabled=private,
        ip_address_type=ip_type, dns_record_ip_type=record_type,
        private_dns_only_for_inbound_resolver_endpoint=_inbound_only(
            context, vpc, view, params, private),
        client_token=token, tags=tags.from_specifications(params, "vpc-endpoint"))
    enis = _interfaces(context, endpoint, subnets, group_ids)
    endpoint.network_interface_ids = [e.id for e in enis]
    with context.store.transaction() as tx:
        for eni in enis:
            tx.put(eni)
        tx.put(endpoint)
        record_event(tx, context.store, endpoint, "Connect")
    return {"VpcEndpoint": describe_endpoint(context.store, endpoint), **token_echo(token)}


@operation("ec2", "DescribeVpcEndpoints")
def describe_vpc_endpoints(context: RequestContext, params: dict) -> dict:
    endpoints = select(context, VpcEndpoint, params.get("VpcEndpointIds"))
    endpoints = filters.apply(endpoints, params.get("Filters"), ENDPOINT_FILTERS)
    chunk, more = pages.page(endpoints, params)
    return {"VpcEndpoints": [describe_endpoint(context.store, e) for e in chunk], **more}


def _view_of(context: RequestContext, endpoint: VpcEndpoint) -> ServiceView:
    """The endpoint's service as it is now: the consumer keeps its view even if the provider
    has since removed the permission (existing connections stay, as at AWS)."""
    if endpoint.service_id:
        service = context.store.get(EndpointService, endpoint.service_id)
        if service is None:
            raise ec2.InvalidServiceName(endpoint.service_name)
        return custom_view(context.store, service)
    views = find_service(context, endpoint.service_name)
    return next(v for v in views if v.service_type == endpoint.endpoint_type)


@operation("ec2", "ModifyVpcEndpoint")
def modify_vpc_endpoint(context: RequestContext, params: dict) -> dict:
    endpoint = require(context, VpcEndpoint, params["VpcEndpointId"])
    if endpoint.state in ("deleting", "deleted", "rejected", "failed"):
        raise ec2.IncorrectState(
            f"VPC endpoint {endpoint.id} is in state {endpoint.state} and cannot be "
            "modified.")
    vpc = require(context, Vpc, endpoint.vpc_id)
    view = _view_of(context, endpoint)
    if params.get("ResetPolicy") and params.get("PolicyDocument"):
        raise ec2.InvalidParameterCombination("ResetPolicy and PolicyDocument cannot be specified together.")
    policy = endpoint.policy_document
    if params.get("ResetPolicy"):
        policy = DEFAULT_POLICY if view.policy_supported else None
    elif "PolicyDocument" in params:
        policy = _policy(params, view)
    if endpoint.endpoint_type == "Gateway":
        return _modify_gateway(context, params, endpoint, vpc, view, policy)
    return _modify_interface(context, params, endpoint, vpc, view, policy)


def _modify_gateway(context: RequestContext, params: dict, endpoint: VpcEndpoint, vpc: Vpc,
                    view: ServiceView, policy: str | None) -> dict:
    for key in ("AddSubnetIds", "RemoveSubnetIds"):
        if params.get(key):
            raise ec2.InvalidParameter("Subnet IDs are only supported for Interface "
                                       "and GatewayLoadBalancer type VPC Endpoints.")
    added = _route_tables(context, vpc, [t for t in params.get("AddRouteTableIds") or []
                                         if t not in endpoint.route_table_ids])
    removed = [t for t in params.get("RemoveRouteTableIds") or [] if t in endpoint.route_table_ids]
    with context.store.transaction() as tx:
        mine = tx.edit(VpcEndpoint, endpoint.id)
        _add_gateway_routes(tx, mine, added, _prefix_list_id(view, context.region))
        _remove_gateway_routes(tx, context.store, mine, removed)
        mine.route_table_ids = [t for t in mine.route_table_ids if t not in removed] + \
            [t.id for t in added]
        mine.policy_document = policy
    return {"Return": True}


def _modify_interface(context: RequestContext, params: dict, endpoint: VpcEndpoint, vpc: Vpc,
                      view: ServiceView, policy: str | None) -> dict:
    if params.get("AddRouteTableIds") or params.get("RemoveRouteTableIds"):
        raise ec2.InvalidParameter("Route table IDs are only supported for Gateway "
                                   "type VPC Endpoints.")
    removed = set(params.get("RemoveSubnetIds") or [])
    keep = [i for i in endpoint.subnet_ids if i not in removed]
    subnet_ids = keep + [i for i in params.get("AddSubnetIds") or [] if i not in keep]
    subnets = _subnets(context, vpc, view, subnet_ids)
    ip_type, record_type = _ip_types(params, view, subnets, endpoint)
    groups = [g for g in endpoint.group_ids if g not in (params.get("RemoveSecurityGroupIds")
                                                         or [])]
    groups += [g for g in params.get("AddSecurityGroupIds") or [] if g not in groups]
    if not groups:  # before check_groups, which would quietly put the default group back
        raise ec2.InvalidParameter("A VPC endpoint must keep at least one security "
                                   "group.")
    groups = check_groups(context, vpc.id, groups)
    private = endpoint.private_dns_enabled
    if "PrivateDnsEnabled" in params:
        private = _private_dns(context, vpc, view, params["PrivateDnsEnabled"], endpoint.id)
    inbound_only = _inbound_only(context, vpc, view, params, private,
                                 endpoint.private_dns_only_for_inbound_resolver_endpoint)
    with context.store.transaction() as tx:
        mine = tx.edit(VpcEndpoint, endpoint.id)
        readdress = ip_type != mine.ip_address_type
        mine.ip_address_type, mine.dns_record_ip_type = ip_type, record_type
        mine.group_ids, mine.private_dns_enabled, mine.policy_document = groups, private, policy
        mine.private_dns_only_for_inbound_resolver_endpoint = inbound_only
        kept_enis = []
        taken: set[str] = set()
        for eni_id in mine.network_interface_ids:
            eni = context.store.get(NetworkInterface, eni_id)
            if eni is None:
                continue
            if eni.subnet_id in removed:
                tx.delete(eni)
            else:
                changed = tx.edit(NetworkInterface, eni_id)
                changed.group_ids = list(groups)
                if readdress:
                    _readdress(context, changed, ip_type, taken)
                kept_enis.append(changed)
        have = {e.subnet_id for e in kept_enis}
        fresh = _interfaces(context, mine, [s for s in subnets if s.id not in have], groups)
        for eni in fresh:
            tx.put(eni)
        mine.subnet_ids = [s.id for s in subnets]
        mine.network_interface_ids = [e.id for e in kept_enis + fresh]
        if mine.state == "available":
            mine.state = "pending"  # the network has to catch up, as the seed shows
    return {"Return": True}


@operation("ec2", "DeleteVpcEndpoints")
def delete_vpc_endpoints(context: RequestContext, params: dict) -> dict:
    unsuccessful = Unsuccessful()
    with context.store.transaction() as tx:
        for endpoint_id in dict.fromkeys(params["VpcEndpointIds"]):
            try:
                endpoint = require(context, VpcEndpoint, endpoint_id)
            except Ec2Error as failure:
                unsuccessful.add(endpoint_id, failure)
                continue
            if endpoint.state in ("deleting", "deleted"):
                continue
            mine = tx.edit(VpcEndpoint, endpoint_id)
            if mine.endpoint_type == "Gateway":
                _remove_gateway_routes(tx, context.store, mine, mine.route_table_ids)
            mine.state = "deleting"
            record_event(tx, context.store, mine, "Delete")
    return {"Unsuccessful": unsuccessful}


SERVICE_FILTERS: dict[str, filters.Field] = {
    "service-name": lambda v: v.name,
    "service-type": lambda v: v.service_type,
    "owner": lambda v: v.owner,
    "supported-ip-address-types": lambda v: v.supported_ip_address_types,
    "service-region": lambda v: v.region,
}


class _ServiceRow:
    def __init__(self, view: ServiceView, region: str) -> None:
        self.view, self.region = view, region
        self.name, self.service_type, self.owner = view.name, view.service_type, view.owner
        self.supported_ip_address_types = view.supported_ip_address_types
        self.tags = view.service.tags if view.service else {}


@operation("ec2", "DescribeVpcEndpointServices")
def describe_vpc_endpoint_services(context: RequestContext, params: dict) -> dict:
    if params.get("ServiceNames"):
        views = [v for name in dict.fromkeys(params["ServiceNames"])
                 for v in find_service(context, name)]
    else:
        views = visible_services(context)
    rows = filters.apply([_ServiceRow(v, context.region) for v in views],  # type: ignore[arg-type]
                         params.get("Filters"), SERVICE_FILTERS)
    chunk, more = pages.page(rows, params)
    details = []
    for row in chunk:
        view = row.view
        detail: dict = {
            "ServiceName": view.name,
            "ServiceType": [{"ServiceType": view.service_type}],
            "ServiceRegion": context.region,
            "AvailabilityZoneIds": list(view.zone_ids),
            "AvailabilityZones": consumer_zone_names(context, view.zone_ids),
            "Owner": view.owner,
            "BaseEndpointDnsNames": [base_dns_name(view, context.region)]
            if view.service_type == "Interface" else [],
            "VpcEndpointPolicySupported": view.policy_supported,
            "AcceptanceRequired": view.acceptance_required,
            "ManagesVpcEndpoints": False,
            "PayerResponsibility": "ServiceOwner",
            "SupportedIpAddressTypes": list(view.supported_ip_address_types),
        }
        if view.service_id:
            detail["ServiceId"] = view.service_id
        if view.private_dns_names:
            detail["PrivateDnsName"] = view.private_dns_names[0]
            detail["PrivateDnsNames"] = [{"PrivateDnsName": n} for n in view.private_dns_names]
            detail["PrivateDnsNameVerificationState"] = view.private_dns_state
        if row.tags:
            detail["Tags"] = tags.tag_set(row.tags)
        details.append(detail)
    return {"ServiceNames": sorted({d["ServiceName"] for d in details}),
            "ServiceDetails": details, **more}
