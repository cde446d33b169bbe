"""The DNS process (dns/process.py) and its child: a view closed and another opened with
the same zone. The child forgets the zones no view names once a view is closed; the daemon
must forget them too, or it would ship the new view the zone's id alone and the child
would not know it (a VPC whose network failed and came back lost its resolver's answers)."""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.message
import dns.name
import dns.rcode

from pocketlink.daemon import KINDS
from pocketlink.dns.process import DnsProcess, bind_pair
from pocketlink.dns.zones import Zone, ZoneSet
from pocketlink.store import Store


def test_a_zone_of_a_closed_view_is_shipped_again_to_a_new_view(tmp_path) -> None:
    zone = Zone(origin=dns.name.from_text("example."))
    zone.add("www.example.", "A", 60, ["192.0.2.1"])

    async def scenario() -> list[str]:
        process = DnsProcess(Store(tmp_path / "state.db", KINDS))
        await process.start()
        try:
            process.serve("a", [bind_pair("127.0.0.1", 0)], lambda _: ZoneSet([zone]), False)
            await process.current()
            process.close("a")
            pair = bind_pair("127.0.0.1", 0)
            process.serve("b", [pair], lambda _: ZoneSet([zone]), False)
            await process.current()
            answer = await dns.asyncquery.udp(dns.message.make_query("www.example.", "A"),
                                              "127.0.0.1", port=pair[0].getsockname()[1],
                                              timeout=5)
            assert answer.rcode() == dns.rcode.NOERROR
            return [r.address for rrset in answer.answer for r in rrset]
        finally:
            await process.stop()

    assert asyncio.run(scenario()) == ["192.0.2.1"]


def test_views_sharing_a_zone_keep_it_while_one_names_it(tmp_path) -> None:
    """Views share zone objects (every VPC's view holds the public zones): each is shipped
    once, and kept while any view names it, through one view's close and a full build;
    one view's new zones reach the child without the others being built."""
    shared = Zone(origin=dns.name.from_text("example."))
    shared.add("www.example.", "A", 60, ["192.0.2.1"])
    own = Zone(origin=dns.name.from_text("own.internal."))
    own.add("db.own.internal.", "A", 60, ["10.0.0.9"])

    async def ask(pair, name: str) -> list[str]:
        answer = await dns.asyncquery.udp(dns.message.make_query(name, "A"), "127.0.0.1",
                                          port=pair[0].getsockname()[1], timeout=5)
        return [r.address for rrset in answer.answer for r in rrset]

    async def scenario() -> list[list[str]]:
        process = DnsProcess(Store(tmp_path / "state.db", KINDS))
        await process.start()
        try:
            built: list[str] = []

            def view(name: str, *zones: Zone):
                def build(_):
                    built.append(name)
                    return ZoneSet(list(zones))
                return build

            first, second = bind_pair("127.0.0.1", 0), bind_pair("127.0.0.1", 0)
            process.serve("a", [first], view("a", shared), False)
            process.serve("b", [second], view("b", shared, own), False)
            assert built == ["a", "b"]  # each serve builds its own view only
            process.close("a")
            process.publish()  # a full build, as after a change in the store
            await process.current()
            return [await ask(second, "www.example."), await ask(second, "db.own.internal.")]
        finally:
            await process.stop()

    assert asyncio.run(scenario()) == [["192.0.2.1"], ["10.0.0.9"]]
