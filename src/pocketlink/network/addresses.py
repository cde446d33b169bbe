"""The addresses AWS reserves in every VPC and subnet, and pocketlink puts on its routers."""

from __future__ import annotations

import ipaddress

from pocketlink.model.ec2 import Vpc

RESOLVER_LINK_LOCAL = "169.254.169.253"
RESOLVER_IPV6 = "fd00:ec2::253"
METADATA_IPV4 = "169.254.169.254"  # the instance metadata service (pocketlink.imds)
METADATA_IPV6 = "fd00:ec2::254"


def gateway(cidr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The subnet's router: its first address after the network address, as at AWS."""
    return ipaddress.ip_network(cidr).network_address + 1


def resolver_address(vpc: Vpc) -> str:
    """AmazonProvidedDNS: the VPC's primary CIDR base + 2."""
    return str(ipaddress.ip_network(vpc.cidr_block).network_address + 2)
