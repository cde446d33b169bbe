"""NAT gateways: CreateNatGateway, DeleteNatGateway, DescribeNatGateways.

A public NAT gateway sits in a subnet with an Elastic IP and an ENI of its own (type
``nat_gateway``, requester-managed, as AWS shows it); the network makes it a namespace that
translates what private subnets route to it (network/internet.py). The handler only starts
its life: it is born ``pending``; the reconciler makes it ``available`` once it forwards,
``failed`` (``Gateway.NotAttached``) when its VPC has no internet gateway, and ``deleted``
once a ``deleting`` one's namespace is gone; a deleted one stays describable a while.
Private NAT gateways (ConnectivityType private) are not built yet.
"""

from __future__ import annotations

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_elastic_ips import public_address
from pocketlink.api.ec2_network_interfaces import new_interface
from pocketlink.api.ec2_route_tables import blackhole_routes
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.model import ids
from pocketlink.model.ec2 import Subnet
from pocketlink.model.internet import Address, NatGateway, NatGatewayAddress
from pocketlink.model.states import NatGatewayState

NAT_FILTERS: dict[str, filters.Field] = {
    "nat-gateway-id": lambda n: n.id,
    "state": lambda n: n.state,
    "subnet-id": lambda n: n.subnet_id,
    "vpc-id": lambda n: n.vpc_id,
}
GONE = (NatGatewayState.DELETED,)


def describe_nat_gateway(nat: NatGateway) -> dict:
    item: dict = {
        "CreateTime": nat.created, "NatGatewayId": nat.id, "State": nat.state,
        "SubnetId": nat.subnet_id, "VpcId": nat.vpc_id,
        "ConnectivityType": nat.connectivity_type,
        "NatGatewayAddresses": [{
            "AllocationId": a.allocation_id, "NetworkInterfaceId": a.network_interface_id,
            "PrivateIp": a.private_ip, "PublicIp": a.public_ip,
            "AssociationId": a.association_id, "IsPrimary": True,
            "Status": "succeeded" if nat.state == NatGatewayState.AVAILABLE else (
                "associating" if nat.state == NatGatewayState.PENDING else "disassociated"),
        } for a in nat.addresses],
    }
    if nat.failure_code:
        item["FailureCode"] = nat.failure_code
        item["FailureMessage"] = nat.failure_message
    if nat.deleted_at and nat.state == NatGatewayState.DELETED:
        item["DeleteTime"] = nat.deleted_at
    if nat.tags:
        item["Tags"] = tags.tag_set(nat.tags)
    return item


@operation("ec2", "CreateNatGateway")
def create_nat_gateway(context: RequestContext, params: dict) -> dict:
    token = params.get("ClientToken")
    if token:
        earlier = next((n for n in owned(context, NatGateway) if n.client_token == token), None)
        if earlier is not None:
            return {"ClientToken": token, "NatGateway": describe_nat_gateway(earlier)}
    if params.get("ConnectivityType", "public") != "public":
        raise ec2.InvalidParameterValue("pocketlink builds public NAT gateways only")
    if not params.get("SubnetId"):  # the model leaves it optional (regional NAT gateways)
        raise ec2.MissingParameter("SubnetId")
    subnet = require(context, Subnet, params["SubnetId"])
    if not params.get("AllocationId"):
        raise ec2.MissingParameter("AllocationId")
    address = require(context, Address, params["AllocationId"])
    if not address.elastic:
        raise ec2.InvalidAllocationIDNotFound(params["AllocationId"])
    if address.network_interface_id and public_address(context.store,
                                                       address.network_interface_id):
        raise ec2.ResourceAlreadyAssociated(
            f"Elastic IP address [{address.id}] is already associated")
    if not subnet.cidr_block:
        raise ec2.InvalidParameterValue(f"Subnet {subnet.id} has no IPv4 CIDR block")
    nat_id = ids.new_id("nat")
    eni = new_interface(context, subnet, group_ids=[], private_ip=params.get("PrivateIpAddress"),
                        description=f"Interface for NAT Gateway {nat_id}",
                        interface_type="nat_gateway", requester_managed=True, status="in-use")
    association_id = ids.new_id("eipassoc")
    nat = NatGateway(id=nat_id, account=context.account, region=context.region,
                     vpc_id=subnet.vpc_id, subnet_id=subnet.id, client_token=token,
                     tags=tags.from_specifications(params, "natgateway"),
                     addresses=[NatGatewayAddress(
                         allocation_id=address.id, network_interface_id=eni.id,
                         private_ip=eni.private_ip_address or "", public_ip=address.public_ip,
                         association_id=association_id)])
    with context.store.transaction() as tx:
        tx.put(eni)
        tx.put(nat)
        mine = tx.edit(Address, address.id)
        mine.network_interface_id, mine.private_ip_address = eni.id, eni.private_ip_address
        mine.association_id, mine.vpc_id = association_id, subnet.vpc_id
    result = {"NatGateway": describe_nat_gateway(nat)}
    return {"ClientToken": token, **result} if token else result


@operation("ec2", "DescribeNatGateways")
def describe_nat_gateways(context: RequestContext, params: dict) -> dict:
    wanted = params.get("NatGatewayIds")
    found = [require(context, NatGateway, n) for n in dict.fromkeys(wanted)] if wanted else \
        owned(context, NatGateway)
    found = filters.apply(found, params.get("Filter"), NAT_FILTERS)
    chunk, more = pages.page(found, params, ids_param="NatGatewayIds")
    return {"NatGateways": [describe_nat_gateway(n) for n in chunk], **more}


@operation("ec2", "DeleteNatGateway")
def delete_nat_gateway(context: RequestContext, params: dict) -> dict:
    nat = require(context, NatGateway, params["NatGatewayId"])
    if nat.state in GONE:
        raise ec2.NatGatewayNotFound(nat.id)
    with context.store.transaction() as tx:
        if nat.state not in (NatGatewayState.DELETING,):
            tx.edit(NatGateway, nat.id).state = NatGatewayState.DELETING
        blackhole_routes(tx, context, {nat.id})
    return {"NatGatewayId": nat.id}
