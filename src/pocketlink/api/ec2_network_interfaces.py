"""Elastic network interfaces: every private address pocketlink hands out lives on one.

Instances' primary ENIs are made by RunInstances; endpoints and load balancer nodes add
theirs (requester-managed) in later areas. All of them show here, with their type.
"""

from __future__ import annotations

from pocketlink.api import addresses, filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.ec2_elastic_ips import describe_association, public_address
from pocketlink.api.ec2_route_tables import blackhole_routes
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.model import ids, regions
from pocketlink.model.ec2 import NetworkInterface, SecurityGroup, Subnet
from pocketlink.store import Store

ENI_FILTERS: dict[str, filters.Field] = {
    "network-interface-id": lambda e: e.id,
    "subnet-id": lambda e: e.subnet_id,
    "vpc-id": lambda e: e.vpc_id,
    "availability-zone": lambda e: e.availability_zone,
    "description": lambda e: e.description,
    "interface-type": lambda e: e.interface_type,
    "owner-id": lambda e: e.account,
    "requester-managed": lambda e: e.requester_managed,
    "requester-id": lambda e: e.requester_id,
    "status": lambda e: e.status,
    "mac-address": lambda e: e.mac_address,
    "private-ip-address": lambda e: [e.private_ip_address, *e.secondary_private_ip_addresses],
    "addresses.private-ip-address": lambda e: [e.private_ip_address,
                                               *e.secondary_private_ip_addresses],
    "addresses.primary": lambda e: [True] + [False] * len(e.secondary_private_ip_addresses),
    "ipv6-addresses.ipv6-address": lambda e: e.ipv6_addresses,
    "group-id": lambda e: e.group_ids,
    "attachment.instance-id": lambda e: e.instance_id,
    "attachment.attachment-id": lambda e: e.attachment_id,
    "attachment.device-index": lambda e: e.device_index if e.attachment_id else None,
    "attachment.status": lambda e: "attached" if e.attachment_id else None,
    "source-dest-check": lambda e: e.source_dest_check,
}


def group_refs(store: Store, group_ids: list[str]) -> list[dict]:
    refs = []
    for group_id in group_ids:
        group = store.get(SecurityGroup, group_id)
        refs.append({"GroupId": group_id, "GroupName": group.group_name if group else ""})
    return refs


def describe_interface(store: Store, eni: NetworkInterface) -> dict:
    dns = regions.private_dns_name(eni.region, eni.private_ip_address) \
        if eni.private_ip_address else None
    item: dict = {
        "NetworkInterfaceId": eni.id,
        "SubnetId": eni.subnet_id,
        "VpcId": eni.vpc_id,
        "AvailabilityZone": eni.availability_zone,
        "Description": eni.description,
        "OwnerId": eni.account,
        "RequesterManaged": eni.requester_managed,
        "Status": eni.status,
        "MacAddress": eni.mac_address,
        "SourceDestCheck": eni.source_dest_check,
        "InterfaceType": eni.interface_type,
        "Groups": group_refs(store, eni.group_ids),
        "Ipv6Addresses": [{"Ipv6Address": ip, "IsPrimaryIpv6": False}
                          for ip in eni.ipv6_addresses],
        "Ipv6Native": eni.private_ip_address is None,
        "PrivateIpAddresses": [],
        "TagSet": tags.tag_set(eni.tags),
    }
    if eni.requester_id:
        item["RequesterId"] = eni.requester_id
    if eni.private_ip_address:
        item["PrivateIpAddress"] = eni.private_ip_address
        item["PrivateDnsName"] = dns
        item["PrivateIpAddresses"] = [{"Primary": True, "PrivateIpAddress":
                                       eni.private_ip_address, "PrivateDnsName": dns}] + [
            {"Primary": False, "PrivateIpAddress": ip,
             "PrivateDnsName": regions.private_dns_name(eni.region, ip)}
            for ip in eni.secondary_private_ip_addresses]
    if eni.ipv6_addresses:
        item["Ipv6Address"] = eni.ipv6_addresses[0]
    public = public_address(store, eni.id)
    if public is not None:
        item["Association"] = describe_association(store, public)
        if item["PrivateIpAddresses"]:
            item["PrivateIpAddresses"][0]["Association"] = item["Association"]
    if eni.attachment_id:
        item["Attachment"] = {
            "AttachmentId": eni.attachment_id, "DeviceIndex": eni.device_index,
            "InstanceId": eni.instance_id, "InstanceOwnerId": eni.account,
            "Status": "attached", "AttachTime": eni.created,
            "DeleteOnTermination": eni.delete_on_termination, "NetworkCardIndex": 0,
        }
    return item


def new_interface(context: RequestContext, subnet: Subnet, *, group_ids: list[str],
                  private_ip: str | None = None, ipv6_count: int = 0,
                  ipv6_addresses: list[str] | None = None, description: str = "",
                  interface_type: str = "interface", taken: set[str] | None = None,
                  secondary_ips: list[str] | None = None, secondary_count: int = 0,
                  **fields: object) -> NetworkInterface:
    """An ENI in ``subnet`` with fresh addresses; ``taken`` collects picks of one request."""
    taken = taken if taken is not None else set()
    ipv4 = None
    if subnet.cidr_block:
        ipv4 = addresses.claim_ipv4(context.store, subnet, private_ip, taken) if private_ip \
            else addresses.allocate_ipv4(context.store, subnet, taken)
        taken.add(ipv4)
    elif private_ip or secondary_ips or secondary_count:
        raise ec2.InvalidParameterValue(f"Subnet {subnet.id} is IPv6-only and has no IPv4 addresses")
    secondary = addresses.take(context.store, subnet, secondary_ips or [], secondary_count, taken)
    if not ipv6_addresses and not ipv6_count and subnet.assign_ipv6_address_on_creation:
        ipv6_count = 1
    ipv6 = addresses.take(context.store, subnet, ipv6_addresses or [], ipv6_count, taken,
                          ipv6=True)
    return NetworkInterface(
        id=ids.new_id("eni"), account=context.account, region=context.region,
        vpc_id=subnet.vpc_id, subnet_id=subnet.id, availability_zone=subnet.availability_zone,
        private_ip_address=ipv4, secondary_private_ip_addresses=secondary,
        ipv6_addresses=ipv6, mac_address=ids.mac_address(),
        group_ids=group_ids, description=description, interface_type=interface_type,
        **fields,  # type: ignore[arg-type]
    )


def check_groups(context: RequestContext, vpc_id: str, group_ids: list[str]) -> list[str]:
    """The security groups an ENI in ``vpc_id`` gets: the VPC's default when none are named."""
    if not group_ids:
        default = next((g for g in owned(context, SecurityGroup)
                        if g.vpc_id == vpc_id and g.group_name == "default"), None)
        return [default.id] if default else []
    for group_id in group_ids:
        group = require(context, SecurityGroup, group_id)
        if group.vpc_id != vpc_id:
            raise ec2.InvalidParameter(f"Security group {group_id} and the network interface's VPC "
                                       f"{vpc_id} belong to different networks.")
    return list(dict.fromkeys(group_ids))


def _private_addresses(params: dict) -> tuple[str | None, list[str]]:
    """CreateNetworkInterface's primary and secondary private IPv4 addresses, from
    PrivateIpAddress and PrivateIpAddresses (one of which may be Primary). As the reference
    says of SecondaryPrivateIpAddressCount: it cannot come with more than one address in
    PrivateIpAddresses. The other refusals' words are pocketlink's, in EC2's style."""
    listed = params.get("PrivateIpAddresses") or []
    count = params.get("SecondaryPrivateIpAddressCount")
    if count is not None and count < 1:
        raise invalid_value("secondaryPrivateIpAddressCount", count,
                            "Expected a value greater than or equal to 1.")
    if count and len(listed) > 1:
        raise ec2.InvalidParameterCombination(
            "You may specify secondaryPrivateIpAddressCount or specific secondary private "
            "IP addresses, but not both.")
    primaries = [a.get("PrivateIpAddress") for a in listed if a.get("Primary")]
    primary = params.get("PrivateIpAddress")
    if len(primaries) > 1 or (primary and primaries and primaries != [primary]):
        raise ec2.InvalidParameterValue("Only one primary private IP address may be specified.")
    if not primary and not primaries and listed:
        # None marked Primary: AWS makes a listed one primary and picks no extra address
        # (hashicorp/terraform#6750: of private_ips sent without Primary, one came back
        # primary, none was added); the first, as pocketlink keeps the caller's order.
        primaries = [listed[0].get("PrivateIpAddress")]
        listed = listed[1:]
    primary = primary or (primaries[0] if primaries else None)
    secondary = [a.get("PrivateIpAddress") for a in listed if not a.get("Primary")]
    if any(not ip for ip in secondary):
        raise ec2.MissingParameter("PrivateIpAddresses.N.PrivateIpAddress")
    if len(set(secondary) | {primary} - {None}) != len(secondary) + (primary is not None):
        raise ec2.InvalidParameterValue("The same private IP address is specified twice.")
    return primary, secondary


@operation("ec2", "CreateNetworkInterface")
def create_network_interface(context: RequestContext, params: dict) -> dict:
    subnet = require(context, Subnet, params["SubnetId"])
    group_ids = check_groups(context, subnet.vpc_id, params.get("Groups") or [])
    ipv6 = [a["Ipv6Address"] for a in params.get("Ipv6Addresses") or [] if "Ipv6Address" in a]
    primary, secondary = _private_addresses(params)
    eni = new_interface(context, subnet, group_ids=group_ids, private_ip=primary,
                        secondary_ips=secondary,
                        secondary_count=params.get("SecondaryPrivateIpAddressCount") or 0,
                        ipv6_count=params.get("Ipv6AddressCount") or 0, ipv6_addresses=ipv6,
                        description=params.get("Description", ""),
                        tags=tags.from_specifications(params, "network-interface"))
    with context.store.transaction() as tx:
        tx.put(eni)
    return {"NetworkInterface": describe_interface(context.store, eni)}


@operation("ec2", "DescribeNetworkInterfaces")
def describe_network_interfaces(context: RequestContext, params: dict) -> dict:
    enis = select(context, NetworkInterface, params.get("NetworkInterfaceIds"))
    enis = filters.apply(enis, params.get("Filters"), ENI_FILTERS)
    chunk, more = pages.page(enis, params, ids_param="NetworkInterfaceIds")
    return {"NetworkInterfaces": [describe_interface(context.store, e) for e in chunk], **more}


@operation("ec2", "DeleteNetworkInterface")
def delete_network_interface(context: RequestContext, params: dict) -> dict:
    eni = require(context, NetworkInterface, params["NetworkInterfaceId"])
    if eni.attachment_id:
        raise ec2.InvalidParameterValue(f"Network interface '{eni.id}' is currently in use.")
    if eni.requester_managed:
        raise ec2.OperationNotPermitted(f"You are not allowed to manage '{eni.interface_type}' attachments.")
    with context.store.transaction() as tx:
        tx.delete(eni)
        blackhole_routes(tx, context, {eni.id})
    return {}
