"""Authoritative zone data and the lookup an authoritative server does over it.

A zone the DNS process is shipped (``Zone.from_plain``) is read at its first query, not
as it arrives: at a restart the process serves every VPC's resolver at once from the
serving snapshot (snapshot.py), and parsing every zone of every view with dnspython first
held every resolver back (0.37 s for the 530 records of 250 VPCs on the loaded 2-core
machine; more where each VPC has zones of its own). The first query of a name in a zone
pays for the whole zone's parse once. A zone that cannot be read (a plain form of another
shape) says so in one line and answers SERVFAIL for its names; the other zones of its
view answer as before.
"""

from __future__ import annotations

import functools
import logging
import random
from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

log = logging.getLogger("pocketlink.dns")

MAX_CHASE = 8
RECORDS = 16384  # names and record sets kept parsed: well above one build's, ~20 MB at most


# Every change in the store builds each VPC's zones again (dns/process.py), on the daemon's
# event loop: a tenant filling its VPC makes that as often as its calls. Parsing each name
# and record with dnspython again was most of the build (a VPC of 250 interfaces: 500
# record sets, each a parse of its owner and its value); the same text gives the same
# (immutable once built: nothing changes a zone's record sets) objects, so they are
# parsed once and shared by every build (in the DNS process too, reading what it is shipped).
@functools.lru_cache(maxsize=RECORDS)
def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


@functools.lru_cache(maxsize=RECORDS)
def _rrset(name: str, ttl: int, rtype: str, values: tuple[str, ...]) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(_name(name), ttl, dns.rdataclass.IN, rtype, list(values))


@dataclass
class Zone:
    origin: dns.name.Name
    # name -> type -> rrset
    nodes: dict[dns.name.Name, dict[int, dns.rrset.RRset]] = field(default_factory=dict)
    # name -> (target name, types) for Route 53 alias records, resolved at query time
    aliases: dict[dns.name.Name, dict[int, dns.name.Name]] = field(default_factory=dict)
    # name -> type -> [(weight, rrset)]: Route 53's weighted record sets, one drawn per
    # query in proportion to its weight (all alike when every weight is 0)
    weighted: dict[dns.name.Name, dict[int, list[tuple[int, dns.rrset.RRset]]]] = \
        field(default_factory=dict)
    _ancestors: set[dns.name.Name] | None = field(default=None, repr=False, compare=False)
    # (owner, type) -> the record set as it was added, in text: its plain form, one for each
    # of ``nodes``' sets. Written back from the parsed objects it took most of a build
    # (every value's to_text, each change).
    _texts: dict[tuple[dns.name.Name, int], list] = field(default_factory=dict, repr=False,
                                                          compare=False)
    # The plain form of a zone from ``from_plain`` until its first use (``read``), and why
    # it could not be read, if it could not.
    _unread: dict | None = field(default=None, repr=False, compare=False)
    _unreadable: str | None = field(default=None, repr=False, compare=False)

    def add(self, name: str, rtype: str, ttl: int, values: list[str]) -> None:
        owner = _name(name)
        try:
            rrset = _rrset(name, ttl, rtype, tuple(values))
        except Exception as error:  # a value dnspython cannot read: skip it, say so
            log.warning("skipping %s %s in %s: %s", name, rtype, self.origin, error)
            return
        self.nodes.setdefault(owner, {})[rrset.rdtype] = rrset
        self._texts[owner, rrset.rdtype] = [name, rtype, ttl, list(values)]
        self._ancestors = None

    def add_weighted(self, name: str, rtype: str, choices: list[tuple[int, int, list[str]]]) \
            -> None:
        """``choices``: (weight, ttl, values) of each record set the query may get."""
        owner = dns.name.from_text(name)
        drawn = []
        for weight, ttl, values in choices:
            try:
                rrset = dns.rrset.from_text_list(owner, ttl, dns.rdataclass.IN, rtype, values)
            except Exception as error:  # as add: skip what dnspython cannot read
                log.warning("skipping %s %s in %s: %s", name, rtype, self.origin, error)
                continue
            drawn.append((weight, rrset))
        if drawn:
            self.weighted.setdefault(owner, {})[dns.rdatatype.from_text(rtype)] = drawn
            self._ancestors = None

    def draw(self, owner: dns.name.Name, rdtype: int) -> dns.rrset.RRset | None:
        """The rrset of ``owner`` and ``rdtype``: its one, or one of its weighted ones."""
        found = self.nodes.get(owner, {}).get(rdtype)
        choices = self.weighted.get(owner, {}).get(rdtype)
        if found is not None or not choices:
            return found
        weights = [w for w, _ in choices] if any(w for w, _ in choices) else None
        return random.choices([r for _, r in choices], weights=weights)[0]

    def add_alias(self, name: str, rtype: str, target: str) -> None:
        self._ancestors = None
        self.aliases.setdefault(dns.name.from_text(name), {})[
            dns.rdatatype.from_text(rtype)] = dns.name.from_text(target)

    @property
    def soa(self) -> dns.rrset.RRset | None:
        return self.nodes.get(self.origin, {}).get(dns.rdatatype.SOA)

    def has(self, name: dns.name.Name) -> bool:
        return name in self.nodes or name in self.aliases or name in self.weighted

    def node(self, name: dns.name.Name) -> dns.name.Name | None:
        """The owner that answers for ``name``: itself, or the wildcard of its closest
        encloser when the name does not exist (RFC 4592)."""
        if self.has(name):
            return name
        if self.exists_below(name):
            return None  # an empty non-terminal exists: no wildcard answers for it
        parent = name
        while parent != self.origin and len(parent) > 1:
            parent = parent.parent()
            wildcard = dns.name.Name((b"*", *parent.labels))
            if self.has(wildcard):
                return wildcard
            if self.has(parent) or self.exists_below(parent):
                return None  # the closest encloser has no wildcard: nothing is synthesized
        return None

    def exists_below(self, name: dns.name.Name) -> bool:
        """Has ``name`` a descendant here (is it an empty non-terminal, if not a node)? A set
        of every node's ancestors, made on first use, answers it at once: a lookup asks at
        every label of a name that is not here."""
        if self._ancestors is None:
            self._ancestors = {a for n in (*self.nodes, *self.aliases, *self.weighted)
                               for a in _between(n, self.origin)}
        return name in self._ancestors

    def plain(self) -> dict:
        """The zone as JSON takes it (the daemon ships zones to its DNS process this way)."""
        if self._unread is not None:
            return self._unread
        return {"origin": self.origin.to_text(),
                "records": list(self._texts.values()),
                "aliases": [[owner.to_text(), dns.rdatatype.to_text(rdtype), target.to_text()]
                            for owner, types in self.aliases.items()
                            for rdtype, target in types.items()],
                "weighted": [[owner.to_text(), dns.rdatatype.to_text(rdtype),
                              [[weight, rrset.ttl, [rdata.to_text() for rdata in rrset]]
                               for weight, rrset in choices]]
                             for owner, types in self.weighted.items()
                             for rdtype, choices in types.items()]}

    @property
    def weighs(self) -> bool:
        """Has it weighted record sets (an unread zone: does its plain form list any)?"""
        return bool(self.weighted or (self._unread and self._unread.get("weighted")))

    @classmethod
    def from_plain(cls, plain: dict) -> Zone:
        """The zone of a plain form, its origin read now and its records at its first use
        (``read``). Raises ValueError when the origin cannot be read."""
        try:
            origin = dns.name.from_text(plain["origin"])
        except Exception as error:  # any shape a corrupt plain form may have
            raise ValueError(f"a zone without a readable origin: {error!r}") from error
        return cls(origin=origin, _unread=plain)

    def read(self) -> None:
        """Its records parsed, if they were not yet. Raises ZoneUnreadable (each time) for
        a plain form of another shape, which was said in one line the first time; a record
        dnspython cannot read is skipped, as ``add`` does."""
        if self._unreadable is not None:
            raise ZoneUnreadable(self._unreadable)
        plain, self._unread = self._unread, None
        if plain is None:
            return
        try:
            for name, rtype, ttl, values in plain["records"]:
                self.add(name, rtype, ttl, values)
            for name, rtype, target in plain["aliases"]:
                self.add_alias(name, rtype, target)
            for name, rtype, choices in plain["weighted"]:
                self.add_weighted(name, rtype, choices)
        except Exception as error:  # as from_plain: whatever shape it has
            self.nodes, self.aliases, self.weighted, self._texts = {}, {}, {}, {}
            self._unreadable = f"zone {self.origin} cannot be read: {error!r}"
            log.warning("%s; its names answer SERVFAIL", self._unreadable)
            raise ZoneUnreadable(self._unreadable) from error


class ZoneUnreadable(Exception):
    """A shipped zone whose plain form could not be read: its names answer SERVFAIL."""


def _between(name: dns.name.Name, origin: dns.name.Name) -> list[dns.name.Name]:
    """The ancestors of ``name`` (not itself) up to and including ``origin``."""
    found = []
    while name != origin and len(name) > 1 and name.is_subdomain(origin):
        name = name.parent()
        found.append(name)
    return found


@dataclass
class Answer:
    rcode: int
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    authoritative: bool = True


class ZoneSet:
    """The zones one server is authoritative for; the most specific zone answers a name."""

    def __init__(self, zones: list[Zone]) -> None:
        self.zones = sorted(zones, key=lambda z: -len(z.origin))
        # Weighted record sets are drawn per query: such a set's replies are not kept.
        self.draws = any(z.weighs for z in self.zones)

    def zone_for(self, name: dns.name.Name) -> Zone | None:
        """The zone that answers ``name``, read (``Zone.read``) if it was not yet."""
        zone = next((z for z in self.zones if name.is_subdomain(z.origin)), None)
        if zone is not None:
            zone.read()
        return zone

    def lookup(self, name: dns.name.Name, rdtype: int) -> Answer:
        zone = self.zone_for(name)
        if zone is None:
            return Answer(dns.rcode.REFUSED, authoritative=False)
        result = Answer(dns.rcode.NOERROR)
        for _ in range(MAX_CHASE):
            owner = zone.node(name)
            if owner is None:
                if not result.answer:
                    empty_non_terminal = zone.exists_below(name)
                    result.rcode = dns.rcode.NOERROR if empty_non_terminal else dns.rcode.NXDOMAIN
                if zone.soa is not None:
                    result.authority.append(zone.soa)
                return result
            types = zone.nodes.get(owner, {})
            found = zone.draw(owner, rdtype)
            alias = zone.aliases.get(owner, {}).get(rdtype)
            if found is not None:
                result.answer.append(_owned_by(found, name))
                return result
            if alias is not None:
                chased = self.lookup(alias, rdtype)
                result.answer += [_owned_by(r, name) for r in chased.answer]
                return result
            cname = types.get(dns.rdatatype.CNAME)
            if cname is None or rdtype == dns.rdatatype.CNAME:
                if zone.soa is not None:
                    result.authority.append(zone.soa)
                return result  # NODATA
            result.answer.append(_owned_by(cname, name))
            name = cname[0].target
            next_zone = self.zone_for(name)
            if next_zone is None:
                return result
            zone = next_zone
        return result


def _owned_by(rrset: dns.rrset.RRset, name: dns.name.Name) -> dns.rrset.RRset:
    """The rrset under ``name`` (a wildcard's data is answered under the queried name)."""
    if rrset.name == name:
        return rrset
    copy = dns.rrset.RRset(name, rrset.rdclass, rrset.rdtype)
    copy.update(rrset)
    return copy
