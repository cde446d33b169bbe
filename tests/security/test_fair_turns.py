"""Issue 14, "limits everywhere": one account's flood of API requests does not starve
another's (gateway/fair.py). Requests wait in one queue per caller, served in turns; a
client that pipelines gets its answers in order.

The turns are shown on the gateway itself (the order in which it handles requests); the
pipelining on a real daemon.
"""

from __future__ import annotations

import asyncio
import re
import socket

from pocketlink.daemon import open_store
from pocketlink.gateway.dispatch import Gateway
from pocketlink.gateway.fair import FairFront
from pocketlink.wire.message import HttpRequest
from tests.security.signed import form, sign


def signed(vpc_id: str, account: str) -> HttpRequest:
    """A DescribeVpcs of one (made-up) VPC id, signed as ``account``."""
    request = sign("http://127.0.0.1:1", form("DescribeVpcs", **{"VpcId.1": vpc_id}),
                   account, "secret")
    return HttpRequest("POST", "/", "", {k.lower(): v for k, v in request.headers.items()},
                       request.body)


def test_a_quiet_account_waits_for_one_request_of_a_busy_one_not_for_its_flood(tmp_path):
    gateway = Gateway(open_store(tmp_path / "state.db"))
    handled: list[str] = []
    real = gateway.handle

    def recording(request, peer="", path=None):
        handled.append(request.form["VpcId.1"])
        return real(request, peer, path)
    gateway.handle = recording  # type: ignore[method-assign]
    front = FairFront(gateway)

    async def flood_then_one() -> list[int]:
        requests = [signed(f"vpc-flood{i:03d}", "222222222222") for i in range(50)]
        requests.append(signed("vpc-quiet", "333333333333"))
        statuses = []
        answers = [(front.forwarding(request, "127.0.0.1"), request) for request in requests]
        for pending, request in answers:  # None: answered at once, as http.py then does
            response = front.handle(request) if pending is None else await pending
            statuses.append(response.status)
        return statuses

    statuses = asyncio.run(flood_then_one())
    assert len(handled) == 51 and set(statuses) == {400}  # every one answered (not found)
    # the busy account's first request is answered at once (nobody waited), its others
    # wait in its queue; the quiet account's comes after one of them, not after all 49
    assert handled[:3] == ["vpc-flood000", "vpc-flood001", "vpc-quiet"], handled[:5]


def test_pipelined_requests_are_answered_in_order(daemon):
    ids = [f"vpc-{n:017x}" for n in (1, 2, 3)]
    requests = []
    for vpc_id in ids:
        request = sign(daemon.endpoint, form("DescribeVpcs", **{"VpcId.1": vpc_id}),
                       "444444444444", "secret")
        head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
        requests.append((f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                         f"{len(request.body)}\r\n{head}\r\n").encode() + request.body)
    # a probe (answered at once, not in turns) between two of them
    requests.insert(1, b"GET /_pocketlink/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as sock:
        sock.sendall(b"".join(requests))  # all at once: one read holds them all
        answer = b""
        while answer.count(b"</Response>") < 3:
            piece = sock.recv(65536)
            assert piece, answer
            answer += piece
    named = re.findall(rb"vpc-0{16}[123]|running", answer)
    assert [n.decode() for n in named] == [ids[0], "running", *ids[1:]], answer


def test_two_connections_of_one_account_get_every_pipelined_answer(daemon):
    """Its requests take turns with each other, some answered at once, some queued: every
    one is answered, and each connection reads on after its last."""
    request = sign(daemon.endpoint, form("DescribeVpcs"), "555555555555", "secret")
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    one = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(request.body)}\r\n"
           f"{head}\r\n").encode() + request.body
    connections = [socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
                   for _ in range(2)]
    try:
        for _ in range(5):  # batch after batch: a connection left unread would stop here
            for sock in connections:
                sock.sendall(one * 20)
            for sock in connections:
                answer = b""
                while answer.count(b"HTTP/1.1 200 OK") < 20:
                    piece = sock.recv(65536)
                    assert piece, answer[-300:]
                    answer += piece
    finally:
        for sock in connections:
            sock.close()


def test_under_strict_auth_an_unsigned_request_is_not_parsed_ahead(tmp_path):
    """The parse ahead (on the API's thread, before the fair turns) is most of a large
    request's cost: an unsigned one, refused first under --strict-auth, must not get it."""
    body = b"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-" + b"a" * 200_000
    unsigned = HttpRequest("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"},
                           body)
    Gateway(open_store(tmp_path / "strict.db"), strict_auth=True).parse_ahead(unsigned)
    assert unsigned.parsed is None
    signed_one = signed("vpc-0123456789abcdef0", "111111111111")
    Gateway(open_store(tmp_path / "strict2.db"), strict_auth=True).parse_ahead(signed_one)
    assert signed_one.parsed is not None
    Gateway(open_store(tmp_path / "open.db")).parse_ahead(unsigned)
    assert unsigned.parsed is not None
