"""An ENI's addresses and attributes after its creation: secondary private IPv4 addresses
and IPv6 addresses assigned and unassigned (they go on the instance's ``eth0`` at once, as
the instance's OS would configure them at AWS), and its description, security groups and
source/destination check.

As at AWS, an instance's primary ENI and the instance show the same groups and IPv6
addresses. Where AWS documents no wording (an address not on the interface, no address
asked for), the messages are pocketlink's, in EC2's style. Instance types' per-interface
address limits are not applied.
"""

from __future__ import annotations

from pocketlink.api import addresses
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.ec2_network_interfaces import check_groups, group_refs
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import require
from pocketlink.model.ec2 import Instance, NetworkInterface, Subnet
from pocketlink.store import Transaction


def _interface(context: RequestContext, params: dict) -> tuple[NetworkInterface, Subnet]:
    eni = require(context, NetworkInterface, params["NetworkInterfaceId"])
    if eni.requester_managed:
        raise ec2.OperationNotPermitted(
            f"You are not allowed to manage '{eni.interface_type}' attachments.")
    subnet = context.store.get(Subnet, eni.subnet_id)
    if subnet is None:
        raise ec2.InvalidSubnetIDNotFound(eni.subnet_id)
    return eni, subnet


def _sync_instance(tx: Transaction, eni: NetworkInterface) -> None:
    """The instance whose primary ENI this is shows what the ENI holds."""
    instance = tx.store.get(Instance, eni.instance_id or "")
    if instance is not None and instance.network_interface_id == eni.id:
        mine = tx.edit(Instance, instance.id)
        mine.ipv6_addresses = list(eni.ipv6_addresses)
        mine.group_ids = list(eni.group_ids)


def _asked(params: dict, listed: str, count: str, what: str) -> tuple[list[str], int]:
    if any(params.get(k) for k in ("Ipv4Prefixes", "Ipv4PrefixCount", "Ipv6Prefixes",
                                   "Ipv6PrefixCount")):
        raise ec2.InvalidParameterValue("pocketlink does not delegate prefixes to network "
                                        "interfaces")
    wanted, number = params.get(listed) or [], params.get(count)
    if wanted and number:
        raise ec2.InvalidParameterCombination(f"You may specify {what} addresses or a count "
                                              "of them, but not both.")
    if not wanted and not number:
        raise ec2.MissingParameter(f"{listed[0].lower()}{listed[1:]} or "
                                   f"{count[0].lower()}{count[1:]}")
    if number is not None and number < 1:
        raise invalid_value(count, number, "Expected a value greater than or equal to 1.")
    return list(dict.fromkeys(wanted)), number or 0


def _holder(context: RequestContext, subnet: Subnet, address: str) -> NetworkInterface | None:
    return next((e for e in context.store.all(NetworkInterface) if e.subnet_id == subnet.id
                 and address in e.secondary_private_ip_addresses), None)


def _held(eni: NetworkInterface, wanted: list[str] | None, held: list[str], parameter: str
          ) -> list[str]:
    """The addresses an Unassign* call names, each of which ``eni`` must hold: EC2 unassigns
    all of them or, naming the strays, none."""
    if not wanted:
        raise ec2.MissingParameter(parameter)
    stray = [a for a in wanted if a not in held]
    if stray:
        raise ec2.InvalidParameterValue(f"Some of the specified addresses are not assigned to "
                                        f"interface {eni.id}: {', '.join(stray)}")
    return wanted


@operation("ec2", "AssignPrivateIpAddresses")
def assign_private_ip_addresses(context: RequestContext, params: dict) -> dict:
    eni, subnet = _interface(context, params)
    wanted, count = _asked(params, "PrivateIpAddresses", "SecondaryPrivateIpAddressCount",
                           "secondary private IPv4")
    if not subnet.cidr_block:
        raise ec2.InvalidParameterValue(f"Subnet {subnet.id} is IPv6-only and has no IPv4 "
                                        "addresses")
    moved: dict[str, str] = {}  # address -> the ENI it is taken from (AllowReassignment)
    for address in wanted:
        holder = _holder(context, subnet, address)
        if holder is not None and holder.id != eni.id and params.get("AllowReassignment"):
            moved[address] = holder.id
    assigned = [*moved, *addresses.take(context.store, subnet,
                                        [a for a in wanted if a not in moved], count, set())]
    with context.store.transaction() as tx:
        for address, holder_id in moved.items():
            holder = tx.edit(NetworkInterface, holder_id)
            holder.secondary_private_ip_addresses.remove(address)
        tx.edit(NetworkInterface, eni.id).secondary_private_ip_addresses.extend(assigned)
    return {"NetworkInterfaceId": eni.id,
            "AssignedPrivateIpAddresses": [{"PrivateIpAddress": a} for a in assigned]}


@operation("ec2", "UnassignPrivateIpAddresses")
def unassign_private_ip_addresses(context: RequestContext, params: dict) -> dict:
    eni, _ = _interface(context, params)
    if eni.private_ip_address in (params.get("PrivateIpAddresses") or []):
        raise ec2.InvalidParameterValue(f"The primary private IP address {eni.private_ip_address}"
                                        f" of {eni.id} cannot be unassigned.")
    wanted = _held(eni, params.get("PrivateIpAddresses"), eni.secondary_private_ip_addresses,
                   "privateIpAddress")
    with context.store.transaction() as tx:
        mine = tx.edit(NetworkInterface, eni.id)
        mine.secondary_private_ip_addresses = [a for a in mine.secondary_private_ip_addresses
                                               if a not in wanted]
    return {}


@operation("ec2", "AssignIpv6Addresses")
def assign_ipv6_addresses(context: RequestContext, params: dict) -> dict:
    eni, subnet = _interface(context, params)
    wanted, count = _asked(params, "Ipv6Addresses", "Ipv6AddressCount", "IPv6")
    assigned = addresses.take(context.store, subnet, wanted, count, set(), ipv6=True)
    with context.store.transaction() as tx:
        mine = tx.edit(NetworkInterface, eni.id)
        mine.ipv6_addresses.extend(assigned)
        _sync_instance(tx, mine)
    return {"NetworkInterfaceId": eni.id, "AssignedIpv6Addresses": assigned}


@operation("ec2", "UnassignIpv6Addresses")
def unassign_ipv6_addresses(context: RequestContext, params: dict) -> dict:
    eni, _ = _interface(context, params)
    wanted = _held(eni, params.get("Ipv6Addresses"), eni.ipv6_addresses, "ipv6Addresses")
    with context.store.transaction() as tx:
        mine = tx.edit(NetworkInterface, eni.id)
        mine.ipv6_addresses = [a for a in mine.ipv6_addresses if a not in wanted]
        _sync_instance(tx, mine)
    return {"NetworkInterfaceId": eni.id, "UnassignedIpv6Addresses": wanted}


_ATTRIBUTES = ("description", "groupSet", "sourceDestCheck", "attachment")


def _attachment(eni: NetworkInterface) -> dict:
    return {"AttachmentId": eni.attachment_id, "DeviceIndex": eni.device_index,
            "InstanceId": eni.instance_id, "InstanceOwnerId": eni.account, "Status": "attached",
            "AttachTime": eni.created, "DeleteOnTermination": eni.delete_on_termination,
            "NetworkCardIndex": 0}


@operation("ec2", "DescribeNetworkInterfaceAttribute")
def describe_network_interface_attribute(context: RequestContext, params: dict) -> dict:
    eni = require(context, NetworkInterface, params["NetworkInterfaceId"])
    attribute = params.get("Attribute")
    if attribute not in _ATTRIBUTES:
        raise ec2.InvalidParameterValue(f"Value ({attribute}) for parameter attribute is "
                                        "invalid. Unknown attribute.")
    result: dict = {"NetworkInterfaceId": eni.id}
    if attribute == "description":
        result["Description"] = {"Value": eni.description}
    elif attribute == "groupSet":
        result["Groups"] = group_refs(context.store, eni.group_ids)
    elif attribute == "sourceDestCheck":
        result["SourceDestCheck"] = {"Value": eni.source_dest_check}
    elif eni.attachment_id:
        result["Attachment"] = _attachment(eni)
    return result


@operation("ec2", "ModifyNetworkInterfaceAttribute")
def modify_network_interface_attribute(context: RequestContext, params: dict) -> dict:
    eni = require(context, NetworkInterface, params["NetworkInterfaceId"])
    given = [k for k in ("Description", "SourceDestCheck", "Groups", "Attachment")
             if params.get(k) is not None]
    if len(given) != 1:
        raise ec2.InvalidParameterCombination(
            "Fields for multiple attribute types specified: " + ", ".join(given) if given
            else "No attributes specified.")
    changes: dict = {}
    if given == ["Description"]:
        changes["description"] = params["Description"].get("Value") or ""
    elif given == ["SourceDestCheck"]:
        changes["source_dest_check"] = bool(params["SourceDestCheck"].get("Value"))
    elif given == ["Groups"]:
        if eni.requester_managed:
            raise ec2.OperationNotPermitted(
                f"You are not allowed to manage '{eni.interface_type}' attachments.")
        changes["group_ids"] = check_groups(context, eni.vpc_id, params["Groups"])
    else:
        attachment = params["Attachment"]
        if attachment.get("AttachmentId") != eni.attachment_id or not eni.attachment_id:
            raise ec2.InvalidAttachmentIDNotFound(attachment.get("AttachmentId", ""))
        changes["delete_on_termination"] = bool(attachment.get("DeleteOnTermination"))
    with context.store.transaction() as tx:
        mine = tx.edit(NetworkInterface, eni.id)
        for field, value in changes.items():
            setattr(mine, field, value)
        _sync_instance(tx, mine)
    return {}


@operation("ec2", "ResetNetworkInterfaceAttribute")
def reset_network_interface_attribute(context: RequestContext, params: dict) -> dict:
    eni = require(context, NetworkInterface, params["NetworkInterfaceId"])
    if params.get("SourceDestCheck") not in ("sourceDestCheck", None):
        raise ec2.InvalidParameterValue(f"Value ({params['SourceDestCheck']}) for parameter "
                                        "sourceDestCheck is invalid.")
    with context.store.transaction() as tx:
        tx.edit(NetworkInterface, eni.id).source_dest_check = True
    return {}
