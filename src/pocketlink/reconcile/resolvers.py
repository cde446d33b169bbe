"""One AmazonProvidedDNS per VPC: a DNS server listening inside the VPC's namespace on the
resolver addresses (base + 2, 169.254.169.253, fd00:ec2::253), UDP and TCP, port 53. The
daemon binds the sockets; the DNS process (dns/process.py) answers on them."""

from __future__ import annotations

import asyncio
import logging

from pocketlink.dns.process import DnsProcess, bind_resolver
from pocketlink.dns.vpc import vpc_zones
from pocketlink.network.topology import RouterSpec
from pocketlink.store import Store

log = logging.getLogger("pocketlink.dns")


class Resolvers:
    def __init__(self, store: Store, dns: DnsProcess,
                 restored: dict[str, tuple[str, tuple[str, ...]]] | None = None) -> None:
        """``restored``: the resolvers the serving snapshot brought back (snapshot.py),
        taken over by the first ``sync`` that still wants them as they are."""
        self.store = store
        self.dns = dns
        # vpc id -> its router's namespace and its resolver addresses
        self.serving: dict[str, tuple[str, tuple[str, ...]]] = dict(restored or {})
        self._adopting = set(self.serving)

    async def sync(self, routers: tuple[RouterSpec, ...], failed: set[str]) -> None:
        wanted = {r.vpc_id: r for r in routers if r.resolver_addresses and r.vpc_id not in failed}
        for vpc_id, served in list(self.serving.items()):
            spec = wanted.get(vpc_id)
            if spec is None or (spec.namespace, spec.resolver_addresses) != served:
                self.dns.close(vpc_id)
                del self.serving[vpc_id]
        for vpc_id in self._adopting & set(self.serving):
            self.dns.adopt(vpc_id, lambda store, v=vpc_id: vpc_zones(store, v))
        self._adopting.clear()
        # Bound side by side: at a restart every VPC's resolver comes back at once.
        await asyncio.gather(*(self._start(spec) for vpc_id, spec in wanted.items()
                               if vpc_id not in self.serving))

    async def _start(self, spec: RouterSpec) -> None:
        try:
            pairs = await asyncio.to_thread(bind_resolver, spec.namespace,
                                            spec.resolver_addresses)
        except OSError as error:
            log.warning("resolver of %s: %s", spec.vpc_id, error)
            return
        self.dns.serve(spec.vpc_id, pairs, lambda store, v=spec.vpc_id: vpc_zones(store, v),
                       recursive=True)
        self.serving[spec.vpc_id] = (spec.namespace, spec.resolver_addresses)
        log.info("AmazonProvidedDNS of %s listening", spec.vpc_id)

    def stop(self) -> None:
        for vpc_id in self.serving:
            self.dns.close(vpc_id)
        self.serving.clear()
