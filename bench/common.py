"""What the benchmarks share: a ``pocketlink up`` of their own (``pocketlink.harness.Daemon``,
the tests' too: stopped by its own pid, torn down with ``pocketlink down`` scoped to its port
and state, never ``--all``), and process figures."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from pocketlink.harness import REGION, STOP_TIMEOUT, Daemon

__all__ = ["REGION", "STOP_TIMEOUT", "Daemon", "rss_kib"]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def preflight(script: str, tools: tuple[str, ...]) -> bool:
    """Whether this machine can run ``bench/<script>`` (root, for namespaces, and its
    ``tools``); says what is missing in one line when not. On the way, no profile or
    credentials file of the user's may change what the benchmark's clients do."""
    if os.geteuid() != 0:
        print(f"bench/{script} builds network namespaces: run it as root "
              f"(sudo python3 bench/{script}).", file=sys.stderr)
        return False
    for tool in tools:
        if shutil.which(tool) is None:
            print(f"bench/{script} needs '{tool}' (scripts/setup installs it)", file=sys.stderr)
            return False
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return True
