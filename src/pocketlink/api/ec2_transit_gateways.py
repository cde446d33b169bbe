"""Transit gateways, their VPC attachments and their route tables (model/transit_gateways.py).

A gateway is created with its default route table (when either default option is on);
a VPC attachment takes one subnet per Availability Zone and an ENI in each, and is
associated with the default association table and propagated into the default
propagation table as the options say. Only the caller's own VPCs attach (no Resource
Access Manager sharing, so no acceptance); the data path is network/transit_gateways.py's.

EC2's model names these errors but AWS documents few of their messages: the NotFound
wordings are AWS's as its answers quote them; the others are pocketlink's guesses in
EC2's style, marked where they are made.
"""

from __future__ import annotations

import ipaddress

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.ec2_network_interfaces import new_interface
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import find, owned, require
from pocketlink.model import ids
from pocketlink.model.ec2 import NetworkInterface, Subnet, Vpc
from pocketlink.model.transit_gateways import (
    LIVE,
    MAX_LINKS,
    TransitGateway,
    TransitGatewayOptions,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayState,
    TransitGatewayVpcAttachment,
)
from pocketlink.store import Store
from pocketlink.wire.errors import ServiceError

_OPTIONS = {  # the API's option -> the model's field (enable/disable words)
    "AutoAcceptSharedAttachments": "auto_accept_shared_attachments",
    "DefaultRouteTableAssociation": "default_route_table_association",
    "DefaultRouteTablePropagation": "default_route_table_propagation",
    "VpnEcmpSupport": "vpn_ecmp_support",
    "DnsSupport": "dns_support",
    "SecurityGroupReferencingSupport": "security_group_referencing_support",
    "MulticastSupport": "multicast_support",
}


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(message, code=code)


def _gateway_not_found(gateway_id: str) -> ServiceError:
    return _error("InvalidTransitGatewayID.NotFound",
                  f"Transit Gateway {gateway_id} was deleted or does not exist.")


def _attachment_not_found(attachment_id: str) -> ServiceError:
    return _error("InvalidTransitGatewayAttachmentID.NotFound",
                  f"Transit Gateway Attachment {attachment_id} was deleted or does not exist.")


def _table_not_found(table_id: str) -> ServiceError:
    return _error("InvalidRouteTableID.NotFound",
                  f"Transit Gateway Route Table {table_id} was deleted or does not exist.")


def find_gateway(context: RequestContext, gateway_id: str, live: bool = True) -> TransitGateway:
    found = find(context, TransitGateway, gateway_id)
    if found is None or (live and found.state not in LIVE):
        raise _gateway_not_found(gateway_id)
    return found


def _find_attachment(context: RequestContext, attachment_id: str) -> TransitGatewayVpcAttachment:
    found = find(context, TransitGatewayVpcAttachment, attachment_id)
    if found is None or found.state not in LIVE:
        raise _attachment_not_found(attachment_id)
    return found


def _find_table(context: RequestContext, table_id: str) -> TransitGatewayRouteTable:
    found = find(context, TransitGatewayRouteTable, table_id)
    if found is None or found.state not in LIVE:
        raise _table_not_found(table_id)
    return found


def _arn(gateway: TransitGateway) -> str:
    return f"arn:aws:ec2:{gateway.region}:{gateway.account}:transit-gateway/{gateway.id}"


def describe_gateway(gateway: TransitGateway) -> dict:
    options = gateway.options
    shown = {"AmazonSideAsn": options.amazon_side_asn,
             **{member: getattr(options, name) for member, name in _OPTIONS.items()}}
    if options.association_default_route_table_id:
        shown["AssociationDefaultRouteTableId"] = options.association_default_route_table_id
    if options.propagation_default_route_table_id:
        shown["PropagationDefaultRouteTableId"] = options.propagation_default_route_table_id
    item = {"TransitGatewayId": gateway.id, "TransitGatewayArn": _arn(gateway),
            "State": gateway.state, "OwnerId": gateway.account,
            "Description": gateway.description, "CreationTime": gateway.created,
            "Options": shown}
    if gateway.tags:
        item["Tags"] = tags.tag_set(gateway.tags)
    return item


GATEWAY_FILTERS: dict[str, filters.Field] = {
    "transit-gateway-id": lambda g: g.id,
    "state": lambda g: g.state,
    "owner-id": lambda g: g.account,
    "options.amazon-side-asn": lambda g: g.options.amazon_side_asn,
    "options.association-default-route-table-id":
        lambda g: g.options.association_default_route_table_id,
    "options.propagation-default-route-table-id":
        lambda g: g.options.propagation_default_route_table_id,
    "options.default-route-table-association": lambda g: g.options.default_route_table_association,
    "options.default-route-table-propagation": lambda g: g.options.default_route_table_propagation,
    "options.dns-support": lambda g: g.options.dns_support,
    "options.vpn-ecmp-support": lambda g: g.options.vpn_ecmp_support,
}


def _enabled(value: object, member: str) -> str:
    if value not in ("enable", "disable"):
        raise invalid_value(member, value, "Valid values are: enable, disable")
    return str(value)


def _options(given: dict) -> TransitGatewayOptions:
    options = TransitGatewayOptions()
    for member, name in _OPTIONS.items():
        if member in given:
            setattr(options, name, _enabled(given[member], member))
    if "AmazonSideAsn" in given:
        options.amazon_side_asn = _asn(given["AmazonSideAsn"])
    if options.multicast_support == "enable":
        raise ec2.InvalidParameterValue("pocketlink does not model transit gateway multicast")
    return options


def _asn(value: object) -> int:
    asn = int(value)  # type: ignore[call-overload]
    # The private ASN ranges, as the Transit Gateway guide lists them.
    if not (64512 <= asn <= 65534 or 4200000000 <= asn <= 4294967294):
        raise invalid_value("AmazonSideAsn", asn, "It must be a private ASN in the range "
                            "64512-65534 or 4200000000-4294967294")
    return asn


@operation("ec2", "CreateTransitGateway")
def create_transit_gateway(context: RequestContext, params: dict) -> dict:
    options = _options(params.get("Options") or {})
    gateway = TransitGateway(id=ids.new_id("tgw"), account=context.account,
                             region=context.region, description=params.get("Description") or "",
                             options=options,
                             tags=tags.from_specifications(params, "transit-gateway"))
    table = None
    if "enable" in (options.default_route_table_association,
                    options.default_route_table_propagation):
        table = TransitGatewayRouteTable(
            id=ids.new_id("tgw-rtb"), account=context.account, region=context.region,
            transit_gateway_id=gateway.id,
            default_association=options.default_route_table_association == "enable",
            default_propagation=options.default_route_table_propagation == "enable")
        if table.default_association:
            options.association_default_route_table_id = table.id
        if table.default_propagation:
            options.propagation_default_route_table_id = table.id
    with context.store.transaction() as tx:
        tx.put(gateway)
        if table is not None:
            tx.put(table)
    return {"TransitGateway": describe_gateway(gateway)}


@operation("ec2", "DescribeTransitGateways")
def describe_transit_gateways(context: RequestContext, params: dict) -> dict:
    wanted = params.get("TransitGatewayIds")
    found = [find_gateway(context, i, live=False) for i in dict.fromkeys(wanted)] if wanted \
        else owned(context, TransitGateway)
    found = filters.apply(found, params.get("Filters"), GATEWAY_FILTERS)
    chunk, more = pages.page(found, params)
    return {"TransitGateways": [describe_gateway(g) for g in chunk], **more}


@operation("ec2", "DeleteTransitGateway")
def delete_transit_gateway(context: RequestContext, params: dict) -> dict:
    gateway = find_gateway(context, params["TransitGatewayId"])
    attached = [a.id for a in _attachments(context.store, gateway.id)]
    if attached:  # the words are AWS's as Terraform's issues quote them
        raise ec2.IncorrectState(f"{gateway.id} has non-deleted Transit Gateway Attachments: "
                                 f"{', '.join(attached)}")
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGateway, gateway.id)
        mine.state = TransitGatewayState.DELETING
        for table in context.store.all(TransitGatewayRouteTable):
            if table.transit_gateway_id == gateway.id and table.state in LIVE:
                tx.edit(TransitGatewayRouteTable, table.id).state = TransitGatewayState.DELETING
    return {"TransitGateway": describe_gateway(mine)}


@operation("ec2", "ModifyTransitGateway")
def modify_transit_gateway(context: RequestContext, params: dict) -> dict:
    """The description and options; the default tables named must be the gateway's, and
    the tables' Default* flags follow them. CIDR blocks (Connect peers) are not modelled."""
    gateway = find_gateway(context, params["TransitGatewayId"])
    given = params.get("Options") or {}
    if given.get("AddTransitGatewayCidrBlocks") or given.get("RemoveTransitGatewayCidrBlocks"):
        raise ec2.InvalidParameterValue("pocketlink does not model transit gateway CIDR blocks")
    defaults = {}
    for member in ("AssociationDefaultRouteTableId", "PropagationDefaultRouteTableId"):
        if given.get(member):
            table = _find_table(context, given[member])
            if table.transit_gateway_id != gateway.id:  # the words are a guess
                raise ec2.InvalidParameterValue(f"{table.id} is not a route table of "
                                                f"{gateway.id}")
            defaults[member] = table.id
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGateway, gateway.id)
        if "Description" in params:
            mine.description = params["Description"] or ""
        for member, name in _OPTIONS.items():
            if member in given and member != "MulticastSupport":
                setattr(mine.options, name, _enabled(given[member], member))
        if "AmazonSideAsn" in given:
            mine.options.amazon_side_asn = _asn(given["AmazonSideAsn"])
        if "AssociationDefaultRouteTableId" in defaults:
            mine.options.association_default_route_table_id = \
                defaults["AssociationDefaultRouteTableId"]
        if "PropagationDefaultRouteTableId" in defaults:
            mine.options.propagation_default_route_table_id = \
                defaults["PropagationDefaultRouteTableId"]
        for table in context.store.all(TransitGatewayRouteTable):
            if table.transit_gateway_id != gateway.id:
                continue
            association = table.id == mine.options.association_default_route_table_id
            propagation = table.id == mine.options.propagation_default_route_table_id
            if (table.default_association, table.default_propagation) != (association,
                                                                          propagation):
                edited = tx.edit(TransitGatewayRouteTable, table.id)
                edited.default_association, edited.default_propagation = association, \
                    propagation
    return {"TransitGateway": describe_gateway(mine)}


# --- VPC attachments ------------------------------------------------------------------------
def _attachments(store: Store, gateway_id: str) -> list[TransitGatewayVpcAttachment]:
    return [a for a in store.all(TransitGatewayVpcAttachment)
            if a.transit_gateway_id == gateway_id and a.state in LIVE]


def _association_of(store: Store, attachment_id: str) -> TransitGatewayRouteTable | None:
    return next((t for t in store.all(TransitGatewayRouteTable)
                 if attachment_id in t.associations and t.state in LIVE), None)


def describe_vpc_attachment(attachment: TransitGatewayVpcAttachment) -> dict:
    item = {"TransitGatewayAttachmentId": attachment.id,
            "TransitGatewayId": attachment.transit_gateway_id, "VpcId": attachment.vpc_id,
            "VpcOwnerId": attachment.account, "State": attachment.state,
            "SubnetIds": list(attachment.subnet_ids), "CreationTime": attachment.created,
            "Options": {"DnsSupport": attachment.dns_support,
                        "Ipv6Support": attachment.ipv6_support,
                        "ApplianceModeSupport": attachment.appliance_mode_support,
                        "SecurityGroupReferencingSupport": "disable"}}
    if attachment.tags:
        item["Tags"] = tags.tag_set(attachment.tags)
    return item


def _describe_attachment(store: Store, attachment: TransitGatewayVpcAttachment) -> dict:
    item = {"TransitGatewayAttachmentId": attachment.id,
            "TransitGatewayId": attachment.transit_gateway_id,
            "TransitGatewayOwnerId": attachment.account, "ResourceOwnerId": attachment.account,
            "ResourceType": "vpc", "ResourceId": attachment.vpc_id, "State": attachment.state,
            "CreationTime": attachment.created}
    table = _association_of(store, attachment.id)
    if table is not None:
        item["Association"] = {"TransitGatewayRouteTableId": table.id, "State": "associated"}
    if attachment.tags:
        item["Tags"] = tags.tag_set(attachment.tags)
    return item


ATTACHMENT_FILTERS: dict[str, filters.Field] = {
    "transit-gateway-attachment-id": lambda a: a.id,
    "transit-gateway-id": lambda a: a.transit_gateway_id,
    "vpc-id": lambda a: a.vpc_id,
    "state": lambda a: a.state,
}
ATTACHMENTS_FILTERS: dict[str, filters.Field] = {
    **ATTACHMENT_FILTERS,
    "resource-id": lambda a: a.vpc_id,
    "resource-type": lambda a: "vpc",
    "resource-owner-id": lambda a: a.account,
    "transit-gateway-owner-id": lambda a: a.account,
}


def _attachment_subnets(context: RequestContext, vpc: Vpc, subnet_ids: list[str]
                        ) -> list[Subnet]:
    if not subnet_ids:
        raise ec2.MissingParameter("SubnetIds")
    subnets = [require(context, Subnet, i) for i in dict.fromkeys(subnet_ids)]
    zones: set[str] = set()
    for subnet in subnets:
        if subnet.vpc_id != vpc.id:  # the words are a guess
            raise ec2.InvalidParameterValue(f"Subnet {subnet.id} is not in {vpc.id}")
        if subnet.availability_zone in zones:
            raise ec2.DuplicateSubnetsInSameZone(
                f"Duplicate Subnets for same AvailabilityZone: {subnet.availability_zone}")
        zones.add(subnet.availability_zone)
    return subnets


def _free_link(store: Store) -> int:
    taken = {a.link_index for a in store.all(TransitGatewayVpcAttachment) if a.state in LIVE}
    free = next((i for i in range(MAX_LINKS) if i not in taken), None)
    if free is None:
        raise ec2.InvalidParameterValue("pocketlink holds no more transit gateway attachments")
    return free


@operation("ec2", "CreateTransitGatewayVpcAttachment")
def create_transit_gateway_vpc_attachment(context: RequestContext, params: dict) -> dict:
    gateway = find_gateway(context, params["TransitGatewayId"])
    vpc = require(context, Vpc, params["VpcId"])
    subnets = _attachment_subnets(context, vpc, params.get("SubnetIds") or [])
    if any(a.vpc_id == vpc.id for a in _attachments(context.store, gateway.id)):
        raise _error("DuplicateTransitGatewayAttachment",  # the words are a guess
                     f"{gateway.id} has a non-deleted Transit Gateway Attachment for {vpc.id}")
    given = params.get("Options") or {}
    if given.get("ApplianceModeSupport") == "enable":
        raise ec2.InvalidParameterValue("pocketlink does not model appliance mode")
    attachment = TransitGatewayVpcAttachment(
        id=ids.new_id("tgw-attach"), account=context.account, region=context.region,
        transit_gateway_id=gateway.id, vpc_id=vpc.id, subnet_ids=[s.id for s in subnets],
        link_index=_free_link(context.store),
        dns_support=_enabled(given.get("DnsSupport", "enable"), "DnsSupport"),
        ipv6_support=_enabled(given.get("Ipv6Support", "disable"), "Ipv6Support"),
        tags=tags.from_specifications(params, "transit-gateway-attachment"))
    enis = [new_interface(context, s, group_ids=[], private_ip=None,
                          description=f"Network Interface for Transit Gateway Attachment "
                          f"{attachment.id}", interface_type="transit_gateway",
                          requester_managed=True, status="in-use") for s in subnets]
    attachment.network_interface_ids = [e.id for e in enis]
    with context.store.transaction() as tx:
        for eni in enis:
            tx.put(eni)
        tx.put(attachment)
        options = gateway.options
        if options.default_route_table_association == "enable" and \
                options.association_default_route_table_id:
            tx.edit(TransitGatewayRouteTable, options.association_default_route_table_id
                    ).associations.append(attachment.id)
        if options.default_route_table_propagation == "enable" and \
                options.propagation_default_route_table_id:
            tx.edit(TransitGatewayRouteTable, options.propagation_default_route_table_id
                    ).propagations.append(attachment.id)
    return {"TransitGatewayVpcAttachment": describe_vpc_attachment(attachment)}


@operation("ec2", "ModifyTransitGatewayVpcAttachment")
def modify_transit_gateway_vpc_attachment(context: RequestContext, params: dict) -> dict:
    """Subnets added (one per zone still, an ENI each) or removed (their ENIs go), and the
    DNS and IPv6 options; IPv6 support decides whether the VPC's IPv6 blocks propagate."""
    attachment = _find_attachment(context, params["TransitGatewayAttachmentId"])
    vpc = require(context, Vpc, attachment.vpc_id)
    removed = list(dict.fromkeys(params.get("RemoveSubnetIds") or []))
    for subnet_id in removed:
        if subnet_id not in attachment.subnet_ids:  # the words are a guess
            raise ec2.InvalidParameterValue(f"Subnet {subnet_id} is not in {attachment.id}")
    kept = [i for i in attachment.subnet_ids if i not in removed]
    added = [i for i in dict.fromkeys(params.get("AddSubnetIds") or []) if i not in kept]
    subnets = _attachment_subnets(context, vpc, kept + added)
    given = params.get("Options") or {}
    if given.get("ApplianceModeSupport") == "enable":
        raise ec2.InvalidParameterValue("pocketlink does not model appliance mode")
    enis = [new_interface(context, s, group_ids=[], private_ip=None,
                          description=f"Network Interface for Transit Gateway Attachment "
                          f"{attachment.id}", interface_type="transit_gateway",
                          requester_managed=True, status="in-use")
            for s in subnets if s.id in added]
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGatewayVpcAttachment, attachment.id)
        for eni_id in list(mine.network_interface_ids):
            eni = context.store.get(NetworkInterface, eni_id)
            if eni is None or eni.subnet_id in removed:
                if eni is not None:
                    tx.delete(eni)
                mine.network_interface_ids.remove(eni_id)
        for eni in enis:
            tx.put(eni)
            mine.network_interface_ids.append(eni.id)
        mine.subnet_ids = kept + added
        if "DnsSupport" in given:
            mine.dns_support = _enabled(given["DnsSupport"], "DnsSupport")
        if "Ipv6Support" in given:
            mine.ipv6_support = _enabled(given["Ipv6Support"], "Ipv6Support")
    return {"TransitGatewayVpcAttachment": describe_vpc_attachment(mine)}


def _all_attachments(context: RequestContext, params: dict, ids_param: str
                     ) -> list[TransitGatewayVpcAttachment]:
    wanted = params.get(ids_param)
    if wanted:
        found = []
        for attachment_id in dict.fromkeys(wanted):
            attachment = context.store.get(TransitGatewayVpcAttachment, attachment_id)
            if attachment is None or attachment.account != context.account:
                raise _attachment_not_found(attachment_id)
            found.append(attachment)
        return found
    return owned(context, TransitGatewayVpcAttachment)


@operation("ec2", "DescribeTransitGatewayVpcAttachments")
def describe_transit_gateway_vpc_attachments(context: RequestContext, params: dict) -> dict:
    found = filters.apply(_all_attachments(context, params, "TransitGatewayAttachmentIds"),
                          params.get("Filters"), ATTACHMENT_FILTERS)
    chunk, more = pages.page(found, params)
    return {"TransitGatewayVpcAttachments": [describe_vpc_attachment(a) for a in chunk], **more}


@operation("ec2", "DescribeTransitGatewayAttachments")
def describe_transit_gateway_attachments(context: RequestContext, params: dict) -> dict:
    def associated(attachment: TransitGatewayVpcAttachment) -> str | None:
        table = _association_of(context.store, attachment.id)
        return table.id if table else None

    fields = {**ATTACHMENTS_FILTERS,
              "association.transit-gateway-route-table-id": associated,
              "association.state": lambda a: "associated" if associated(a) else None}
    found = filters.apply(_all_attachments(context, params, "TransitGatewayAttachmentIds"),
                          params.get("Filters"), fields)
    chunk, more = pages.page(found, params)
    return {"TransitGatewayAttachments": [_describe_attachment(context.store, a)
                                          for a in chunk], **more}


@operation("ec2", "DeleteTransitGatewayVpcAttachment")
def delete_transit_gateway_vpc_attachment(context: RequestContext, params: dict) -> dict:
    """The attachment leaves its route tables at once (as AWS disassociates it while
    deleting); its link and ENIs go once the gateway's router lets it go."""
    attachment = _find_attachment(context, params["TransitGatewayAttachmentId"])
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGatewayVpcAttachment, attachment.id)
        mine.state = TransitGatewayState.DELETING
        for table in context.store.all(TransitGatewayRouteTable):
            if attachment.id in table.associations or attachment.id in table.propagations:
                edited = tx.edit(TransitGatewayRouteTable, table.id)
                edited.associations = [i for i in edited.associations if i != attachment.id]
                edited.propagations = [i for i in edited.propagations if i != attachment.id]
    return {"TransitGatewayVpcAttachment": describe_vpc_attachment(mine)}


# --- route tables ---------------------------------------------------------------------------
def describe_route_table(table: TransitGatewayRouteTable) -> dict:
    item = {"TransitGatewayRouteTableId": table.id,
            "TransitGatewayId": table.transit_gateway_id, "State": table.state,
            "DefaultAssociationRouteTable": table.default_association,
            "DefaultPropagationRouteTable": table.default_propagation,
            "CreationTime": table.created}
    if table.tags:
        item["Tags"] = tags.tag_set(table.tags)
    return item


TABLE_FILTERS: dict[str, filters.Field] = {
    "transit-gateway-route-table-id": lambda t: t.id,
    "transit-gateway-id": lambda t: t.transit_gateway_id,
    "state": lambda t: t.state,
    "default-association-route-table": lambda t: t.default_association,
    "default-propagation-route-table": lambda t: t.default_propagation,
}


@operation("ec2", "CreateTransitGatewayRouteTable")
def create_transit_gateway_route_table(context: RequestContext, params: dict) -> dict:
    gateway = find_gateway(context, params["TransitGatewayId"])
    table = TransitGatewayRouteTable(
        id=ids.new_id("tgw-rtb"), account=context.account, region=context.region,
        transit_gateway_id=gateway.id,
        tags=tags.from_specifications(params, "transit-gateway-route-table"))
    with context.store.transaction() as tx:
        tx.put(table)
    return {"TransitGatewayRouteTable": describe_route_table(table)}


@operation("ec2", "DescribeTransitGatewayRouteTables")
def describe_transit_gateway_route_tables(context: RequestContext, params: dict) -> dict:
    wanted = params.get("TransitGatewayRouteTableIds")
    found = [_find_table(context, i) for i in dict.fromkeys(wanted)] if wanted \
        else owned(context, TransitGatewayRouteTable)
    found = filters.apply(found, params.get("Filters"), TABLE_FILTERS)
    chunk, more = pages.page(found, params)
    return {"TransitGatewayRouteTables": [describe_route_table(t) for t in chunk], **more}


@operation("ec2", "DeleteTransitGatewayRouteTable")
def delete_transit_gateway_route_table(context: RequestContext, params: dict) -> dict:
    table = _find_table(context, params["TransitGatewayRouteTableId"])
    if table.default_association or table.default_propagation:  # the words are a guess
        raise ec2.IncorrectState(f"{table.id} is a default route table of "
                                 f"{table.transit_gateway_id} and cannot be deleted")
    if table.associations:
        raise ec2.IncorrectState(f"{table.id} has associations: "
                                 f"{', '.join(table.associations)}")
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGatewayRouteTable, table.id)
        mine.state = TransitGatewayState.DELETING
    return {"TransitGatewayRouteTable": describe_route_table(mine)}


def _table_and_attachment(context: RequestContext, params: dict
                          ) -> tuple[TransitGatewayRouteTable, TransitGatewayVpcAttachment]:
    table = _find_table(context, params["TransitGatewayRouteTableId"])
    attachment = _find_attachment(context, params["TransitGatewayAttachmentId"])
    if attachment.transit_gateway_id != table.transit_gateway_id:
        raise ec2.InvalidParameterValue(  # the words are a guess
            f"{attachment.id} is not an attachment of {table.transit_gateway_id}")
    return table, attachment


def _link_item(attachment: TransitGatewayVpcAttachment, table_id: str, state: str) -> dict:
    return {"TransitGatewayRouteTableId": table_id,
            "TransitGatewayAttachmentId": attachment.id, "ResourceId": attachment.vpc_id,
            "ResourceType": "vpc", "State": state}


@operation("ec2", "AssociateTransitGatewayRouteTable")
def associate_transit_gateway_route_table(context: RequestContext, params: dict) -> dict:
    table, attachment = _table_and_attachment(context, params)
    current = _association_of(context.store, attachment.id)
    if current is not None:
        raise ec2.ResourceAlreadyAssociated(
            f"Transit Gateway Attachment {attachment.id} is already associated to a route "
            f"table ({current.id}).")
    with context.store.transaction() as tx:
        tx.edit(TransitGatewayRouteTable, table.id).associations.append(attachment.id)
    return {"Association": _link_item(attachment, table.id, "associating")}


@operation("ec2", "DisassociateTransitGatewayRouteTable")
def disassociate_transit_gateway_route_table(context: RequestContext, params: dict) -> dict:
    table, attachment = _table_and_attachment(context, params)
    if attachment.id not in table.associations:
        raise _error("InvalidAssociation.NotFound",  # the words are a guess
                     f"Transit Gateway Attachment {attachment.id} is not associated with "
                     f"{table.id}")
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGatewayRouteTable, table.id)
        mine.associations = [i for i in mine.associations if i != attachment.id]
    return {"Association": _link_item(attachment, table.id, "disassociating")}


@operation("ec2", "EnableTransitGatewayRouteTablePropagation")
def enable_transit_gateway_route_table_propagation(context: RequestContext, params: dict
                                                   ) -> dict:
    table, attachment = _table_and_attachment(context, params)
    if attachment.id in table.propagations:
        raise _error("TransitGatewayRouteTablePropagation.Duplicate",
                     f"Propagation for {attachment.id} already enabled")
    with context.store.transaction() as tx:
        tx.edit(TransitGatewayRouteTable, table.id).propagations.append(attachment.id)
    return {"Propagation": _link_item(attachment, table.id, "enabling")}


@operation("ec2", "DisableTransitGatewayRouteTablePropagation")
def disable_transit_gateway_route_table_propagation(context: RequestContext, params: dict
                                                    ) -> dict:
    table, attachment = _table_and_attachment(context, params)
    if attachment.id not in table.propagations:
        raise _error("InvalidRouteTableID.NotFound",  # the code is a guess
                     f"Propagation for {attachment.id} does not exist in {table.id}")
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGatewayRouteTable, table.id)
        mine.propagations = [i for i in mine.propagations if i != attachment.id]
    return {"Propagation": _link_item(attachment, table.id, "disabling")}


@operation("ec2", "GetTransitGatewayRouteTableAssociations")
def get_transit_gateway_route_table_associations(context: RequestContext, params: dict) -> dict:
    table = _find_table(context, params["TransitGatewayRouteTableId"])
    found = [a for a in (context.store.get(TransitGatewayVpcAttachment, i)
                         for i in table.associations) if a is not None]
    chunk, more = pages.page(found, params)
    return {"Associations": [{k: v for k, v in _link_item(a, table.id, "associated").items()
                              if k != "TransitGatewayRouteTableId"} for a in chunk], **more}


@operation("ec2", "GetTransitGatewayRouteTablePropagations")
def get_transit_gateway_route_table_propagations(context: RequestContext, params: dict) -> dict:
    table = _find_table(context, params["TransitGatewayRouteTableId"])
    found = [a for a in (context.store.get(TransitGatewayVpcAttachment, i)
                         for i in table.propagations) if a is not None]
    chunk, more = pages.page(found, params)
    return {"TransitGatewayRouteTablePropagations": [
        {k: v for k, v in _link_item(a, table.id, "enabled").items()
         if k != "TransitGatewayRouteTableId"} for a in chunk], **more}


# --- routes ---------------------------------------------------------------------------------
def effective_routes(store: Store, table: TransitGatewayRouteTable) -> list[dict]:
    """The table's routes as SearchTransitGatewayRoutes shows them: its static routes, then
    the CIDR blocks its propagating attachments' VPCs hold (a static route wins)."""
    routes = []
    for route in table.routes:
        attachment = store.get(TransitGatewayVpcAttachment, route.attachment_id or "")
        item = {"DestinationCidrBlock": route.destination_cidr_block, "Type": "static",
                "State": "blackhole" if route.blackhole or attachment is None else "active"}
        if attachment is not None:
            item["TransitGatewayAttachments"] = [{
                "ResourceId": attachment.vpc_id,
                "TransitGatewayAttachmentId": attachment.id, "ResourceType": "vpc"}]
        routes.append(item)
    static = {r.destination_cidr_block for r in table.routes}
    for attachment_id in table.propagations:
        attachment = store.get(TransitGatewayVpcAttachment, attachment_id)
        vpc = store.get(Vpc, attachment.vpc_id) if attachment else None
        if attachment is None or vpc is None:
            continue
        blocks = [a.cidr for a in vpc.cidr_associations]
        if attachment.ipv6_support == "enable":
            blocks += [a.cidr for a in vpc.ipv6_associations]
        routes += [{"DestinationCidrBlock": cidr, "Type": "propagated", "State": "active",
                    "TransitGatewayAttachments": [{
                        "ResourceId": attachment.vpc_id,
                        "TransitGatewayAttachmentId": attachment.id, "ResourceType": "vpc"}]}
                   for cidr in blocks if cidr not in static]
    return routes


ROUTE_FILTERS = {
    "type": lambda r: r["Type"],
    "state": lambda r: r["State"],
    "route-search.exact-match": lambda r: r["DestinationCidrBlock"],
    "attachment.transit-gateway-attachment-id":
        lambda r: [a["TransitGatewayAttachmentId"] for a in r.get("TransitGatewayAttachments", [])],
    "attachment.resource-id":
        lambda r: [a["ResourceId"] for a in r.get("TransitGatewayAttachments", [])],
    "attachment.resource-type": lambda r: ["vpc"] if r.get("TransitGatewayAttachments") else [],
}


def _destination(params: dict) -> str:
    given = params.get("DestinationCidrBlock")
    if not given:
        raise ec2.MissingParameter("DestinationCidrBlock")
    try:
        return str(ipaddress.ip_network(given))
    except ValueError:
        raise invalid_value("destinationCidrBlock", given,
                            "This is not a valid CIDR block.") from None


@operation("ec2", "CreateTransitGatewayRoute")
def create_transit_gateway_route(context: RequestContext, params: dict) -> dict:
    table = _find_table(context, params["TransitGatewayRouteTableId"])
    destination = _destination(params)
    blackhole = bool(params.get("Blackhole"))
    attachment_id = params.get("TransitGatewayAttachmentId")
    if blackhole == bool(attachment_id):  # the words are a guess
        raise ec2.InvalidParameterCombination(
            "Exactly one of TransitGatewayAttachmentId or Blackhole must be given")
    if attachment_id:
        _table_and_attachment(context, params)
    if any(r.destination_cidr_block == destination for r in table.routes):
        raise ec2.RouteAlreadyExists(f"Route {destination} already exists in Transit Gateway "
                                     f"Route Table {table.id}.")
    route = TransitGatewayRoute(destination_cidr_block=destination,
                                attachment_id=attachment_id, blackhole=blackhole)
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGatewayRouteTable, table.id)
        mine.routes.append(route)
    shown = next(r for r in effective_routes(context.store, mine)
                 if r["DestinationCidrBlock"] == destination)
    return {"Route": shown}


@operation("ec2", "DeleteTransitGatewayRoute")
def delete_transit_gateway_route(context: RequestContext, params: dict) -> dict:
    table = _find_table(context, params["TransitGatewayRouteTableId"])
    destination = _destination(params)
    shown = next((r for r in effective_routes(context.store, table)
                  if r["DestinationCidrBlock"] == destination and r["Type"] == "static"), None)
    if shown is None:
        raise ec2.InvalidRouteNotFound(destination, table.id)
    with context.store.transaction() as tx:
        mine = tx.edit(TransitGatewayRouteTable, table.id)
        mine.routes = [r for r in mine.routes if r.destination_cidr_block != destination]
    return {"Route": {**shown, "State": "deleted"}}


@operation("ec2", "SearchTransitGatewayRoutes")
def search_transit_gateway_routes(context: RequestContext, params: dict) -> dict:
    table = _find_table(context, params["TransitGatewayRouteTableId"])
    if not params.get("Filters"):
        raise ec2.MissingParameter("Filters")
    found = [r for r in effective_routes(context.store, table)
             if _matches(r, params["Filters"])]
    limit = params.get("MaxResults") or 1000
    return {"Routes": found[:limit], "AdditionalRoutesAvailable": len(found) > limit}


def _matches(route: dict, given: list[dict]) -> bool:
    """The search's filters; the route-search ones compare CIDR blocks, not strings."""
    network = ipaddress.ip_network(route["DestinationCidrBlock"])
    for flt in given:
        name, values = flt.get("Name"), flt.get("Values") or []
        blocks = [ipaddress.ip_network(v, strict=False) for v in values] \
            if name and name.startswith("route-search.") else []
        if name == "route-search.longest-prefix-match":
            ok = any(b.version == network.version and b.subnet_of(network) for b in blocks)
        elif name == "route-search.subnet-of-match":
            ok = any(b.version == network.version and network.subnet_of(b) for b in blocks)
        elif name == "route-search.supernet-of-match":
            ok = any(b.version == network.version and network.supernet_of(b) for b in blocks)
        elif name in ROUTE_FILTERS:
            have = ROUTE_FILTERS[name](route)
            ok = any(h in values for h in ([have] if isinstance(have, str) else have))
        else:
            raise ec2.InvalidParameterValue(f"The filter '{name}' is invalid")
        if not ok:
            return False
    return True

