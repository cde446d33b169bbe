"""Interface endpoints' own names, as the backend (moto) understands them.

moto finds a request's service and bucket by its Host. A client given an endpoint's own DNS
name (``--endpoint-url https://vpce-0a1b...-xxxx.ssm.us-west-2.vpce.amazonaws.com``, as
AWS's docs suggest when private DNS is off) signs and sends that name; moto knows the
regional names only, so the backend is handed the regional name of the same service:
``ssm.us-west-2.amazonaws.com``.

An S3 interface endpoint answers on names of its own (AWS's "endpoint-specific S3 DNS
names", which boto3 and the CLI use when given them as ``--endpoint-url``):

- ``bucket.vpce-1a2b3c4d-5e6f.s3.us-west-2.vpce.amazonaws.com/my-bucket/key``: path style;
- ``my-bucket.bucket.vpce-1a2b3c4d-5e6f.s3.us-west-2.vpce.amazonaws.com/key``: virtual-host
  style, what an SDK makes of the former as its endpoint URL;
- ``vpce-1a2b3c4d-5e6f.s3.us-west-2.vpce.amazonaws.com`` (the endpoint's own DNS name, as
  ``DnsEntries`` gives it without its ``*.``): path style too.

moto knows buckets by the regional names only (and would take ``my-bucket.bucket.vpce-...``
for one bucket of that whole name), so the backend is handed the regional name that means
the same bucket: ``my-bucket.s3.us-west-2.amazonaws.com`` or ``s3.us-west-2.amazonaws.com``.
This is done as the request is forwarded, after its signature has been checked against the
name the client signed. The ``accesspoint.vpce-...`` and ``control.vpce-...`` names (access
points, S3 Control) are not served.
"""

from __future__ import annotations

import re

_S3_ENDPOINT_NAME = re.compile(
    r"(?:(?P<bucket>.+)\.bucket\.|bucket\.)?vpce-[0-9a-z-]+\.s3\.(?P<region>[0-9a-z-]+)"
    r"\.vpce\.amazonaws\.com\.?(?P<port>:\d+)?", re.IGNORECASE)


# vpce-<id>-<suffix>[-<zone>].<service>.<region>.vpce.amazonaws.com, the regional and zonal
# DnsEntries of an endpoint to any AWS service.
_ENDPOINT_NAME = re.compile(
    r"vpce-[0-9a-z-]+\.(?P<service>[0-9a-z.-]+?)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)"
    r"\.vpce\.amazonaws\.com\.?(?P<port>:\d+)?", re.IGNORECASE)


def regional_host(host: str) -> str:
    """The regional name for an endpoint-specific one; any other ``host`` unchanged."""
    found = _S3_ENDPOINT_NAME.fullmatch(host)
    if found is None:
        other = _ENDPOINT_NAME.fullmatch(host)
        if other is None:
            return host
        return f"{other['service']}.{other['region']}.amazonaws.com{other['port'] or ''}"
    bucket = f"{found['bucket']}." if found["bucket"] else ""
    return f"{bucket}s3.{found['region']}.amazonaws.com{found['port'] or ''}"
