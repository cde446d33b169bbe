"""A query asked again is answered from the server's earlier reply, under its own id, and
only while the zones are the same: a flood of one name costs no dnspython work, and a
change of the zones is answered at once."""

from __future__ import annotations

import dns.message
import dns.name

from pocketlink.dns.server import Answers, answer
from pocketlink.dns.zones import Zone, ZoneSet

NAME = "vpce-1.example.internal."


def zones(address: str) -> ZoneSet:
    zone = Zone(origin=dns.name.from_text("example.internal."))
    zone.add(NAME, "A", 60, [address])
    return ZoneSet([zone])


def ask(answers: Answers, zoneset: ZoneSet, query_id: int, built: list[int]) -> dns.message.Message:
    query = dns.message.make_query(NAME, "A")
    query.id = query_id
    wire = query.to_wire()

    def build() -> bytes | None:
        built.append(query_id)
        return answer(zoneset, wire, recursive=True)

    reply = answers.reply(zoneset, wire, build)
    assert reply is not None
    return dns.message.from_wire(reply)


def test_a_query_asked_again_gets_the_same_answer_under_its_own_id():
    answers, built, first = Answers(), [], zones("10.0.1.5")
    one = ask(answers, first, 1, built)
    two = ask(answers, first, 2, built)
    assert (one.id, two.id) == (1, 2)
    assert [r.to_text() for r in two.answer[0]] == ["10.0.1.5"]
    assert two.answer == one.answer and two.flags == one.flags
    assert built == [1]  # the second from the first's reply


def test_new_zones_are_answered_from_at_once():
    answers, built = Answers(), []
    ask(answers, zones("10.0.1.5"), 1, built)
    moved = ask(answers, zones("10.0.1.9"), 2, built)
    assert [r.to_text() for r in moved.answer[0]] == ["10.0.1.9"]
    assert built == [1, 2]


def test_what_is_not_answered_stays_unanswered():
    answers, calls, same = Answers(), [], zones("10.0.1.5")
    for _ in range(2):
        assert answers.reply(same, b"\x00\x01garbage-not-dns", lambda: calls.append(1)) is None
    assert calls == [1]  # and dropped the second time without a parse


def test_weighted_record_sets_are_drawn_again_for_each_query():
    """Route 53 draws a weighted set per query: a kept reply would give every later query
    the first one's draw."""
    zone = Zone(origin=dns.name.from_text("example.internal."))
    zone.add_weighted(NAME, "A", [(1, 60, ["10.0.1.5"]), (1, 60, ["10.0.1.6"])])
    weighted, answers, built = ZoneSet([zone]), Answers(), []
    seen = {ask(answers, weighted, i, built).answer[0][0].to_text() for i in range(1, 65)}
    assert built == list(range(1, 65))
    assert seen == {"10.0.1.5", "10.0.1.6"}  # 2**-63 that a fair draw shows only one
