"""What the benchmarks share: a ``pocketlink up`` of their own (``pocketlink.harness.Daemon``,
the tests' too: stopped by its own pid, torn down with ``pocketlink down`` scoped to its port
and state, never ``--all``), and process figures."""

from __future__ import annotations

from pathlib import Path

from pocketlink.harness import REGION, STOP_TIMEOUT, Daemon

__all__ = ["REGION", "STOP_TIMEOUT", "Daemon", "rss_kib"]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")
