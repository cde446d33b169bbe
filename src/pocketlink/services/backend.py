"""The backend: moto's server as the daemon's supervised child, and the way requests reach it.

AWS services pocketlink does not implement itself are served by moto in a process of its
own (backend_main.py), so its memory, its GIL and its races stay away from the data plane.
It starts with the first request for one of its services, listens on a free loopback
port, and is started again whenever it exits, with one log line saying so; its state
lives in FOLDER (the state dir's ``backend/``) and comes back with it. A request is
forwarded as it came (method, path, query, headers, body) with the account in
``x-moto-account-id`` (and an S3 endpoint-specific host name as the regional name
meaning the same bucket or service, endpoint_names.py), and moto's answer goes back unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

import httptools

from pocketlink.services.endpoint_names import regional_host
from pocketlink.supervisor import ChildSupervisor
from pocketlink.wire import sigv4
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest, HttpResponse

log = logging.getLogger("pocketlink.backend")

# The services the backend serves, by SigV4 signing name, and the protocol their errors use.
SERVICES = {
    "s3": "rest-xml",
    "dynamodb": "json",
    "ssm": "json",
    "secretsmanager": "json",
    "logs": "json",
    "kms": "json",
    "ecr": "json",
    "sqs": "json",
    "iam": "query",
    "sns": "query",
    "lambda": "rest-json",
}

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer",
                        "upgrade", "proxy-connection", "expect", "content-length"})
STARTUP = 60.0  # seconds moto may take to import, restore and listen
READY_WAIT = 60.0  # seconds a request waits for a (re)starting backend
READ_SIZE = 1 << 20  # an S3 body comes in few, large reads


class Backend(ChildSupervisor):
    name = "backend (moto)"
    log = log
    startup = STARTUP

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.port: int | None = None
        self._restored = ""  # what the running child restored, for the log line
        self._ready = asyncio.Event()

    @staticmethod
    def caller(request: HttpRequest) -> tuple[str, str] | None:
        """(service, access key id) of a request for the backend, or None. The SigV4 scope
        says; without one, SigV2's query (``AWSAccessKeyId``, ``Signature``) can only be
        S3's: boto3 presigns S3 URLs that way unless told ``s3v4``."""
        scope = sigv4.credential_scope(request)
        if scope is not None:
            return (scope.service, scope.access_key) if scope.service in SERVICES else None
        query = parse_qs(request.query)
        if "AWSAccessKeyId" in query and "Signature" in query:
            return "s3", query["AWSAccessKeyId"][0]
        return None

    def status(self) -> dict:
        return {"pid": self.pid, "port": self.port if self._ready.is_set() else None,
                "restarts": self.restarts, "data": str(self.folder)}

    async def forward(self, service: str, request: HttpRequest, account: str) -> HttpResponse:
        unavailable = error_response(service, ServiceError(
            f"the {service} backend is not available (starting, restarting or stopping); "
            "try again", code="ServiceUnavailable", status=503))
        if self.stopping:
            return unavailable
        host = request.headers.get("host", "")
        regional = regional_host(host)
        if regional != host:
            request = replace(request, headers={**request.headers, "host": regional})
        self.supervise()
        try:
            await asyncio.wait_for(self._ready.wait(), READY_WAIT)
            return await _exchange(self.port, request, account)  # type: ignore[arg-type]
        except (OSError, TimeoutError, ConnectionError, httptools.HttpParserError):
            return unavailable

    async def spawn(self) -> asyncio.subprocess.Process:
        self.folder.mkdir(parents=True, exist_ok=True)
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pocketlink.services.backend_main", str(self.folder),
            str(os.getpid()), stdout=asyncio.subprocess.PIPE, start_new_session=True)

    async def ready(self, process: asyncio.subprocess.Process) -> None:
        hello = await _hello(process)
        self.port = int(hello["port"])
        self._restored = _restored(hello["restored"])
        self._ready.set()

    def announce(self, exited: str | None) -> None:
        assert self.process is not None
        what = self._restored
        if exited is None:
            log.info("backend (moto) is up on 127.0.0.1:%d (pid %d)%s", self.port,
                     self.process.pid, f"; restored {what}" if what else "")
        else:
            log.warning("backend (moto) exited with %s; restarted (pid %d, port %d), "
                        "restored %s", exited, self.process.pid, self.port,
                        what or "nothing (it held nothing)")

    def ended(self) -> None:
        self._ready.clear()


async def _hello(process: asyncio.subprocess.Process) -> dict:
    """The backend's first JSON line on stdout (a library may print before it)."""
    assert process.stdout is not None
    while line := await process.stdout.readline():
        with contextlib.suppress(ValueError):
            hello = json.loads(line)
            if isinstance(hello, dict) and "port" in hello:
                return hello
    raise EOFError("the backend ended before it listened")


def _restored(restored: dict[str, list[str]]) -> str:
    accounts = {account for owners in restored.values() for account in owners}
    if not restored:
        return ""
    states = sum(len(owners) for owners in restored.values())
    return (f"{states} service states ({', '.join(sorted(restored))}) of "
            f"{len(accounts)} account{'s' if len(accounts) != 1 else ''}")


class _Answer:
    """httptools' callbacks for one response."""

    def __init__(self, head_only: bool) -> None:
        self.head_only = head_only
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.headers_done = False
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.complete = self.head_only

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


async def _exchange(port: int, request: HttpRequest, account: str) -> HttpResponse:
    """One request to the backend on a connection of its own (moto's server closes each)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_SIZE)
    return await exchange(reader, writer, request, {"x-moto-account-id": account})


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   request: HttpRequest, extra: dict[str, str]) -> HttpResponse:
    """``request`` (with the ``extra`` headers) on a fresh connection, closed after the
    answer: the backend's, and the registry's (services/ecr_registry.py)."""
    try:
        target = request.path + (f"?{request.query}" if request.query else "")
        headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
        headers.update({**extra, "content-length": str(len(request.body)),
                        "connection": "close"})
        head = f"{request.method} {target} HTTP/1.1\r\n" + \
            "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1"))
        writer.write(request.body)
        await writer.drain()
        answer = _Answer(head_only=request.method == "HEAD")
        parser = httptools.HttpResponseParser(answer)
        while not answer.complete:
            data = await reader.read(READ_SIZE)
            if not data:
                break
            parser.feed_data(data)
        if not answer.headers_done:
            raise ConnectionError("the backend closed the connection without answering")
        response_headers = {("Content-Type" if k.lower() == "content-type" else k): v
                            for k, v in answer.headers if k.lower() not in HOP_BY_HOP}
        if answer.head_only:
            length = next((v for k, v in answer.headers if k.lower() == "content-length"), None)
            if length is not None:
                response_headers["Content-Length"] = length
        return HttpResponse(parser.get_status_code(), b"".join(answer.body), response_headers)
    finally:
        writer.close()


def operation_name(target: str, query: str, content_type: str, body: bytes) -> str:
    """The operation a request calls, by json's ``X-Amz-Target`` or query's ``Action``;
    "" for REST (S3), whose operation is its method and path."""
    if target:
        return target.rpartition(".")[2]
    fields = parse_qs(query)
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields.update(parse_qs(body.decode("utf-8", "replace")))
    return (fields.get("Action") or [""])[0]


def operation_of(request: HttpRequest) -> str:
    """For the log line."""
    return operation_name(request.headers.get("x-amz-target", ""), request.query,
                          request.headers.get("content-type", ""), request.body) or \
        f"{request.method} {request.path}"


def error_response(service: str, error: ServiceError) -> HttpResponse:
    """``error`` as ``service``'s protocol writes errors, for answers the backend did not
    give (a refused signature, a backend that is restarting)."""
    request_id = str(uuid.uuid4())
    protocol = SERVICES.get(service, "json")
    if protocol == "json":
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "x-amzn-ErrorType": error.code, "x-amzn-RequestId": request_id}
    else:
        fields = (f"<Code>{error.code}</Code><Message>{_xml(error.message)}</Message>")
        body = (f"<ErrorResponse><Error><Type>Sender</Type>{fields}</Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>" if protocol == "query"
                else f"<Error>{fields}<RequestId>{request_id}</RequestId></Error>").encode()
        headers = {"Content-Type": "text/xml", "x-amz-request-id": request_id}
    return HttpResponse(error.status, body, headers)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
