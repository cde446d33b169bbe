"""The DNS process: every DNS server of the daemon (the public DNS and each VPC's
AmazonProvidedDNS), on an event loop of its own, so that queries are never queued behind
API requests, nor API requests behind a query flood.

It binds nothing and reads no store. The daemon (process.py) hands it, over the control
channel (dataplane/control.py: one JSON message a packet, descriptors alongside):

- ``serve``: a view's name (``public`` or a VPC id), whether it is a recursive resolver,
  and one bound (UDP, TCP) socket pair; a view may get several (one per resolver address).
- ``close``: a view's name: its servers stop (the daemon closes its own copies).
- ``zones``: a version and a memfd holding the zones in their plain form (Zone.plain), by
  content id, and the views whose zones changed, each as the ids of its zones; ids that no
  view names any more are forgotten. It answers ``zones`` with the version once the new
  zones answer queries. Each zone is kept in its plain form until its first query
  (zones.py ``Zone.read``): at a restart every view answers as soon as it is handed over,
  not once every zone of every view is parsed. A zone without a readable origin is left
  out of its views, one whose records cannot be read answers SERVFAIL (one line each).

The limits of server.py hold here: each server its UDP query rate per address, and one
TcpLimits for the resolvers and one for the public DNS. It ends when the daemon's end of
the channel closes, or on SIGTERM; SIGINT (a Ctrl-C to the daemon's process group) is
the daemon's to act on, which then closes the channel.

Run by the daemon as ``python -m pocketlink.dns.child FD``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket

from pocketlink.dataplane.control import Channel, Message
from pocketlink.dns.server import DnsServer, TcpLimits
from pocketlink.dns.zones import Zone, ZoneSet

log = logging.getLogger("pocketlink.dns")

NOTHING = ZoneSet([])


class DnsChild:
    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.channel: Channel | None = None
        self.zones: dict[str, Zone] = {}  # content id -> zone
        self.views: dict[str, tuple[list[str], ZoneSet]] = {}  # view -> (zone ids, zones)
        self.servers: dict[str, DnsServer] = {}
        self.limits = {True: TcpLimits(), False: TcpLimits()}  # resolvers', the public DNS's
        self._tasks: set[asyncio.Task] = set()

    def start(self, control: socket.socket) -> None:
        self.channel = Channel(control, self._on_message, self.done.set)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.done.set)

    def _on_message(self, message: Message, fds: list[int]) -> None:
        op = message["op"]
        if op == "serve":
            udp, tcp = (socket.socket(fileno=fd) for fd in fds[:2])
            self._later(self._serve(message["view"], message["recursive"], udp, tcp))
        elif op == "close":
            server = self.servers.pop(message["view"], None)
            if server is not None:
                self._later(server.stop())
        elif op == "zones":
            with open(fds[0], "rb") as shipped:
                self._apply(json.load(shipped))
            assert self.channel is not None
            self.channel.send({"op": "zones", "version": message["version"]})
        for fd in fds[2 if op == "serve" else 1 if op == "zones" else 0:]:
            os.close(fd)

    def _later(self, step) -> None:
        task = asyncio.ensure_future(step)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, view: str, recursive: bool, udp: socket.socket,
                     tcp: socket.socket) -> None:
        server = self.servers.get(view)
        if server is None:
            server = self.servers[view] = DnsServer(
                lambda: self.views.get(view, ([], NOTHING))[1], recursive=recursive,
                limits=self.limits[recursive])
        await server.start_sockets([(udp, tcp)])

    def _apply(self, shipped: dict) -> None:
        """The shipment's zones kept in their plain form, each read at its first query
        (zones.py): this costs a name per zone, so every view answers at once."""
        for zone_id, plain in shipped["zones"].items():
            try:
                self.zones[zone_id] = Zone.from_plain(plain)
            except ValueError as error:
                log.warning("zone %s left out of its views: %s", zone_id, error)
        for view in shipped["dropped"]:
            self.views.pop(view, None)
        for view, ids in shipped["views"].items():
            self.views[view] = (ids, ZoneSet([self.zones[i] for i in ids if i in self.zones]))
        named = {i for ids, _ in self.views.values() for i in ids}
        for zone_id in set(self.zones) - named:
            del self.zones[zone_id]

    async def stop(self) -> None:
        for server in self.servers.values():
            await server.stop()


async def serve(control_fd: int) -> None:
    child = DnsChild()
    child.start(socket.socket(fileno=control_fd))
    await child.done.wait()
    await child.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pocketlink.dns.child")
    parser.add_argument("control_fd", type=int)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(serve(args.control_fd))


if __name__ == "__main__":
    main()
