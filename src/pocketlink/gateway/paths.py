"""How a request reached pocketlink: the network facts an endpoint policy and an S3 bucket
policy are evaluated against (aws:SourceVpce, aws:SourceVpc, aws:VpcSourceIp, aws:SourceIp).

Only the service front (services/front) knows them: it received the connection from the
hyperplane with a PROXY protocol v2 header naming the caller's address and the endpoint.
It hands them to the gateway on its own unix socket, the one place they are trusted; a
request on the daemon's TCP port has no path (it came from the host, as through the
internet). A request that came through the emulated internet (an internet gateway or a NAT
gateway, network/internet.py) has a path with no endpoint and no VPC: only its public
source address, aws:SourceIp.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkPath:
    source_ip: str  # the caller's address as the service sees it (VPC or public address)
    vpce_id: str | None = None  # the endpoint (interface or gateway) it came through, if any
    vpc_id: str | None = None  # the VPC of that endpoint
