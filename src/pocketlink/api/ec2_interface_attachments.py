"""AttachNetworkInterface and DetachNetworkInterface: an ENI of the instance's VPC and zone
becomes its ``ethN`` (N the device index) with its own addresses and security groups, and
stops being it once detached. An instance's primary ENI (device index 0) never detaches.
Where AWS documents no wording (another VPC, a zone apart), the messages are pocketlink's.
"""

from __future__ import annotations

from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.model import ids
from pocketlink.model.ec2 import Instance, NetworkInterface
from pocketlink.store import Transaction
from pocketlink.wire.errors import ServiceError

MAX_DEVICE_INDEX = 15
ATTACHABLE_STATES = ("running", "stopped")


@operation("ec2", "AttachNetworkInterface")
def attach_network_interface(context: RequestContext, params: dict) -> dict:
    eni = require(context, NetworkInterface, params["NetworkInterfaceId"])
    instance = require(context, Instance, params["InstanceId"])
    index = params["DeviceIndex"]
    if eni.requester_managed:
        raise ec2.OperationNotPermitted(
            f"You are not allowed to manage '{eni.interface_type}' attachments.")
    if eni.attachment_id:
        raise ServiceError(f"Interface: [{eni.id}] in use.",
                           code="InvalidNetworkInterface.InUse")
    if instance.state not in ATTACHABLE_STATES:
        raise ec2.IncorrectInstanceState(
            f"The instance '{instance.id}' is not in a valid state for this operation.")
    if eni.vpc_id != instance.vpc_id:
        raise ec2.InvalidParameterValue(f"Network interface {eni.id} and instance "
                                        f"{instance.id} belong to different networks.")
    if eni.availability_zone != instance.availability_zone:
        raise ec2.InvalidParameterValue(
            f"Network interface {eni.id} is in {eni.availability_zone}; instance "
            f"{instance.id} is in {instance.availability_zone}.")
    if not 1 <= index <= MAX_DEVICE_INDEX:
        raise ec2.InvalidParameterValue(f"Value ({index}) for parameter deviceIndex is "
                                        f"invalid: it must be 1 to {MAX_DEVICE_INDEX}.")
    if any(e.instance_id == instance.id and e.attachment_id and e.device_index == index
           for e in owned(context, NetworkInterface)):
        raise ec2.InvalidParameterValue(f"Instance '{instance.id}' already has an interface "
                                        f"attached at device index '{index}'.")
    attachment = ids.new_id("eni-attach")
    with context.store.transaction() as tx:
        mine = tx.edit(NetworkInterface, eni.id)
        mine.attachment_id, mine.instance_id, mine.device_index = attachment, instance.id, index
        mine.status, mine.delete_on_termination = "in-use", False
    return {"AttachmentId": attachment, "NetworkCardIndex": 0}


def detach(tx: Transaction, eni: NetworkInterface) -> None:
    mine = tx.edit(NetworkInterface, eni.id)
    mine.attachment_id = mine.instance_id = None
    mine.status, mine.device_index = "available", 0


@operation("ec2", "DetachNetworkInterface")
def detach_network_interface(context: RequestContext, params: dict) -> dict:
    attachment = params["AttachmentId"]
    eni = next((e for e in owned(context, NetworkInterface) if e.attachment_id == attachment),
               None)
    if eni is None:
        raise ec2.InvalidAttachmentIDNotFound(attachment)
    instance = context.store.get(Instance, eni.instance_id or "")
    if instance is not None and instance.network_interface_id == eni.id:
        raise ec2.OperationNotPermitted(
            "The network interface at device index 0 cannot be detached.")
    with context.store.transaction() as tx:
        detach(tx, eni)
    return {}


def let_go(tx: Transaction, instance: Instance) -> None:
    """A terminated instance's attached ENIs: deleted, or detached if they outlive it."""
    for eni in tx.store.all(NetworkInterface):
        if eni.instance_id == instance.id and eni.id != instance.network_interface_id:
            if eni.delete_on_termination:
                tx.delete(eni)
            else:
                detach(tx, eni)
