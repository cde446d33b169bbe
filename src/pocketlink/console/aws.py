"""botocore clients of the daemon's own API, as the CLI would make them: one per access key,
region and service, kept (making one costs milliseconds of model loading) and shared by the
worker threads (botocore clients are thread-safe; making them is not: a lock).

Every page and the topology make their calls with these clients, signed as the CLI signs
them; botocore's ``before-send`` then hands the signed request, exactly as signed, to the
gateway in process (``in_process``) instead of a socket: the gateway checks the signature
(``--strict-auth``), routes and answers it as one from the port, and its errors come back
as botocore's ``ClientError``. The daemon's loop answers a Describe call in about a
millisecond; a round trip through HTTP cost 10 to 70 ms on a busy machine. The calls
block: pages make them from worker threads, and each is run on the event loop, one at a
time, the thread waiting."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import TimeoutError as Late
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from botocore.utils import parse_timestamp as parse_any_timestamp

from pocketlink.wire.message import HttpRequest, HttpResponse

if TYPE_CHECKING:  # only annotations name it (the gateway imports the console)
    from pocketlink.gateway.dispatch import Gateway

# Clients kept at most: a few accounts times regions times services.
KEPT = 256
ANSWER_WITHIN = 60.0  # seconds a call may take, as the HTTP client's read timeout was
CALLER = "console"  # the peer the request log and the rate limit know the console's calls by
# The console's calls are the user's clicks: one try each, so that an error shows at once;
# botocore's own parameter checks are off, so that what refuses a request is the API (and
# checking a hundred endpoints' queries cost more than the gateway's answer).
_CONFIG = Config(retries={"max_attempts": 1}, proxies={}, parameter_validation=False)

Send = Callable[[HttpRequest], HttpResponse]


def in_process(gateway: Gateway, loop: asyncio.AbstractEventLoop) -> Send:
    """Answers a request from a worker thread as the gateway answers one from the port, on
    the event loop (where the store lives), the thread waiting."""

    async def answer(request: HttpRequest) -> HttpResponse:
        pending = gateway.forwarding(request, CALLER)
        return await pending if pending is not None else gateway.handle(request, CALLER)

    def send(request: HttpRequest) -> HttpResponse:
        future = asyncio.run_coroutine_threadsafe(answer(request), loop)
        try:
            return future.result(ANSWER_WITHIN)
        except Late:
            future.cancel()
            raise ReadTimeoutError(endpoint_url=request.path) from None

    return send


class _Body:
    """An answer's body, as botocore reads a urllib3 response's."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self.body


class Clients:
    """``endpoint``: the daemon's URL, which the requests name (their ``Host``, signed);
    ``send`` (``deliver``): what answers them."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._send: Send | None = None
        self._session = botocore.session.get_session()
        self._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_timestamp)
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, str, str, str], Any] = OrderedDict()

    def deliver(self, send: Send) -> None:
        """Where the signed requests go from now on (set once the event loop runs)."""
        self._send = send

    def get(self, service: str, access_key: str, secret_key: str, region: str) -> Any:
        key = (service, access_key, secret_key, region)
        with self._lock:
            client = self._kept.get(key)
            if client is None:
                client = self._session.create_client(
                    service, region_name=region, endpoint_url=self.endpoint,
                    aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                    config=_CONFIG)
                client.meta.events.register("before-send", self._before_send)
                self._kept[key] = client
                if len(self._kept) > KEPT:
                    self._kept.popitem(last=False)
            else:
                self._kept.move_to_end(key)
            return client

    def _before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        if self._send is None:
            raise RuntimeError("the console's clients were given no gateway to call")
        url = urlsplit(request.url)
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v
                   for k, v in request.headers.items()}
        headers.setdefault("host", url.netloc)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        answer = self._send(HttpRequest(request.method, url.path or "/", url.query, headers,
                                        body.encode() if isinstance(body, str) else body))
        return AWSResponse(request.url, answer.status, answer.headers, _Body(answer.body))


def parse_timestamp(value: str | float) -> datetime:
    """The API's ISO 8601 times, read by the standard library (botocore's own parser,
    dateutil's, took half of the endpoint list's time with 100 endpoints); anything else
    (CloudWatch's CBOR gives epoch seconds) as botocore reads it."""
    if not isinstance(value, str):
        return parse_any_timestamp(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return parse_any_timestamp(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def endpoint_of(host: str, port: int) -> str:
    """Where the daemon listening on ``host`` is reached from this machine."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
