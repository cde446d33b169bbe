"""The byte pump: splice(2) between two sockets through a pipe, driven by the event loop.

Bytes go socket -> pipe -> socket inside the kernel and never reach Python: the loop only
hears "readable" or "writable" and moves as much as the pipe holds. A full pipe stops the
reading side until the writing side drains it, so a slow receiver slows its sender (flow
control without buffers of our own). EOF on one side half-closes the other (SHUT_WR) and
the other direction goes on; the flow ends when both are done, or when it idles past its
timeout, which resets both sides as an NLB does.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import socket
import struct
import time
from collections.abc import Callable

CHUNK = 1 << 20
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031
FLAGS = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
_LINGER_RESET = struct.pack("ii", 1, 0)


class Pipes:
    """Pipes lent to flows while bytes are in flight and taken back once drained: an idle
    flow holds its two sockets and nothing more, so descriptors go further."""

    def __init__(self, spare: int = 256) -> None:
        self.spare = spare
        self._free: list[tuple[int, int]] = []

    def take(self) -> tuple[int, int]:
        if self._free:
            return self._free.pop()
        read, write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        with contextlib.suppress(OSError):  # the default 64 KiB works too, with more wake-ups
            fcntl.fcntl(write, F_SETPIPE_SZ, PIPE_SIZE)
        return read, write

    def give(self, pipe: tuple[int, int], empty: bool = True) -> None:
        if empty and len(self._free) < self.spare:
            self._free.append(pipe)
        else:
            for fd in pipe:
                os.close(fd)

    def close(self) -> None:
        while self._free:
            self.give(self._free.pop(), empty=False)


class _Direction:
    """One way of a flow: from ``source`` into a pipe, from the pipe into ``sink``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, source: socket.socket,
                 sink: socket.socket, flow: Flow) -> None:
        self.loop, self.flow = loop, flow
        self.source, self.sink = source.fileno(), sink.fileno()
        self.sink_socket = sink
        self.pipe: tuple[int, int] | None = None
        self.buffered = 0
        self.eof = False
        self.done = False
        self.reading = self.writing = False
        self._read(True)

    def _read(self, on: bool) -> None:
        if on and not self.reading:
            self.loop.add_reader(self.source, self.readable)
        elif not on and self.reading:
            self.loop.remove_reader(self.source)
        self.reading = on

    def _write(self, on: bool) -> None:
        if on and not self.writing:
            self.loop.add_writer(self.sink, self.writable)
        elif not on and self.writing:
            self.loop.remove_writer(self.sink)
        self.writing = on

    def readable(self) -> None:
        if self.pipe is None:
            self.pipe = self.flow.pipes.take()
        try:
            moved = os.splice(self.source, self.pipe[1], CHUNK, flags=FLAGS)
        except BlockingIOError:
            if self.buffered == 0:  # a spurious wake-up: an idle flow holds no pipe
                self.flow.pipes.give(self.pipe)
                self.pipe = None
            return  # else the pipe is full: drain first
        except OSError as error:
            self.flow.fail(error)
            return
        if moved == 0:
            self.eof = True
            self._read(False)
        else:
            self.buffered += moved
            self.flow.touch()
        self.writable()

    def writable(self) -> None:
        while self.buffered:
            assert self.pipe is not None
            try:
                moved = os.splice(self.pipe[0], self.sink, self.buffered, flags=FLAGS)
            except BlockingIOError:
                self._read(False)  # the receiver is slow: stop taking more from the sender
                self._write(True)
                return
            except OSError as error:
                self.flow.fail(error)
                return
            self.buffered -= moved
        self._write(False)
        if self.pipe is not None:
            self.flow.pipes.give(self.pipe)
            self.pipe = None
        if self.eof:
            self._finish()
        else:
            self._read(True)

    def _finish(self) -> None:
        if self.done:
            return
        self.done = True
        with contextlib.suppress(OSError):  # half-close: the peer may still talk
            self.sink_socket.shutdown(socket.SHUT_WR)
        self.flow.direction_done()

    def close(self) -> None:
        self._read(False)
        self._write(False)
        if self.pipe is not None:
            self.flow.pipes.give(self.pipe, empty=self.buffered == 0)
            self.pipe = None


class Flow:
    """Both directions between ``client`` and ``upstream``; ``on_end`` runs once, at the end."""

    def __init__(self, client: socket.socket, upstream: socket.socket, idle_timeout: float,
                 on_end: Callable[[Flow], None], pipes: Pipes) -> None:
        self.client, self.upstream = client, upstream
        self.pipes = pipes
        self.idle_timeout = idle_timeout
        self.on_end = on_end
        self.last_activity = time.monotonic()
        self.finished = False
        self._remaining = 2
        loop = asyncio.get_running_loop()
        self.directions = [_Direction(loop, client, upstream, self),
                           _Direction(loop, upstream, client, self)]

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def idle(self, now: float) -> bool:
        return now - self.last_activity > self.idle_timeout

    def direction_done(self) -> None:
        self._remaining -= 1
        if self._remaining == 0:
            self._end(reset=False)

    def fail(self, error: OSError) -> None:
        self._end(reset=error.errno not in (errno.EPIPE,))

    def reset(self) -> None:
        """Idle past the timeout: forget the flow; both sides get a TCP reset."""
        self._end(reset=True)

    def _end(self, reset: bool) -> None:
        if self.finished:
            return
        self.finished = True
        for direction in self.directions:
            direction.close()
        for sock in (self.client, self.upstream):
            if reset:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            sock.close()
        self.on_end(self)
