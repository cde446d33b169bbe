"""What a request to the backend calls: its operation and the parameters that name its
resources, read from botocore's model of the service, as an endpoint policy needs them.

The backend (moto) parses requests itself; pocketlink reads only what authorization needs,
and cheaply: json's ``X-Amz-Target`` and body, query's ``Action`` and fields, and for S3
(rest-xml) the route, matched against every operation's ``requestUri`` and method. S3 gives
several operations one route (PutObject, CopyObject and UploadPart are all ``PUT
/{Bucket}/{Key+}``); the model tells them apart by the members each requires in the query
string or the headers (``uploadId``, ``x-amz-copy-source``), so the route that accounts for
the most of what the request carries wins. The bucket of a virtual-hosted request is in its
Host (``bucket.s3.us-west-2.amazonaws.com``, ``bucket.bucket.vpce-....s3...vpce.amazonaws.com``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import parse_qsl, unquote

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

from pocketlink.wire.message import HttpRequest

# A virtual-hosted S3 name: the bucket before an S3 interface endpoint's ``bucket.vpce-``
# name, before ``s3.``/``s3-`` (the regional, legacy and dualstack names) or before moto's
# ``.localhost``. ``bucket.vpce-...`` alone (no bucket before it) is path-style.
_VPCE_HOST = re.compile(r"^(?:(?P<bucket>.+)\.)?bucket\.vpce-[^.]+\.s3\.")
_S3_HOST = re.compile(r"^(?P<bucket>.+?)\.(?:s3[.-]|localhost$)")


@dataclass(frozen=True)
class Call:
    """One request, as authorization sees it: ``operation`` is botocore's name, "" when the
    request matches none; ``params`` holds members by their model names (Bucket, Key,
    CopySource; a json body's fields as sent)."""

    service: str
    operation: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # the requestUri's own query: name, value
    required: tuple[tuple[str, str], ...]  # (location, wire name) of members it must carry
    literal: int  # characters of the path that are not labels: the more, the more specific
    deprecated: bool
    operation: OperationModel


@cache
def _model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service_name=service)


@cache
def _routes(service: str) -> dict[str, tuple[_Route, ...]]:
    """The service's routes by HTTP method."""
    model = _model(service)
    routes: dict[str, list[_Route]] = {}
    for name in model.operation_names:
        operation = model.operation_model(name)
        path, _, query = operation.http["requestUri"].partition("?")
        pattern = re.sub(r"\\{(\w+)\\\+\\}", r"(?P<\1>.+)", re.escape(path))
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", pattern)
        fixed = tuple((k, v if sep else None) for k, sep, v in
                      (q.partition("=") for q in query.split("&") if q))
        shape = operation.input_shape
        required = tuple(
            (shape.members[member].serialization["location"],
             shape.members[member].serialization.get("name", member))
            for member in (shape.required_members if shape else ())
            if shape.members[member].serialization.get("location") in ("querystring", "header"))
        routes.setdefault(operation.http["method"], []).append(_Route(
            re.compile(pattern.rstrip("/") + "/?$"), fixed, required,
            len(re.sub(r"\{[^}]+\}", "", path)), bool(operation.deprecated), operation))
    return {method: tuple(group) for method, group in routes.items()}


def rest_call(service: str, method: str, path: str, query: str,
              headers: dict[str, str]) -> Call:
    """The operation of a REST request by its route, with the members its URI, query string
    and headers carry. Among routes that fit, the one whose query and required members the
    request carries the most of wins, then the longer literal path, then a current
    operation over a deprecated one (GetBucketLifecycle), then the name."""
    fields = dict(parse_qsl(query, keep_blank_values=True))
    best: tuple | None = None
    for route in _routes(service).get(method, ()):
        if not all(k in fields and (v is None or fields[k] == v) for k, v in route.query):
            continue
        match = route.pattern.match(path)
        if match is None:
            continue
        if not all((wire in fields) if location == "querystring" else (wire.lower() in headers)
                   for location, wire in route.required):
            continue
        rank = (len(route.query) + len(route.required), route.literal, not route.deprecated,
                [-ord(c) for c in route.operation.name])
        if best is None or rank > best[0]:
            best = (rank, route, match)
    if best is None:
        return Call(service, "")
    _, route, match = best
    return Call(service, route.operation.name, _members(route.operation, match.groupdict(),
                                                        fields, headers))


def _members(operation: OperationModel, uri: dict[str, str], fields: dict[str, str],
             headers: dict[str, str]) -> dict:
    shape = operation.input_shape
    params: dict = {}
    for name, member in (shape.members.items() if shape else ()):
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and wire in uri:
            params[name] = unquote(uri[wire])
        elif location == "querystring" and wire in fields:
            params[name] = fields[wire]
        elif location == "header" and wire.lower() in headers:
            params[name] = headers[wire.lower()]
    return params


def s3_path(request: HttpRequest) -> str:
    """The request's path in S3's path style: a virtual-hosted request's bucket (from its
    Host) put in front."""
    host = re.sub(r":\d+$", "", request.headers.get("host", "").lower())
    named = _VPCE_HOST.match(host) or _S3_HOST.match(host)
    bucket = named["bucket"] if named else None
    return f"/{bucket}{request.path}" if bucket else request.path


def call_of(service: str, request: HttpRequest) -> Call:
    """The call ``request`` makes to ``service`` (botocore's name)."""
    target = request.headers.get("x-amz-target")
    if target:
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            params = {}
        return Call(service, target.rpartition(".")[2], params if isinstance(params, dict) else {})
    protocol = _model(service).metadata["protocol"]
    if protocol.startswith("rest"):
        path = s3_path(request) if service == "s3" else request.path
        return rest_call(service, request.method, path, request.query, request.headers)
    fields = dict(request.form)  # query (SNS, IAM) and SQS's older query form
    return Call(service, fields.pop("Action", ""), fields)
