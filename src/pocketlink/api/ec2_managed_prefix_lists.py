"""Managed prefix lists, the customer's and AWS's: Create/Modify/Delete/Describe, entries by
version, the resources that reference a list, restoring an earlier version.

A customer list's blocks become routes (one kernel route per block, ``network/topology``)
and security group rules (``network/firewall``) wherever a route or rule names it, and
follow its versions. AWS-managed lists (the gateway services') are described here too but
never changed. Creation and modification are immediate here: the answer says
``create-in-progress`` / ``modify-in-progress`` as AWS's does, and the list is
``*-complete`` by the next call. Where AWS documents no wording (a list still referenced,
too many entries), the messages are pocketlink's, in EC2's style.
"""

from __future__ import annotations

import ipaddress

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import require_among
from pocketlink.model import ids
from pocketlink.model.aws_services import PrefixList, gateway_prefix_lists
from pocketlink.model.base import Resource
from pocketlink.model.ec2 import RouteTable, SecurityGroup
from pocketlink.model.prefix_lists import ManagedPrefixList, PrefixListEntry
from pocketlink.wire.errors import ServiceError

MAX_ENTRIES = 1000
FAMILIES = ("IPv4", "IPv6")


class _AwsList(Resource):
    """An AWS-managed list, shaped as a stored one for filters and descriptions."""

    def __init__(self, prefix_list: PrefixList, region: str) -> None:
        super().__init__(id=prefix_list.prefix_list_id, account="AWS", region=region)
        self.name = prefix_list.name
        self.cidrs = prefix_list.cidrs


MANAGED_FILTERS: dict[str, filters.Field] = {
    "prefix-list-id": lambda p: p.id,
    "prefix-list-name": lambda p: p.name,
    "owner-id": lambda p: p.account,
}


def _arn(context: RequestContext, prefix_list: Resource) -> str:
    owner = "aws" if isinstance(prefix_list, _AwsList) else prefix_list.account
    return f"arn:aws:ec2:{context.region}:{owner}:prefix-list/{prefix_list.id}"


def describe_list(context: RequestContext, prefix_list: Resource, state: str | None = None
                  ) -> dict:
    item = {"PrefixListId": prefix_list.id, "PrefixListName": prefix_list.name,  # type: ignore[attr-defined]
            "OwnerId": prefix_list.account, "PrefixListArn": _arn(context, prefix_list)}
    if isinstance(prefix_list, _AwsList):
        return {**item, "AddressFamily": "IPv4", "State": "create-complete", "Version": 1,
                "Tags": []}
    assert isinstance(prefix_list, ManagedPrefixList)
    item.update({"AddressFamily": prefix_list.address_family,
                 "State": state or prefix_list.state, "Version": prefix_list.version,
                 "MaxEntries": prefix_list.max_entries})
    if prefix_list.tags:
        item["Tags"] = tags.tag_set(prefix_list.tags)
    return item


def _all(context: RequestContext) -> list[Resource]:
    return [*(_AwsList(p, context.region) for p in gateway_prefix_lists(context.region)),
            *(p for p in context.store.all(ManagedPrefixList)
              if p.account == context.account and p.region == context.region)]


def find_list(context: RequestContext, prefix_list_id: str) -> Resource:
    """An AWS-managed list of the region or one of the caller's, by id."""
    return require_among(ManagedPrefixList, prefix_list_id, _all(context))


def _own(context: RequestContext, prefix_list_id: str, verb: str) -> ManagedPrefixList:
    found = find_list(context, prefix_list_id)
    if isinstance(found, _AwsList):
        raise ServiceError(f"The prefix list {prefix_list_id} is managed by AWS and cannot "
                           f"be {verb}.", code="UnauthorizedOperation")
    assert isinstance(found, ManagedPrefixList)
    return found


def _entries(given: list[dict], family: str) -> list[PrefixListEntry]:
    entries = []
    for entry in given:
        cidr = entry.get("Cidr", "")
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ec2.InvalidParameterValue(f"The CIDR '{cidr}' is invalid.") from None
        if (network.version == 6) != (family == "IPv6"):
            raise ec2.InvalidParameterValue(
                f"The CIDR '{cidr}' does not match the address family {family}.")
        description = entry.get("Description")
        if description is not None and len(description) > 255:
            raise ec2.InvalidParameterValue("The description of an entry is longer than 255 "
                                            "characters.")
        entries.append(PrefixListEntry(cidr=str(network), description=description))
    cidrs = [e.cidr for e in entries]
    duplicate = next((c for c in cidrs if cidrs.count(c) > 1), None)
    if duplicate:
        raise ec2.InvalidParameterValue(f"The CIDR '{duplicate}' is given more than once.")
    return entries


def _name(name: str) -> str:
    if not name or len(name) > 255:
        raise ec2.InvalidParameterValue("The prefix list name must be 1 to 255 characters.")
    if name.lower().startswith("com.amazonaws"):
        raise ec2.InvalidParameterValue("The prefix list name cannot start with com.amazonaws.")
    return name


def _max_entries(value: int, count: int) -> int:
    if not 1 <= value <= MAX_ENTRIES:
        raise invalid_value("maxEntries", value, f"It must be between 1 and {MAX_ENTRIES}.")
    if count > value:
        raise ec2.InvalidParameterValue(
            f"The number of entries ({count}) exceeds the maximum of {value}.")
    return value


@operation("ec2", "CreateManagedPrefixList")
def create_managed_prefix_list(context: RequestContext, params: dict) -> dict:
    family = params["AddressFamily"]
    if family not in FAMILIES:
        raise invalid_value("addressFamily", family, "Valid values are IPv4 and IPv6.")
    entries = _entries(params.get("Entries") or [], family)
    prefix_list = ManagedPrefixList(
        id=ids.new_id("pl"), account=context.account, region=context.region,
        name=_name(params["PrefixListName"]), address_family=family,
        max_entries=_max_entries(params["MaxEntries"], len(entries)),
        versions={"1": entries}, tags=tags.from_specifications(params, "prefix-list"))
    with context.store.transaction() as tx:
        tx.put(prefix_list)
    return {"PrefixList": describe_list(context, prefix_list, "create-in-progress")}


@operation("ec2", "DescribeManagedPrefixLists")
def describe_managed_prefix_lists(context: RequestContext, params: dict) -> dict:
    wanted = params.get("PrefixListIds")
    found = [find_list(context, i) for i in dict.fromkeys(wanted)] if wanted else _all(context)
    found = filters.apply(found, params.get("Filters"), MANAGED_FILTERS)
    chunk, more = pages.page(found, params, low=1, high=100)
    return {"PrefixLists": [describe_list(context, p) for p in chunk], **more}


def _version_entries(prefix_list: Resource, version: int | None) -> list[dict]:
    if isinstance(prefix_list, _AwsList):
        return [{"Cidr": c} for c in prefix_list.cidrs]
    assert isinstance(prefix_list, ManagedPrefixList)
    wanted = prefix_list.version if version is None else version
    if str(wanted) not in prefix_list.versions:
        raise ec2.InvalidParameterValue(
            f"Version {wanted} does not exist for prefix list {prefix_list.id}.")
    return [{"Cidr": e.cidr, **({"Description": e.description} if e.description else {})}
            for e in prefix_list.versions[str(wanted)]]


@operation("ec2", "GetManagedPrefixListEntries")
def get_managed_prefix_list_entries(context: RequestContext, params: dict) -> dict:
    prefix_list = find_list(context, params["PrefixListId"])
    entries = _version_entries(prefix_list, params.get("TargetVersion"))
    chunk, more = pages.page(entries, params, low=1, high=100)
    return {"Entries": chunk, **more}


def _version(prefix_list: ManagedPrefixList, given: int | None) -> None:
    if given is not None and given != prefix_list.version:
        raise ServiceError("The prefix list has the incorrect version number.",
                           code="PrefixListVersionMismatch")


@operation("ec2", "ModifyManagedPrefixList")
def modify_managed_prefix_list(context: RequestContext, params: dict) -> dict:
    prefix_list = _own(context, params["PrefixListId"], "modified")
    _version(prefix_list, params.get("CurrentVersion"))
    added = _entries(params.get("AddEntries") or [], prefix_list.address_family)
    removed = {str(ipaddress.ip_network(e.get("Cidr", ""), strict=False))
               for e in params.get("RemoveEntries") or [] if e.get("Cidr")}
    resized = params.get("MaxEntries")
    if resized is not None and (added or removed):
        raise ec2.InvalidParameterCombination(
            "You cannot modify the entries of a prefix list and its maximum number of entries "
            "at the same time.")
    current = {e.cidr for e in prefix_list.entries}
    missing = sorted(removed - current)
    if missing:
        raise ec2.InvalidParameterValue(f"The CIDR '{missing[0]}' is not an entry of "
                                        f"{prefix_list.id}.")
    # Removals first, then additions: removing and adding one block replaces its description.
    entries = [e for e in prefix_list.entries if e.cidr not in removed]
    entries = [e for e in entries if e.cidr not in {a.cidr for a in added}] + added
    _max_entries(prefix_list.max_entries if resized is None else resized, len(entries))
    with context.store.transaction() as tx:
        mine = tx.edit(ManagedPrefixList, prefix_list.id)
        if params.get("PrefixListName"):
            mine.name = _name(params["PrefixListName"])
        if resized is not None:
            mine.max_entries = resized
        if added or removed:
            mine.version += 1
            mine.versions[str(mine.version)] = entries
        mine.state = "modify-complete"
    return {"PrefixList": describe_list(context, mine, "modify-in-progress")}


@operation("ec2", "RestoreManagedPrefixListVersion")
def restore_managed_prefix_list_version(context: RequestContext, params: dict) -> dict:
    prefix_list = _own(context, params["PrefixListId"], "modified")
    _version(prefix_list, params["CurrentVersion"])
    previous = str(params["PreviousVersion"])
    if previous not in prefix_list.versions:
        raise ec2.InvalidParameterValue(
            f"Version {previous} does not exist for prefix list {prefix_list.id}.")
    with context.store.transaction() as tx:
        mine = tx.edit(ManagedPrefixList, prefix_list.id)
        mine.version += 1
        mine.versions[str(mine.version)] = [PrefixListEntry(cidr=e.cidr, description=e.description)
                                            for e in mine.versions[previous]]
        mine.state = "restore-complete"
    return {"PrefixList": describe_list(context, mine, "restore-in-progress")}


def associations(context: RequestContext, prefix_list_id: str) -> list[dict]:
    """The security groups and route tables that name the list."""
    found = [{"ResourceId": g.id, "ResourceOwner": g.account}
             for g in context.store.all(SecurityGroup)
             if any(r.prefix_list_id == prefix_list_id for r in g.rules)]
    found += [{"ResourceId": t.id, "ResourceOwner": t.account}
              for t in context.store.all(RouteTable)
              if any(r.destination_prefix_list_id == prefix_list_id for r in t.routes)]
    return found


@operation("ec2", "GetManagedPrefixListAssociations")
def get_managed_prefix_list_associations(context: RequestContext, params: dict) -> dict:
    prefix_list = _own(context, params["PrefixListId"], "described")
    chunk, more = pages.page(associations(context, prefix_list.id), params, low=5, high=255)
    return {"PrefixListAssociations": chunk, **more}


@operation("ec2", "DeleteManagedPrefixList")
def delete_managed_prefix_list(context: RequestContext, params: dict) -> dict:
    prefix_list = _own(context, params["PrefixListId"], "deleted")
    users = associations(context, prefix_list.id)
    if users:
        raise ec2.DependencyViolation(
            f"The prefix list {prefix_list.id} is referenced by {users[0]['ResourceId']} and "
            "cannot be deleted.")
    with context.store.transaction() as tx:
        tx.delete(prefix_list)
    return {"PrefixList": describe_list(context, prefix_list, "delete-in-progress")}
