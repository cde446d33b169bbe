"""Route 53 private hosted zones and the VPCs they answer in.

A private zone answers only inside the VPCs associated with it, so who may associate a VPC
is what keeps one tenant's names out of another's VPC. As at AWS:

- CreateHostedZone and AssociateVPCWithHostedZone take only a VPC that exists, in the region
  named, and that belongs to the caller (``InvalidVPCId`` otherwise: "not valid, or not
  yours" are one error, so nobody learns of another account's VPCs).
- A VPC of another account joins a zone in two steps: the zone's owner calls
  CreateVPCAssociationAuthorization for it, then the VPC's owner calls
  AssociateVPCWithHostedZone (``NotAuthorizedException`` without that authorization).
- DisassociateVPCFromHostedZone is the zone's owner's or the VPC's owner's to call, and never
  removes the last VPC (``LastVPCAssociation``).
"""

from __future__ import annotations

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.api.route53 import (
    GLOBAL,
    change_info,
    described_vpc,
    error,
    max_items,
    own_vpc,
    require_zone,
    token,
    vpc_named,
)
from pocketlink.model.route53 import Change, HostedZone
from pocketlink.wire.errors import ServiceError

AUTHORIZATION_LIMIT = 100  # guessed: AWS documents no figure for one zone's authorizations


def _any_zone(context: RequestContext, zone_id: str) -> HostedZone:
    """A zone of any account: a VPC's owner associates with a zone it does not own."""
    zone_id = zone_id.rsplit("/", 1)[-1]
    zone = context.store.get(HostedZone, zone_id)
    if zone is None:
        raise error("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}")
    return zone


def _change(context: RequestContext, comment: str | None = None) -> Change:
    return Change(id="C" + token(20), account=context.account, region=GLOBAL, comment=comment)


def _conflicts(context: RequestContext, zone: HostedZone, vpc_id: str) -> None:
    """One VPC holds one private zone of a name."""
    for other in context.store.all(HostedZone):
        if other.private and other.name == zone.name and \
                any(v["VPCId"] == vpc_id for v in other.vpcs):
            raise error("ConflictingDomainExists", f"The VPC {vpc_id} has already been "
                        f"associated with the hosted zone {other.id} with the same domain name.")


@operation("route53", "AssociateVPCWithHostedZone")
def associate_vpc(context: RequestContext, params: dict) -> dict:
    zone = _any_zone(context, params["HostedZoneId"])
    vpc = vpc_named(context, params.get("VPC"))
    if zone.account != context.account and vpc.account != context.account:
        raise error("NoSuchHostedZone", f"No hosted zone found with ID: {zone.id}")
    authorized = zone.account == context.account or any(
        v["VPCId"] == vpc.id for v in zone.authorized_vpcs)
    if vpc.account != context.account or not authorized:
        raise error("NotAuthorizedException", "Associating the specified VPC with the "
                    "specified hosted zone has not been authorized.")
    if not zone.private:
        raise error("PublicZoneVPCAssociation", "You're trying to associate a VPC with a "
                    "public hosted zone. Amazon Route 53 doesn't support associating a VPC "
                    "with a public hosted zone.")
    _conflicts(context, zone, vpc.id)
    change = _change(context, params.get("Comment"))
    with context.store.transaction() as tx:
        mine = tx.edit(HostedZone, zone.id)
        mine.vpcs.append(described_vpc(vpc))
        tx.put(change)
    return {"ChangeInfo": change_info(change)}


@operation("route53", "DisassociateVPCFromHostedZone")
def disassociate_vpc(context: RequestContext, params: dict) -> dict:
    zone = _any_zone(context, params["HostedZoneId"])
    vpc = vpc_named(context, params.get("VPC"))
    if context.account not in (zone.account, vpc.account):
        raise error("NoSuchHostedZone", f"No hosted zone found with ID: {zone.id}")
    if not any(v["VPCId"] == vpc.id for v in zone.vpcs):
        raise error("VPCAssociationNotFound", f"The specified VPC {vpc.id} and hosted zone "
                    f"{zone.id} are not currently associated.")
    if len(zone.vpcs) == 1:
        raise error("LastVPCAssociation", "The VPC that you're trying to disassociate from "
                    "the private hosted zone is the last VPC that is associated with the "
                    "hosted zone. Amazon Route 53 doesn't support disassociating the last VPC "
                    "from a hosted zone.")
    change = _change(context, params.get("Comment"))
    with context.store.transaction() as tx:
        mine = tx.edit(HostedZone, zone.id)
        mine.vpcs = [v for v in mine.vpcs if v["VPCId"] != vpc.id]
        tx.put(change)
    return {"ChangeInfo": change_info(change)}


@operation("route53", "CreateVPCAssociationAuthorization")
def create_authorization(context: RequestContext, params: dict) -> dict:
    zone = require_zone(context, params["HostedZoneId"])
    vpc = described_vpc(vpc_named(context, params.get("VPC")))
    if not zone.private:
        raise error("InvalidInput", "The hosted zone is not a private hosted zone.")
    if vpc not in zone.authorized_vpcs:
        if len(zone.authorized_vpcs) >= AUTHORIZATION_LIMIT:
            raise error("TooManyVPCAssociationAuthorizations", "You've created the maximum "
                        "number of authorizations that can be created for the specified "
                        "hosted zone.")
        with context.store.transaction() as tx:
            mine = tx.edit(HostedZone, zone.id)
            mine.authorized_vpcs.append(vpc)
    return {"HostedZoneId": zone.id, "VPC": vpc}


@operation("route53", "DeleteVPCAssociationAuthorization")
def delete_authorization(context: RequestContext, params: dict) -> dict:
    zone = require_zone(context, params["HostedZoneId"])
    vpc = described_vpc(vpc_named(context, params.get("VPC")))
    if vpc not in zone.authorized_vpcs:
        raise error("VPCAssociationAuthorizationNotFound", "The VPC that you specified is "
                    "not authorized to be associated with the hosted zone.")
    with context.store.transaction() as tx:
        mine = tx.edit(HostedZone, zone.id)
        mine.authorized_vpcs.remove(vpc)
    return {}


@operation("route53", "ListVPCAssociationAuthorizations")
def list_authorizations(context: RequestContext, params: dict) -> dict:
    zone = require_zone(context, params["HostedZoneId"])
    max_items(params, 50, "MaxResults")  # one page: pocketlink's lists are short
    return {"HostedZoneId": zone.id, "VPCs": list(zone.authorized_vpcs)}


@operation("route53", "ListHostedZonesByVPC")
def list_hosted_zones_by_vpc(context: RequestContext, params: dict) -> dict:
    try:
        vpc_id = own_vpc(context, {"VPCId": params["VPCId"],
                                   "VPCRegion": params["VPCRegion"]})["VPCId"]
    except ServiceError as refused:
        raise error("InvalidInput", "The VPC ID is invalid.") from refused
    zones = [{"HostedZoneId": z.id, "Name": z.name, "Owner": {"OwningAccount": z.account}}
             for z in context.store.all(HostedZone)
             if z.private and any(v["VPCId"] == vpc_id for v in z.vpcs)]
    return {"HostedZoneSummaries": zones, "MaxItems": str(max_items(params))}
