"""rest-json (FIS): routed as rest-xml is (method and URI template; uri, querystring and
header members), the body a JSON document typed as the json protocol types it.

Errors carry their code in the ``x-amzn-ErrorType`` header and the body's ``__type``
(botocore reads either) and the message in the body's ``message``.
"""

from __future__ import annotations

import json

from botocore.model import OperationModel, Shape, StructureShape

from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpResponse
from pocketlink.wire.parser import RestXmlRequestParser
from pocketlink.wire.rpc import RpcRequestParser, RpcResponseSerializer

VALIDATION = "ValidationException"


class _Document(RpcRequestParser):
    """The json protocol's typed walk, with rest-json's validation code."""

    invalid_value_code = VALIDATION
    missing_code = VALIDATION


class RestJsonRequestParser(RestXmlRequestParser):
    invalid_value_code = VALIDATION
    missing_code = VALIDATION

    def _body(self, shape: StructureShape, members: dict[str, Shape], body: bytes) -> dict:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ServiceError("The request body could not be read as JSON.",
                               code="SerializationException") from None
        if not isinstance(document, dict):
            raise ServiceError("The request body is not a JSON object.",
                               code="SerializationException")
        walker = _Document(self.spec)
        return {name: walker._typed(member, document[name], name)
                for name, member in members.items() if document.get(name) is not None}


class RestJsonResponseSerializer(RpcResponseSerializer):
    content_type = "application/json"

    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        response = super().serialize(operation, result, request_id)
        response.status = operation.http.get("responseCode", 200)
        return response

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        response = super().serialize_error(error, request_id)
        response.headers["x-amzn-ErrorType"] = error.code
        return response
