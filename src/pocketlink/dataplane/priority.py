"""pocketlink's serving processes ahead of everything else on the host's cores.

The DNS process and the data-plane workers answer every tenant's lookups and carry every
flow; the API's loop, the instances' workloads (in cgroups weighted below, see
``pocketlink.instances.cpu``) and whatever else the host runs can wait a little. So the
daemon starts them at ``NICE`` (a weight some three times a nice-0 process's in the
scheduler), not a real-time class: a bug that spins in one cannot freeze the host. A
daemon not allowed to raise priorities (not root) runs them at its own.

A data-plane worker also puts itself in the batch class (``no_wakeup_preemption``): it keeps
that weight, but waking does not preempt the task on its core (the tick does, or the task
blocking). Preempting the client or the target on every packet's wake-up cost a worker
more than one context switch a connection and 10-20% more CPU for one (a short flow has
four or five events; bench/README.md); waiting for a core's turn lets events gather into batches,
as they do for a proxy at nice 0. The DNS process answers one datagram a wake-up and
keeps preempting.
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


def no_wakeup_preemption() -> None:
    """The calling process into SCHED_BATCH, its nice level kept (any process may)."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except OSError as error:
        log.debug("no batch scheduling (%s)", error)
