"""One AmazonProvidedDNS per VPC: a DNS server listening inside the VPC's namespace on the
resolver addresses (base + 2, 169.254.169.253, fd00:ec2::253), UDP and TCP, port 53. The
daemon binds the sockets; the DNS process (dns/process.py) answers on them."""

from __future__ import annotations

import asyncio
import logging
import socket

from pocketlink.dns.process import DnsProcess
from pocketlink.dns.vpc import vpc_zones
from pocketlink.network import netns
from pocketlink.network.topology import RouterSpec
from pocketlink.store import Store

log = logging.getLogger("pocketlink.dns")

PORT = 53


def _sockets(namespace: str, addresses: tuple[str, ...]) -> list[tuple[socket.socket, socket.socket]]:
    """Bound UDP and TCP sockets made inside ``namespace``."""
    def make() -> list[tuple[socket.socket, socket.socket]]:
        made: list[socket.socket] = []
        try:
            for address in addresses:
                ip = address.split("/")[0]
                family = socket.AF_INET6 if ":" in ip else socket.AF_INET
                udp = socket.socket(family, socket.SOCK_DGRAM)
                made.append(udp)
                tcp = socket.socket(family, socket.SOCK_STREAM)
                made.append(tcp)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                udp.bind((ip, PORT))
                tcp.bind((ip, PORT))
        except OSError:
            # One address not there yet: none stays bound, or the next try finds it taken.
            for sock in made:
                sock.close()
            raise
        return list(zip(made[::2], made[1::2], strict=True))
    return netns.run_in(namespace, make)


class Resolvers:
    def __init__(self, store: Store, dns: DnsProcess) -> None:
        self.store = store
        self.dns = dns
        self._serving: dict[str, tuple[str, ...]] = {}  # vpc id -> its resolver addresses

    async def sync(self, routers: tuple[RouterSpec, ...], failed: set[str]) -> None:
        wanted = {r.vpc_id: r for r in routers if r.resolver_addresses and r.vpc_id not in failed}
        for vpc_id, addresses in list(self._serving.items()):
            spec = wanted.get(vpc_id)
            if spec is None or spec.resolver_addresses != addresses:
                self.dns.close(vpc_id)
                del self._serving[vpc_id]
        # Bound side by side: at a restart every VPC's resolver comes back at once.
        await asyncio.gather(*(self._start(spec) for vpc_id, spec in wanted.items()
                               if vpc_id not in self._serving))

    async def _start(self, spec: RouterSpec) -> None:
        try:
            pairs = await asyncio.to_thread(_sockets, spec.namespace, spec.resolver_addresses)
        except OSError as error:
            log.warning("resolver of %s: %s", spec.vpc_id, error)
            return
        self.dns.serve(spec.vpc_id, pairs, lambda store, v=spec.vpc_id: vpc_zones(store, v),
                       recursive=True)
        self._serving[spec.vpc_id] = spec.resolver_addresses
        log.info("AmazonProvidedDNS of %s listening", spec.vpc_id)

    def stop(self) -> None:
        for vpc_id in self._serving:
            self.dns.close(vpc_id)
        self._serving.clear()
