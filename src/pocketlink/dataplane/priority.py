"""pocketlink's serving processes ahead of everything else on the host's cores.

The DNS process and the data-plane workers answer every tenant's lookups and carry every
flow; the API's loop, the instances' workloads (in cgroups weighted below, see
``pocketlink.instances.cpu``) and whatever else the host runs can wait a little. So the
daemon starts them at ``NICE`` (a weight some three times a nice-0 process's in the
scheduler), not a real-time class: a bug that spins in one cannot freeze the host. A
daemon not allowed to raise priorities (not root) runs them at its own.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("pocketlink")

NICE = -5


def raise_priority(pid: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, NICE)
    except PermissionError:
        pass
    except OSError as error:  # gone already: its restart gets it
        log.debug("no higher priority for pid %d (%s)", pid, error)
