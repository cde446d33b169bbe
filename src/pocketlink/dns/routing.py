"""Which of a name's record sets Route 53 answers with: its routing policies and the health
of their checks, as Route 53's "How Amazon Route 53 chooses records when health checking
is configured" tells it.

A record set with a HealthCheckId counts as healthy while its check is (a check that no
longer exists counts as healthy, as does a set with none). Among the sets of one name and
type:

- **failover**: the PRIMARY while it is healthy, else the SECONDARY;
- **weighted**: one drawn per query in proportion to the weights, among the healthy sets
  of nonzero weight, else (all of those unhealthy) among the healthy ones of weight 0;
- **multivalue answer**: the values of every healthy set, up to eight sets;
- **latency, geolocation, geoproximity, IP-based**: pocketlink knows no client's place, so
  the first healthy set (by SetIdentifier) answers; for geolocation the default location
  (``*``) when it is healthy.

When every set of the group is unhealthy, Route 53 "considers all the records in the
group to be healthy" and answers as if they were: so does this. An alias record's
EvaluateTargetHealth is not followed (an alias counts as healthy unless its own check says
otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

from pocketlink.model.route53 import HealthCheck, RecordSet
from pocketlink.store import Store

MULTIVALUE_LIMIT = 8


def check_health(store: Store) -> dict[str, bool]:
    """Every health check's verdict, by id."""
    return {check.id: check.healthy for check in store.all(HealthCheck)}


def _healthy(health: dict[str, bool]) -> Callable[[RecordSet], bool]:
    def healthy(record: RecordSet) -> bool:
        check = record.routing.get("HealthCheckId")
        return check is None or health.get(check, True)
    return healthy


def _failover(group: list[RecordSet], healthy: Callable[[RecordSet], bool]) -> list[RecordSet]:
    ordered = sorted(group, key=lambda r: r.routing.get("Failover") != "PRIMARY")
    return [next((r for r in ordered if healthy(r)), ordered[0])]


def _weighted(group: list[RecordSet], healthy: Callable[[RecordSet], bool]) -> list[RecordSet]:
    live = [r for r in group if healthy(r)] or group
    weighed = [r for r in live if r.routing.get("Weight", 0) > 0]
    return weighed or live


def answering(records: list[RecordSet], health: dict[str, bool]) -> list[list[RecordSet]]:
    """The record sets the DNS answers with, grouped by name and type: a group of one
    answers always; a group of several is weighted, one drawn per query."""
    healthy = _healthy(health)
    key = lambda r: (r.name, r.type)  # noqa: E731 (a key for sorted and groupby alike)
    found: list[list[RecordSet]] = []
    for _, members in groupby(sorted(records, key=key), key=key):
        group = sorted(members, key=lambda r: r.set_identifier or "")
        if len(group) == 1:
            found.append(group)
        elif "Failover" in group[0].routing:
            found.append(_failover(group, healthy))
        elif "Weight" in group[0].routing:
            found.append(_weighted(group, healthy))
        elif "MultiValueAnswer" in group[0].routing:
            live = [r for r in group if healthy(r)] or group
            live = live[:MULTIVALUE_LIMIT]
            found.append([RecordSet(name=live[0].name, type=live[0].type,
                                    ttl=min(r.ttl or 300 for r in live),
                                    values=list(dict.fromkeys(v for r in live
                                                              for v in r.values)))])
        else:
            live = [r for r in group if healthy(r)] or group
            default = [r for r in live
                       if (r.routing.get("GeoLocation") or {}).get("CountryCode") == "*"]
            found.append([(default or live)[0]])
    return found
