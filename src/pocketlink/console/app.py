"""One console request, start to finish: refuse a form another site's page sent, read the
session, route, run the page in a worker thread, lay it out.

A page calls the daemon's API (``aws``: signed as the CLI signs, answered by the gateway
on the event loop) and so must not run on that loop: every page runs in the console's own
small thread pool; the topology page (``topology_page``) reads with the same clients. A form
(POST) is taken only from the daemon's own origin (``Origin``, or ``Sec-Fetch-Site:
same-origin``), as the gateway refuses API calls from other pages; the session cookie is
SameSite=Strict besides. An API error is shown in the page, in AWS's words; a path that is
no page gets a 404 page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, quote

from botocore.exceptions import BotoCoreError, ClientError

from pocketlink.console import (
    cloudformation,
    elb,
    endpoint_services,
    endpoints,
    home,
    instances,
    reachability,
    route53,
    routing,
    session,
    topology_page,
    vpc,
)
from pocketlink.console.aws import Clients, in_process
from pocketlink.console.layout import Page, render
from pocketlink.console.markup import ROOT, error_flash, success_flash
from pocketlink.console.session import Session
from pocketlink.console.topology_read import Answers, TargetCounts, Totals
from pocketlink.console.view import Json, Redirect, View
from pocketlink.wire.message import HttpRequest, HttpResponse

if TYPE_CHECKING:  # only annotations name it (the gateway imports the console)
    from pocketlink.gateway.dispatch import Gateway

log = logging.getLogger("pocketlink.console")

WORKERS = 4
# What a page may not load or do: nothing from elsewhere, no inline script, no framing.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".svg": "image/svg+xml"}
_OWN_SITES = ("same-origin",)


class Console:
    def __init__(self, endpoint: str, origins: frozenset[str], strict: bool = False,
                 targets: Callable[[], TargetCounts] = dict,
                 totals: Callable[[], Totals] = dict,
                 changes: Callable[[], object] = object) -> None:
        self.clients = Clients(endpoint)
        # The topology's lists, kept while ``changes`` (the store's change counter) stays;
        # without one, each page asks anew (a new object() is never the one before).
        self.answers = Answers(changes)
        self.targets = targets  # the data plane's counts per target (the topology's)
        self.totals = totals  # the metrics sampler's counts (the topology's figures)
        self.origins = origins
        self.strict = strict
        self.routes = routing.collect(home, vpc, endpoints, endpoint_services, instances, elb,
                                      route53, cloudformation, reachability)
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="console")
        self._gateway: Gateway | None = None

    @staticmethod
    def claims(path: str) -> bool:
        return path == ROOT or path.startswith(ROOT + "/")

    async def serve(self, request: HttpRequest, gateway: Gateway) -> HttpResponse:
        """``gateway`` answers the pages' API calls (the one this console is served by)."""
        loop = asyncio.get_running_loop()
        if self._gateway is not gateway:
            self._gateway = gateway
            self.clients.deliver(in_process(gateway, loop))
        if request.path in topology_page.PATHS and not self._signing_in(request):
            response = await topology_page.serve(request, gateway, self.clients, self.answers,
                                                 self.targets, self.totals)
            response.headers.update({**_HEADERS, **response.headers})
            return response
        return await loop.run_in_executor(self._pool, self.respond, request)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def respond(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        path = request.path[len(ROOT):].strip("/")
        try:
            response = self._respond(request, path)
        except Exception:
            log.exception("console %s %s failed", request.method, request.path)
            response = self._page(Page("Something went wrong", "<p>The console failed to "
                                       "draw this page; the daemon's log says why.</p>",
                                       status=500), None, path)
        log.info("console %s /%s %d %.1fms", request.method, path, response.status,
                 (time.perf_counter() - started) * 1000)
        return response

    def _respond(self, request: HttpRequest, path: str) -> HttpResponse:
        if request.path == ROOT:
            return HttpResponse(308, b"", {"Location": ROOT + "/"})
        if path.startswith("static/") and request.method == "GET":
            return _static(path.removeprefix("static/"))
        if request.method == "POST" and not self._same_origin(request):
            return self._page(Page("Refused", "<p>A form of another site's page is refused: "
                                   "only the console's own pages may act.</p>", status=403),
                              None, path)
        query = dict(parse_qsl(request.query))
        current = session.read(request.headers.get("cookie", ""), query, self.strict)
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True) \
            if request.method == "POST" else {}
        if self.strict and not current.access_key and path not in ("sign-in", "sign-out") \
                and not path.startswith("static/"):
            path, request = "sign-in", HttpRequest("GET", request.path, request.query,
                                                   request.headers)
        found = routing.match(self.routes, request.method, path)
        if not found:
            return self._page(Page("Page not found", "<p>The console has no page at this "
                                   f"address. <a href=\"{ROOT}/\">Console home</a></p>",
                                   status=404 if found is None else 405), current, path)
        route, params = found
        view = View(request, current, params, query, form, self.clients, self.strict)
        if query.get("done"):
            view.flashes.append(success_flash(query["done"]))
        try:
            reply = route.handler(view)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            reply = Page("Error", "", status=status if 400 <= status < 600 else 400)
            view.failed(error)
        except BotoCoreError as error:
            reply = Page("The API did not answer", "", status=502)
            view.flashes.append(error_flash(str(error)))
        return self._reply(reply, view, path)

    def _reply(self, reply: Any, view: View, path: str) -> HttpResponse:
        headers: dict[str, str] = {}
        if view.session.changed:
            headers["Set-Cookie"] = view.session.cookie()
        if isinstance(reply, Redirect):
            location = f"{ROOT}/{reply.path}"
            if reply.done:
                location += f"{'&' if '?' in location else '?'}done={quote(reply.done)}"
            return HttpResponse(303, b"", {**_HEADERS, **headers, "Location": location})
        if isinstance(reply, Json):
            return HttpResponse(200, json.dumps(reply.data).encode(),
                                {**_HEADERS, **headers, "Content-Type": "application/json"})
        reply.flashes = view.flashes + reply.flashes
        response = self._page(reply, view.session, path)
        response.headers.update(headers)
        return response

    def _page(self, page: Page, current: Session | None, path: str) -> HttpResponse:
        body = render(page, current, path, self.strict).encode()
        return HttpResponse(page.status, body,
                            {**_HEADERS, "Content-Type": "text/html; charset=utf-8"})

    def _signing_in(self, request: HttpRequest) -> bool:
        """Whether the console asks for a key first (``--strict-auth``, none signed in)."""
        return self.strict and not session.read(request.headers.get("cookie", ""), {},
                                                True).access_key

    def _same_origin(self, request: HttpRequest) -> bool:
        origin = request.headers.get("origin")
        if origin is not None:
            return origin in self.origins
        return request.headers.get("sec-fetch-site") in _OWN_SITES


@cache
def _static_file(name: str) -> bytes | None:
    folder = resources.files("pocketlink.console") / "static"
    if "/" in name or name.startswith("."):
        return None
    target = folder / name
    return target.read_bytes() if target.is_file() else None


def _static(name: str) -> HttpResponse:
    data = _static_file(name)
    kind = _STATIC_TYPES.get(name[name.rfind("."):] if "." in name else "")
    if data is None or kind is None:
        return HttpResponse(404, b"not found", {"Content-Type": "text/plain"})
    return HttpResponse(200, data, {"Content-Type": kind, "Cache-Control": "max-age=300",
                                    "X-Content-Type-Options": "nosniff"})

