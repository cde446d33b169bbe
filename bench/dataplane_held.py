"""Connections held through one pocketlink interface endpoint: 10,000 opened, held 60 s,
with no error (the world: bench/_dataplane.py; only the endpoint's path is used).

Why: every held flow costs the data plane two descriptors (the consumer's socket and the
one to the target) and a little memory; one process here may hold 20,000 descriptors (a
hard limit that root cannot raise on this machine), so 10,000 flows need more than one
process: the daemon's data-plane workers, each with its own limit.

What it does: first CALIBRATE flows held a moment, to measure the descriptors the daemon
and its workers hold per flow; with their open-files limits that says in advance whether
``--hold`` flows fit (a warning if not). Then ``--hold`` connections are opened (at most
256 connecting at once), each does one round trip, all are held ``--hold-seconds``, each
does one more round trip, then all close. An error is a failed connect or round trip, or
a connection that ends while held. It reports the memory (VmRSS) and descriptors of the
daemon and its workers before, held, at peak and after, per connection; their CPU while
the flows idle; and how many "Too many open files" the daemon's log holds.

Run as root: ``sudo python3 bench/dataplane_held.py [--quick] [--hold N] [--hold-seconds S]
[--json FILE]``; see bench/README.md.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from typing import Any

from _dataplane import (
    ECHO_PORT,
    TICK,
    Rig,
    arguments,
    checked_arguments,
    cpu_ticks,
    load,
    main,
    nofile_limits,
    open_fds,
    say,
)
from common import rss_kib

from pocketlink.harness import data_plane_workers

CALIBRATE = 200  # flows held briefly before the big hold, to measure the fds a flow costs


def proxy(rig: Rig) -> list[int]:
    """The processes that carry pocketlink's flows: the daemon and its workers."""
    return [rig.daemon.pid, *data_plane_workers(rig.daemon.pid)]


def fds(pids: list[int]) -> int:
    return sum(open_fds(pid) for pid in pids)


def rss(pids: list[int]) -> int:
    return sum(rss_kib(pid) for pid in pids)


def calibrate(rig: Rig, instance: str, address: str) -> float:
    """Open fds per held flow, measured on CALIBRATE flows held for a moment (a pump may
    lend pipes only while bytes move: no guessing)."""
    pids = proxy(rig)
    before = fds(pids)
    generator = subprocess.Popen(
        load(instance, "hold", "--host", address, "--port", str(ECHO_PORT),
             "--count", str(CALIBRATE), "--seconds", "1.5"),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    held, per_flow = 0, 0.0
    try:
        assert generator.stdout is not None
        for line in generator.stdout:
            event = json.loads(line)
            if event.get("event") == "held":
                time.sleep(0.5)
                held = event["held"]
                per_flow = (fds(pids) - before) / max(held, 1)
        generator.wait(timeout=60)
    finally:
        if generator.poll() is None:
            generator.kill()  # our own subprocess, by its pid
            generator.wait(timeout=30)
    if held < CALIBRATE:
        raise RuntimeError(f"only {held} of {CALIBRATE} calibration flows held")
    time.sleep(0.5)
    return per_flow


def measure(rig: Rig) -> None:
    """``--hold`` connections through the endpoint, held ``--hold-seconds``."""
    a = rig.args
    instance, address = rig.world.route("pocketlink")
    rig.warm_up(("pocketlink",))
    per_flow = calibrate(rig, instance, address)
    pids = proxy(rig)
    limits = {pid: nofile_limits(pid)[0] for pid in pids}
    rss_before, fds_before = rss(pids), fds(pids)
    found: dict[str, Any] = {
        "requested": a.hold, "hold_seconds": a.hold_seconds, "processes": len(pids),
        "nofile": limits, "rss_before_kib": rss_before, "fds_before": fds_before,
        "calibrated_fds_per_flow": per_flow}
    # Flows land only on the workers (the kernel spreads them), the daemon keeps none.
    room = sum(limits[pid] - open_fds(pid) for pid in pids[1:])
    if per_flow * a.hold > room:
        note = (f"the workers' open-files limits leave room for ~{room} more fds, below the "
                f"~{per_flow * a.hold:.0f} that {a.hold} held flows need ({per_flow:.2f} a flow, "
                f"measured on {CALIBRATE} held ones): expect failures from about "
                f"{int(room / per_flow) if per_flow else 0} flows on")
        found["warning"] = note
        say(f"  warning: {note}")
    argv = load(instance, "hold", "--host", address, "--port", str(ECHO_PORT),
                "--count", str(a.hold), "--seconds", f"{a.hold_seconds:g}")
    say(f"  holding {a.hold} connections through the endpoint for {a.hold_seconds:g} s")
    errors = rig.services.folder / "hold.stderr"
    with errors.open("w") as stderr:
        generator = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr,
                                     stdin=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert generator.stdout is not None
        for line in generator.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + a.hold_seconds + 180 + a.hold / 100
    peak_rss = peak_fds = 0
    cpu_before = sum(cpu_ticks(pid) for pid in pids)
    held_at: float | None = None
    final: dict[str, Any] | None = None
    try:
        while True:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line.strip():
                event = json.loads(line)
                if event.get("event") == "held":
                    held_at = time.perf_counter()
                    cpu_before = sum(cpu_ticks(pid) for pid in pids)
                    found.update(rss_held_kib=rss(pids), fds_held=fds(pids),
                                 fds_held_by_process={pid: open_fds(pid) for pid in pids})
                    say(f"  {event['held']} held after {event['ramp_seconds']:.1f} s "
                        f"(errors: {event['errors'] or 'none'})")
                elif event.get("event") == "checking":
                    if held_at is not None:
                        found["cpu_while_held"] = 100.0 * (
                            sum(cpu_ticks(pid) for pid in pids) - cpu_before
                        ) / TICK / (time.perf_counter() - held_at)
                elif event.get("event") == "error":
                    raise RuntimeError(f"the hold generator: {event['error']}")
                elif "event" not in event:
                    final = event
            peak_rss, peak_fds = max(peak_rss, rss(pids)), max(peak_fds, fds(pids))
            if time.monotonic() > deadline:
                raise TimeoutError("the hold did not finish in time")
    finally:
        if generator.poll() is None:
            generator.kill()  # our own subprocess, by its pid
        generator.wait(timeout=30)
    if final is None:
        raise RuntimeError(f"the hold generator gave no result: {errors.read_text()[-1500:]}")
    time.sleep(1.0)
    found.update(final)
    found.update(peak_rss_kib=peak_rss, peak_fds=peak_fds, rss_after_kib=rss(pids),
                 fds_after=fds(pids))
    held = max(found["held"], 1)
    found["rss_per_connection_kib"] = (found.get("rss_held_kib", peak_rss) - rss_before) / held
    found["fds_per_flow"] = (found.get("fds_held", peak_fds) - fds_before) / held
    with rig.daemon.log.open(errors="replace") as log:  # may be large: a line at a time
        found["daemon_log_emfile"] = sum("Too many open files" in line for line in log)
    found["ok"] = (found["held"] == a.hold and not found["open_errors"]
                   and not found["lost_during_hold"] and not found["final_errors"]
                   and found["answered_after_hold"] == a.hold)
    rig.results["hold"] = found


def report(results: dict[str, Any]) -> None:
    hold = results["hold"]
    say("")
    say(f"held through the endpoint: {hold['held']}/{hold['requested']} connections opened "
        f"in {hold['ramp_seconds']:.1f} s, held {hold['hold_seconds']:g} s; lost while held: "
        f"{sum(hold['lost_during_hold'].values())}; answered after: "
        f"{hold['answered_after_hold']}; open errors: {hold['open_errors'] or 0}; "
        f"final errors: {hold['final_errors'] or 0}")
    say(f"  daemon + {hold['processes'] - 1} workers VmRSS {hold['rss_before_kib'] / 1024:.1f} -> "
        f"{hold.get('rss_held_kib', 0) / 1024:.1f} MiB held (peak "
        f"{hold['peak_rss_kib'] / 1024:.1f}, {hold['rss_after_kib'] / 1024:.1f} after): "
        f"{hold['rss_per_connection_kib']:.1f} KiB per connection")
    by_process = ", ".join(str(n) for n in hold.get("fds_held_by_process", {}).values())
    cpu = hold.get("cpu_while_held")
    say(f"  fds {hold['fds_before']} -> {hold.get('fds_held', 0)} held ({by_process}, daemon "
        f"first): {hold['fds_per_flow']:.2f} per flow; limits {sorted(set(hold['nofile'].values()))}"
        f" a process; 'Too many open files' in the log: {hold['daemon_log_emfile']}"
        + (f"; CPU while held idle: {cpu:.1f}%" if cpu is not None else ""))
    if hold.get("warning"):
        say(f"  warning: {hold['warning']}")
    full = hold["requested"] >= 10000 and hold["hold_seconds"] >= 60
    results["verdicts"] = {"hold": {"met": hold["ok"], "target": "10000 for 60 s, no error",
                                    "full_size": full}}
    say("")
    say(f"target: 10,000 held 60 s with no error: {'ok' if hold['ok'] else 'MISSED'}"
        + ("" if full else f" (scaled down: {hold['requested']} for {hold['hold_seconds']:g} s)"))


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--hold", type=int, default=None,
                        help="connections held through the endpoint (default 10000)")
    parser.add_argument("--hold-seconds", type=float, default=None,
                        help="how long they are held (default 60)")
    args = checked_arguments(parser, None, {"hold": 500, "hold_seconds": 5.0},
                             {"hold": 10000, "hold_seconds": 60.0})
    args.rounds = 1
    if not (1 <= args.hold <= 60000 and 0 <= args.hold_seconds <= 600):
        parser.error("out of range: --hold 1-60000, --hold-seconds 0-600")
    sys.exit(main("dataplane_held.py", args, measure, report))
