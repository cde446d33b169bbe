"""The proof: a TCP connect from inside the instance's network namespace, the path its
own ``curl`` takes (the sandbox shares the instance's namespace; only its mounts and ids
differ).

An endpoint's listener accepts at once and only then dials the target (dataplane/worker.py),
resetting the client when that fails or times out; so a connect alone proves only the
first half. The probe holds the connection open a while and watches for that reset: a
connection still open at the end of the hold, or one that the far side answered with
bytes, reached something that listens.
"""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass

from pocketlink.dataplane.worker import CONNECT_TIMEOUT
from pocketlink.network import names, netns

CONNECT = 3.0
# Long enough to see the reset of a target connect the data plane gives up on.
HOLD_FOR_RESET = CONNECT_TIMEOUT + 1.0
HOLD = 2.0


@dataclass(frozen=True)
class Probe:
    connected: bool  # connected, and not reset within the hold
    outcome: str  # what happened, in words


def _attempt(address: str, port: int, hold: float) -> Probe:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT)
        try:
            sock.connect((address, port))
        except TimeoutError:
            return Probe(False, f"no answer to the SYN within {CONNECT:g} s (dropped)")
        except ConnectionRefusedError:
            return Probe(False, "refused (RST): nothing listens on that port")
        except OSError as error:
            return Probe(False, f"connect failed: {error.strerror or error}")
        readable, _, _ = select.select([sock], [], [], hold)
        if not readable:
            return Probe(True, f"connected, still open after {hold:g} s")
        try:
            data = sock.recv(1)
        except OSError as error:
            return Probe(False, f"connected, then reset: {error.strerror or error} (the far "
                         "side could not reach a target)")
        if data:
            return Probe(True, "connected, and the far side spoke first")
        return Probe(False, "connected, then closed by the far side")


def probe(instance_id: str, address: str, port: int, hold: float = HOLD) -> Probe:
    """Connects to ``address``:``port`` from ``instance_id``'s namespace (needs root)."""
    return netns.run_in(names.namespace(instance_id), lambda: _attempt(address, port, hold))
