"""The one allocator of addresses and blocks: private IPs for ENIs, IPv6 /56s for VPCs,
public IPv4 addresses (Elastic IPs, instances' public IPs).

What is in use is derived from the ENIs themselves (no second ledger to drift): an address
is taken while an ENI holds it and free again once that ENI is deleted. As at AWS, a
subnet's first four addresses and its last are reserved, and picks are random, never in
one of the subnet's CIDR reservations (an address there is given only when named).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable

from pocketlink.api.errors import ec2
from pocketlink.model.ec2 import NetworkInterface, Subnet, Vpc
from pocketlink.model.internet import PUBLIC_POOL, Address
from pocketlink.model.subnet_reservations import in_reservation
from pocketlink.store import Store

RESERVED_HEAD = 4  # network, router, DNS, future use
RESERVED_TAIL = 1  # broadcast
ULA = ipaddress.IPv6Network("fd00::/8")


def used_ipv4(store: Store, subnet_id: str) -> set[str]:
    return {ip for eni in store.all(NetworkInterface) if eni.subnet_id == subnet_id
            for ip in (eni.private_ip_address, *eni.secondary_private_ip_addresses) if ip}


def used_ipv6(store: Store, subnet_id: str) -> set[str]:
    return {ip for eni in store.all(NetworkInterface) if eni.subnet_id == subnet_id
            for ip in eni.ipv6_addresses}


def available_ipv4_count(store: Store, subnet: Subnet) -> int:
    if not subnet.cidr_block:
        return 0
    size = ipaddress.IPv4Network(subnet.cidr_block).num_addresses
    return size - RESERVED_HEAD - RESERVED_TAIL - len(used_ipv4(store, subnet.id))


def is_reserved(subnet: Subnet, address: str) -> bool:
    network = ipaddress.IPv4Network(subnet.cidr_block or "0.0.0.0/32")
    offset = int(ipaddress.IPv4Address(address)) - int(network.network_address)
    return offset < RESERVED_HEAD or offset >= network.num_addresses - RESERVED_TAIL


def allocate_ipv4(store: Store, subnet: Subnet, taken: set[str] | None = None) -> str:
    """A free private IPv4 address of ``subnet``; ``taken`` holds picks not yet committed."""
    network = ipaddress.IPv4Network(subnet.cidr_block or "")
    used = used_ipv4(store, subnet.id) | (taken or set())
    first, last = RESERVED_HEAD, network.num_addresses - RESERVED_TAIL - 1
    base = int(network.network_address)
    for _ in range(16):
        candidate = str(ipaddress.IPv4Address(base + first + secrets.randbelow(last - first + 1)))
        if candidate not in used and not in_reservation(store, subnet.id, candidate):
            return candidate
    for offset in range(first, last + 1):
        candidate = str(ipaddress.IPv4Address(base + offset))
        if candidate not in used and not in_reservation(store, subnet.id, candidate):
            return candidate
    raise ec2.InsufficientFreeAddressesInSubnet()


def claim_ipv4(store: Store, subnet: Subnet, address: str, taken: set[str] | None = None) -> str:
    """``address`` for a new ENI in ``subnet``, with EC2's errors when it cannot be had."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise ec2.InvalidParameterValue(f"Invalid value '{address}' for IP address") from None
    if not subnet.cidr_block or ip not in ipaddress.IPv4Network(subnet.cidr_block):
        raise ec2.InvalidParameterValue(f"Address {address} does not fall within the subnet's address range")
    if is_reserved(subnet, address):
        raise ec2.InvalidParameterValue(f"Address {address} is in subnet's reserved address range")
    if str(ip) in used_ipv4(store, subnet.id) | (taken or set()):
        raise ec2.InvalidIPAddressInUse(address)
    return str(ip)


def allocate_ipv6(store: Store, subnet: Subnet, taken: set[str] | None = None) -> str:
    if not subnet.ipv6_associations:
        raise ec2.InvalidParameterValue(f"The subnet {subnet.id} does not have an IPv6 CIDR block")
    network = ipaddress.IPv6Network(subnet.ipv6_associations[0].cidr)
    used = used_ipv6(store, subnet.id) | (taken or set())
    base = int(network.network_address)
    span = network.num_addresses
    while True:
        offset = secrets.randbelow(span - 16) + 4
        candidate = str(ipaddress.IPv6Address(base + offset))
        if candidate not in used and not in_reservation(store, subnet.id, candidate):
            return candidate


def claim_ipv6(store: Store, subnet: Subnet, address: str, taken: set[str] | None = None) -> str:
    """``address`` (IPv6) for a new ENI in ``subnet``, with EC2's errors when it cannot be had."""
    if not subnet.ipv6_associations:
        raise ec2.InvalidParameterValue(f"The subnet {subnet.id} does not have an IPv6 CIDR block")
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        raise ec2.InvalidParameterValue(f"Invalid value '{address}' for IPv6 address") from None
    network = ipaddress.IPv6Network(subnet.ipv6_associations[0].cidr)
    if ip not in network:
        raise ec2.InvalidParameterValue(f"Address {address} does not fall within the subnet's address range")
    offset = int(ip) - int(network.network_address)
    if offset < RESERVED_HEAD or offset >= network.num_addresses - RESERVED_TAIL:
        raise ec2.InvalidParameterValue(f"Address {address} is in subnet's reserved address range")
    if str(ip) in used_ipv6(store, subnet.id) | (taken or set()):
        raise ec2.InvalidIPAddressInUse(address)
    return str(ip)


def take(store: Store, subnet: Subnet, wanted: Iterable[str], count: int, taken: set[str],
         *, ipv6: bool = False) -> list[str]:
    """The addresses ``wanted`` (claimed, with EC2's errors) and ``count`` more (picked) of
    ``subnet``, each added to ``taken``: the picks of one request, not yet committed."""
    claim, allocate = (claim_ipv6, allocate_ipv6) if ipv6 else (claim_ipv4, allocate_ipv4)
    picked: list[str] = []
    for address in wanted:
        picked.append(claim(store, subnet, address, taken))
        taken.add(picked[-1])
    for _ in range(count):
        picked.append(allocate(store, subnet, taken))
        taken.add(picked[-1])
    return picked


def allocate_vpc_ipv6_block(store: Store) -> str:
    """A /56 from the unique-local range fd00::/8: never one that looks like the internet."""
    used = {a.cidr for vpc in store.all(Vpc) for a in vpc.ipv6_associations}
    while True:
        bits = secrets.randbits(48) << 72  # 8 bits of fd, 48 random, /56
        block = ipaddress.IPv6Network((int(ULA.network_address) | bits, 56))
        if str(block) not in used:
            return str(block)


def allocate_public_ipv4(store: Store, taken: set[str] | None = None) -> str:
    """A free public IPv4 address from the pool (model/internet.py: TEST-NET-2 and -3), for
    an Elastic IP or an instance's public IP. One pool for every account and region: the
    daemon has one internet. An address whose ENI is gone is free again."""
    live = {e.id for e in store.all(NetworkInterface)}
    used = {a.public_ip for a in store.all(Address)
            if a.elastic or a.network_interface_id in live} | (taken or set())
    for network in PUBLIC_POOL:
        for host in network.hosts():
            if str(host) not in used:
                return str(host)
    raise ec2.AddressLimitExceeded("The maximum number of addresses has been reached.")
