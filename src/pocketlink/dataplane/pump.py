"""The byte pump: carries a flow's bytes both ways between two sockets, with as few system
calls and Python calls a flow as it can, since a connection's cost (not bulk bytes) bounds
a Python data plane (bench/README.md has the measurements behind each choice).

- One epoll set per worker (``Pump``), edge-triggered, that the event loop watches as one
  descriptor: a flow's two sockets are added once each and leave it by being closed, with
  no loop reader or writer per socket to add and remove (uvloop's cost several epoll_ctl
  and ioctl calls each, and a handle). An edge names the socket; the flow moves what
  there is until the kernel says "would block". Writable edges are asked for only once a
  sink has refused bytes: a flow that never fills a buffer never hears them.
- Short flows are copied: ``recv_into`` one buffer the pump shares, ``send`` from it, the
  accepted socket left blocking (MSG_DONTWAIT on each call). A read shorter than the
  buffer drained the socket (TCP reads all it holds), so the next edge is the next news;
  with the peer's FIN already seen (EPOLLRDHUP) such a read also means end of file, with
  no read of zero bytes to learn it.
- A direction whose read fills the buffer is a bulk flow: it turns to splice(2) through a
  pipe lent by the pump's pool, and its bytes no longer reach Python. A full sink stops
  the reading until it drains: a slow receiver slows its sender, with no buffers of our
  own beyond one read's worth. A spliced direction then also stops asking for its
  source's readable edges (``paused``): each packet arriving meanwhile would wake the
  worker for nothing.
- End of file on one side half-closes the other (SHUT_WR) and the other direction goes on;
  when both are done, closing both sockets sends the last FIN (no second shutdown). A flow
  idle past its timeout, or failed, resets both sides (SO_LINGER 0), as an NLB does.
- The upstream socket may still be connecting when its flow starts: bytes for it wait (a
  send would block) for its writable edge, a refused connect fails the flow at its first
  read, and the worker's sweep times out a connect that nothing answers. A PROXY protocol
  header goes ahead of the client's bytes, in the same send when they are there, alone
  at the connect's edge when they are not (a server that speaks first waits for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import select
import socket
import struct
import time
from collections.abc import Callable

COPY_BUFFER = 1 << 16  # a read that fills it makes the direction splice
CHUNK = 1 << 20
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031
FLAGS = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
DONTWAIT = socket.MSG_DONTWAIT
EVENTS_A_POLL = 512
EDGE_HANGUP = select.EPOLLRDHUP | select.EPOLLET
EDGE_READ = select.EPOLLIN | EDGE_HANGUP
EDGE_BOTH = EDGE_READ | select.EPOLLOUT
READABLE = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLERR | select.EPOLLHUP
LISTENING = select.EPOLLIN
WRITABLE = select.EPOLLOUT | select.EPOLLERR | select.EPOLLHUP
RDHUP, ERROR = select.EPOLLRDHUP, select.EPOLLERR
HANGUP = RDHUP | ERROR  # RDHUP alone: the FIN has come, every byte before it is queued
_LINGER_RESET = struct.pack("ii", 1, 0)

log = logging.getLogger("pocketlink.dataplane")

Handler = Callable[[int], None]


class Tally:
    """One listener's figures, as its worker saw them since it last told the daemon
    (``new``, the bytes each way, the resets by who caused them) and now (``active``
    flows). A flow adds its bytes when the worker's sweep asks and when it ends, not
    on every read: the hot path counts into the flow's own direction only.

    ``targets``: per target (address, port), [flows ended, bytes both ways]: a flow adds
    to its target's where it adds its bytes, and counts itself there when it ends (the
    accept path pays nothing for it)."""

    __slots__ = ("active", "bytes_in", "bytes_out", "client_resets", "elb_resets", "new",
                 "target_resets", "targets", "told_active")

    def __init__(self) -> None:
        self.active = self.told_active = 0
        self.new = self.bytes_in = self.bytes_out = 0
        self.elb_resets = self.target_resets = self.client_resets = 0
        self.targets: dict[tuple[str, int], list[int]] = {}

    def take_targets(self) -> list[list]:
        """[address, port, flows, bytes] of each target since the last take."""
        taken = [[*target, *counts] for target, counts in self.targets.items()]
        self.targets = {}
        return taken

    def take(self) -> list[int] | None:
        """The counts since the last take (and the active flows), or None if nothing
        changed since; the counts start again from zero."""
        counts = [self.new, self.bytes_in, self.bytes_out, self.elb_resets,
                  self.target_resets, self.client_resets]
        if not any(counts) and self.active == self.told_active:
            return None
        self.told_active = self.active
        self.new = self.bytes_in = self.bytes_out = 0
        self.elb_resets = self.target_resets = self.client_resets = 0
        return [*counts, self.active]


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


class Pump:
    """What a worker's flows share, on its running loop: the epoll set (the loop watches
    it as one reader), the copy buffer, the pipe pool, and the time of the current batch
    of events (an idle timeout needs no finer clock).

    ``watch`` adds a socket with its handler, called with the epoll event mask: flows' sockets
    edge-triggered, a listener level-triggered (``LISTENING``: its backlog is read a batch
    at a time). A flow's socket leaves the set by being closed."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.epoll = select.epoll()
        self.handlers: dict[int, Handler] = {}
        self.buffer = memoryview(bytearray(COPY_BUFFER))
        self.pipes = Pipes()
        self.now = time.monotonic()
        self.closed: set[int] = set()  # descriptors closed during the current batch
        self.loop.add_reader(self.epoll.fileno(), self._events)

    def watch(self, fd: int, handler: Handler, events: int = EDGE_READ) -> None:
        self.handlers[fd] = handler
        self.epoll.register(fd, events)

    def unwatch(self, fd: int) -> None:
        """A socket that stays open (a listener paused or given up) leaves the set."""
        self.handlers.pop(fd, None)
        with contextlib.suppress(OSError):
            self.epoll.unregister(fd)

    def _events(self) -> None:
        self.now = time.monotonic()
        handlers, closed = self.handlers, self.closed
        for fd, mask in self.epoll.poll(0, EVENTS_A_POLL):
            if closed and fd in closed:
                continue
            handler = handlers.get(fd)
            if handler is not None:
                handler(mask)
        closed.clear()

    def close(self) -> None:
        self.loop.remove_reader(self.epoll.fileno())
        self.epoll.close()
        self.pipes.close()


class _Direction:
    """One way of a flow, from ``source`` to ``sink``: copied while short, spliced once a
    read fills the copy buffer. ``prefix`` goes out ahead of the first bytes (in their
    send), or alone once the sink is connected and the source has none. ``blocked``:
    bytes wait for the sink to take them (in ``pending`` or in the pipe), so the source is
    not read until it has. The sink's writable edges are asked for the first time it
    blocks (``watching``): a flow that never fills a buffer never hears them.

    The flow is an argument of the methods, not an attribute: no cycle for the garbage
    collector to find, so a flow's objects go as soon as the worker lets go of it."""

    __slots__ = ("blocked", "buffered", "done", "eof", "moved", "paused", "pending", "pipe",
                 "prefix", "sink", "sink_fd", "source", "source_fd", "splicing", "watching")

    def __init__(self, source: socket.socket, source_fd: int, sink: socket.socket,
                 sink_fd: int, prefix: bytes = b"") -> None:
        self.source, self.source_fd, self.sink, self.sink_fd = source, source_fd, sink, sink_fd
        self.prefix = prefix
        self.watching = bool(prefix)  # the connect's edge sends it if no bytes come first
        self.pending = b""
        self.pipe: tuple[int, int] | None = None
        self.buffered = 0
        self.moved = 0  # bytes read from the source, not yet told to the flow's tally
        self.blocked = self.splicing = self.eof = self.done = self.paused = False

    def move(self, flow: Flow, hangup: bool) -> None:
        """Move what there is until the source or the sink would block, or the source ends
        (``hangup``: the event said the peer's FIN has arrived, after all its bytes)."""
        try:
            if self.splicing:
                self._splice(flow)
                return
            pump = flow.pump
            if self.pending and not self._send(flow, self.pending):
                return
            if self.eof:  # seen while bytes waited for the sink
                self._finish(flow)
                return
            source, view = self.source, pump.buffer
            while True:
                try:
                    size = source.recv_into(view, COPY_BUFFER, DONTWAIT)
                except BlockingIOError:
                    if self.prefix and flow.connected:  # no bytes to go with it
                        self._send(flow, b"")
                    return
                if size == 0:
                    break
                self.moved += size
                flow.last_activity = pump.now
                if not self._send(flow, view[:size]):
                    return
                if size == COPY_BUFFER:  # a bulk flow: its bytes stay in the kernel now
                    self.splicing = True
                    source.setblocking(False)  # splice reads block on a blocking socket
                    self.sink.setblocking(False)
                    self._splice(flow)
                    return
                if hangup:
                    break  # all there was, and the FIN after it
                return  # a short read took all there was: the next edge is the next news
            self.eof = True
            if self.prefix and not self._send(flow, b""):  # owed even to a silent client
                return
            self._finish(flow)
        except OSError as error:
            flow.fail(error, self.source is flow.upstream)

    def _send(self, flow: Flow, data: bytes | memoryview) -> bool:
        """Whether the sink took all of ``data`` (after the prefix); the rest waits."""
        if self.prefix:
            data, self.prefix = self.prefix + data, b""
        try:
            sent = self.sink.send(data, DONTWAIT)
        except BlockingIOError:  # full, or still connecting
            sent = 0
        if sent < len(data):
            self.pending = bytes(data[sent:])
            self._block(flow)
            return False
        self.pending = b""
        self.blocked = False
        return True

    def _block(self, flow: Flow) -> None:
        self.blocked = True
        if not self.watching:
            self.watching = True
            flow.interest(self.sink_fd)

    def _splice(self, flow: Flow) -> None:
        pump = flow.pump
        pipes = pump.pipes
        while True:
            while self.buffered:
                assert self.pipe is not None
                try:
                    moved = os.splice(self.pipe[0], self.sink_fd, self.buffered, None, None,
                                      FLAGS)
                except BlockingIOError:
                    self._block(flow)
                    if not self.paused:  # its readable edges would wake the worker for nothing
                        self.paused = True
                        flow.interest(self.source_fd)
                    return
                self.buffered -= moved
            self.blocked = False
            if self.paused:
                self.paused = False
                flow.interest(self.source_fd)
            if self.eof:
                self._finish(flow)
                return
            if self.pipe is None:
                self.pipe = pipes.take()
            try:
                moved = os.splice(self.source_fd, self.pipe[1], CHUNK, None, None, FLAGS)
            except BlockingIOError:
                pipes.give(self.pipe)  # drained: an idle flow holds no pipe
                self.pipe = None
                return
            if moved == 0:
                self.eof = True
            else:
                self.buffered = moved
                self.moved += moved
                flow.last_activity = pump.now

    def _finish(self, flow: Flow) -> None:
        """End of file from the source, every byte before it delivered: the sink is
        half-closed (the peer may still talk), or, the other way done too, the flow ends
        (closing sends the last FIN)."""
        self.eof = self.done = True
        if self.pipe is not None:
            flow.pump.pipes.give(self.pipe)
            self.pipe = None
        if flow.up.done and flow.down.done:
            flow.end(reset=False)
            return
        try:
            self.sink.shutdown(socket.SHUT_WR)
        except OSError:  # the sink's peer has reset: nothing more will come from it either
            flow.end(reset=True)


class Flow:
    """Both directions between ``client`` and ``upstream``, which may still be connecting
    to ``target`` (named in the log if it fails); ``header`` goes to the upstream ahead of
    the client's bytes; ``on_end`` runs once, at the end; ``tally``, its listener's
    figures (``count`` adds the bytes moved since it last did).

    ``connected``: an event from the upstream without an error has been seen. A flow with
    no header asks for no writable edge, so the connect's own may go unheard: the sweep
    asks the socket (``check_connected``) before it times a connect out."""

    __slots__ = ("client", "connected", "down", "finished", "idle_timeout", "last_activity",
                 "on_end", "pump", "started", "tally", "target", "up", "upstream")

    def __init__(self, pump: Pump, client: socket.socket, upstream: socket.socket,
                 target: tuple[str, int], idle_timeout: float, on_end: Callable[[Flow], None],
                 header: bytes = b"", tally: Tally | None = None) -> None:
        self.pump, self.client, self.upstream, self.target = pump, client, upstream, target
        self.tally = tally
        if tally is not None:
            tally.new += 1
            tally.active += 1
        self.idle_timeout = idle_timeout
        self.on_end = on_end
        self.started = self.last_activity = pump.now
        self.connected = self.finished = False
        client_fd, upstream_fd = client.fileno(), upstream.fileno()
        self.up = _Direction(client, client_fd, upstream, upstream_fd, header)
        self.down = _Direction(upstream, upstream_fd, client, client_fd)
        pump.handlers[upstream_fd] = self._upstream_event
        pump.handlers[client_fd] = self._client_event
        pump.epoll.register(upstream_fd, EDGE_BOTH if header else EDGE_READ)
        pump.epoll.register(client_fd, EDGE_READ)

    def _client_event(self, mask: int) -> None:
        if mask & WRITABLE and self.down.blocked:
            self.down.move(self, False)
        up = self.up
        if mask & READABLE and not (up.blocked or up.done or self.finished):
            up.move(self, mask & HANGUP == RDHUP)

    def _upstream_event(self, mask: int) -> None:
        if not mask & ERROR:
            self.connected = True
        up = self.up
        if mask & WRITABLE and (up.blocked or up.prefix):
            up.move(self, False)
        down = self.down
        if mask & READABLE and not (down.blocked or down.done or self.finished):
            down.move(self, mask & HANGUP == RDHUP)

    def interest(self, fd: int) -> None:
        """Asks the epoll set for the edges one of the flow's sockets owes it now: readable
        unless the direction reading it is paused (its sink full), writable once the
        direction writing to it has been refused."""
        up, down = self.up, self.down
        reader, writer = (up, down) if fd == up.source_fd else (down, up)
        events = EDGE_HANGUP if reader.paused else EDGE_READ
        if writer.watching:
            events |= select.EPOLLOUT
        self.pump.epoll.modify(fd, events)

    def check_connected(self) -> bool:
        if not self.connected:
            with contextlib.suppress(OSError):  # ENOTCONN while it still tries
                self.upstream.getpeername()
                self.connected = True
        return self.connected

    def idle(self, now: float) -> bool:
        return now - self.last_activity > self.idle_timeout

    def fail(self, error: OSError, by_target: bool = False) -> None:
        """``by_target``: the error came from the upstream's side of a direction."""
        if not self.connected or isinstance(error, TimeoutError):
            log.info("flow to %s:%d: %s", *self.target,
                     error if str(error) else type(error).__name__)
        tally = self.tally
        if tally is not None and not self.finished:
            if error.errno == errno.ECONNREFUSED or (by_target and error.errno == errno.ECONNRESET):
                tally.target_resets += 1  # the target's RST, passed on to the client
            elif error.errno == errno.ECONNRESET:
                tally.client_resets += 1
            elif error.errno != errno.EPIPE:
                tally.elb_resets += 1  # a connect timed out: the NLB resets the client
        self.end(reset=error.errno != errno.EPIPE)

    def reset(self) -> None:
        """Idle past the timeout: forget the flow; both sides get a TCP reset."""
        if self.tally is not None and not self.finished:
            self.tally.elb_resets += 1
        self.end(reset=True)

    def count(self) -> None:
        """Adds the bytes moved since the last count to the listener's tally."""
        tally, up, down = self.tally, self.up, self.down
        if tally is not None and (up.moved or down.moved):
            tally.bytes_in += up.moved
            tally.bytes_out += down.moved
            per_target = tally.targets.get(self.target)
            if per_target is None:
                per_target = tally.targets[self.target] = [0, 0]
            per_target[1] += up.moved + down.moved
            up.moved = down.moved = 0

    def end(self, reset: bool) -> None:
        if self.finished:
            return
        self.finished = True
        pump = self.pump
        for direction in (self.up, self.down):
            if direction.pipe is not None:
                pump.pipes.give(direction.pipe, empty=direction.buffered == 0)
                direction.pipe = None
            # Closing takes the socket out of the epoll set; an event of it still in the
            # batch being handled must not reach a new socket given the same number.
            del pump.handlers[direction.source_fd]
            pump.closed.add(direction.source_fd)
            if reset:
                with contextlib.suppress(OSError):
                    direction.source.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                _LINGER_RESET)
            direction.source.close()
        tally = self.tally
        if tally is not None:  # the last bytes, counted inline: one call fewer a flow
            up_moved, down_moved = self.up.moved, self.down.moved
            tally.bytes_in += up_moved
            tally.bytes_out += down_moved
            tally.active -= 1
            per_target = tally.targets.get(self.target)
            if per_target is None:
                per_target = tally.targets[self.target] = [0, 0]
            per_target[0] += 1
            per_target[1] += up_moved + down_moved
        self.on_end(self)
