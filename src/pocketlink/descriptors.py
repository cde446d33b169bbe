"""The daemon's descriptor limit, raised before anything that binds: at a restart the
serving snapshot's listeners and resolvers (six sockets a VPC) and the DNS process it starts
come before the daemon's own imports, and a process keeps the limit it was started with."""

from __future__ import annotations

import resource
from pathlib import Path

WANTED_DESCRIPTORS = 1 << 18


def raise_file_limit() -> int:
    """Every flow holds two sockets (and, while bytes move, pipes): the default 1,024
    descriptors would cap the data plane at a few hundred connections. Root may raise the
    hard limit too (up to fs.nr_open); others take what their hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(hard, WANTED_DESCRIPTORS)
    try:
        ceiling = int(Path("/proc/sys/fs/nr_open").read_text())
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, ceiling), min(wanted, ceiling)))
    except (OSError, ValueError):
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
