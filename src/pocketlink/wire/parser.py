"""Request parsers: an HTTP request becomes ``(operation, params)`` by walking the input shape.

Class tree (one base that walks shapes, one small subclass per wire protocol)::

    RequestParser                 shape walk over a tree of keys, type conversion, required members
     └── QueryRequestParser       Action/Version form; lists as Name.member.N, maps as Name.entry.N
          └── EC2RequestParser    lists as Name.N; names from queryName or capitalized locationName
     RestXmlRequestParser         method + URI template; uri/querystring/header members; XML body

The document protocols (``json``, ``smithy-rpc-v2-cbor``) are rpc.py's, built on the query
parser's checks; ``rest-json`` is rest_json.py's, routed as rest-xml is.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote
from xml.etree import ElementTree

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from pocketlink.wire.errors import ServiceError, UnknownOperation
from pocketlink.wire.message import HttpRequest
from pocketlink.wire.numbers import integer
from pocketlink.wire.specs import ServiceSpec

Tree = dict[str, "Tree | str"]

# Parameters every query request may carry that are not part of any operation's input.
_ENVELOPE = frozenset(
    {"Action", "Version", "AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion",
     "Timestamp", "Expires", "SecurityToken"}
)


# What XML 1.0 cannot carry (NUL and the other C0 controls but tab, LF and CR; lone
# surrogates; U+FFFE, U+FFFF): a value holding any could never be described back.
_UNCARRIABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_DECIMAL = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


def _shown(text: str) -> str:
    """``text`` as an error message may quote it: escaped when XML cannot carry it."""
    return ascii(text) if _UNCARRIABLE.search(text) else text


class InvalidParameter(ServiceError):
    """A parameter whose value does not fit its shape; the code is the protocol's own."""


class RequestParser:
    """Walks botocore shapes; subclasses say how names and collections appear on the wire."""

    invalid_value_code = "InvalidParameterValue"
    missing_code = "MissingParameter"
    reject_unknown = False

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        raise NotImplementedError

    # --- the walk ---------------------------------------------------------------------------
    def _structure(self, shape: StructureShape, node: Tree | str, path: str) -> dict:
        if not isinstance(node, dict):
            raise self._invalid(path, node, "a structure")
        params: dict = {}
        for name, member in shape.members.items():
            key = self._member_key(member, name)
            if key in node:
                params[name] = self._value(member, node[key], f"{path}.{key}" if path else key)
        for name in shape.required_members:
            if name not in params:
                key = self._member_key(shape.members[name], name)
                raise ServiceError(
                    self._missing_message(f"{path}.{key}" if path else key), code=self.missing_code
                )
        return params

    def _value(self, shape: Shape, node: Tree | str, path: str):
        if isinstance(shape, StructureShape):
            return self._structure(shape, node, path)
        if isinstance(shape, ListShape):
            return self._list(shape, node, path)
        if isinstance(shape, MapShape):
            return self._map(shape, node, path)
        if isinstance(node, dict):
            raise self._invalid(path, "", shape.type_name)
        return self._scalar(shape, node, path)

    def _list(self, shape: ListShape, node: Tree | str, path: str) -> list:
        if node == "":
            return []
        items = self._list_items(shape, node)
        if not isinstance(items, dict) or not all(_index(k) for k in items):
            raise self._invalid(path, node if isinstance(node, str) else "", "a list")
        return [
            self._value(shape.member, items[k], f"{path}.{k}")
            for k in sorted(items, key=int)
        ]

    def _list_items(self, shape: ListShape, node: Tree | str) -> Tree | str:
        return node

    def _map(self, shape: MapShape, node: Tree | str, path: str) -> dict:
        if node == "":
            return {}
        flattened = shape.serialization.get("flattened")
        entries = node.get("entry", "") if isinstance(node, dict) and not flattened else node
        if not isinstance(entries, dict) or not all(_index(k) for k in entries):
            raise self._invalid(path, "", "a map")
        key_name = self._member_key(shape.key, "key")
        value_name = self._member_key(shape.value, "value")
        out = {}
        for index in sorted(entries, key=int):
            entry = entries[index]
            if not isinstance(entry, dict) or key_name not in entry:
                raise self._invalid(f"{path}.{index}", "", "a map entry")
            key = self._scalar(shape.key, entry[key_name], f"{path}.{index}.{key_name}")
            out[key] = self._value(shape.value, entry.get(value_name, ""), f"{path}.{index}")
        return out

    def _scalar(self, shape: Shape, text: str, path: str):
        kind = shape.type_name
        if _UNCARRIABLE.search(text):
            raise InvalidParameter(f"Value for parameter {_shown(path)} is invalid: it holds "
                                   "characters that XML cannot carry.",
                                   code=self.invalid_value_code)
        if kind == "string":
            return text
        if kind in ("integer", "long"):
            number = integer(text, signed=True)
            if number is None:
                raise self._invalid(path, text, "an integer")
            return number
        if kind == "boolean":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise self._invalid(path, text, "a boolean")
            return lowered == "true"
        if kind in ("float", "double"):
            # ASCII digits only, and finite: float() also reads other digits, 'nan' and '1e999' (inf)
            if not _DECIMAL.fullmatch(text) or not math.isfinite(float(text)):
                raise self._invalid(path, text, "a number")
            return float(text)
        if kind == "timestamp":
            return self._timestamp(text, path)
        if kind == "blob":
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise self._invalid(path, text, "base64") from None
        return text

    def _timestamp(self, text: str, path: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                return datetime.fromtimestamp(float(text), UTC)
            except (ValueError, OverflowError, OSError):
                raise self._invalid(path, text, "a timestamp") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    # --- protocol hooks ---------------------------------------------------------------------
    def _member_key(self, shape: Shape, default: str) -> str:
        return shape.serialization.get("name", default)

    def _invalid(self, path: str, value: str, expected: str) -> ServiceError:
        return InvalidParameter(
            _shown(f"Value ({value}) for parameter {path} is invalid. Expected {expected}."),
            code=self.invalid_value_code,
        )

    def _missing_message(self, path: str) -> str:
        return f"The request must contain the parameter {path}"


def _index(key: str) -> bool:
    """A list index on the wire: ASCII digits only (``str.isdigit`` takes '²' too)."""
    return integer(key) is not None


def _tree(pairs: dict[str, str]) -> Tree:
    """``{"Filter.1.Name": "x"}`` -> ``{"Filter": {"1": {"Name": "x"}}}``."""
    root: Tree = {}
    for key, value in pairs.items():
        *parents, last = key.split(".")
        node = root
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if not isinstance(node.get(last), dict):
            node[last] = value
    return root


class QueryRequestParser(RequestParser):
    invalid_value_code = "ValidationError"
    missing_code = "ValidationError"
    # A value outside its member's enum is refused here, in the words AWS's request
    # validation uses for the query services (ELBv2, STS); EC2 checks its own enums.
    checks_enums = True

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        form = request.form
        action = form.get("Action", "")
        operation = self.spec.operation(action) if action else None
        if operation is None:
            raise UnknownOperation(_shown(action) or "(none)", self.spec.name)
        tree = _tree({k: v for k, v in form.items() if k not in _ENVELOPE and
                      not k.startswith("X-Amz-")})
        shape = operation.input_shape
        if shape is None:
            params: dict = {}
            known: set[str] = set()
        else:
            params = self._structure(shape, tree, "")
            known = {self._member_key(m, n) for n, m in shape.members.items()}
        if self.reject_unknown:
            for key in tree:
                if key not in known:
                    raise ServiceError(f"The parameter {_shown(key)} is not recognized",
                                       code="UnknownParameter")
        return operation, params

    def _list_items(self, shape: ListShape, node: Tree | str) -> Tree | str:
        if shape.serialization.get("flattened") or not isinstance(node, dict):
            return node
        return node.get(shape.member.serialization.get("name", "member"), node)

    def _scalar(self, shape: Shape, text: str, path: str):
        value = super()._scalar(shape, text, path)
        enum = getattr(shape, "enum", None)  # string shapes only
        if self.checks_enums and enum and value not in enum:
            raise ServiceError(
                f"1 validation error detected: Value '{_shown(text)}' at '{_lower(path)}' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(enum)}]", code=self.invalid_value_code)
        return value

    def _missing_message(self, path: str) -> str:
        return (f"1 validation error detected: Value null at '{_lower(path)}' failed to "
                "satisfy constraint: Member must not be null")


def _lower(path: str) -> str:
    """A member's path as AWS's validation messages name it: ``ipAddressType``."""
    return path[:1].lower() + path[1:]


class EC2RequestParser(QueryRequestParser):
    invalid_value_code = "InvalidParameterValue"
    missing_code = "MissingParameter"
    reject_unknown = True
    checks_enums = False

    def _member_key(self, shape: Shape, default: str) -> str:
        serialization = shape.serialization
        if "queryName" in serialization:
            return serialization["queryName"]
        if "name" in serialization:
            name = serialization["name"]
            return name[0].upper() + name[1:]
        return default

    def _list_items(self, shape: ListShape, node: Tree | str) -> Tree | str:
        return node

    def _missing_message(self, path: str) -> str:
        return f"The request must contain the parameter {path}"




class RestXmlRequestParser(RequestParser):
    """rest-xml (Route 53): the operation from method and path; members from the URI, the
    query string, headers and an XML body named by the input shape."""

    invalid_value_code = "InvalidInput"
    missing_code = "InvalidInput"

    def __init__(self, spec: ServiceSpec) -> None:
        super().__init__(spec)
        routes = []
        for name in spec.model.operation_names:
            operation = spec.model.operation_model(name)
            path, _, query = operation.http["requestUri"].partition("?")
            pattern = re.sub(r"\\{(\w+)\\\+\\}", r"(?P<\1>.+)", re.escape(path))
            pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", pattern)
            literal = len(re.sub(r"\{[^}]+\}", "", path))
            required_query = [q.split("=")[0] for q in query.split("&") if q]
            routes.append((literal, operation.http["method"], re.compile(pattern.rstrip("/")
                                                                         + "/?$"),
                           required_query, operation))
        self.routes = sorted(routes, key=lambda r: -r[0])

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        for _, method, pattern, required_query, operation in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method and all(q in query for q in required_query):
                return operation, self._params(operation, request, match.groupdict(), query)
        raise UnknownOperation(_shown(f"{request.method} {request.path}"), self.spec.name)

    def _params(self, operation: OperationModel, request: HttpRequest, uri: dict[str, str],
                query: dict[str, str]) -> dict:
        shape = operation.input_shape
        if shape is None:
            return {}
        params: dict = {}
        body_members = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            key = member.serialization.get("name", name)
            if location == "uri":
                if key in uri:
                    params[name] = self._scalar(member, unquote(uri[key]), key)
            elif location == "querystring":
                if isinstance(member, ListShape):
                    values = [v for k, v in parse_qsl(request.query) if k == key]
                    if values:
                        params[name] = values
                elif key in query:
                    params[name] = self._scalar(member, query[key], key)
            elif location == "header":
                if key.lower() in request.headers:
                    params[name] = self._scalar(member, request.headers[key.lower()], key)
            elif location is None:
                body_members[name] = member
        if body_members and request.body.strip():
            params.update(self._body(shape, body_members, request.body))
        for name in shape.required_members:
            if name not in params:
                raise ServiceError(f"Missing required parameter {name}", code=self.missing_code)
        return params

    def _body(self, shape: StructureShape, members: dict[str, Shape], body: bytes) -> dict:
        """The body's members: an XML document named by the input shape."""
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise ServiceError("The XML document is malformed", code="MalformedXML") from None
        self._check_root(shape, root)
        return self._xml_structure(shape, root, members)

    def _check_root(self, shape: StructureShape, root: ElementTree.Element) -> None:
        """The body's root is the input's element in the service's namespace, or the
        service's schema does not know it (Route 53 answers with its validator's words)."""
        namespace = shape.serialization.get("xmlNamespace", {}).get("uri") or \
            self.spec.model.metadata.get("xmlNamespace", "")
        expected = f"{{{namespace}}}{shape.serialization.get('name', shape.name)}"
        if root.tag != expected:
            raise ServiceError("Invalid XML ; cvc-elt.1.a: Cannot find the declaration of "
                               f"element '{_local(root.tag)}'.", code=self.invalid_value_code)

    def _xml_structure(self, shape: StructureShape, element: ElementTree.Element,
                       members: dict[str, Shape] | None = None) -> dict:
        members = shape.members if members is None else members
        by_tag: dict[str, list[ElementTree.Element]] = {}
        for child in element:
            by_tag.setdefault(_local(child.tag), []).append(child)
        out: dict = {}
        for name, member in members.items():
            if isinstance(member, ListShape) and member.serialization.get("flattened"):
                key = member.member.serialization.get("name", name)
                if key in by_tag:
                    out[name] = [self._xml_value(member.member, e) for e in by_tag[key]]
                continue
            key = member.serialization.get("name", name)
            if key in by_tag:
                out[name] = self._xml_value(member, by_tag[key][0])
        if members is shape.members:
            for name in shape.required_members:
                if name not in out:
                    raise ServiceError(f"Missing required parameter {name} in "
                                       f"{_local(element.tag)}", code=self.missing_code)
        return out

    def _xml_value(self, shape: Shape, element: ElementTree.Element):
        if isinstance(shape, StructureShape):
            return self._xml_structure(shape, element)
        if isinstance(shape, ListShape):
            return [self._xml_value(shape.member, child) for child in element]
        if isinstance(shape, MapShape):
            out = {}
            for entry in element:
                fields = {_local(c.tag): c for c in entry}
                key_name = shape.key.serialization.get("name", "key")
                value_name = shape.value.serialization.get("name", "value")
                if key_name in fields:
                    out[fields[key_name].text or ""] = self._xml_value(
                        shape.value, fields.get(value_name, ElementTree.Element(value_name)))
            return out
        return self._scalar(shape, element.text or "", _local(element.tag))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_PARSERS: dict[str, type[RequestParser]] = {
    "ec2": EC2RequestParser,
    "query": QueryRequestParser,
    "rest-xml": RestXmlRequestParser,
}


def create_parser(spec: ServiceSpec, protocol: str | None = None) -> RequestParser:
    """The parser of ``protocol``, one of the spec's (its own by default)."""
    from pocketlink.wire import rest_json, rpc  # they build on the parsers above

    protocol = protocol or spec.protocol
    parsers = {**_PARSERS, rpc.JSON: rpc.RpcRequestParser, rpc.CBOR: rpc.CborRequestParser,
               "rest-json": rest_json.RestJsonRequestParser}
    try:
        return parsers[protocol](spec)
    except KeyError:
        raise NotImplementedError(f"the {protocol} protocol ({spec.name})") from None
