"""Names of what pocketlink makes in the kernel: derived from AWS ids, prefixed ``pl``.

Namespaces carry the id whole (``pl-vpc-0abc...``, ``pl-i-0abc...``). Interface names
must fit IFNAMSIZ (15 bytes), so they are ``pl`` + a role letter + 10 hex of a hash.
"""

from __future__ import annotations

import hashlib

PREFIX = "pl"
NAMESPACE_PREFIX = "pl-"
INSTANCE_INTERFACE = "eth0"  # what an instance sees, as on EC2


def namespace(resource_id: str) -> str:
    return f"{NAMESPACE_PREFIX}{resource_id}"


def _short(resource_id: str) -> str:
    return hashlib.sha256(resource_id.encode()).hexdigest()[:10]


def bridge(subnet_id: str) -> str:
    """The subnet's bridge in its VPC's namespace."""
    return f"{PREFIX}b{_short(subnet_id)}"


def veth(eni_id: str) -> str:
    """The VPC side of an instance ENI's veth pair."""
    return f"{PREFIX}v{_short(eni_id)}"


def peering_link(peering_id: str, vpc_id: str) -> str:
    """A VPC router's end of the link a peering makes to the other VPC's router."""
    return f"{PREFIX}p{_short(peering_id + '/' + vpc_id)}"


def route_table_number(subnet_id: str) -> int:
    """The kernel routing table of a subnet's route table (policy routing by bridge)."""
    return 10_000 + int(_short(subnet_id), 16) % 1_000_000


def internet(owner: str) -> str:
    """The "internet" namespace of the daemon whose state file is ``owner``: one per daemon
    (several may share a machine), holding the AWS public service addresses."""
    return f"{NAMESPACE_PREFIX}internet-{_short(owner)}"


def uplink(vpc_id: str) -> str:
    """The VPC router's end of its link to the internet (its internet gateways')."""
    return f"{PREFIX}g{_short(vpc_id)}"


def downlink(vpc_id: str) -> str:
    """The internet namespace's end of a VPC's link."""
    return f"{PREFIX}i{_short(vpc_id)}"
