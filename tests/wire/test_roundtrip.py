"""Round trips against botocore itself, for operations generated from the models.

- Requests: botocore's own serializer builds what a client sends; our parser must give back
  the same params.
- Responses: our serializer builds what a server sends; botocore's own parser must give
  back the same output.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import botocore.parsers
import botocore.serialize
import pytest
from botocore.awsrequest import HeadersDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketlink.wire import specs
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest
from pocketlink.wire.parser import create_parser
from pocketlink.wire.serializer import create_serializer
from tests.wire.strategies import normalize, structure_for

SERVICES = ["ec2", "elbv2", "sts", "route53", "autoscaling", "acm"]
PROFILE = settings(max_examples=400, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _operations(name: str) -> list[str]:
    return list(specs.load(name).model.operation_names)


def lower(headers: dict[str, str]) -> HeadersDict:
    """Headers as botocore receives them: names in any case."""
    return HeadersDict(headers)


def as_http_request(wire: dict) -> HttpRequest:
    """What botocore's serializer produced, as it would arrive over HTTP."""
    headers = {k.lower(): v for k, v in wire["headers"].items()}
    body = wire["body"]
    if isinstance(body, dict):
        body = urlencode(body).encode()
    url = urlsplit(wire["url_path"])
    query = urlencode(wire["query_string"], doseq=True) if isinstance(
        wire["query_string"], dict) else wire["query_string"]
    query = "&".join(q for q in (url.query, query) if q)
    return HttpRequest(wire["method"], url.path, query, headers, body or b"")


@pytest.mark.parametrize("service", SERVICES)
@PROFILE
@given(data=st.data())
def test_what_botocore_sends_we_parse(service: str, data: st.DataObject) -> None:
    spec = specs.load(service)
    operation = spec.model.operation_model(data.draw(st.sampled_from(_operations(service))))
    params = {} if operation.input_shape is None else data.draw(
        structure_for(operation.input_shape, 0))
    wire = botocore.serialize.create_serializer(spec.protocol, include_validation=False) \
        .serialize_to_request(params, operation)
    request = as_http_request(wire)
    parsed_operation, parsed = create_parser(spec).parse(request)
    assert parsed_operation.name == operation.name
    assert normalize(parsed) == normalize(params)


@pytest.mark.parametrize("service", SERVICES)
@PROFILE
@given(data=st.data())
def test_what_we_send_botocore_parses(service: str, data: st.DataObject) -> None:
    spec = specs.load(service)
    operation = spec.model.operation_model(data.draw(st.sampled_from(_operations(service))))
    result = {} if operation.output_shape is None else data.draw(
        structure_for(operation.output_shape, 0))
    response = create_serializer(spec).serialize(operation, result, "req-1")
    parsed = botocore.parsers.create_parser(spec.protocol).parse(
        {"body": response.body, "headers": lower(response.headers),
         "status_code": response.status},
        operation.output_shape)
    metadata = parsed.pop("ResponseMetadata")
    assert metadata["RequestId"] == "req-1"
    assert normalize(parsed) == normalize(result)


@pytest.mark.parametrize("service", SERVICES)
@settings(max_examples=100, deadline=None)
@given(code=st.from_regex(r"[A-Z][A-Za-z]{2,20}(\.[A-Z][A-Za-z]{2,10})?", fullmatch=True),
       message=st.text(max_size=40))
def test_errors_botocore_parses(service: str, code: str, message: str) -> None:
    spec = specs.load(service)
    response = create_serializer(spec).serialize_error(ServiceError(message, code=code), "req-2")
    parsed = botocore.parsers.create_parser(spec.protocol).parse(
        {"body": response.body, "headers": lower(response.headers),
         "status_code": response.status},
        None)
    assert response.status == 400
    assert parsed["Error"]["Code"] == code
    assert parsed["ResponseMetadata"]["RequestId"] == "req-2"


def test_characters_xml_cannot_carry_are_replaced_not_fatal() -> None:
    spec = specs.load("sts")
    operation = spec.model.operation_model("GetCallerIdentity")
    response = create_serializer(spec).serialize(operation, {"UserId": "a\x00b\x1fc",
                                                             "Arn": "line\r\nnext\r"}, "r")
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": response.body, "headers": {}, "status_code": 200}, operation.output_shape)
    assert parsed["UserId"] == "a\ufffdb\ufffdc"
    assert parsed["Arn"] == "line\r\nnext\r"
