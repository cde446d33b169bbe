"""The public DNS: what the internet would see, here on loopback.

It serves the names AWS publishes (endpoints', load balancers') and every Route 53
*public* hosted zone. When two accounts host zones of the same
name (Route 53 allows it; a registrar's delegation picks one), the oldest zone answers.
"""

from __future__ import annotations

from collections.abc import Callable

import dns.name

from pocketlink.dns.aws_names import AWS_ORIGIN, aws_zone
from pocketlink.dns.zones import Zone, ZoneSet
from pocketlink.model.route53 import HostedZone
from pocketlink.store import Store


def public_zones(store: Store) -> ZoneSet:
    zones: dict[str, Zone] = {AWS_ORIGIN: aws_zone(store)}
    for hosted in store.all(HostedZone):  # oldest first
        if hosted.private or hosted.name in zones:
            continue
        zone = Zone(origin=dns.name.from_text(hosted.name))
        for record in hosted.record_sets:
            if record.alias_target is not None:
                zone.add_alias(record.name, record.type, record.alias_target["DNSName"])
            else:
                zone.add(record.name, record.type, record.ttl or 300, record.values)
        zones[hosted.name] = zone
    return ZoneSet(list(zones.values()))


class CachedZones:
    """A ZoneSet rebuilt only when the store has changed since it was built."""

    def __init__(self, store: Store, build: Callable[[Store], ZoneSet] = public_zones) -> None:
        self.store = store
        self.build = build
        self._built_at = -1
        self._zones = ZoneSet([])

    def __call__(self) -> ZoneSet:
        if self._built_at != self.store.changes:
            self._zones = self.build(self.store)
            self._built_at = self.store.changes
        return self._zones
