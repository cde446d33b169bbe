"""The emulated internet: one namespace per daemon, the VPC routers' links to it, the
address translation of internet gateways, and NAT gateways.

- The **internet namespace** (``names.internet``) holds the AWS public service addresses
  (198.18.0.0/15 and 2001:db8::/32, model/aws_services.py) as local routes on its loopback
  (every address of the range is its own, so one wildcard listener serves them all) and
  nothing else: no link to the root namespace, no route to the host, a firewall that takes
  only connections to those addresses on 80 and 443 (and replies), and starts none but
  Route 53's health checkers' (route53_checker.py), from their own address.
- An **internet gateway** attached to a VPC (or an egress-only one) is a veth pair between
  the VPC's router (``names.uplink``, ``UPLINK_ROUTER``) and the internet namespace
  (``names.downlink``, ``UPLINK_INTERNET``): link-local /31s, which no VPC may use, so
  they clash with no tenant's addresses, and a /127 of fd00:ec2::/32's, the prefix of the
  resolver's and metadata service's IPv6 addresses; every downlink carries the same pair,
  told apart by its device. A route table's ``0.0.0.0/0 -> igw-...`` is a route via
  ``UPLINK_INTERNET``, its ``::/0 -> igw-...`` or ``-> eigw-...`` one via
  ``UPLINK_INTERNET6``. IPv6 is not translated: the VPC's own addresses go out, and the
  internet namespace routes the VPC's IPv6 blocks back to it; in only as replies while the
  VPC has an egress-only gateway and no internet gateway.
- A **public address** (an Elastic IP, or a public IP EC2 gave at launch) is a 1:1 NAT in
  the router's own nftables table (``IGW_TABLE``, beside the security groups' table, so
  that neither load replaces the other): DNAT on the way in, SNAT on the way out through
  the uplink; a private address with no public one does not get out (as at AWS). The
  internet namespace routes each public address to its VPC's downlink.
- A **NAT gateway** is a namespace of its own (``pl-nat-...``) plugged into its subnet's
  bridge like an instance, with its ENI's address, translating what it forwards to that
  address (SNAT in its nftables, counted there). Its Elastic IP is associated with that
  ENI, so the router's 1:1 NAT turns the NAT's private address into the EIP on the way
  out, as AWS documents it ("the NAT gateway replaces the source IP address of the
  instances with the private IP address of the NAT gateway"; the internet gateway maps
  that to the Elastic IP). A namespace rather than an address the router holds: a packet
  from a private subnet then leaves the router into the NAT and comes back on the public
  subnet's bridge, so that the public subnet's route table decides its way out, as at AWS
  (a NAT gateway in a subnet with no route to an internet gateway reaches nothing), and the
  NAT's counters and connection table hold its traffic alone.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass

from pocketlink.model.aws_services import (
    AWS_PUBLIC_IPV4,
    AWS_PUBLIC_IPV6,
    ROUTE53_CHECKER_IPV4,
    ROUTE53_CHECKER_IPV6,
)
from pocketlink.network.firewall import _ND as ND  # neighbour discovery, as every table lets it

IGW_TABLE = "pocketlink_igw"  # in each VPC router with an internet gateway, family inet
UPLINK_ROUTER = "169.254.255.1"
UPLINK_INTERNET = "169.254.255.0"
UPLINK_PREFIX = 31
UPLINK_ROUTER6 = "fd00:ec2:0:ff::1"
UPLINK_INTERNET6 = "fd00:ec2:0:ff::"
UPLINK_PREFIX6 = 127
SERVICE_PORTS = (80, 443)  # checkip.amazonaws.com, and every AWS API
NAT_INTERFACE = "eth0"
# The NAT gateway's named counters (nftables), read by ``nat_gateway_traffic``.
BYTES_OUT, BYTES_IN = "to_destination", "from_destination"
ATTEMPTED, ESTABLISHED = "connection_attempts", "connections_established"
# Bits of a connection's conntrack mark in a NAT gateway: counted once as attempted, once
# as established (a retransmitted SYN is ``ct state new`` again; every reply is
# ``established``).
MARK_ATTEMPTED, MARK_ESTABLISHED = 0x1, 0x2


@dataclass(frozen=True)
class UplinkSpec:
    """A VPC router's internet gateway: its link, and the addresses behind it."""

    name: str  # in the router
    peer: str  # in the internet namespace
    internet: str  # the internet namespace
    mappings: tuple[tuple[str, str], ...]  # (private, public), sorted
    ipv6_blocks: tuple[str, ...]  # the VPC's, routed back to it
    ruleset: str  # the router's IGW_TABLE


@dataclass(frozen=True)
class InternetSpec:
    namespace: str
    ruleset: str  # its ``inet pocketlink`` table
    local: tuple[str, ...] = (str(AWS_PUBLIC_IPV4), str(AWS_PUBLIC_IPV6))


def _digested(family: str, table: str, body: str) -> str:
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f'table {family} {table} {{\n  comment "{digest}"\n{body}\n}}\n'


def internet_ruleset() -> str:
    """The internet namespace's firewall: connections in to the service addresses' ports,
    forwarding between public addresses (one VPC's instance to another's public IP, as on
    the internet), and nothing it starts itself but Route 53's health checkers' TCP
    probes (network/route53_checker.py), which only its routes to public addresses carry."""
    ports = ", ".join(map(str, SERVICE_PORTS))
    body = "\n".join([
        "  chain input {",
        "    type filter hook input priority 0; policy drop;",
        "    iif lo accept",
        "    ct state established,related accept",
        f"    {ND}",
        f"    ip daddr {AWS_PUBLIC_IPV4} tcp dport {{ {ports} }} accept",
        f"    ip6 daddr {AWS_PUBLIC_IPV6} tcp dport {{ {ports} }} accept",
        "  }",
        "  chain output {",
        "    type filter hook output priority 0; policy drop;",
        "    oif lo accept",
        "    ct state established,related accept",
        f"    {ND}",
        f"    ip saddr {ROUTE53_CHECKER_IPV4} meta l4proto tcp accept",
        f"    ip6 saddr {ROUTE53_CHECKER_IPV6} meta l4proto tcp accept",
        "  }",
    ])
    return _digested("inet", "pocketlink", body)


def internet_spec(namespace: str) -> InternetSpec:
    return InternetSpec(namespace, internet_ruleset())


def gateway_ruleset(uplink: str, mappings: tuple[tuple[str, str], ...],
                    ipv6_blocks: tuple[str, ...] = (), inbound_ipv6: bool = False) -> str:
    """The router's 1:1 NAT between private and public addresses on ``uplink``, and the
    filter around it: out only from a private address that has a public one (or from the
    VPC's IPv6 blocks), in only to a public address (or the VPC's IPv6 blocks, unless
    ``inbound_ipv6`` is off: egress-only) or as a reply, never to the router itself."""
    lines = ["  chain prerouting {",
             "    type nat hook prerouting priority dstnat; policy accept;"]
    if mappings:
        inward = ", ".join(f"{public} : {private}" for private, public in mappings)
        lines.append(f'    iifname "{uplink}" dnat ip to ip daddr map {{ {inward} }}')
    lines += ["  }", "  chain postrouting {",
              "    type nat hook postrouting priority srcnat; policy accept;"]
    if mappings:
        outward = ", ".join(f"{private} : {public}" for private, public in mappings)
        lines.append(f'    oifname "{uplink}" snat ip to ip saddr map {{ {outward} }}')
    lines += ["  }", "  chain forward {",
              "    type filter hook forward priority 0; policy accept;"]
    blocks = ", ".join(ipv6_blocks)
    if mappings:
        privates = ", ".join(private for private, _ in mappings)
        lines.append(f'    oifname "{uplink}" ip saddr {{ {privates} }} accept')
    if blocks:
        lines.append(f'    oifname "{uplink}" ip6 saddr {{ {blocks} }} accept')
    lines += [f'    oifname "{uplink}" drop',
              f'    iifname "{uplink}" ct state established,related accept',
              f'    iifname "{uplink}" ct status dnat accept']
    if blocks and inbound_ipv6:
        lines.append(f'    iifname "{uplink}" ip6 daddr {{ {blocks} }} accept')
    lines += [f'    iifname "{uplink}" drop',
              "  }", "  chain input {",
              "    type filter hook input priority 0; policy accept;",
              f'    iifname "{uplink}" ct state established,related accept',
              f'    iifname "{uplink}" {ND}',
              f'    iifname "{uplink}" drop',
              "  }"]
    return _digested("inet", IGW_TABLE, "\n".join(lines))


def nat_gateway_ruleset(private_ip: str) -> str:
    """A NAT gateway's table: what it forwards leaves with its own address (the router's
    1:1 NAT then makes that its Elastic IP), counted both ways, and its connections
    counted as CloudWatch's ConnectionAttemptCount and ConnectionEstablishedCount do: one
    attempt per connection its source opens, established once the destination took it
    (a TCP handshake completed -- conntrack's ``assured``; a refused SYN's RST does not
    count --, any other protocol's first answer). Each connection is counted once, by a
    bit of its conntrack mark."""
    once = "ct mark & {bit} == 0 ct mark set ct mark | {bit}"
    attempted = once.format(bit=hex(MARK_ATTEMPTED))
    established = once.format(bit=hex(MARK_ESTABLISHED))
    body = "\n".join([
        *(f"  counter {name} {{\n  }}" for name in (BYTES_OUT, BYTES_IN, ATTEMPTED,
                                                      ESTABLISHED)),
        "  chain forward {",
        "    type filter hook forward priority 0; policy accept;",
        f'    ct direction original counter name "{BYTES_OUT}"',
        f'    ct direction reply counter name "{BYTES_IN}"',
        f'    ct state new {attempted} counter name "{ATTEMPTED}"',
        f'    ct state established meta l4proto tcp ct status assured {established} '
        f'counter name "{ESTABLISHED}"',
        f'    ct state established meta l4proto != tcp ct direction reply {established} '
        f'counter name "{ESTABLISHED}"',
        "  }",
        "  chain postrouting {",
        "    type nat hook postrouting priority srcnat; policy accept;",
        f'    oifname "{NAT_INTERFACE}" ip saddr != {private_ip} snat ip to {private_ip}',
        "  }",
    ])
    return _digested("inet", "pocketlink", body)


@dataclass(frozen=True)
class NatGatewayTraffic:
    """What passed through one NAT gateway since its namespace was made, in the terms of
    CloudWatch's AWS/NATGateway metrics."""

    bytes_out_to_destination: int
    bytes_in_from_destination: int
    packets_out_to_destination: int
    packets_in_from_destination: int
    connection_attempt_count: int
    connection_established_count: int
    active_connection_count: int  # TCP connections established through it now


def nat_gateway_traffic(nat_gateway_id: str) -> NatGatewayTraffic | None:
    """The NAT gateway's counters, read from its namespace: the nftables counters of its
    forward chain (bytes and packets each way; connections, by their packets that counted
    them) and the established TCP entries of its connection table. None when its
    namespace is not there (not yet built, or deleted). Needs root, as the network does."""
    from pocketlink.network import names, netns

    namespace = names.namespace(nat_gateway_id)
    if netns.inode(namespace) is None:
        return None
    done = subprocess.run(["nsenter", f"--net={netns.NETNS_DIR / namespace}", "nft", "-j",
                           "list", "counters", "table", "inet", "pocketlink"],
                          capture_output=True, text=True, check=False)
    counted: dict[str, tuple[int, int]] = {}
    if done.returncode == 0:
        for item in json.loads(done.stdout or "{}").get("nftables", []):
            counter = item.get("counter")
            if counter:
                counted[counter["name"]] = (counter.get("bytes", 0), counter.get("packets", 0))
    out, into = counted.get(BYTES_OUT, (0, 0)), counted.get(BYTES_IN, (0, 0))
    return NatGatewayTraffic(out[0], into[0], out[1], into[1],
                             counted.get(ATTEMPTED, (0, 0))[1],
                             counted.get(ESTABLISHED, (0, 0))[1],
                             netns.run_in(namespace, _established_tcp))


TCP_ESTABLISHED = 3  # conntrack's TCP state number


def _established_tcp() -> int:
    from pyroute2 import Conntrack

    with Conntrack() as table:
        return sum(1 for entry in table.dump_entries() if entry.protoinfo is not None
                   and entry.protoinfo.state == TCP_ESTABLISHED)
