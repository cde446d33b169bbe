"""A TemplateURL: the S3 object a template was uploaded to (``cdk deploy`` and
``aws cloudformation deploy --s3-bucket`` upload theirs), read from the backend's S3.

AWS's forms, path-style and virtual-hosted: ``https://s3.amazonaws.com/BUCKET/KEY``,
``https://s3.REGION.amazonaws.com/BUCKET/KEY``, ``https://s3-REGION.amazonaws.com/...``,
``https://BUCKET.s3.amazonaws.com/KEY``, ``https://BUCKET.s3.REGION.amazonaws.com/KEY``;
and path-style on the daemon's own address (``http://127.0.0.1:4566/BUCKET/KEY``), which is
what the AWS CLI sends when its S3 endpoint is pocketlink.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.errors import ValidationError

_PATH_STYLE = re.compile(r"s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?")
_VIRTUAL = re.compile(r"(?P<bucket>.+)\.s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?")
# The daemon's own endpoint: the AWS CLI names what it uploaded by its S3 endpoint URL.
_LOCAL = ("localhost", "127.0.0.1", "::1")
MAX_TEMPLATE = 1_000_000  # bytes: AWS's limit for a template in S3


def bucket_and_key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), unquote(parts.path.lstrip("/"))
    virtual = _VIRTUAL.fullmatch(host)
    if virtual and not _PATH_STYLE.fullmatch(host) and path:
        return virtual.group("bucket"), path
    if (_PATH_STYLE.fullmatch(host) or host in _LOCAL) and "/" in path:
        bucket, key = path.split("/", 1)
        return bucket, key
    raise ValidationError("TemplateURL must be a supported URL.")


async def fetch(api: Api, url: str) -> str:
    bucket, key = bucket_and_key(url)
    try:
        answer = await api.backend("s3", "GetObject", {"Bucket": bucket, "Key": key})
    except ProviderError as error:
        raise ValidationError(f"S3 error: Access Denied or not found ({url}): {error}") from None
    body = answer.get("Body", b"")
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if len(body) > MAX_TEMPLATE:
        raise ValidationError("Template may not exceed 1000000 bytes in size.")
    return body
