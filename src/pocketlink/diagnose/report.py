"""``pocketlink diagnose``'s page: the daemon's verdict (as the control socket sends it)
and the probe, laid out for a network engineer: one line per hop, the verdict in the
margin, the record that answered under the DNS hop, the fix under the failing hop with the
account that must run it."""

from __future__ import annotations

from pocketlink.diagnose.probe import Probe

WIDTH = 20  # the hop names' column


def split_target(to: str, default_port: int) -> tuple[str, int]:
    """``NAME[:PORT]``, ``[v6]:PORT`` or a bare IPv6 address."""
    if to.startswith("["):
        host, _, rest = to[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if to.count(":") == 1:
        host, port = to.split(":")
        return host, int(port)
    return to, default_port


def render(found: dict, probe: Probe | None, skipped: str = "") -> list[str]:
    """``skipped``: why there is no probe, when there is none."""
    lines = [f"diagnose {found['source']} -> {found['to']}:{found['port']} (tcp)"]
    for hop in found["hops"]:
        lines.append(f"  {hop['verdict']:<5} {hop['name']:<{WIDTH}} {hop['detail']}")
        if hop["name"] == "DNS" and found.get("resolution"):
            lines += [f"  {'':<5} {'':<{WIDTH}}   {r}" for r in found["resolution"]["records"]]
        if hop["fix"]:
            lines.append(f"  {'':<5} {'fix':>{WIDTH}} [account {hop['fix']['account']}] "
                         f"{hop['fix']['command']}")
    failure = found["failure"]
    lines.append("verdict: " + ("reachable" if found["reachable"] else
                                f"unreachable at '{failure['name']}'"))
    if probe is not None:
        address = found["resolution"] and found["resolution"]["address"]
        agree = "agrees" if probe.connected == found["reachable"] else "DISAGREES"
        lines.append(f"probe:   tcp {address}:{found['port']} from {found['source']}: "
                     f"{probe.outcome}: {agree} with the verdict")
    else:
        lines.append(f"probe:   not run ({skipped})")
    return lines
