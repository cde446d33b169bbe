"""What every EC2 area needs: CIDR blocks parsed, with EC2's errors for a malformed one."""

from __future__ import annotations

import ipaddress

from pocketlink.wire.errors import Ec2Error


def ipv4_network(value: str, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise Ec2Error("InvalidParameterValue",
                       f"Value ({value}) for parameter {parameter} is invalid. "
                       "This is not a valid CIDR block.") from None


def ipv6_network(value: str, parameter: str = "ipv6CidrBlock") -> ipaddress.IPv6Network:
    try:
        return ipaddress.IPv6Network(value, strict=True)
    except ValueError:
        raise Ec2Error("InvalidParameterValue",
                       f"Value ({value}) for parameter {parameter} is invalid. "
                       "This is not a valid IPv6 CIDR block.") from None
