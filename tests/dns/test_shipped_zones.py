"""Zones as the DNS process is shipped them (``Zone.from_plain``) are read at their first
query, not as they arrive (zones.py): a restart serves every view at once. Read late, a
zone answers exactly as the zone it was shipped from; a view answers while another view's
zones are still unread; a zone that cannot be read answers SERVFAIL for its names (or,
without a readable origin, is left out of its views) and the DNS process keeps serving."""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from pocketlink.descriptors import raise_file_limit
from pocketlink.dns.child import DnsChild
from pocketlink.dns.process import DnsProcess, bind_pair
from pocketlink.dns.zones import Zone, ZoneSet, ZoneUnreadable
from pocketlink.polling import PATIENCE

ORIGIN = "example.internal."


def built() -> Zone:
    """A zone with a set of each kind the builders make, added as the daemon adds them."""
    zone = Zone(origin=dns.name.from_text(ORIGIN))
    zone.add(ORIGIN, "SOA", 900, ["ns.example.internal. admin.example.internal. 1 7200 900 "
                                  "1209600 86400"])
    zone.add(ORIGIN, "NS", 172800, ["ns.example.internal."])
    zone.add("ns." + ORIGIN, "A", 60, ["10.0.0.2"])
    zone.add("www." + ORIGIN, "A", 60, ["10.0.0.5", "10.0.0.6"])
    zone.add("www." + ORIGIN, "AAAA", 60, ["2001:db8::5"])
    zone.add("www." + ORIGIN, "TXT", 300, ['"v=spf1 -all"', '"two words"'])
    zone.add("alias." + ORIGIN, "CNAME", 60, ["www.example.internal."])
    zone.add("mail." + ORIGIN, "MX", 60, ["10 mx1.example.internal.", "20 mx2.example.internal."])
    zone.add("_sip._tcp." + ORIGIN, "SRV", 60, ["10 60 5060 sip.example.internal."])
    zone.add(ORIGIN, "CAA", 60, ['0 issue "amazon.com"'])
    zone.add("*.wild." + ORIGIN, "A", 60, ["10.0.0.9"])
    zone.add("deep.empty." + ORIGIN, "A", 60, ["10.0.0.10"])
    zone.add("5.0.0.10.in-addr.arpa.", "PTR", 60, ["www.example.internal."])
    zone.add("bad." + ORIGIN, "MX", 60, ["not an mx"])  # skipped, both ways
    zone.add_alias("apex-alias." + ORIGIN, "A", "www." + ORIGIN)
    zone.add_weighted("weighted." + ORIGIN, "A", [(1, 60, ["10.0.0.20"]), (0, 60, ["10.0.0.21"])])
    return zone


QUESTIONS = [(ORIGIN, t) for t in ("SOA", "NS", "CAA", "A")] + [
    ("www." + ORIGIN, t) for t in ("A", "AAAA", "TXT", "MX")] + [
    ("alias." + ORIGIN, "A"), ("alias." + ORIGIN, "CNAME"), ("mail." + ORIGIN, "MX"),
    ("_sip._tcp." + ORIGIN, "SRV"), ("x.wild." + ORIGIN, "A"), ("a.b.wild." + ORIGIN, "A"),
    ("empty." + ORIGIN, "A"), ("missing." + ORIGIN, "A"), ("bad." + ORIGIN, "MX"),
    ("apex-alias." + ORIGIN, "A"), ("weighted." + ORIGIN, "A"),
    ("5.0.0.10.in-addr.arpa.", "PTR"), ("elsewhere.example.", "A")]


def _seen(zones: ZoneSet, name: str, rtype: str) -> tuple:
    found = zones.lookup(dns.name.from_text(name), dns.rdatatype.from_text(rtype))
    return (found.rcode, found.authoritative, [r.to_text() for r in found.answer],
            [r.to_text() for r in found.authority])


@pytest.mark.parametrize(("name", "rtype"), QUESTIONS)
def test_a_shipped_zone_answers_as_the_zone_it_was_shipped_from(name: str, rtype: str) -> None:
    zone = built()
    shipped = Zone.from_plain(zone.plain())
    assert _seen(ZoneSet([shipped]), name, rtype) == _seen(ZoneSet([zone]), name, rtype)


def test_a_shipped_zone_is_shipped_again_as_it_came_and_keeps_its_weights_undrawn() -> None:
    """Unread, it is passed on in the form it came in; weighted sets make its view's
    replies drawn per query (not kept) before it is read as after."""
    zone = built()
    shipped = Zone.from_plain(zone.plain())
    assert shipped.plain() == zone.plain() and ZoneSet([shipped]).draws
    shipped.read()
    assert shipped.plain() == zone.plain() and ZoneSet([shipped]).draws


def _zone(origin: str, name: str, address: str) -> dict:
    return {"origin": origin, "records": [[name, "A", 60, [address]]], "aliases": [],
            "weighted": []}


def test_a_view_answers_before_another_views_zones_are_read() -> None:
    child = DnsChild()
    child._apply({"zones": {"a": _zone("a.internal.", "db.a.internal.", "10.1.0.9"),
                            "b": _zone("b.internal.", "db.b.internal.", "10.2.0.9")},
                  "views": {"vpc-a": ["a"], "vpc-b": ["b"]}, "dropped": []})
    assert _seen(child.views["vpc-a"][1], "db.a.internal.", "A")[2] == [
        "db.a.internal. 60 IN A 10.1.0.9"]
    assert child.zones["a"].nodes and not child.zones["b"].nodes  # b's: not read yet
    assert _seen(child.views["vpc-b"][1], "db.b.internal.", "A")[2] == [
        "db.b.internal. 60 IN A 10.2.0.9"]


def test_an_unreadable_zone_says_so_each_time_it_is_asked() -> None:
    zone = Zone.from_plain({"origin": "broken.internal.", "records": [["only a name"]]})
    for _ in range(2):
        with pytest.raises(ZoneUnreadable):
            ZoneSet([zone]).lookup(dns.name.from_text("x.broken.internal."), dns.rdatatype.A)
    with pytest.raises(ValueError):
        Zone.from_plain({"records": []})


def test_a_restored_view_with_unreadable_zones_answers_the_rest() -> None:
    """The real DNS process, restored as at a restart: one zone of the view has records of
    another shape (SERVFAIL for its names), one no origin (left out: a resolver answers
    NXDOMAIN for a name in no zone); the good zone answers, and the process lives on."""
    zones = {"good": _zone("good.internal.", "db.good.internal.", "10.0.0.9"),
             "bad": {"origin": "bad.internal.", "records": "garbage", "aliases": [],
                     "weighted": []},
             "nameless": {"records": []}}
    pair = bind_pair("127.0.0.1", 0)
    port = pair[0].getsockname()[1]

    async def ask(name: str) -> dns.message.Message:
        return await dns.asyncquery.udp(dns.message.make_query(name, "A"), "127.0.0.1",
                                        port=port, timeout=PATIENCE)

    async def scenario() -> list:
        process = DnsProcess()
        await process.start()
        try:
            process.restore(zones, {"vpc-1": ([pair], ["bad", "nameless", "good"])})
            bad = await ask("db.bad.internal.")
            good = await ask("db.good.internal.")
            nameless = await ask("db.nameless.internal.")
            again = await ask("db.bad.internal.")
            return [bad.rcode(), [r.to_text() for r in good.answer], nameless.rcode(),
                    again.rcode()]
        finally:
            await process.stop()

    assert asyncio.run(scenario()) == [
        dns.rcode.SERVFAIL, ["db.good.internal. 60 IN A 10.0.0.9"], dns.rcode.NXDOMAIN,
        dns.rcode.SERVFAIL]


def test_a_restore_hands_every_resolver_over_before_the_daemon_blocks() -> None:
    """A restore sends one message per resolver address, more than the channel takes ahead
    of the child (some 280 here), and the daemon's loop then stalls on its imports.
    ``handed`` returns once the channel holds them all: a query to the last resolver, asked
    with the daemon's loop blocked (as by an import), is answered."""
    raise_file_limit()  # as the daemon does: 600 pairs and their copies in flight
    zones = {"z": _zone("vpc.internal.", "db.vpc.internal.", "10.0.0.9")}
    pairs = [bind_pair("127.0.0.1", 0) for _ in range(600)]

    async def scenario() -> list[str]:
        process = DnsProcess()
        await process.start()
        try:
            process.restore(zones, {f"vpc-{n}": ([pair], ["z"]) for n, pair in enumerate(pairs)})
            await process.handed()
            # The loop blocked from here on: nothing more leaves the daemon's side.
            reply = dns.query.udp(dns.message.make_query("db.vpc.internal.", "A"), "127.0.0.1",
                                  port=pairs[-1][0].getsockname()[1], timeout=PATIENCE)
            return [r.to_text() for r in reply.answer]
        finally:
            await process.stop()

    assert asyncio.run(scenario()) == ["db.vpc.internal. 60 IN A 10.0.0.9"]
