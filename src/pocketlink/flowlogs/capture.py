"""What flowed in one namespace, as the kernel counted it: conntrack's table for the flows
a security group let through (each counted both ways, ``nf_conntrack_acct``, which the
network turns on in every namespace it makes) and the rejected sets of pocketlink's
nftables table for the ones a security group dropped (network/firewall.py).

Both are cumulative: a conntrack entry counts from its first packet until it expires, a
set element until ten idle minutes have passed; ``Counts`` turns them into growth since
the last look. A flow whose entry came and went between two looks is missed, which
conntrack's lingering (TIME_WAIT, two minutes; CLOSE after a reset, ten seconds) makes
rare at the looks' pace (every five seconds at most).
"""

from __future__ import annotations

import json
import socket
import subprocess
from dataclasses import dataclass

from pyroute2 import Conntrack

from pocketlink.network import netns
from pocketlink.network.firewall import REJECTED_SETS, TABLE

# conntrack's TCP states (nf_conntrack_tcp.h) that follow a FIN, and the one after a reset
_FINISHED = {4, 5, 6, 7}  # FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT
_RESET = 8  # CLOSE


@dataclass(frozen=True)
class Seen:
    """One flow as the kernel holds it now: its first packet's addresses and ports, what
    went that way (``packets``, ``bytes``) and back (``reply_*``, accepted flows only)."""

    key: tuple  # what tells this flow from every other in the namespace, across looks
    srcaddr: str
    dstaddr: str
    srcport: int
    dstport: int
    protocol: int
    packets: int
    bytes: int
    reply_packets: int
    reply_bytes: int
    action: str  # ACCEPT | REJECT
    finished: bool = False  # a FIN went by (TCP)
    reset: bool = False  # a RST ended it (TCP)


def _conntrack() -> list[Seen]:
    found = []
    with Conntrack(nfgen_family=socket.AF_UNSPEC) as table:
        for message in table.dump():
            orig = message.get_attr("CTA_TUPLE_ORIG")
            ip, proto = orig.get_attr("CTA_TUPLE_IP"), orig.get_attr("CTA_TUPLE_PROTO")
            there, back = message.get_attr("CTA_COUNTERS_ORIG"), \
                message.get_attr("CTA_COUNTERS_REPLY")
            if ip is None or proto is None or there is None:
                continue  # counted by no one: accounting was off when it began
            state = None
            info = message.get_attr("CTA_PROTOINFO")
            tcp = info.get_attr("CTA_PROTOINFO_TCP") if info is not None else None
            if tcp is not None:
                state = tcp.get_attr("CTA_PROTOINFO_TCP_STATE")
            found.append(Seen(
                ("ct", message.get_attr("CTA_ID")),
                ip.get_attr("CTA_IP_V4_SRC") or ip.get_attr("CTA_IP_V6_SRC"),
                ip.get_attr("CTA_IP_V4_DST") or ip.get_attr("CTA_IP_V6_DST"),
                proto.get_attr("CTA_PROTO_SRC_PORT") or 0,
                proto.get_attr("CTA_PROTO_DST_PORT") or 0,
                proto.get_attr("CTA_PROTO_NUM"),
                there.get_attr("CTA_COUNTERS_PACKETS"), there.get_attr("CTA_COUNTERS_BYTES"),
                back.get_attr("CTA_COUNTERS_PACKETS") if back is not None else 0,
                back.get_attr("CTA_COUNTERS_BYTES") if back is not None else 0,
                "ACCEPT", finished=state in _FINISHED, reset=state == _RESET))
    return found


_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "sctp": 132}


def _rejected(namespace: str) -> list[Seen]:
    done = subprocess.run(["nsenter", f"--net={netns.NETNS_DIR / namespace}", "nft", "-j",
                           "list", "table", "inet", TABLE],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return []  # no table yet
    found = []
    for item in json.loads(done.stdout).get("nftables", []):
        listed = item.get("set")
        if listed is None or listed.get("name") not in REJECTED_SETS:
            continue
        for element in listed.get("elem", []):
            element = element.get("elem", element)
            source, destination, protocol, source_port, destination_port = \
                element["val"]["concat"]
            number = protocol if isinstance(protocol, int) else _PROTOCOLS.get(protocol, 0)
            tcp_or_udp = number in (6, 17, 132)
            counter = element.get("counter", {})
            found.append(Seen(
                ("rejected", source, destination, number, source_port, destination_port),
                source, destination, source_port if tcp_or_udp else 0,
                destination_port if tcp_or_udp else 0, number,
                counter.get("packets", 0), counter.get("bytes", 0), 0, 0, "REJECT"))
    return found


def observe(namespace: str) -> list[Seen]:
    """Every flow the namespace holds now; none when the namespace is not there (yet)."""
    if not (netns.NETNS_DIR / namespace).exists():
        return []
    try:
        accepted = netns.run_in(namespace, _conntrack)
    except OSError:
        return []  # gone in between
    return accepted + _rejected(namespace)


class Counts:
    """Per namespace, each flow's growth since the last look: a count that went down is a
    new flow by the same key (a set element that expired, a ruleset loaded again)."""

    def __init__(self) -> None:
        self._last: dict[tuple, tuple[int, int, int, int]] = {}

    def grown(self, namespace: str, seen: list[Seen]
              ) -> list[tuple[Seen, int, int, int, int, bool]]:
        """(flow, packets, bytes, reply packets, reply bytes, new) of each flow that grew
        since last time; ``new``: first seen now."""
        out = []
        for flow in seen:
            key = (namespace, *flow.key)
            now = (flow.packets, flow.bytes, flow.reply_packets, flow.reply_bytes)
            before = self._last.get(key)
            fresh = before is None or now[0] < before[0] or now[2] < before[2]
            if fresh:
                before = (0, 0, 0, 0)
            self._last[key] = now
            grown = [a - b for a, b in zip(now, before, strict=True)]  # type: ignore[arg-type]
            if grown[0] or grown[2]:
                out.append((flow, grown[0], grown[1], grown[2], grown[3], fresh))
        return out

    def keep_only(self, namespaces: set[str]) -> None:
        """Forgets the namespaces no flow log looks at any more."""
        for key in [k for k in self._last if k[0] not in namespaces]:
            del self._last[key]

    def forget(self, namespace: str, seen: list[Seen]) -> None:
        """Drops what the namespace no longer holds, so that memory follows the kernel."""
        held = {(namespace, *f.key) for f in seen}
        for key in [k for k in self._last if k[0] == namespace and k not in held]:
            del self._last[key]
