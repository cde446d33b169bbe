"""DHCP option sets: what a VPC's instances are told at boot (their DNS servers and search
domain, NTP and NetBIOS servers), one set per VPC at a time.

Every account has a default set per region (``dopt-`` + a digest of both, as
``ec2_defaults`` names it): AmazonProvidedDNS and the region's internal domain. It is
stored on first use; deleted, it stays as a tombstone, so that it is not made again.
A VPC associated with ``default`` has no set: its instances learn no DNS server at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pocketlink.model import regions
from pocketlink.model.base import Resource
from pocketlink.model.ec2 import Vpc

if TYPE_CHECKING:
    from pocketlink.store import Store

AMAZON_PROVIDED_DNS = "AmazonProvidedDNS"
NO_OPTIONS = "default"  # AssociateDhcpOptions' word for "no set"


@dataclass(kw_only=True)
class DhcpOptions(Resource):
    kind = "dhcp-options"

    configurations: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False  # the default set, once deleted


def default_configurations(region: str) -> dict[str, list[str]]:
    return {"domain-name": [regions.internal_domain(region)],
            "domain-name-servers": [AMAZON_PROVIDED_DNS]}


def options_of(store: Store, vpc: Vpc) -> dict[str, list[str]]:
    """The options a VPC's instances get: its set's, the default's while the default set
    was never stored, nothing for ``default`` or a deleted set."""
    if vpc.dhcp_options_id == NO_OPTIONS:
        return {}
    found = store.get(DhcpOptions, vpc.dhcp_options_id)
    if found is None:
        return default_configurations(vpc.region)
    return {} if found.deleted else found.configurations
