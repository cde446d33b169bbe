"""Two asyncio transports joined both ways, for the flows whose bytes must pass through
user space (TLS terminated in a data-plane worker, the service front's TLS): the spliced
TCP path (pump.py) needs none of this.

One ``RelaySide`` per transport. Until ``link`` it is not read and keeps what arrived
before the other side was there; after, it writes what it receives to the other side,
and a side whose buffer fills stops the other from being read until it drains. A close
or an EOF on either side closes the other once what it was sent has gone out: a relayed
flow has no half-close.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RelaySide(asyncio.Protocol):
    """``lost`` is done once the transport has closed; ``on_lost`` (if given) is called
    then too. ``last_activity`` is when bytes last arrived, for an idle timeout."""

    def __init__(self, on_lost: Callable[[], None] | None = None) -> None:
        self.transport: asyncio.Transport | None = None
        self.other: RelaySide | None = None
        self.early: list[bytes] = []
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_activity = time.monotonic()
        self._on_lost = on_lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.pause_reading()  # type: ignore[attr-defined]  # until ``link``

    def link(self, other: RelaySide) -> None:
        """Relays to ``other`` from now on, starting with what came before."""
        self.other = other
        assert other.transport is not None and self.transport is not None
        for data in self.early:
            other.transport.write(data)
        self.early = []
        if not self.transport.is_closing():
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        if self.other is None or self.other.transport is None:
            self.early.append(data)
        else:
            self.other.transport.write(data)

    def eof_received(self) -> bool:
        self.close_other()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.close_other()
        if not self.lost.done():
            self.lost.set_result(None)
        if self._on_lost is not None:
            self._on_lost()

    def close_other(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.close()  # once what it was sent has gone out

    def pause_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.other is not None and self.other.transport is not None and \
                not self.other.transport.is_closing():
            self.other.transport.resume_reading()
