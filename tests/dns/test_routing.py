"""What the public DNS answers for record sets with routing policies and health checks
(dns/routing.py), from a real store as the daemon builds its zones: failover to the
SECONDARY while the PRIMARY's check is unhealthy, weighted sets drawn by weight among the
healthy ones, multivalue answers of the healthy sets only, and every set of a group
answered as healthy when none is (Route 53's "How Amazon Route 53 chooses records when
health checking is configured")."""

from __future__ import annotations

from collections import Counter

import dns.name
import dns.rdatatype
import pytest

from pocketlink.daemon import open_store
from pocketlink.dns.public import public_zones
from pocketlink.model.route53 import HealthCheck, HostedZone, RecordSet

ZONE = "routing.example.com."
NAME = "www." + ZONE


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "state.db")
    yield opened
    opened.close()


def put(store, *records: RecordSet, health: dict[str, bool] | None = None) -> None:
    with store.transaction() as tx:
        tx.put(HostedZone(id="ZROUTING", account="111111111111", region="global", name=ZONE,
                          caller_reference="r", record_sets=list(records)))
        for check_id, healthy in (health or {}).items():
            tx.put(HealthCheck(id=check_id, account="111111111111", region="global",
                               caller_reference=check_id, config={"Type": "HTTP"},
                               healthy=healthy))


def record(identifier: str, value: str, check: str | None = None, **policy) -> RecordSet:
    routing = dict(policy)
    if check is not None:
        routing["HealthCheckId"] = check
    return RecordSet(name=NAME, type="A", ttl=60, values=[value], set_identifier=identifier,
                     routing=routing)


def answers(store, times: int = 1) -> Counter:
    zones = public_zones(store)
    found: Counter = Counter()
    for _ in range(times):
        answer = zones.lookup(dns.name.from_text(NAME), dns.rdatatype.A)
        found[tuple(sorted(r.to_text() for rrset in answer.answer for r in rrset))] += 1
    return found


def test_failover_answers_the_secondary_while_the_primary_is_unhealthy(store):
    primary = record("p", "198.51.100.1", "hc-p", Failover="PRIMARY")
    secondary = record("s", "198.51.100.2", Failover="SECONDARY")
    put(store, primary, secondary, health={"hc-p": True})
    assert list(answers(store)) == [("198.51.100.1",)]
    put(store, primary, secondary, health={"hc-p": False})
    assert list(answers(store)) == [("198.51.100.2",)]


def test_failover_with_both_unhealthy_answers_the_primary(store):
    put(store, record("p", "198.51.100.1", "hc-p", Failover="PRIMARY"),
        record("s", "198.51.100.2", "hc-s", Failover="SECONDARY"),
        health={"hc-p": False, "hc-s": False})
    assert list(answers(store)) == [("198.51.100.1",)]


def test_weighted_sets_are_drawn_among_the_healthy(store):
    one, two = record("a", "198.51.100.1", "hc-a", Weight=1), record("b", "198.51.100.2",
                                                                      Weight=1)
    put(store, one, two, health={"hc-a": True})
    drawn = answers(store, 200)
    assert set(drawn) == {("198.51.100.1",), ("198.51.100.2",)}  # both, one per answer
    put(store, one, two, health={"hc-a": False})
    assert list(answers(store, 50)) == [("198.51.100.2",)]


def test_weight_zero_answers_only_when_the_others_cannot(store):
    zero = record("z", "198.51.100.9", Weight=0)
    put(store, zero, record("a", "198.51.100.1", "hc-a", Weight=5), health={"hc-a": True})
    assert list(answers(store, 50)) == [("198.51.100.1",)]
    put(store, zero, record("a", "198.51.100.1", "hc-a", Weight=5), health={"hc-a": False})
    assert list(answers(store, 50)) == [("198.51.100.9",)]


def test_multivalue_answers_the_healthy_values(store):
    sets = [record(str(i), f"198.51.100.{i}", f"hc-{i}", MultiValueAnswer=True)
            for i in range(1, 4)]
    put(store, *sets, health={"hc-1": True, "hc-2": False, "hc-3": True})
    assert list(answers(store)) == [("198.51.100.1", "198.51.100.3")]
    put(store, *sets, health={"hc-1": False, "hc-2": False, "hc-3": False})
    assert list(answers(store)) == [("198.51.100.1", "198.51.100.2", "198.51.100.3")]


def test_a_record_whose_check_is_gone_counts_as_healthy(store):
    put(store, record("p", "198.51.100.1", "deleted", Failover="PRIMARY"),
        record("s", "198.51.100.2", Failover="SECONDARY"))
    assert list(answers(store)) == [("198.51.100.1",)]


def test_weighted_sets_travel_to_the_dns_process(store):
    """The DNS process gets zones as ``Zone.plain``: the weighted sets go with them."""
    from pocketlink.dns.zones import Zone

    put(store, record("a", "198.51.100.1", Weight=1), record("b", "198.51.100.2", Weight=3))
    zone = next(z for z in public_zones(store).zones if z.origin.to_text() == ZONE)
    again = Zone.from_plain(zone.plain())
    again.read()  # as at its first query
    assert again.plain() == zone.plain() and again.weighted
