"""Elastic IP addresses (AllocateAddress, AssociateAddress, DisassociateAddress,
ReleaseAddress, DescribeAddresses) and the public IPs EC2 gives instances at launch.

Both are ``Address`` records (model/internet.py) from the one public pool
(``addresses.allocate_public_ipv4``); the network maps each to its ENI's private address
through the VPC's internet gateway (network/internet.py). As at AWS: an ENI in a VPC with
no internet gateway takes no Elastic IP (``Gateway.NotAttached``); an Elastic IP associated
with an ENI replaces the public IP it had from launch (released); an associated address
cannot be released (``InvalidIPAddress.InUse``). Where AWS's words are not known they are
marked as guesses.
"""

from __future__ import annotations

from pocketlink.api import addresses, filters, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_internet_gateways import attached_gateway
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.model import ids
from pocketlink.model.ec2 import Instance, NetworkInterface, Subnet, Vpc
from pocketlink.model.internet import Address
from pocketlink.store import Store, Transaction

ADDRESS_FILTERS: dict[str, filters.Field] = {
    "allocation-id": lambda a: a.id,
    "association-id": lambda a: a.association_id,
    "domain": lambda a: "vpc",
    "network-border-group": lambda a: a.region,
    "network-interface-id": lambda a: a.network_interface_id,
    "network-interface-owner-id": lambda a: a.account if a.network_interface_id else None,
    "private-ip-address": lambda a: a.private_ip_address,
    "public-ip": lambda a: a.public_ip,
}


def public_address(store: Store, eni_id: str) -> Address | None:
    """The public address mapped to an ENI, if any."""
    return next((a for a in store.all(Address) if a.network_interface_id == eni_id), None)


def public_dns_name(store: Store, address: Address | None) -> str:
    """The ENI's public DNS name, as EC2 words it, while its VPC has DNS hostnames on."""
    vpc = store.get(Vpc, address.vpc_id or "") if address else None
    if address is None or vpc is None or not vpc.enable_dns_hostnames:
        return ""
    dashed = address.public_ip.replace(".", "-")
    if address.region == "us-east-1":
        return f"ec2-{dashed}.compute-1.amazonaws.com"
    return f"ec2-{dashed}.{address.region}.compute.amazonaws.com"


def describe_association(store: Store, address: Address, instance: bool = False) -> dict:
    """The ``Association`` of an ENI (DescribeNetworkInterfaces; DescribeInstances's, with
    ``instance``, names no allocation)."""
    item = {"PublicIp": address.public_ip, "PublicDnsName": public_dns_name(store, address),
            "IpOwnerId": address.account if address.elastic else "amazon"}
    if address.elastic and not instance:
        item["AllocationId"] = address.id
        if address.association_id:
            item["AssociationId"] = address.association_id
    return item


def _instance_of(store: Store, address: Address) -> str | None:
    eni = store.get(NetworkInterface, address.network_interface_id or "")
    return eni.instance_id if eni else None


def _live(store: Store, address: Address) -> Address:
    """The address as the caller sees it: an association whose ENI is gone is none."""
    if address.network_interface_id and store.get(NetworkInterface,
                                                  address.network_interface_id) is None:
        return Address(id=address.id, account=address.account, region=address.region,
                       tags=address.tags, created=address.created, public_ip=address.public_ip)
    return address


def describe_address(store: Store, address: Address) -> dict:
    address = _live(store, address)
    item: dict = {"PublicIp": address.public_ip, "AllocationId": address.id, "Domain": "vpc",
                  "PublicIpv4Pool": "amazon", "NetworkBorderGroup": address.region}
    if address.network_interface_id:
        eni = store.get(NetworkInterface, address.network_interface_id)
        item.update({"NetworkInterfaceId": address.network_interface_id,
                     "NetworkInterfaceOwnerId": eni.account if eni else address.account,
                     "PrivateIpAddress": address.private_ip_address})
        if address.association_id:
            item["AssociationId"] = address.association_id
        instance_id = _instance_of(store, address)
        if instance_id:
            item["InstanceId"] = instance_id
    if address.tags:
        item["Tags"] = tags.tag_set(address.tags)
    return item


def _elastic(context: RequestContext) -> list[Address]:
    return [a for a in owned(context, Address) if a.elastic]


def _by_public_ip(context: RequestContext, public_ip: str) -> Address:
    found = next((a for a in _elastic(context) if a.public_ip == public_ip), None)
    if found is None:
        raise ec2.InvalidAddressNotFound(public_ip)
    return found


def _named(context: RequestContext, params: dict) -> Address:
    """The Elastic IP a call names, by AllocationId or PublicIp."""
    if params.get("AllocationId"):
        address = require(context, Address, params["AllocationId"])
        if not address.elastic:
            raise ec2.InvalidAllocationIDNotFound(params["AllocationId"])
        return address
    if params.get("PublicIp"):
        return _by_public_ip(context, params["PublicIp"])
    raise ec2.MissingParameter("AllocationId")


@operation("ec2", "AllocateAddress")
def allocate_address(context: RequestContext, params: dict) -> dict:
    if params.get("Domain", "vpc") != "vpc":
        raise ec2.InvalidParameterValue("pocketlink allocates addresses for use in a VPC only "
                                        "(Domain vpc), as AWS does since EC2-Classic retired")
    if params.get("Address") or params.get("PublicIpv4Pool", "amazon") != "amazon":
        raise ec2.InvalidParameterValue("pocketlink has only Amazon's pool of addresses")
    with context.store.transaction() as tx:
        address = Address(id=ids.new_id("eipalloc"), account=context.account,
                          region=context.region, public_ip=addresses.allocate_public_ipv4(
                              context.store), tags=tags.from_specifications(params, "elastic-ip"))
        tx.put(address)
    return {"PublicIp": address.public_ip, "AllocationId": address.id, "Domain": "vpc",
            "PublicIpv4Pool": "amazon", "NetworkBorderGroup": context.region}


@operation("ec2", "DescribeAddresses")
def describe_addresses(context: RequestContext, params: dict) -> dict:
    found = _elastic(context)
    if params.get("AllocationIds"):
        found = [_named(context, {"AllocationId": a}) for a in dict.fromkeys(params["AllocationIds"])]
    if params.get("PublicIps"):
        found = [a for a in found if a.public_ip in params["PublicIps"]]
        for wanted in params["PublicIps"]:
            _by_public_ip(context, wanted)
    found = [_live(context.store, a) for a in found]
    found = filters.apply(found, params.get("Filters"), ADDRESS_FILTERS | {
        "instance-id": lambda a: _instance_of(context.store, a)})
    return {"Addresses": [describe_address(context.store, a) for a in found]}


def _target(context: RequestContext, params: dict) -> tuple[NetworkInterface, str]:
    """The ENI and private address an association names (an instance: its primary ENI)."""
    if params.get("NetworkInterfaceId"):
        eni = require(context, NetworkInterface, params["NetworkInterfaceId"])
    elif params.get("InstanceId"):
        instance = require(context, Instance, params["InstanceId"])
        found = context.store.get(NetworkInterface, instance.network_interface_id)
        if found is None or instance.state in ("shutting-down", "terminated"):
            raise ec2.IncorrectInstanceState(
                f"The instance '{instance.id}' is not in a valid state for this operation.")
        eni = found
    else:
        raise ec2.MissingParameter("InstanceId or NetworkInterfaceId")
    private = params.get("PrivateIpAddress") or eni.private_ip_address
    if private is None or private not in (eni.private_ip_address,
                                          *eni.secondary_private_ip_addresses):
        raise ec2.InvalidParameterValue(
            f"The private IP address {private} is not assigned to network interface {eni.id}")
    return eni, private


def _unmap(tx: Transaction, address: Address) -> None:
    """An address off its ENI: an Elastic IP stays the account's, a launch IP goes."""
    if not address.elastic:
        tx.delete(address)
        return
    mine = tx.edit(Address, address.id)
    mine.network_interface_id = mine.private_ip_address = None
    mine.association_id = mine.vpc_id = None


@operation("ec2", "AssociateAddress")
def associate_address(context: RequestContext, params: dict) -> dict:
    address = _named(context, params)
    eni, private = _target(context, params)
    if eni.interface_type == "nat_gateway":
        raise ec2.InvalidParameterValue(f"The network interface {eni.id} is a NAT gateway's")
    if attached_gateway(context, eni.vpc_id) is None:
        raise ec2.GatewayNotAttached(f"Network {eni.vpc_id} is not attached to any internet "
                                     "gateway")
    live = _live(context.store, address)
    if live.network_interface_id and live.network_interface_id != eni.id and \
            not params.get("AllowReassociation"):
        # AWS's words are a guess; the code is AWS's.
        raise ec2.ResourceAlreadyAssociated(
            f"resource {address.id} is already associated with associate-id "
            f"{live.association_id}")
    association_id = ids.new_id("eipassoc")
    with context.store.transaction() as tx:
        held = public_address(context.store, eni.id)
        if held is not None and held.id != address.id:
            _unmap(tx, held)  # the ENI's launch IP is released, another EIP moves off
        mine = tx.edit(Address, address.id)
        mine.network_interface_id, mine.private_ip_address = eni.id, private
        mine.association_id, mine.vpc_id = association_id, eni.vpc_id
    return {"AssociationId": association_id}


@operation("ec2", "DisassociateAddress")
def disassociate_address(context: RequestContext, params: dict) -> dict:
    if params.get("AssociationId"):
        address = next((a for a in _elastic(context)
                        if a.association_id == params["AssociationId"]), None)
        if address is None:
            raise ec2.InvalidAssociationIDNotFound(params["AssociationId"])
    elif params.get("PublicIp"):
        address = _by_public_ip(context, params["PublicIp"])
    else:
        raise ec2.MissingParameter("AssociationId")
    eni = context.store.get(NetworkInterface, address.network_interface_id or "")
    if eni is not None and eni.interface_type == "nat_gateway":
        # A guess at AWS's code and words: a NAT gateway keeps its address until deleted.
        raise ec2.OperationNotPermitted(
            f"The Elastic IP address {address.public_ip} is in use by a NAT gateway; delete "
            "the NAT gateway first")
    with context.store.transaction() as tx:
        _unmap(tx, address)
    return {}


@operation("ec2", "ReleaseAddress")
def release_address(context: RequestContext, params: dict) -> dict:
    address = _live(context.store, _named(context, params))
    if address.network_interface_id:
        raise ec2.InvalidIPAddressInUse(address.id)
    with context.store.transaction() as tx:
        tx.delete(address)
    return {}


def launch_address(context: RequestContext, subnet: Subnet, eni: NetworkInterface,
                   taken: set[str]) -> Address:
    """The public IP EC2 gives an instance's primary ENI at launch (MapPublicIpOnLaunch, or
    AssociatePublicIpAddress): from the pool, gone with the ENI."""
    public_ip = addresses.allocate_public_ipv4(context.store, taken)
    taken.add(public_ip)
    return Address(id=f"eip-{eni.id}", account=context.account, region=context.region,
                   public_ip=public_ip, elastic=False, network_interface_id=eni.id,
                   private_ip_address=eni.private_ip_address, vpc_id=subnet.vpc_id)
