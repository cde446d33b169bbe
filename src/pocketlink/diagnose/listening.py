"""Whether a process listens on a target's port, observed in the target's own network
namespace (the daemon's door only: it needs root, and the API answers from the store).

The way: a thread of the daemon enters the instance's namespace (``netns.run_in``) and
reads ``/proc/thread-self/net/tcp`` and ``tcp6``, which list the sockets of the namespace
the reading thread is in. It needs no process of the instance (a hung target's stopped
server still holds its listening socket, and one without any process has none), no tool
inside it and no ``nsenter`` or ``ss`` child: one file read, where ``ss`` would cost a
fork, an exec and a parse of its text.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pocketlink.diagnose.walk import FAIL, NOTE, OK, Diagnosis, Hop
from pocketlink.network import names, netns

LISTEN = "0A"
NET = Path("/proc/thread-self/net")


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    # Each 32-bit word is in the host's (little-endian) order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def _listening(port: int) -> list[str]:
    found = []
    for table in ("tcp", "tcp6"):
        path = NET / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, _, hex_port = local.partition(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.append(_address(address))
    return found


def listening(instance_id: str, port: int) -> list[str] | None:
    """The addresses something listens on at ``port`` inside ``instance_id``; None when
    its namespace cannot be entered (no network here, or not root)."""
    try:
        return netns.run_in(names.namespace(instance_id), lambda: _listening(port))
    except OSError:
        return None


def observe(diagnosis: Diagnosis) -> Diagnosis:
    """Adds the hop ``target listening`` when the walk got as far as its targets."""
    if not diagnosis.reachable or not diagnosis.targets:
        return diagnosis
    seen, idle, loopback = [], [], []
    for instance_id, port in diagnosis.targets:
        found = listening(instance_id, port)
        if found is None:
            continue
        if any(not ipaddress.ip_address(a).is_loopback for a in found):
            seen.append(f"{instance_id}:{port}")
        elif found:
            loopback.append(f"{instance_id}:{port} (on {', '.join(found)} only)")
        else:
            idle.append(f"{instance_id}:{port}")
    if seen:
        verdict, detail = OK, f"a process listens on {', '.join(seen)}"
        if idle or loopback:
            detail += f"; nothing on {', '.join(idle + loopback)}"
    elif idle or loopback:
        verdict = FAIL
        detail = (f"nothing listens on {', '.join(idle)}" if idle else "") + \
            ("; " if idle and loopback else "") + \
            (f"only loopback listens on {', '.join(loopback)}" if loopback else "") + \
            ": the target resets the connection (start the server, bound to all addresses)"
    else:
        verdict, detail = NOTE, "not observed: the targets' namespaces cannot be entered here"
    diagnosis.hops.append(Hop("target listening", verdict, detail,
                              component=diagnosis.targets[0][0]))
    return diagnosis
