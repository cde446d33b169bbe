"""The public DNS: what the internet would see, here on loopback.

It serves the names AWS publishes (endpoints', load balancers', and the AWS services' own
public names, ``ssm.us-west-2.amazonaws.com``, at their addresses on the emulated AWS public
network: ``aws_public``) and the Route 53 *public* hosted zones that the internet would
reach, which are not all of them:

- No zone for a name AWS owns (``aws_names.aws_owned``: amazonaws.com, compute.internal,
  ec2.internal, aws) is served, whoever made it: nobody but AWS answers for those names.
- Delegation: Route 53 lets any number of accounts host a zone of the same name, each with
  its own name servers; on the internet only the zone the domain's registrar delegates to
  is reached. Here the delegated zone of a name is the oldest public zone of that name
  (by creation time, any account); when it is deleted the next oldest takes over.
- Below a served zone, as in real DNS, a zone for a subdomain is reached only when its
  parent delegates to it: the parent holds an NS record set at the subdomain's name that
  names one of the subdomain zone's name servers.
"""

from __future__ import annotations

from collections.abc import Iterable
from weakref import WeakKeyDictionary

import dns.name

from pocketlink.dns.aws_names import aws_owned, aws_public_zones, aws_zones
from pocketlink.dns.routing import answering, check_health
from pocketlink.dns.zones import Zone, ZoneSet
from pocketlink.model.route53 import HostedZone
from pocketlink.store import Store


def _delegates(parent: HostedZone, child: HostedZone) -> bool:
    servers = {s.lower().rstrip(".") for s in child.name_servers}
    return any(r.name == child.name and r.type == "NS" and
               servers & {v.lower().rstrip(".") for v in r.values}
               for r in parent.record_sets)


def delegated_zones(store: Store) -> list[HostedZone]:
    """The public hosted zones the internet reaches, parents before their children."""
    oldest: dict[str, HostedZone] = {}
    for hosted in store.all(HostedZone):  # oldest first
        if not hosted.private and hosted.name not in oldest and not aws_owned(hosted.name):
            oldest[hosted.name] = hosted
    served: dict[dns.name.Name, HostedZone] = {}
    for name in sorted(oldest, key=lambda n: n.count(".")):
        owner = dns.name.from_text(name)
        parent = next((served[p] for p in _ancestors(owner) if p in served), None)
        if parent is None or _delegates(parent, oldest[name]):
            served[owner] = oldest[name]
    return list(served.values())


def _ancestors(name: dns.name.Name) -> Iterable[dns.name.Name]:
    """The enclosing names of ``name``, closest first."""
    while len(name) > 1:
        name = name.parent()
        yield name


def hosted_zone(hosted: HostedZone, health: dict[str, bool]) -> Zone:
    """The zone's answers: of several sets of a name and type, those their routing policy
    and health checks choose (``health``: check id -> healthy; dns/routing.py)."""
    zone = Zone(origin=dns.name.from_text(hosted.name))
    for group in answering(hosted.record_sets, health):
        record = group[0]
        if len(group) > 1 and all(r.alias_target is None for r in group):
            zone.add_weighted(record.name, record.type,
                              [(r.routing.get("Weight", 0), 300 if r.ttl is None else r.ttl,
                                r.values) for r in group])
        elif record.alias_target is not None:
            zone.add_alias(record.name, record.type, record.alias_target["DNSName"])
        else:
            zone.add(record.name, record.type, 300 if record.ttl is None else record.ttl,
                     record.values)
    return zone


_built: WeakKeyDictionary[Store, tuple[int, ZoneSet]] = WeakKeyDictionary()


def public_zones(store: Store) -> ZoneSet:
    """Built once per state of the store (its change count): every VPC's view holds the
    public zones too (vpc.py), and a pass over a thousand views, or a restart bringing
    their resolvers back, builds them once, the same zone objects in each view (which the
    DNS process's shipping turns into their plain form once, see process.py)."""
    built = _built.get(store)
    if built is None or built[0] != store.changes:
        health = check_health(store)
        built = _built[store] = (store.changes, ZoneSet(
            aws_zones(store) + aws_public_zones(store) +
            [hosted_zone(h, health) for h in delegated_zones(store)]))
    return built[1]

