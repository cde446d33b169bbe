"""What the services' tests share."""

from __future__ import annotations

from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest

from pocketlink.wire.message import HttpRequest


def http_request(request: AWSPreparedRequest) -> HttpRequest:
    """The request botocore is about to send, as the gateway is handed one (for tests that
    catch boto3's requests in its ``before-send`` event instead of sending them)."""
    url = urlsplit(request.url)
    body = request.body or b""
    body = body.read() if hasattr(body, "read") else body
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else v
               for k, v in request.headers.items()}
    headers.setdefault("host", url.netloc)
    return HttpRequest(request.method, url.path or "/", url.query, headers,
                       body.encode() if isinstance(body, str) else body)
