"""The RPC protocols, body a document: ``json`` (awsJson1_0: the operation in
``X-Amz-Target``) and ``smithy-rpc-v2-cbor`` (the operation in the path,
``/service/NAME/operation/OP``, the body CBOR). CloudWatch's model lists both beside
``query``, and each SDK picks one: botocore ranks json first, an SDK taking the model's
order speaks CBOR, one older than the list query (``protocol_of`` says which a request is in).

A service marked ``awsQueryCompatible`` (CloudWatch) keeps its query error codes: an error
names its shape in ``__type`` and its query code in the ``x-amzn-query-error`` header
(``CODE;Sender``), which botocore reads.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import UTC, datetime

import cbor2
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from pocketlink.wire.errors import ServiceError, UnknownOperation
from pocketlink.wire.message import HttpRequest, HttpResponse
from pocketlink.wire.parser import QueryRequestParser
from pocketlink.wire.serializer import ResponseSerializer
from pocketlink.wire.specs import ServiceSpec

CBOR = "smithy-rpc-v2-cbor"
JSON = "json"


def protocol_of(spec: ServiceSpec, request: HttpRequest) -> str:
    """The protocol a request to a service of several protocols came in."""
    protocols = spec.model.metadata.get("protocols") or [spec.protocol]
    if request.headers.get("smithy-protocol") == "rpc-v2-cbor" and CBOR in protocols:
        return CBOR
    # A json request names its operation in X-Amz-Target and says so in its Content-Type
    # (``application/x-amz-json-1.0``); a form with a stray X-Amz-Target is still a query.
    if request.headers.get("x-amz-target") and JSON in protocols and \
            request.headers.get("content-type", "").startswith("application/x-amz-json"):
        return JSON
    return "query" if "query" in protocols else spec.protocol


class RpcRequestParser(QueryRequestParser):
    """The document's members by their names, typed as the shapes say; the validation
    errors are the query protocol's (the service is the same service behind each)."""

    codec = JSON

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        name = self._operation_name(request)
        operation = self.spec.operation(name) if name else None
        if operation is None:
            raise UnknownOperation(name or "(none)", self.spec.name)
        try:
            document = self._decode(request.body) if request.body else {}
        except (ValueError, cbor2.CBORDecodeError, UnicodeDecodeError, RecursionError):
            raise ServiceError("The request body could not be read as "
                               f"{'CBOR' if self.codec == CBOR else 'JSON'}.",
                               code="SerializationException") from None
        shape = operation.input_shape
        return operation, self._typed_structure(shape, document, "") if shape else {}

    def _operation_name(self, request: HttpRequest) -> str:
        return request.headers.get("x-amz-target", "").rpartition(".")[2]

    def _decode(self, body: bytes):
        return json.loads(body)

    def _typed(self, shape: Shape, value, path: str):
        if isinstance(shape, StructureShape):
            return self._typed_structure(shape, value, path)
        if isinstance(shape, ListShape):
            if not isinstance(value, list):
                raise self._invalid(path, _shown_value(value), "a list")
            return [self._typed(shape.member, item, f"{path}.{n + 1}")
                    for n, item in enumerate(value)]
        if isinstance(shape, MapShape):
            if not isinstance(value, dict):
                raise self._invalid(path, _shown_value(value), "a map")
            return {self._typed(shape.key, k, path): self._typed(shape.value, v, f"{path}.{k}")
                    for k, v in value.items()}
        return self._typed_scalar(shape, value, path)

    def _typed_structure(self, shape: StructureShape, value, path: str) -> dict:
        if not isinstance(value, dict):
            raise self._invalid(path, _shown_value(value), "a structure")
        params = {}
        for name, member in shape.members.items():
            if value.get(name) is not None:
                params[name] = self._typed(member, value[name], f"{path}.{name}" if path else name)
        for name in shape.required_members:
            if name not in params:
                raise ServiceError(self._missing_message(f"{path}.{name}" if path else name),
                                   code=self.missing_code)
        return params

    def _typed_scalar(self, shape: Shape, value, path: str):
        kind = shape.type_name
        if kind == "string":
            if not isinstance(value, str):
                raise self._invalid(path, _shown_value(value), "a string")
            return self._scalar(shape, value, path)  # the query checks: enums, XML-safe text
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._invalid(path, _shown_value(value), "an integer")
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise self._invalid(path, _shown_value(value), "a boolean")
            return value
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._invalid(path, _shown_value(value), "a number")
            return float(value)
        if kind == "timestamp":
            return self._typed_timestamp(value, path)
        if kind == "blob":
            return self._typed_blob(value, path)
        return value

    def _typed_timestamp(self, value, path: str) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value):
            raise self._invalid(path, _shown_value(value), "a timestamp")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise self._invalid(path, _shown_value(value), "a timestamp") from None

    def _typed_blob(self, value, path: str) -> bytes:
        if not isinstance(value, str):
            raise self._invalid(path, _shown_value(value), "base64")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self._invalid(path, value, "base64") from None


class CborRequestParser(RpcRequestParser):
    codec = CBOR

    def _operation_name(self, request: HttpRequest) -> str:
        parts = request.path.split("/")
        # /service/{ServiceName}/operation/{OperationName}
        if len(parts) == 5 and parts[1] == "service" and parts[3] == "operation":
            return parts[4]
        return ""

    def _decode(self, body: bytes):
        return cbor2.loads(body)

    def _typed_blob(self, value, path: str) -> bytes:
        if not isinstance(value, bytes):
            raise self._invalid(path, _shown_value(value), "a byte string")
        return value


def _shown_value(value) -> str:
    return str(value)[:100]


class RpcResponseSerializer(ResponseSerializer):
    content_type = "application/x-amz-json-1.0"
    codec = JSON

    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        shape = operation.output_shape
        document = self._document(shape, result) if shape is not None else {}
        return self._answer(200, document, request_id)

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        kind = "Sender" if error.sender_fault else "Receiver"
        shape = type(error).__name__ if type(error).__name__ in self.spec.errors else error.code
        response = self._answer(error.status, {"__type": shape, "message": error.message},
                                request_id)
        if "awsQueryCompatible" in self.spec.model.metadata:
            response.headers["x-amzn-query-error"] = f"{error.code};{kind}"
        return response

    def _answer(self, status: int, document: dict, request_id: str) -> HttpResponse:
        return HttpResponse(status, self._encode(document),
                            {"Content-Type": self.content_type, "x-amzn-RequestId": request_id})

    def _encode(self, document: dict) -> bytes:
        return json.dumps(document).encode()

    def _document(self, shape: Shape, value):
        if isinstance(shape, StructureShape):
            out = {}
            for key, item in value.items():
                if item is None:
                    continue
                member = shape.members.get(key)
                if member is None:
                    raise ValueError(f"{shape.name} has no member {key}")
                out[key] = self._document(member, item)
            return out
        if isinstance(shape, ListShape):
            return [self._document(shape.member, item) for item in value]
        if isinstance(shape, MapShape):
            return {k: self._document(shape.value, v) for k, v in value.items()}
        if shape.type_name == "timestamp":
            return self._timestamp(value)
        if shape.type_name == "blob":
            return base64.b64encode(value).decode()
        return value

    def _timestamp(self, value: datetime):
        return value.timestamp()


class CborResponseSerializer(RpcResponseSerializer):
    content_type = "application/cbor"
    codec = CBOR

    def _answer(self, status: int, document: dict, request_id: str) -> HttpResponse:
        response = super()._answer(status, document, request_id)
        response.headers["smithy-protocol"] = "rpc-v2-cbor"
        return response

    def _encode(self, document: dict) -> bytes:
        return cbor2.dumps(document, datetime_as_timestamp=True, timezone=UTC)

    def _document(self, shape: Shape, value):
        if shape.type_name == "blob":
            return bytes(value)
        return super()._document(shape, value)

    def _timestamp(self, value: datetime):
        return value
