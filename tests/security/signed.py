"""Requests signed by botocore itself (SigV4Auth, SigV4QueryAuth) and sent as they are,
or bent after signing, as an attacker who captured them would bend them."""

from __future__ import annotations

import datetime
import http.client
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock
from urllib.parse import urlencode, urlparse

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FORM = "application/x-www-form-urlencoded; charset=utf-8"
EC2_VERSION = "2016-11-15"
STS_VERSION = "2011-06-15"


@dataclass
class Sent:
    status: int
    headers: dict[str, str]
    body: str


@contextmanager
def signing_at(moment: datetime.datetime):
    """botocore signs as if it were ``moment`` (naive UTC, as botocore keeps it)."""
    with mock.patch("botocore.auth.get_current_datetime", lambda *a, **k: moment):
        yield


def form(action: str, version: str = EC2_VERSION, **params: str) -> str:
    return urlencode({"Action": action, "Version": version, **params})


def sign(endpoint: str, body: str, key: str, secret: str, service: str = "ec2",
         region: str = "us-east-1") -> AWSRequest:
    request = AWSRequest("POST", endpoint + "/", data=body.encode(),
                         headers={"Content-Type": FORM})
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    return request


def presign(endpoint: str, query: str, key: str, secret: str, expires: int,
            service: str = "ec2", region: str = "us-east-1") -> str:
    """A presigned GET URL (path and query) for ``query``."""
    request = AWSRequest("GET", f"{endpoint}/?{query}")
    SigV4QueryAuth(Credentials(key, secret), service, region, expires=expires).add_auth(request)
    url = urlparse(request.prepare().url)
    return f"{url.path}?{url.query}"


def send(endpoint: str, request: AWSRequest, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> Sent:
    """Sends ``request`` with its signed headers, the body (or another one) and headers
    changed as given (a value None removes a header)."""
    sent = dict(request.headers.items())
    for name, value in (headers or {}).items():
        sent = {k: v for k, v in sent.items() if k.lower() != name.lower()}
        if value is not None:
            sent[name] = value
    url = urlparse(request.url)
    return raw(endpoint, request.method, url.path + (f"?{url.query}" if url.query else ""),
               request.body if body is None else body, sent)


def raw(endpoint: str, method: str, target: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> Sent:
    url = urlparse(endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        # as UTF-8 bytes: a header may carry what latin-1 cannot
        connection.request(method, target, body=body, headers={
            name: value.encode() for name, value in (headers or {}).items()})
        response = connection.getresponse()
        return Sent(response.status, {k.lower(): v for k, v in response.getheaders()},
                    response.read().decode())
    finally:
        connection.close()
