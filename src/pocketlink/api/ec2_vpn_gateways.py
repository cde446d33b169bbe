"""Site-to-Site VPN's API: virtual private gateways (create, attach to one VPC, detach,
delete, route propagation), customer gateways and VPN connections with static routes.

pocketlink has no on-premises network (model/vpn.py): these are AWS's records and state
machines, and a route table's route to a ``vgw-`` (static, or propagated from a VPN
connection's static routes) is dropped by the VPC router (network/topology.py), never sent
anywhere. The errors are AWS's where its words are known (Terraform's and moto's
AWS-verified tests quote them); the guesses say so.
"""

from __future__ import annotations

import hashlib
import ipaddress
from xml.sax.saxutils import escape

from pocketlink.api import filters, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import ipv4_network
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import find, owned, require, select
from pocketlink.model import ids
from pocketlink.model.base import now
from pocketlink.model.ec2 import RouteTable, Vpc
from pocketlink.model.regions import zone_by_name_or_id
from pocketlink.model.transit_gateways import TransitGateway
from pocketlink.model.vpn import (
    DEFAULT_AMAZON_SIDE_ASN,
    HOLDING,
    VPN_TYPE,
    AttachmentState,
    CustomerGateway,
    VpcAttachment,
    VpnConnection,
    VpnGateway,
    VpnState,
    VpnStaticRoute,
    free_outside_addresses,
    sync_gateway_routes,
    tunnel_inside_cidrs,
)
from pocketlink.wire.errors import ServiceError


def _check_type(value: str | None) -> str:
    """``ipsec.1`` is the only type AWS has; the refusal's words are a guess."""
    if value != VPN_TYPE:
        raise ec2.InvalidParameterValue(
            f"Value ({value}) for parameter type is invalid. Valid value is {VPN_TYPE}")
    return value


def _find_gateway(context: RequestContext, gateway_id: str) -> VpnGateway:
    """The caller's virtual private gateway that is not deleted (a deleted one is only
    described, as at AWS)."""
    gateway = find(context, VpnGateway, gateway_id)
    if gateway is None or gateway.state == VpnState.DELETED:
        raise ec2.InvalidVpnGatewayIDNotFound(gateway_id)
    return gateway


def _find_customer_gateway(context: RequestContext, gateway_id: str) -> CustomerGateway:
    gateway = find(context, CustomerGateway, gateway_id)
    if gateway is None or gateway.state == VpnState.DELETED:
        raise ec2.InvalidCustomerGatewayIDNotFound(gateway_id)
    return gateway


def _find_connection(context: RequestContext, connection_id: str) -> VpnConnection:
    connection = find(context, VpnConnection, connection_id)
    if connection is None or connection.state == VpnState.DELETED:
        raise ec2.InvalidVpnConnectionIDNotFound(connection_id)
    return connection


# --- virtual private gateways ------------------------------------------------------------
GATEWAY_FILTERS: dict[str, filters.Field] = {
    "vpn-gateway-id": lambda g: g.id,
    "state": lambda g: g.state,
    "type": lambda g: g.type,
    "availability-zone": lambda g: g.availability_zone,
    "amazon-side-asn": lambda g: str(g.amazon_side_asn),
    "attachment.vpc-id": lambda g: [a.vpc_id for a in g.attachments],
    "attachment.state": lambda g: [a.state for a in g.attachments],
}


def describe_gateway(gateway: VpnGateway) -> dict:
    item: dict = {
        "VpnGatewayId": gateway.id, "State": gateway.state, "Type": gateway.type,
        "AmazonSideAsn": gateway.amazon_side_asn,
        "VpcAttachments": [{"VpcId": a.vpc_id, "State": a.state} for a in gateway.attachments],
    }
    if gateway.availability_zone:
        item["AvailabilityZone"] = gateway.availability_zone
    if gateway.tags:
        item["Tags"] = tags.tag_set(gateway.tags)
    return item


def _amazon_side_asn(params: dict) -> int:
    """A private ASN (64512-65534, 4200000000-4294967294), AWS's ranges for it; the
    refusal's words are a guess."""
    asn = params.get("AmazonSideAsn", DEFAULT_AMAZON_SIDE_ASN)
    if not (64512 <= asn <= 65534 or 4200000000 <= asn <= 4294967294):
        raise ec2.InvalidParameterValue(
            f"Value ({asn}) for parameter amazonSideAsn is invalid. It must be a private ASN "
            "in the range 64512-65534 or 4200000000-4294967294")
    return asn


@operation("ec2", "CreateVpnGateway")
def create_vpn_gateway(context: RequestContext, params: dict) -> dict:
    zone = params.get("AvailabilityZone")
    if zone is not None:
        found = zone_by_name_or_id(context.account, context.region, zone)
        if found is None:  # the words are a guess
            raise ec2.InvalidParameterValue(f"Invalid availability zone: [{zone}]")
        zone = found.name
    gateway = VpnGateway(id=ids.new_id("vgw"), account=context.account, region=context.region,
                         type=_check_type(params.get("Type")),
                         amazon_side_asn=_amazon_side_asn(params), availability_zone=zone,
                         tags=tags.from_specifications(params, "vpn-gateway"))
    with context.store.transaction() as tx:
        tx.put(gateway)
    return {"VpnGateway": describe_gateway(gateway)}


@operation("ec2", "DescribeVpnGateways")
def describe_vpn_gateways(context: RequestContext, params: dict) -> dict:
    gateways = select(context, VpnGateway, params.get("VpnGatewayIds"))
    gateways = filters.apply(gateways, params.get("Filters"), GATEWAY_FILTERS)
    return {"VpnGateways": [describe_gateway(g) for g in gateways]}


def _attached_gateway(context: RequestContext, vpc_id: str) -> VpnGateway | None:
    return next((g for g in owned(context, VpnGateway) if g.vpc_id == vpc_id), None)


@operation("ec2", "AttachVpnGateway")
def attach_vpn_gateway(context: RequestContext, params: dict) -> dict:
    gateway = _find_gateway(context, params["VpnGatewayId"])
    vpc = require(context, Vpc, params["VpcId"])
    if gateway.vpc_id is not None:
        # The code is in AWS's list of EC2 errors; the words are a guess.
        raise ec2.VpnGatewayAttachmentLimitExceeded(
            f"The virtual private gateway {gateway.id} is already attached to network "
            f"{gateway.vpc_id}")
    other = _attached_gateway(context, vpc.id)
    if other is not None:  # the words are a guess: a VPC takes one virtual private gateway
        raise ec2.InvalidParameterValue(
            f"Network {vpc.id} already has a virtual private gateway attached ({other.id})")
    with context.store.transaction() as tx:
        mine = tx.edit(VpnGateway, gateway.id)
        mine.attachments = [a for a in mine.attachments if a.vpc_id != vpc.id]
        mine.attachments.append(VpcAttachment(vpc_id=vpc.id))
        sync_gateway_routes(tx, gateway.id)
    return {"VpcAttachment": {"VpcId": vpc.id, "State": AttachmentState.ATTACHING}}


@operation("ec2", "DetachVpnGateway")
def detach_vpn_gateway(context: RequestContext, params: dict) -> dict:
    gateway = _find_gateway(context, params["VpnGatewayId"])
    vpc_id = params["VpcId"]
    attachment = next((a for a in gateway.attachments
                       if a.vpc_id == vpc_id and a.state in HOLDING), None)
    if attachment is None:  # moto's words for AWS's code
        raise ec2.InvalidVpnGatewayAttachmentNotFound(gateway.id, vpc_id)
    with context.store.transaction() as tx:
        mine = tx.edit(VpnGateway, gateway.id)
        for held in mine.attachments:
            if held.vpc_id == vpc_id:
                held.state = AttachmentState.DETACHING
        sync_gateway_routes(tx, gateway.id)
    return {}


@operation("ec2", "DeleteVpnGateway")
def delete_vpn_gateway(context: RequestContext, params: dict) -> dict:
    gateway = _find_gateway(context, params["VpnGatewayId"])
    in_use = gateway.vpc_id is not None or any(
        c.vpn_gateway_id == gateway.id and c.state != VpnState.DELETED
        for c in owned(context, VpnConnection))
    if in_use:  # AWS's words, as Terraform's sweeper met them (#5831)
        raise ec2.IncorrectState("The VPN gateway is in use.")
    with context.store.transaction() as tx:
        mine = tx.edit(VpnGateway, gateway.id)
        mine.state, mine.deleted_at = VpnState.DELETED, now().isoformat()
        for table in owned(context, RouteTable):
            if gateway.id in table.propagating_vgws:
                tx.edit(RouteTable, table.id).propagating_vgws.remove(gateway.id)
        sync_gateway_routes(tx, gateway.id)
    return {}


def _propagation(context: RequestContext, params: dict, enable: bool
                 ) -> tuple[VpnGateway, RouteTable]:
    """The gateway and table of a propagation call: turning it on needs the gateway
    attached to the table's VPC; turning it off does not (it may have been detached)."""
    gateway = _find_gateway(context, params["GatewayId"])
    table = require(context, RouteTable, params["RouteTableId"])
    if enable and gateway.vpc_id != table.vpc_id:  # the code is AWS's; the words a guess
        raise ec2.GatewayNotAttached(
            f"resource {gateway.id} is not attached to network {table.vpc_id}")
    return gateway, table


@operation("ec2", "EnableVgwRoutePropagation")
def enable_vgw_route_propagation(context: RequestContext, params: dict) -> dict:
    gateway, table = _propagation(context, params, enable=True)
    with context.store.transaction() as tx:
        mine = tx.edit(RouteTable, table.id)
        if gateway.id not in mine.propagating_vgws:
            mine.propagating_vgws.append(gateway.id)
        sync_gateway_routes(tx, gateway.id, also=table.id)
    return {}


@operation("ec2", "DisableVgwRoutePropagation")
def disable_vgw_route_propagation(context: RequestContext, params: dict) -> dict:
    gateway, table = _propagation(context, params, enable=False)
    with context.store.transaction() as tx:
        mine = tx.edit(RouteTable, table.id)
        mine.propagating_vgws = [g for g in mine.propagating_vgws if g != gateway.id]
        sync_gateway_routes(tx, gateway.id, also=table.id)
    return {}


# --- customer gateways -------------------------------------------------------------------
CUSTOMER_GATEWAY_FILTERS: dict[str, filters.Field] = {
    "customer-gateway-id": lambda g: g.id,
    "state": lambda g: g.state,
    "type": lambda g: g.type,
    "bgp-asn": lambda g: g.bgp_asn,
    "ip-address": lambda g: g.ip_address,
}


def describe_customer_gateway(gateway: CustomerGateway) -> dict:
    item: dict = {"CustomerGatewayId": gateway.id, "State": gateway.state, "Type": gateway.type,
                  "BgpAsn": gateway.bgp_asn}
    for key, value in (("IpAddress", gateway.ip_address), ("DeviceName", gateway.device_name),
                       ("CertificateArn", gateway.certificate_arn)):
        if value:
            item[key] = value
    if gateway.tags:
        item["Tags"] = tags.tag_set(gateway.tags)
    return item


@operation("ec2", "CreateCustomerGateway")
def create_customer_gateway(context: RequestContext, params: dict) -> dict:
    address = params.get("IpAddress") or params.get("PublicIp")
    if not address and not params.get("CertificateArn"):
        raise ec2.MissingParameter("ipAddress")  # AWS needs an address or a certificate
    if address:
        try:
            address = str(ipaddress.IPv4Address(address))
        except ValueError:
            raise ec2.InvalidParameterValue(
                f"Value ({address}) for parameter ipAddress is invalid. "
                "Invalid Format.") from None  # the words are a guess
    asn = params.get("BgpAsnExtended") or params.get("BgpAsn") or 65000
    same = next((g for g in owned(context, CustomerGateway)
                 if g.state == VpnState.AVAILABLE and g.ip_address == address
                 and g.bgp_asn == str(asn) and g.type == params.get("Type")), None)
    if same is not None:  # AWS answers a create of the same gateway with the one it has
        return {"CustomerGateway": describe_customer_gateway(same)}
    gateway = CustomerGateway(id=ids.new_id("cgw"), account=context.account,
                              region=context.region, type=_check_type(params.get("Type")),
                              bgp_asn=str(asn), ip_address=address,
                              device_name=params.get("DeviceName"),
                              certificate_arn=params.get("CertificateArn"),
                              tags=tags.from_specifications(params, "customer-gateway"))
    with context.store.transaction() as tx:
        tx.put(gateway)
    return {"CustomerGateway": describe_customer_gateway(gateway)}


@operation("ec2", "DescribeCustomerGateways")
def describe_customer_gateways(context: RequestContext, params: dict) -> dict:
    gateways = select(context, CustomerGateway, params.get("CustomerGatewayIds"))
    gateways = filters.apply(gateways, params.get("Filters"), CUSTOMER_GATEWAY_FILTERS)
    return {"CustomerGateways": [describe_customer_gateway(g) for g in gateways]}


@operation("ec2", "DeleteCustomerGateway")
def delete_customer_gateway(context: RequestContext, params: dict) -> dict:
    gateway = _find_customer_gateway(context, params["CustomerGatewayId"])
    if any(c.customer_gateway_id == gateway.id and c.state != VpnState.DELETED
           for c in owned(context, VpnConnection)):  # the words are a guess
        raise ec2.IncorrectState(f"The customer gateway {gateway.id} is in use.")
    with context.store.transaction() as tx:
        mine = tx.edit(CustomerGateway, gateway.id)
        mine.state, mine.deleted_at = VpnState.DELETED, now().isoformat()
    return {}


# --- VPN connections ---------------------------------------------------------------------
CONNECTION_FILTERS: dict[str, filters.Field] = {
    "vpn-connection-id": lambda c: c.id,
    "state": lambda c: c.state,
    "type": lambda c: c.type,
    "customer-gateway-id": lambda c: c.customer_gateway_id,
    "vpn-gateway-id": lambda c: c.vpn_gateway_id,
    "option.static-routes-only": lambda c: c.static_routes_only,
    "route.destination-cidr-block": lambda c: [r.destination_cidr_block for r in c.routes],
}


def customer_gateway_configuration(connection: VpnConnection,
                                   customer: CustomerGateway | None) -> str:
    """The configuration AWS hands the customer gateway's administrator, in the shape of
    AWS's ``vpn_connection`` document (its generic form), trimmed to what is known here:
    each tunnel's outside and inside addresses and a pre-shared key. Nothing answers on
    the Amazon side."""
    customer_ip = customer.ip_address if customer is not None else ""
    tunnels = []
    for number, (outside, inside) in enumerate(zip(connection.tunnel_outside_addresses,
                                                   connection.tunnel_inside_cidrs,
                                                   strict=True), start=1):
        block = ipaddress.IPv4Network(inside)
        amazon, customer_inside = block.network_address + 1, block.network_address + 2
        # A stable key per tunnel (the answer must not change between calls)
        key = hashlib.sha256(f"{connection.id}/{number}".encode()).hexdigest()[:32]
        tunnels.append(
            f'  <ipsec_tunnel number="{number}">\n'
            f"    <customer_gateway><tunnel_outside_address><ip_address>{escape(customer_ip)}"
            f"</ip_address></tunnel_outside_address><tunnel_inside_address><ip_address>"
            f"{customer_inside}</ip_address><network_mask>255.255.255.252</network_mask>"
            f"<network_cidr>30</network_cidr></tunnel_inside_address></customer_gateway>\n"
            f"    <vpn_gateway><tunnel_outside_address><ip_address>{outside}</ip_address>"
            f"</tunnel_outside_address><tunnel_inside_address><ip_address>{amazon}"
            f"</ip_address><network_mask>255.255.255.252</network_mask><network_cidr>30"
            f"</network_cidr></tunnel_inside_address></vpn_gateway>\n"
            f"    <ike><authentication_protocol>sha1</authentication_protocol>"
            f"<encryption_protocol>aes-128-cbc</encryption_protocol><lifetime>28800"
            f"</lifetime><perfect_forward_secrecy>group2</perfect_forward_secrecy>"
            f"<mode>main</mode><pre_shared_key>{key}</pre_shared_key></ike>\n"
            f"  </ipsec_tunnel>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<vpn_connection id="{connection.id}">\n'
            f"  <customer_gateway_id>{connection.customer_gateway_id}</customer_gateway_id>\n"
            f"  <vpn_gateway_id>{connection.vpn_gateway_id}</vpn_gateway_id>\n"
            f"  <vpn_connection_type>{connection.type}</vpn_connection_type>\n"
            + "".join(tunnels) + "</vpn_connection>")


def describe_connection(context: RequestContext, connection: VpnConnection,
                        configuration: bool) -> dict:
    item: dict = {
        "VpnConnectionId": connection.id, "State": connection.state, "Type": connection.type,
        "CustomerGatewayId": connection.customer_gateway_id,
        "VpnGatewayId": connection.vpn_gateway_id, "Category": "VPN",
        "Options": {"StaticRoutesOnly": connection.static_routes_only,
                    "LocalIpv4NetworkCidr": connection.local_ipv4_network_cidr,
                    "RemoteIpv4NetworkCidr": connection.remote_ipv4_network_cidr,
                    "TunnelInsideIpVersion": "ipv4",
                    "TunnelOptions": [{"OutsideIpAddress": o, "TunnelInsideCidr": i}
                                      for o, i in zip(connection.tunnel_outside_addresses,
                                                      connection.tunnel_inside_cidrs,
                                                      strict=True)]},
        "Routes": [{"DestinationCidrBlock": r.destination_cidr_block, "Source": r.source,
                    "State": r.state} for r in connection.routes],
        # Tunnels are never up: there is nobody at the other end.
        "VgwTelemetry": [{"OutsideIpAddress": o, "Status": "DOWN", "AcceptedRouteCount": 0,
                          "LastStatusChange": connection.created,
                          "StatusMessage": ""} for o in connection.tunnel_outside_addresses],
    }
    # As at AWS: always in the create's answer, in Describe's only while pending or available.
    if configuration:
        customer = context.store.get(CustomerGateway, connection.customer_gateway_id)
        item["CustomerGatewayConfiguration"] = customer_gateway_configuration(connection, customer)
    if connection.tags:
        item["Tags"] = tags.tag_set(connection.tags)
    return item


@operation("ec2", "CreateVpnConnection")
def create_vpn_connection(context: RequestContext, params: dict) -> dict:
    if params.get("VpnGatewayId") and params.get("TransitGatewayId"):
        # AWS's words (moto's AWS-verified test_vpn_connections.py)
        raise ec2.InvalidParameterValue(
            "The request must not contain both parameter vpnGatewayId and transitGatewayId")
    kind = _check_type(params.get("Type"))
    customer = _find_customer_gateway(context, params["CustomerGatewayId"])
    if params.get("TransitGatewayId"):
        gateway_id = params["TransitGatewayId"]
        if find(context, TransitGateway, gateway_id) is None:
            # AWS's words (moto's AWS-verified test_vpn_connections.py)
            raise ServiceError(f"The transitGateway ID '{gateway_id}' does not exist",
                               code="InvalidTransitGatewayID.NotFound")
        raise ec2.InvalidParameterValue(
            "pocketlink does not connect VPN connections to transit gateways yet")
    if not params.get("VpnGatewayId"):
        raise ec2.MissingParameter("vpnGatewayId")
    gateway = _find_gateway(context, params["VpnGatewayId"])
    options = params.get("Options") or {}
    live = [c for c in context.store.all(VpnConnection) if c.state != VpnState.DELETED]
    taken = {a for c in live for a in c.tunnel_outside_addresses}
    inside = tunnel_inside_cidrs({b for c in live for b in c.tunnel_inside_cidrs})
    if inside is None:  # AWS's code for its VPN connection quota; the words are a guess
        raise ec2.VpnConnectionLimitExceeded("The maximum number of VPN connections has been "
                                             "reached.")
    connection = VpnConnection(
        id=ids.new_id("vpn"), account=context.account, region=context.region, type=kind,
        customer_gateway_id=customer.id, vpn_gateway_id=gateway.id,
        static_routes_only=bool(options.get("StaticRoutesOnly", False)),
        local_ipv4_network_cidr=options.get("LocalIpv4NetworkCidr", "0.0.0.0/0"),
        remote_ipv4_network_cidr=options.get("RemoteIpv4NetworkCidr", "0.0.0.0/0"),
        tunnel_outside_addresses=free_outside_addresses(taken),
        tunnel_inside_cidrs=inside,
        tags=tags.from_specifications(params, "vpn-connection"))
    with context.store.transaction() as tx:
        tx.put(connection)
    return {"VpnConnection": describe_connection(context, connection, configuration=True)}


@operation("ec2", "DescribeVpnConnections")
def describe_vpn_connections(context: RequestContext, params: dict) -> dict:
    connections = select(context, VpnConnection, params.get("VpnConnectionIds"))
    connections = filters.apply(connections, params.get("Filters"), CONNECTION_FILTERS)
    return {"VpnConnections": [
        describe_connection(context, c, c.state in (VpnState.PENDING, VpnState.AVAILABLE))
        for c in connections]}


@operation("ec2", "DeleteVpnConnection")
def delete_vpn_connection(context: RequestContext, params: dict) -> dict:
    connection = _find_connection(context, params["VpnConnectionId"])
    with context.store.transaction() as tx:
        tx.edit(VpnConnection, connection.id).state = VpnState.DELETING
        sync_gateway_routes(tx, connection.vpn_gateway_id)
    return {}


def _static_route(context: RequestContext, params: dict) -> tuple[VpnConnection, str]:
    connection = _find_connection(context, params["VpnConnectionId"])
    if connection.state != VpnState.AVAILABLE:  # the words are a guess
        raise ec2.IncorrectState(
            f"The VPN connection {connection.id} is not in the available state")
    if not connection.static_routes_only:  # the words are a guess
        raise ec2.InvalidParameterValue(
            f"The VPN connection {connection.id} does not use static routes")
    cidr = str(ipv4_network(params["DestinationCidrBlock"], "destinationCidrBlock"))
    return connection, cidr


@operation("ec2", "CreateVpnConnectionRoute")
def create_vpn_connection_route(context: RequestContext, params: dict) -> dict:
    connection, cidr = _static_route(context, params)
    if any(r.destination_cidr_block == cidr for r in connection.routes):
        raise ec2.RouteAlreadyExists(f"The route identified by {cidr} already exists.")
    with context.store.transaction() as tx:
        tx.edit(VpnConnection, connection.id).routes.append(
            VpnStaticRoute(destination_cidr_block=cidr))
    return {}


@operation("ec2", "DeleteVpnConnectionRoute")
def delete_vpn_connection_route(context: RequestContext, params: dict) -> dict:
    connection, cidr = _static_route(context, params)
    if not any(r.destination_cidr_block == cidr and r.state != VpnState.DELETING
               for r in connection.routes):
        raise ec2.InvalidRouteNotFound(cidr, connection.id)  # the words are a guess
    with context.store.transaction() as tx:
        mine = tx.edit(VpnConnection, connection.id)
        for route in mine.routes:
            if route.destination_cidr_block == cidr:
                route.state = VpnState.DELETING
        sync_gateway_routes(tx, connection.vpn_gateway_id)
    return {}
