"""Customer managed prefix lists: named sets of CIDR blocks of one address family, versioned,
that routes and security group rules name instead of the blocks themselves. The AWS-managed
ones (the gateway services') are data (``aws_services.gateway_prefix_lists``), not stored.

Every change of the entries is a new version; the versions are kept, as AWS keeps them
(GetManagedPrefixListEntries ``TargetVersion``, RestoreManagedPrefixListVersion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pocketlink.model.base import Resource

if TYPE_CHECKING:
    from pocketlink.store import Store


@dataclass(kw_only=True)
class PrefixListEntry:
    cidr: str
    description: str | None = None


@dataclass(kw_only=True)
class ManagedPrefixList(Resource):
    kind = "managed-prefix-list"

    name: str
    address_family: str  # IPv4 | IPv6
    max_entries: int
    version: int = 1
    # Every version's entries, by version number as text (the store keeps JSON).
    versions: dict[str, list[PrefixListEntry]] = field(default_factory=dict)
    state: str = "create-complete"

    @property
    def entries(self) -> list[PrefixListEntry]:
        return self.versions.get(str(self.version), [])


def customer_cidrs(store: Store, prefix_list_id: str) -> list[str]:
    """The blocks of a customer managed list now (none if there is no such list)."""
    found = store.get(ManagedPrefixList, prefix_list_id)
    return [e.cidr for e in found.entries] if found else []
