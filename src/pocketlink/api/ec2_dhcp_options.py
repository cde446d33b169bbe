"""DHCP option sets: create, associate with a VPC, delete, describe; the account's default
set per region (``model/dhcp.py``).

A set cannot change once made; a VPC takes another by AssociateDhcpOptions (``default``:
none), and its instances' resolv.conf follows at once (at AWS, at their next DHCP lease).
Where AWS documents no wording (an unknown key, a bad NetBIOS node type), the messages are
pocketlink's, in EC2's style.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from pocketlink.api import ec2_defaults as defaults
from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import require, require_among
from pocketlink.model import ids
from pocketlink.model.dhcp import NO_OPTIONS, DhcpOptions, default_configurations
from pocketlink.model.ec2 import Vpc
from pocketlink.wire.numbers import integer

KEYS = ("domain-name", "domain-name-servers", "ntp-servers", "netbios-name-servers",
        "netbios-node-type", "ipv6-address-preferred-lease-time")
MAX_SERVERS = 4
NODE_TYPES = ("1", "2", "4", "8")

DHCP_FILTERS: dict[str, filters.Field] = {
    "dhcp-options-id": lambda o: o.id,
    "key": lambda o: list(o.configurations),
    "value": lambda o: [v for values in o.configurations.values() for v in values],
    "owner-id": lambda o: o.account,
}


def _default(context: RequestContext) -> None:
    """The account's default set in this region, stored on first use."""
    default_id = defaults.dhcp_options_id(context.account, context.region)
    if context.store.get(DhcpOptions, default_id) is None:
        with context.store.transaction() as tx:
            tx.put(DhcpOptions(id=default_id, account=context.account, region=context.region,
                               configurations=default_configurations(context.region)))


def _owned(context: RequestContext) -> list[DhcpOptions]:
    _default(context)
    return [o for o in context.store.all(DhcpOptions) if o.account == context.account
            and o.region == context.region and not o.deleted]


def _find(context: RequestContext, options_id: str) -> DhcpOptions:
    return require_among(DhcpOptions, options_id, _owned(context))


def describe_options(options: DhcpOptions) -> dict:
    item = {"DhcpOptionsId": options.id, "OwnerId": options.account,
            "DhcpConfigurations": [{"Key": key, "Values": [{"Value": v} for v in values]}
                                   for key, values in options.configurations.items()]}
    if options.tags:
        item["Tags"] = tags.tag_set(options.tags)
    return item


def _address(key: str, value: str, amazon: bool = False) -> None:
    if amazon and value == "AmazonProvidedDNS":
        return
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise invalid_value(key, value) from None


def _single(key: str, values: list[str], valid: Callable[[str], bool]) -> None:
    if len(values) != 1 or not valid(values[0]):
        raise invalid_value(key, ",".join(values))


def _configurations(params: dict) -> dict[str, list[str]]:
    given = params.get("DhcpConfigurations") or []
    if not given:
        raise ec2.MissingParameter("dhcpConfiguration")
    found: dict[str, list[str]] = {}
    for entry in given:
        key, values = entry.get("Key", ""), [v for v in entry.get("Values") or [] if v]
        if key not in KEYS:
            raise invalid_value("dhcpConfiguration.key", key, "Unknown option name.")
        if not values:
            raise ec2.InvalidParameterValue(f"Value for parameter {key} is missing.")
        if key in found:
            raise ec2.InvalidParameterValue(f"The option {key} is given more than once.")
        if key in ("domain-name-servers", "ntp-servers", "netbios-name-servers"):
            if len(values) > MAX_SERVERS:
                raise invalid_value(key, ",".join(values))
            for value in values:
                _address(key, value, amazon=key == "domain-name-servers")
        elif key == "netbios-node-type":
            _single(key, values, lambda v: v in NODE_TYPES)
        elif key == "ipv6-address-preferred-lease-time":
            _single(key, values, lambda v: 140 <= (integer(v) or 0) <= 2147483647)
        found[key] = values
    return found


@operation("ec2", "CreateDhcpOptions")
def create_dhcp_options(context: RequestContext, params: dict) -> dict:
    options = DhcpOptions(id=ids.new_id("dopt"), account=context.account, region=context.region,
                          configurations=_configurations(params),
                          tags=tags.from_specifications(params, "dhcp-options"))
    with context.store.transaction() as tx:
        tx.put(options)
    return {"DhcpOptions": describe_options(options)}


@operation("ec2", "DescribeDhcpOptions")
def describe_dhcp_options(context: RequestContext, params: dict) -> dict:
    wanted = params.get("DhcpOptionsIds")
    found = [_find(context, i) for i in dict.fromkeys(wanted)] if wanted else _owned(context)
    found = filters.apply(found, params.get("Filters"), DHCP_FILTERS)
    chunk, more = pages.page(found, params, ids_param="DhcpOptionsIds")
    return {"DhcpOptions": [describe_options(o) for o in chunk], **more}


@operation("ec2", "AssociateDhcpOptions")
def associate_dhcp_options(context: RequestContext, params: dict) -> dict:
    vpc = require(context, Vpc, params["VpcId"])
    options_id = params["DhcpOptionsId"]
    if options_id != NO_OPTIONS:
        _find(context, options_id)
    with context.store.transaction() as tx:
        tx.edit(Vpc, vpc.id).dhcp_options_id = options_id
    return {}


@operation("ec2", "DeleteDhcpOptions")
def delete_dhcp_options(context: RequestContext, params: dict) -> dict:
    options = _find(context, params["DhcpOptionsId"])
    if any(v.dhcp_options_id == options.id for v in context.store.all(Vpc)):
        raise ec2.DependencyViolation(
            f"The dhcpOptions '{options.id}' has dependencies and cannot be deleted.")
    default = options.id == defaults.dhcp_options_id(context.account, context.region)
    with context.store.transaction() as tx:
        if default:
            tx.edit(DhcpOptions, options.id).deleted = True
        else:
            tx.delete(options)
    return {}
