"""Response serializers: a result dict or a ServiceError becomes the XML each protocol sends.

Class tree::

    ResponseSerializer             shape walk to XML text, escaping, timestamps; <ErrorResponse>
     └── QueryResponseSerializer   <OpResponse><OpResult>..</OpResult><ResponseMetadata>..
          └── EC2ResponseSerializer  <OpResponse><requestId>..; errors as <Response><Errors>..
     RestXmlResponseSerializer     headers + <OutputShape xmlns=..>..; the operation's status code

A result key the output shape does not name is a bug in a handler, so it raises.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpResponse
from pocketlink.wire.specs import ServiceSpec

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry; a user's tag value could hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text(value: str) -> str:
    """XML text that parses back to ``value``: a bare CR would be read as LF, so it is escaped."""
    return escape(_NOT_XML.sub("\ufffd", value), {"\r": "&#13;"})


def iso8601(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ResponseSerializer:
    content_type = "text/xml"

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.namespace = spec.model.metadata.get("xmlNamespace", "")

    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        raise NotImplementedError

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        """``<ErrorResponse>``, as the query and rest-xml services send it (EC2 differs)."""
        kind = "Sender" if error.sender_fault else "Receiver"
        body = (
            f'{XML_DECL}<ErrorResponse xmlns="{self.namespace}"><Error><Type>{kind}</Type>'
            f"<Code>{text(error.code)}</Code><Message>{text(error.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return self._response(error.status, body, request_id)

    # --- the walk ---------------------------------------------------------------------------
    def _members(self, shape: StructureShape, value: dict, out: list[str]) -> None:
        members = shape.members
        for key, item in value.items():
            if item is None:
                continue
            member = members.get(key)
            if member is None:
                raise ValueError(f"{shape.name} has no member {key}")
            self._element(member, self._element_name(member, key), item, out)

    def _element(self, shape: Shape, name: str, value, out: list[str]) -> None:
        if isinstance(shape, ListShape):
            member_name = shape.member.serialization.get("name", "member")
            if shape.serialization.get("flattened"):
                for item in value:
                    self._element(shape.member, member_name if member_name != "member" else name,
                                  item, out)
                return
            out.append(f"<{name}>")
            for item in value:
                self._element(shape.member, member_name, item, out)
            out.append(f"</{name}>")
        elif isinstance(shape, StructureShape):
            out.append(f"<{name}>")
            self._members(shape, value, out)
            out.append(f"</{name}>")
        elif isinstance(shape, MapShape):
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            out.append(f"<{name}>")
            for key, item in value.items():
                out.append(f"<entry><{key_name}>{text(str(key))}</{key_name}>")
                self._element(shape.value, value_name, item, out)
                out.append("</entry>")
            out.append(f"</{name}>")
        else:
            out.append(f"<{name}>{self._scalar(shape, value)}</{name}>")

    def _scalar(self, shape: Shape, value) -> str:
        kind = shape.type_name
        if kind == "boolean":
            return "true" if value else "false"
        if kind == "timestamp" and isinstance(value, datetime):
            return iso8601(value)
        if kind == "blob":
            raw = value.encode() if isinstance(value, str) else value
            return base64.b64encode(raw).decode()
        return text(str(value))

    def _element_name(self, shape: Shape, default: str) -> str:
        return shape.serialization.get("name", default)

    def _response(self, status: int, body: str, request_id: str) -> HttpResponse:
        return HttpResponse(status, body.encode(), {"Content-Type": self.content_type,
                                                    "x-amzn-RequestId": request_id})


class QueryResponseSerializer(ResponseSerializer):
    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        name = operation.name
        out = [XML_DECL, f'<{name}Response xmlns="{self.namespace}">']
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
            out.append(f"<{wrapper}>")
            self._members(shape, result, out)
            out.append(f"</{wrapper}>")
        out.append(
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{name}Response>"
        )
        return self._response(200, "".join(out), request_id)


class EC2ResponseSerializer(QueryResponseSerializer):
    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        name = operation.name
        out = [XML_DECL, f'<{name}Response xmlns="{self.namespace}">',
               f"<requestId>{request_id}</requestId>"]
        if operation.output_shape is not None:
            self._members(operation.output_shape, result, out)
        out.append(f"</{name}Response>")
        return self._response(200, "".join(out), request_id)

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        # <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
        body = (
            f"{XML_DECL}<Response><Errors><Error><Code>{text(error.code)}</Code>"
            f"<Message>{text(error.message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return self._response(error.status, body, request_id)


def _header_value(shape: Shape, value) -> str:
    """A member sent as an HTTP header: plain text, no XML escaping; RFC 822 timestamps."""
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp" and isinstance(value, datetime):
        return format_datetime(value.astimezone(UTC), usegmt=True)
    return str(value)


class RestXmlResponseSerializer(ResponseSerializer):
    """rest-xml (Route 53): header members go to headers, the rest to an XML body named after
    the output shape; the status is the operation's ``responseCode``."""

    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        shape = operation.output_shape
        status = operation.http.get("responseCode", 200)
        if shape is None:
            return self._response(status, "", request_id)
        headers: dict[str, str] = {}
        body_result = {}
        for key, value in result.items():
            member = shape.members.get(key)
            if member is None:
                raise ValueError(f"{shape.name} has no member {key}")
            if member.serialization.get("location") == "header":
                headers[member.serialization.get("name", key)] = _header_value(member, value)
            elif value is not None:
                body_result[key] = value
        payload = shape.serialization.get("payload")
        out = [XML_DECL]
        if payload:
            member = shape.members[payload]
            if payload in body_result:
                self._element(member, self._element_name(member, payload),
                              body_result[payload], out)
                out[1] = out[1].replace(">", f' xmlns="{self.namespace}">', 1)
        else:
            root = shape.serialization.get("name", shape.name)
            out.append(f'<{root} xmlns="{self.namespace}">')
            self._members(shape, body_result, out)
            out.append(f"</{root}>")
        response = self._response(status, "".join(out), request_id)
        response.headers.update(headers)
        return response


_SERIALIZERS: dict[str, type[ResponseSerializer]] = {
    "ec2": EC2ResponseSerializer,
    "query": QueryResponseSerializer,
    "rest-xml": RestXmlResponseSerializer,
}


def create_serializer(spec: ServiceSpec, protocol: str | None = None) -> ResponseSerializer:
    """The serializer of ``protocol``, one of the spec's (its own by default)."""
    from pocketlink.wire import rest_json, rpc  # their serializers build on this module's

    protocol = protocol or spec.protocol
    serializers = {**_SERIALIZERS, rpc.JSON: rpc.RpcResponseSerializer,
                   rpc.CBOR: rpc.CborResponseSerializer,
                   "rest-json": rest_json.RestJsonResponseSerializer}
    try:
        return serializers[protocol](spec)
    except KeyError:
        raise NotImplementedError(f"the {protocol} protocol ({spec.name})") from None
