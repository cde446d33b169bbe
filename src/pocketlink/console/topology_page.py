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

The reads are the console's calls (console/aws.py ``Clients``), signed as every console
page signs: with the key the user signed in with under ``--strict-auth``, else with the
account's 12-digit id (the key that is that account, as any caller may use). So under
``--strict-auth`` the page shows the signed-in account only, and the whole machine's view
is refused: it would need every account's key. The page is served only under one of the
daemon's own names (its ``Host``): a page on another name, as after DNS rebinding, gets
nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from botocore.exceptions import ClientError

from pocketlink.console import session
from pocketlink.console.aws import Clients
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
from pocketlink.console.topology_read import (
    Answers,
    Api,
    TargetCounts,
    Totals,
    figures,
    read_all,
    target_figures,
)
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


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _asked(request: HttpRequest, strict: bool) -> tuple[Session, bool]:
    """The console's session (its cookie, the query's ``account`` and ``region`` over it)
    and whether the whole machine is asked for."""
    query = {k: v[-1] for k, v in parse_qs(request.query).items()}
    account, region = query.get("account"), query.get("region")
    if account is not None and not ACCOUNT.fullmatch(account):
        raise Refused(400, f"{account!r} is not a 12-digit account id.")
    if region is not None and not REGION.fullmatch(region):
        raise Refused(400, f"{region!r} is not a region's name.")
    return (session.read(request.headers.get("cookie", ""), query, strict),
            query.get("scope") == "machine")


def _machine(gateway: Gateway) -> list[tuple[str, str]]:
    """Every (account, region) the store holds VPCs, endpoints, services or NLBs in."""
    return sorted({(r.account, r.region) for kind in (Vpc, VpcEndpoint, EndpointService,
                                                     LoadBalancer)
                   for r in gateway.store.all(kind)})


def _refusal(error: Exception) -> str:
    if isinstance(error, ClientError):
        found = error.response.get("Error", {})
        return f"The API refused: {found.get('Code', '')}: {found.get('Message', '')}"
    return f"The API could not be called: {error}"


async def serve(request: HttpRequest, gateway: Gateway, clients: Clients, answers: Answers,
                targets: Callable[[], TargetCounts],
                totals: Callable[[], Totals]) -> HttpResponse:
    """The page or the feed: HTML (or JSON) with status 200, or a refusal in words.
    ``answers``: the API's lists, kept while the store does not change; ``targets``: the
    data plane's counts per target; ``totals``: the metrics sampler's counts since the
    daemon started; both read here, on the event loop, after the API's answers."""
    feed = request.path == FEED_PATH
    strict = gateway.strict_auth
    try:
        if request.method not in ("GET", "HEAD"):
            raise Refused(405, "Only GET is served here.")
        host = request.headers.get("host", "")
        if f"http://{host}" not in gateway.origins:
            raise Refused(403, f"The console is served under the daemon's own names only, "
                               f"not {host!r}.")
        current, machine = _asked(request, strict)
        if machine and strict:
            raise Refused(403, "With --strict-auth the whole machine's topology is not "
                               "served: it would sign as every account, and the console "
                               "holds only the key you signed in with. The topology of "
                               "your own account is.")
        account, region = current.account, current.region
        if machine:
            apis = [Api(a, r, (a, session.UNCHECKED_SECRET), clients, answers)
                    for a, r in _machine(gateway)]
        else:
            apis = [Api(account, region, current.signing_key, clients, answers)]
        everything, failed = await asyncio.to_thread(read_all, apis, not feed, machine)
        counted = totals()
        found_figures = {key: text for found in everything
                         for key, text in figures(found, counted).items()}
        found_figures.update(target_figures(targets(), {(h.account, h.region)
                                                         for h in everything}))
    except Refused as refused:
        own = f'<p><a href="{PAGE_PATH}">Your account\'s topology</a></p>' if strict else ""
        body = json.dumps({"error": str(refused)}) if feed else render(
            Page("Topology", f'<p role="alert">{escape(str(refused))}</p>{own}'), None,
            "topology", strict=strict)
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
    return HttpResponse(200, render(Page(title, body), current, "topology", strict=strict)
                        .encode(), headers)
