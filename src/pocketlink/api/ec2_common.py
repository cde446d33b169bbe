"""What every EC2 area needs: CIDR blocks parsed, with EC2's errors for a malformed one."""

from __future__ import annotations

import ipaddress

from pocketlink.api.errors import ec2
from pocketlink.wire.errors import ServiceError


def invalid_value(parameter: str, value: object, why: str = "") -> ServiceError:
    """EC2's InvalidParameterValue in EC2's words: ``Value (V) for parameter P is invalid.``,
    then why, where EC2 says why."""
    said = f"Value ({value}) for parameter {parameter} is invalid."
    return ec2.InvalidParameterValue(f"{said} {why}" if why else said)


def ipv4_network(value: str, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    """A CIDR block in its one text (``10.0.0.0/016`` and ``010.0.0.0/16`` are refused)."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        network = None
    if network is None or str(network) != value:
        raise invalid_value(parameter, value, "This is not a valid CIDR block.")
    return network


def ipv6_network(value: str, parameter: str = "ipv6CidrBlock") -> ipaddress.IPv6Network:
    try:
        return ipaddress.IPv6Network(value, strict=True)
    except ValueError:
        raise invalid_value(parameter, value, "This is not a valid IPv6 CIDR block.") from None
