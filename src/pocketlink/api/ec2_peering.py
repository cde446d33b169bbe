"""VPC peering connections: request, accept, reject, delete, describe, options.

A request is ``initiating-request`` when made; the reconciler moves it to
``pending-acceptance``, or to ``failed`` when the accepter VPC is not the named account's
or its CIDR blocks overlap the requester's (``model/peering.py``). The accepter's owner
accepts it (``provisioning``), and it is ``active`` once the link between the two routers
is up. Either owner sees it and may delete it; routes through it go ``blackhole`` then.

Where AWS documents no wording (a second request between the same VPCs, a VPC peered with
itself, the options of a peering not yet active), the messages are pocketlink's guesses
in EC2's style.
"""

from __future__ import annotations

from datetime import timedelta

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import require, require_among
from pocketlink.model import ids
from pocketlink.model.base import now
from pocketlink.model.ec2 import Vpc
from pocketlink.model.peering import (
    MAX_LINKS,
    PEERING_ENDED,
    PeeringOptions,
    PeeringState,
    VpcPeeringConnection,
    route_states,
)
from pocketlink.model.regions import is_region
from pocketlink.store import Store, Transaction
from pocketlink.wire.errors import ServiceError

EXPIRY = timedelta(days=7)
_OPTIONS = {"AllowDnsResolutionFromRemoteVpc": "allow_dns_resolution_from_remote_vpc"}
# Options AWS still names but no longer acts on (EC2-Classic is gone): taken, kept false.
_RETIRED_OPTIONS = ("AllowEgressFromLocalClassicLinkToRemoteVpc",
                    "AllowEgressFromLocalVpcToRemoteClassicLink")


def _vpc_info(store: Store, vpc_id: str, owner: str, region: str, options: PeeringOptions,
              shown: bool) -> dict:
    """One side of the peering; its CIDR blocks and options once they are the other
    side's business (the requester's always, the accepter's from acceptance)."""
    item: dict = {"OwnerId": owner, "VpcId": vpc_id, "Region": region}
    vpc = store.get(Vpc, vpc_id)
    if vpc is not None and shown:
        item["CidrBlock"] = vpc.cidr_block
        item["CidrBlockSet"] = [{"CidrBlock": a.cidr} for a in vpc.cidr_associations]
        if vpc.ipv6_associations:
            item["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": a.cidr} for a in vpc.ipv6_associations]
        item["PeeringOptions"] = {
            "AllowDnsResolutionFromRemoteVpc": options.allow_dns_resolution_from_remote_vpc,
            **{name: False for name in _RETIRED_OPTIONS}}
    return item


def describe_peering(store: Store, peering: VpcPeeringConnection, account: str) -> dict:
    accepted = peering.status in (PeeringState.PROVISIONING, PeeringState.ACTIVE)
    item = {
        "VpcPeeringConnectionId": peering.id,
        "RequesterVpcInfo": _vpc_info(store, peering.requester_vpc_id, peering.account,
                                      peering.region, peering.requester_options, True),
        "AccepterVpcInfo": _vpc_info(store, peering.accepter_vpc_id, peering.accepter_owner_id,
                                     peering.accepter_region, peering.accepter_options,
                                     accepted),
        "Status": {"Code": peering.status, "Message": peering.message},
    }
    if not accepted and "PeeringOptions" in item["RequesterVpcInfo"]:
        del item["RequesterVpcInfo"]["PeeringOptions"]
    if peering.expiration_time and peering.status in (PeeringState.INITIATING_REQUEST,
                                                      PeeringState.PENDING_ACCEPTANCE):
        item["ExpirationTime"] = peering.expiration_time
    # Tags are the requester's: the accepter's owner tags nothing of another account's.
    if peering.tags and account == peering.account:
        item["Tags"] = tags.tag_set(peering.tags)
    return item


PEERING_FILTERS: dict[str, filters.Field] = {
    "vpc-peering-connection-id": lambda p: p.id,
    "status-code": lambda p: p.status,
    "status-message": lambda p: p.message,
    "expiration-time": lambda p: p.expiration_time,
    "requester-vpc-info.vpc-id": lambda p: p.requester_vpc_id,
    "requester-vpc-info.owner-id": lambda p: p.account,
    "accepter-vpc-info.vpc-id": lambda p: p.accepter_vpc_id,
    "accepter-vpc-info.owner-id": lambda p: p.accepter_owner_id,
}


def visible(context: RequestContext) -> list[VpcPeeringConnection]:
    """The peerings either side of which is the caller's, in the request's region."""
    return [p for p in context.store.all(VpcPeeringConnection)
            if (p.account == context.account and p.region == context.region)
            or (p.accepter_owner_id == context.account and p.accepter_region == context.region)]


def find_peering(context: RequestContext, peering_id: str) -> VpcPeeringConnection:
    return require_among(VpcPeeringConnection, peering_id, visible(context))


@operation("ec2", "CreateVpcPeeringConnection")
def create_vpc_peering_connection(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    if not params.get("PeerVpcId"):
        raise ec2.MissingParameter("peerVpcId")
    peer_id = params["PeerVpcId"]
    owner = params.get("PeerOwnerId") or context.account
    region = params.get("PeerRegion") or context.region
    if not is_region(region):
        raise ec2.InvalidRegion(region)
    if region != context.region:
        raise ec2.InvalidParameterValue(
            "pocketlink peers VPCs of one region only: PeerRegion must be the request's "
            f"region ({context.region})")
    if owner == context.account:
        require(context, Vpc, peer_id)  # a VPC of one's own must exist, as AWS checks
    if peer_id == vpc.id:
        raise ec2.InvalidParameterValue(
            f"The requester VPC {vpc.id} and the accepter VPC cannot be the same")
    for other in visible(context):
        if other.status not in PEERING_ENDED and \
                {other.requester_vpc_id, other.accepter_vpc_id} == {vpc.id, peer_id}:
            raise ec2.VpcPeeringConnectionAlreadyExists(
                f"A VPC peering connection between {vpc.id} and {peer_id} already exists: "
                f"{other.id}")
    created = now()
    peering = VpcPeeringConnection(
        id=ids.new_id("pcx"), account=context.account, region=context.region,
        requester_vpc_id=vpc.id, accepter_vpc_id=peer_id, accepter_owner_id=owner,
        accepter_region=region, message=f"Initiating Request to {owner}",
        expiration_time=(created + EXPIRY).isoformat(), created=created,
        tags=tags.from_specifications(params, "vpc-peering-connection"))
    with context.store.transaction() as tx:
        tx.put(peering)
    return {"VpcPeeringConnection": describe_peering(context.store, peering, context.account)}


@operation("ec2", "DescribeVpcPeeringConnections")
def describe_vpc_peering_connections(context: RequestContext, params: dict) -> dict:
    wanted = params.get("VpcPeeringConnectionIds")
    found = [find_peering(context, i) for i in dict.fromkeys(wanted)] if wanted \
        else visible(context)
    found = filters.apply(found, params.get("Filters"), PEERING_FILTERS)
    chunk, more = pages.page(found, params, ids_param="VpcPeeringConnectionIds")
    return {"VpcPeeringConnections": [describe_peering(context.store, p, context.account)
                                      for p in chunk], **more}


def _accepter_only(context: RequestContext, peering: VpcPeeringConnection, verb: str) -> None:
    if context.account != peering.accepter_owner_id:
        raise ec2.OperationNotPermitted(f"User ({context.account}) cannot {verb} peering "
                                        f"{peering.id}")
    if peering.status != PeeringState.PENDING_ACCEPTANCE:
        raise _wrong_state(peering)


def _wrong_state(peering: VpcPeeringConnection) -> ServiceError:
    return ec2.InvalidStateTransition(
        f"VpcPeeringConnectionID {peering.id} is not in the correct state for the request.")


def _free_link(store: Store) -> int:
    taken = {p.link_index for p in store.all(VpcPeeringConnection)
             if p.link_index is not None and p.status not in PEERING_ENDED}
    free = next((i for i in range(MAX_LINKS) if i not in taken), None)
    if free is None:
        raise ec2.InvalidParameterValue("pocketlink holds no more peering links")
    return free


@operation("ec2", "AcceptVpcPeeringConnection")
def accept_vpc_peering_connection(context: RequestContext, params: dict) -> dict:
    peering = find_peering(context, params["VpcPeeringConnectionId"])
    _accepter_only(context, peering, "accept")
    with context.store.transaction() as tx:
        mine = tx.edit(VpcPeeringConnection, peering.id)
        mine.status, mine.message = PeeringState.PROVISIONING, "Provisioning"
        mine.link_index = _free_link(context.store)
    return {"VpcPeeringConnection": describe_peering(context.store, mine, context.account)}


@operation("ec2", "RejectVpcPeeringConnection")
def reject_vpc_peering_connection(context: RequestContext, params: dict) -> dict:
    peering = find_peering(context, params["VpcPeeringConnectionId"])
    _accepter_only(context, peering, "reject")
    with context.store.transaction() as tx:
        end(tx, peering, PeeringState.REJECTED, f"Rejected by {context.account}")
    return {"Return": True}


@operation("ec2", "DeleteVpcPeeringConnection")
def delete_vpc_peering_connection(context: RequestContext, params: dict) -> dict:
    peering = find_peering(context, params["VpcPeeringConnectionId"])
    if peering.status in PEERING_ENDED:
        raise _wrong_state(peering)
    # Before acceptance the request is the requester's to withdraw; the accepter rejects.
    if peering.status in (PeeringState.INITIATING_REQUEST, PeeringState.PENDING_ACCEPTANCE) \
            and context.account != peering.account:
        raise ec2.OperationNotPermitted(f"User ({context.account}) cannot delete peering "
                                        f"{peering.id} before accepting it: reject it")
    with context.store.transaction() as tx:
        end(tx, peering, PeeringState.DELETED, f"Deleted by {context.account}")
    return {"Return": True}


def end(tx: Transaction, peering: VpcPeeringConnection, state: PeeringState, message: str
        ) -> None:
    """The peering over: its link goes, and routes through it turn ``blackhole``."""
    mine = tx.edit(VpcPeeringConnection, peering.id)
    mine.status, mine.message, mine.ended_at = state, message, now().isoformat()
    route_states(tx, peering.id, "blackhole")


def _options(given: dict | None, current: PeeringOptions) -> PeeringOptions | None:
    if not given:
        return None
    changed = PeeringOptions(**vars(current))
    for member, field in _OPTIONS.items():
        if member in given:
            setattr(changed, field, bool(given[member]))
    for member in _RETIRED_OPTIONS:
        if given.get(member):
            raise ec2.InvalidParameterValue(f"{member} is not supported: EC2-Classic is retired")
    return changed


def _shown_options(options: PeeringOptions) -> dict:
    return {"AllowDnsResolutionFromRemoteVpc": options.allow_dns_resolution_from_remote_vpc,
            **{name: False for name in _RETIRED_OPTIONS}}


@operation("ec2", "ModifyVpcPeeringConnectionOptions")
def modify_vpc_peering_connection_options(context: RequestContext, params: dict) -> dict:
    peering = find_peering(context, params["VpcPeeringConnectionId"])
    requester = _options(params.get("RequesterPeeringConnectionOptions"),
                         peering.requester_options)
    accepter = _options(params.get("AccepterPeeringConnectionOptions"), peering.accepter_options)
    if requester is None and accepter is None:
        raise ec2.MissingParameter("requesterPeeringConnectionOptions or "
                                   "accepterPeeringConnectionOptions")
    if peering.status != PeeringState.ACTIVE:
        raise ec2.OperationNotPermitted(
            f"Peering connection {peering.id} is not active; its options can be modified "
            "once it is")
    # Each owner sets the options of its own side (both, when one account owns both VPCs).
    for options, owner, side in ((requester, peering.account, "requester"),
                                 (accepter, peering.accepter_owner_id, "accepter")):
        if options is not None and context.account != owner:
            raise ec2.OperationNotPermitted(
                f"User ({context.account}) cannot modify the {side} options of peering "
                f"{peering.id}")
    with context.store.transaction() as tx:
        mine = tx.edit(VpcPeeringConnection, peering.id)
        if requester is not None:
            mine.requester_options = requester
        if accepter is not None:
            mine.accepter_options = accepter
    result = {}
    if requester is not None:
        result["RequesterPeeringConnectionOptions"] = _shown_options(requester)
    if accepter is not None:
        result["AccepterPeeringConnectionOptions"] = _shown_options(accepter)
    return result
