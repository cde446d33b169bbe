"""The topology page and its JSON feed over HTTP: which accounts a request asks for, their
reads (console/topology_read.py) on a worker thread, the answer.

- ``/_pocketlink/console/topology?account=&region=`` (or the console's session cookie,
  which those set as on every console page): one account in one region, as its own API
  shows it, in the console's layout.
- ``?scope=machine``: every account and region the daemon holds resources in, and the
  PrivateLink connections between them. No AWS API lists the accounts: that list, and
  nothing else, is read from the daemon's store (read-only, on the event loop, before the
  reads begin); each account is then read with its own API calls.
- ``/_pocketlink/console/topology.json`` with the same parameters: the figures only, for
  the page's script to poll.

The API calls name the daemon's host as the request's ``Host`` does (one of the daemon's
own origins, or the request is refused: a page on another name, as after DNS rebinding,
gets nothing). Each is signed with the account's 12-digit id, the key that is that
account. That is why the page is refused with ``--strict-auth``: without it any caller
may act as any account, so the page shows no more than the API would; with it, the page
waits for the console's sign-in with a key (not built here).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from functools import cache
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from botocore.exceptions import ClientError

from pocketlink.console import session
from pocketlink.console.layout import Page, render
from pocketlink.console.session import Session
from pocketlink.console.topology import (
    FEED_PATH,
    PAGE_PATH,
    Account,
    Topology,
    topology_body,
)
from pocketlink.console.topology_build import build
from pocketlink.console.topology_read import Api, Send, read_all
from pocketlink.model.ec2 import Vpc
from pocketlink.model.elbv2 import LoadBalancer
from pocketlink.model.privatelink import EndpointService, VpcEndpoint
from pocketlink.wire.message import HttpRequest, HttpResponse

if TYPE_CHECKING:  # only annotations name it
    from pocketlink.gateway.dispatch import Gateway

log = logging.getLogger("pocketlink.console")

PATHS = frozenset({PAGE_PATH, FEED_PATH})
ACCOUNT = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
HTML = "text/html; charset=utf-8"
CALLER = "console"  # the peer the request log and the rate limit know the console's calls by


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _asked(request: HttpRequest) -> tuple[Session, bool, str]:
    """The console's session (its cookie, the query's ``account`` and ``region`` over it),
    whether the whole machine is asked for, and the region: the query's as asked (one of
    no partition is the API's to refuse, in its words), else the session's."""
    query = {k: v[-1] for k, v in parse_qs(request.query).items()}
    account, region = query.get("account"), query.get("region")
    if account is not None and not ACCOUNT.fullmatch(account):
        raise Refused(400, f"{account!r} is not a 12-digit account id.")
    if region is not None and not REGION.fullmatch(region):
        raise Refused(400, f"{region!r} is not a region's name.")
    current = session.read(request.headers.get("cookie", ""), query, strict=False)
    return current, query.get("scope") == "machine", region or current.region


def _machine(gateway: Gateway) -> list[tuple[str, str]]:
    """Every (account, region) the store holds VPCs, endpoints, services or NLBs in."""
    return sorted({(r.account, r.region) for kind in (Vpc, VpcEndpoint, EndpointService,
                                                     LoadBalancer)
                   for r in gateway.store.all(kind)})


@cache
def _sender(gateway: Gateway) -> Send:
    """Answers a request from a worker thread as the gateway answers one from the port,
    on the event loop (where the store lives), the thread waiting. One per gateway: the
    clients made for it are kept (topology_read ``_client``)."""
    loop = asyncio.get_running_loop()

    async def answer(request: HttpRequest) -> HttpResponse:
        pending = gateway.forwarding(request, CALLER)
        return await pending if pending is not None else gateway.handle(request, CALLER)

    return lambda request: asyncio.run_coroutine_threadsafe(answer(request), loop).result()




def _refusal(error: Exception) -> str:
    if isinstance(error, ClientError):
        found = error.response.get("Error", {})
        return f"The API refused: {found.get('Code', '')}: {found.get('Message', '')}"
    return f"The API could not be called: {error}"


async def serve(request: HttpRequest, gateway: Gateway) -> HttpResponse:
    """The page or the feed: HTML (or JSON) with status 200, or a refusal in words."""
    feed = request.path == FEED_PATH
    try:
        if request.method not in ("GET", "HEAD"):
            raise Refused(405, "Only GET is served here.")
        if gateway.strict_auth:
            raise Refused(403, "With --strict-auth the topology page is not served: it "
                               "signs as any account, and the console's sign-in with a key "
                               "does not reach it yet.")
        host = request.headers.get("host", "")
        url = f"http://{host}"
        if url not in gateway.origins:
            raise Refused(403, f"The console is served under the daemon's own names only, "
                               f"not {host!r}.")
        current, machine, region = _asked(request)
        account = current.account
        wanted = _machine(gateway) if machine else [(account, region)]
        send = _sender(gateway)
        apis = [Api(url, a, r, a, "pocketlink", send) for a, r in wanted]
        everything, found_figures, failed = await asyncio.to_thread(read_all, apis, not feed)
    except Refused as refused:
        body = json.dumps({"error": str(refused)}) if feed else render(
            Page("Topology", f'<p role="alert">{escape(str(refused))}</p>'), None, "topology",
            strict=gateway.strict_auth)
        return HttpResponse(refused.status, body.encode(),
                            {"Content-Type": "application/json" if feed else HTML})
    if feed:
        return HttpResponse(200, json.dumps({"figures": found_figures}).encode(),
                            {"Content-Type": "application/json", "Cache-Control": "no-store"})
    topology = build(everything, found_figures)
    drawn = {(a.id, a.region) for a in topology.accounts}
    topology = Topology(topology.accounts + tuple(
        Account(a, r, note=_refusal(error)) for (a, r), error in failed.items()
        if (a, r) not in drawn),
        topology.lines, topology.connections, topology.figures)
    title = "Topology: the whole machine" if machine else f"Topology: {account} · {region}"
    query = request.query
    body = topology_body(topology, f"{FEED_PATH}?{query}" if query else FEED_PATH)
    headers = {"Content-Type": HTML, "Cache-Control": "no-store"}
    if current.changed:
        headers["Set-Cookie"] = current.cookie()
    return HttpResponse(200, render(Page(title, body), current, "topology", strict=False)
                        .encode(), headers)
