"""Wildcards as RFC 4592 has them: the closest encloser's ``*`` answers, even when that
encloser exists itself (``dkr.ecr.<region>.amazonaws.com`` beside its ``*.``)."""

from __future__ import annotations

import dns.name
import dns.rcode
import dns.rdatatype

from pocketlink.dns.zones import Zone, ZoneSet

ORIGIN = "dkr.ecr.us-east-1.amazonaws.com."


def zones() -> ZoneSet:
    zone = Zone(origin=dns.name.from_text(ORIGIN))
    zone.add(ORIGIN, "A", 60, ["10.0.1.5"])
    zone.add("*." + ORIGIN, "A", 60, ["10.0.1.5"])
    zone.add("x.y." + ORIGIN, "A", 60, ["10.0.1.6"])
    return ZoneSet([zone])


def lookup(name: str):
    return zones().lookup(dns.name.from_text(name), dns.rdatatype.A)


def test_the_wildcard_of_an_existing_name_answers_below_it():
    found = lookup("123456789012." + ORIGIN)
    assert found.answer[0].name == dns.name.from_text("123456789012." + ORIGIN)
    assert [r.to_text() for r in found.answer[0]] == ["10.0.1.5"]
    assert lookup("a.b." + ORIGIN).answer  # more than one label: still the wildcard


def test_an_empty_non_terminal_closest_encloser_has_no_wildcard():
    found = lookup("z.y." + ORIGIN)  # y exists (x.y below it): its own *, none, answers
    assert (found.rcode, found.answer) == (dns.rcode.NXDOMAIN, [])
    found = lookup("y." + ORIGIN)
    assert (found.rcode, found.answer) == (dns.rcode.NOERROR, [])  # NODATA: y exists
