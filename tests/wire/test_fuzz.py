"""Model-driven fuzzing of the live daemon: whatever a client sends, the answer is a
well-formed AWS success or AWS error, never a 500 and never a traceback.

Requests are built from the models of the operations pocketlink implements, then bent:
parameters dropped, unknown ones added, values of the wrong type, random operation names;
for Route 53's rest-xml also the path, the XML body (a value, an element, the namespace,
garbage, entities); for ACM's json the body (a value retyped, a member dropped or added,
cut, not JSON); for FIS's rest-json the path as Route 53's and the body as ACM's; and
for every protocol the HTTP around them: random header names and values, long values,
large bodies, Content-Length written oddly.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlparse
from xml.etree import ElementTree

import botocore.parsers
import botocore.serialize
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketlink.api.handlers import collect
from pocketlink.wire import specs
from tests.conftest import ipv6_subnet
from tests.wire.strategies import XML_TEXT, structure_for

FUZZ_ACCOUNT = "999999999999"
IMPLEMENTED = sorted(collect())
ANSWERS = {200, 201, 400, 403, 404, 409, 412, 413}  # 413: a body over the API's limit

junk_key = st.from_regex(r"[A-Z][A-Za-z]{0,12}(\.[0-9]{1,2}(\.[A-Za-z]{1,8})?)?", fullmatch=True)
junk_value = st.one_of(XML_TEXT, st.integers().map(str), st.sampled_from(
    ["", "true", "-1", "vpc-00000000", "subnet-0123456789abcdef0", "sg-1", "i-zz", "10.0.0.0/99",
     "::/0", "fd00::/56", "999999999999999999999", "1e9",
     # digits to str.isdigit that int() refuses, or reads though AWS would not
     "\u00b2", "1\u00b2", "\u0661", "-\u00b2"]))


@dataclass
class Wire:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    extra: dict[str, str] = field(default_factory=dict)  # headers set after signing


def form_request(form: dict[str, str]) -> Wire:
    return Wire("POST", "/", "", {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        urlencode(form).encode())


def wire_protocol(spec: specs.ServiceSpec) -> str:
    """The XML protocol the fuzzing speaks to a service: its own, or the query protocol of
    a service of several (CloudWatch; tests/metrics bends its CBOR and json)."""
    protocols = spec.model.metadata.get("protocols", ())
    return "query" if "query" in protocols else spec.protocol


@st.composite
def bent_request(draw: st.DrawFn, service: str, operation_name: str,
                 real_ids: tuple[str, ...] = ()) -> Wire:
    spec = specs.load(service)
    operation = spec.model.operation_model(operation_name)
    params = {} if operation.input_shape is None else draw(
        structure_for(operation.input_shape, 0))
    if spec.protocol == "rest-xml" and real_ids:  # reach past "no such zone" into handlers
        for name, member in operation.input_shape.members.items():
            if member.serialization.get("location") == "uri" and draw(st.integers(0, 3)):
                params[name] = draw(st.sampled_from(real_ids))
    wire = botocore.serialize.create_serializer(wire_protocol(spec), include_validation=False) \
        .serialize_to_request(params, operation)
    if spec.protocol == "rest-xml":
        return draw(bent_rest(wire))
    if spec.protocol == "rest-json":  # FIS: rest-xml's routing, json's body
        return draw(bent_rest(wire, bent_document))
    if spec.protocol == "json":
        return draw(bent_json(wire))
    return form_request(draw(bent_form(wire["body"], real_ids)))


@st.composite
def bent_json(draw: st.DrawFn, wire: dict) -> Wire:
    """A json request, bent: a member retyped, dropped or added, the body cut or not JSON."""
    body = wire["body"] if isinstance(wire["body"], bytes) else wire["body"].encode()
    return Wire("POST", "/", "", dict(wire["headers"]), draw(bent_document(body)))


@st.composite
def bent_document(draw: st.DrawFn, body: bytes) -> bytes:
    document = json.loads(body or b"{}")
    bend = draw(st.sampled_from(["keep", "retype", "drop", "add", "cut", "garbage"]))
    if bend == "retype" and document:
        document[draw(st.sampled_from(sorted(document)))] = draw(st.one_of(
            junk_value, st.integers(), st.booleans(), st.none(), st.just([]), st.just({})))
    elif bend == "drop" and document:
        del document[draw(st.sampled_from(sorted(document)))]
    elif bend == "add":
        document[draw(junk_key)] = draw(junk_value)
    body = json.dumps(document).encode()
    if bend == "cut":
        body = body[:draw(st.integers(0, max(len(body) - 1, 0)))]
    elif bend == "garbage":
        body = draw(st.binary(max_size=200))
    return body


R53_NAMESPACE = "https://route53.amazonaws.com/doc/2013-04-01/"
# Bodies no client sends: not XML, entities (internal, nested, external), other documents.
GARBAGE_BODIES = st.one_of(st.binary(max_size=200), st.sampled_from([
    b"<a>", b"<?xml version='1.0'?>", b"\xef\xbb\xbf<x/>",
    f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    f'<ChangeResourceRecordSetsRequest xmlns="{R53_NAMESPACE}">&e;'
    "</ChangeResourceRecordSetsRequest>".encode(),
    f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
    f'<!ENTITY c "&b;&b;&b;&b;">]><CreateHostedZoneRequest xmlns="{R53_NAMESPACE}">'
    "<Name>&c;</Name><CallerReference>&c;</CallerReference></CreateHostedZoneRequest>".encode(),
    b"<html><body>not route 53</body></html>",
]))


@st.composite
def bent_xml(draw: st.DrawFn, body: bytes) -> bytes:
    """A well-formed body, bent: its namespace, one value, one element more or less."""
    root = ElementTree.fromstring(body)
    elements = list(root.iter())
    bend = draw(st.sampled_from(["namespace", "text", "element", "drop", "drop", "garbage"]))
    if bend == "namespace":
        namespace = draw(st.sampled_from(
            ["", "https://route53.amazonaws.com/doc/2012-12-12/", "http://evil.example/"]))
        for element in elements:
            local = element.tag.rsplit("}", 1)[-1]
            element.tag = f"{{{namespace}}}{local}" if namespace else local
    elif bend == "text":
        draw(st.sampled_from(elements)).text = draw(junk_value)
    elif bend == "element":
        ElementTree.SubElement(draw(st.sampled_from(elements)),
                               draw(junk_key)).text = draw(junk_value)
    elif bend == "drop" and len(elements) > 1:
        parent = draw(st.sampled_from([e for e in elements if len(e)]))
        parent.remove(draw(st.sampled_from(list(parent))))
    else:
        return draw(GARBAGE_BODIES)
    return ElementTree.tostring(root)


@st.composite
def bent_rest(draw: st.DrawFn, wire: dict, bent_body=bent_xml) -> Wire:
    """A rest request, bent: a cut or bent body (XML, or ``bent_body``'s), a junk path
    segment, an extra query parameter, another method."""
    body = wire["body"] if isinstance(wire["body"], bytes) else (wire["body"] or "").encode()
    path = wire["url_path"]
    query = urlencode(wire["query_string"], doseq=True) if isinstance(
        wire["query_string"], dict) else wire["query_string"]
    bend = draw(st.sampled_from(["keep", "cut", "xml", "xml", "path", "query", "method"]))
    method = wire["method"]
    if bend == "cut" and body:
        body = body[:draw(st.integers(0, len(body) - 1))]
    elif bend == "xml" and body:
        body = draw(bent_body(body))
    elif bend == "path":
        parts = path.split("/")
        parts[draw(st.integers(1, len(parts) - 1))] = quote(draw(junk_value), safe="") or "x"
        path = "/".join(parts)
    elif bend == "query":
        query = "&".join(q for q in (query, urlencode({draw(junk_key): draw(junk_value)})) if q)
    elif bend == "method":
        method = draw(st.sampled_from(["GET", "POST", "DELETE", "PUT"]))
    return Wire(method, path, query, dict(wire["headers"]), body)


@st.composite
def bent_form(draw: st.DrawFn, form: dict, real_ids: tuple[str, ...] = ()) -> dict[str, str]:
    form = {k: str(v) for k, v in form.items()}
    if "DryRun" in form and draw(st.integers(0, 4)):
        del form["DryRun"]  # mostly off, so that handlers run past the dry-run check
    for key in form:
        if real_ids and (key.endswith("Id") or "Id." in key) and draw(st.booleans()):
            form[key] = draw(st.sampled_from(real_ids))
    keys = [k for k in form if k not in ("Action", "Version")]
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)) if keys else []:
        bend = draw(st.sampled_from(["drop", "retype", "keep"]))
        if bend == "drop":
            del form[key]
        elif bend == "retype":
            form[key] = draw(junk_value)
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 2]))):
        form[draw(junk_key)] = draw(junk_value)
    return form


def serialized(service: str, operation_name: str, params: dict) -> Wire:
    """``params`` on ``service``'s wire as botocore writes them, unchecked (a value of any
    type in any member)."""
    spec = specs.load(service)
    protocol = wire_protocol(spec)
    wire = botocore.serialize.create_serializer(protocol, include_validation=False) \
        .serialize_to_request(params, spec.model.operation_model(operation_name))
    raw = wire["body"]
    body = raw if isinstance(raw, bytes) else raw.encode() if isinstance(raw, str) else b""
    if protocol in ("rest-xml", "rest-json"):
        query = urlencode(wire["query_string"], doseq=True) if isinstance(
            wire["query_string"], dict) else wire["query_string"]
        return Wire(wire["method"], wire["url_path"], query, dict(wire["headers"]), body)
    if protocol == "json":
        return Wire("POST", "/", "", dict(wire["headers"]), body)
    return form_request({k: str(v) for k, v in wire["body"].items()})


class Client:
    """Signs with botocore's SigV4 as ``account``, sends on one kept-alive connection."""

    def __init__(self, endpoint: str, account: str = FUZZ_ACCOUNT) -> None:
        self.endpoint = endpoint
        self.account = account
        url = urlparse(endpoint)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def send(self, service: str, wire: Wire | dict[str, str]) -> tuple[int, bytes]:
        if isinstance(wire, dict):
            wire = form_request(wire)
        spec = specs.load(service)
        target = wire.path + (f"?{wire.query}" if wire.query else "")
        request = AWSRequest(wire.method, self.endpoint + target, data=wire.body,
                             headers=wire.headers)
        SigV4Auth(Credentials(self.account, "secret"), spec.signing_name, "us-east-1") \
            .add_auth(request)
        headers = {**dict(request.headers.items()), **wire.extra}
        try:
            self.connection.request(wire.method, target, body=wire.body, headers=headers)
            response = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected,
                http.client.CannotSendRequest):
            # The server closed the kept-alive connection while it sat idle (its 5 s
            # keep-alive timeout, passed on a loaded machine between two examples): send
            # again on a new one, as an SDK's connection pool does.
            self.connection.close()
            self.connection.request(wire.method, target, body=wire.body, headers=headers)
            response = self.connection.getresponse()
        return response.status, response.read()


def check(service: str, operation_name: str | None, status: int, body: bytes) -> None:
    assert status in ANSWERS, body[:500]
    spec = specs.load(service)
    parser = botocore.parsers.create_parser(wire_protocol(spec))
    if status in (200, 201):
        assert operation_name is not None
        operation = spec.model.operation_model(operation_name)
        parser.parse({"body": body, "headers": {}, "status_code": status},
                     operation.output_shape)
    else:
        parsed = parser.parse({"body": body, "headers": {}, "status_code": status}, None)
        assert parsed["Error"]["Code"], body
        assert parsed["Error"]["Code"] != "InternalError", body
    assert b"Traceback" not in body


@pytest.fixture(scope="module")
def client(daemon) -> Client:
    return Client(daemon.endpoint)


@pytest.fixture(scope="module")
def real_ids(daemon) -> tuple[str, ...]:
    """Ids that exist in the fuzzing account, so that bent requests reach deep into handlers."""
    ec2 = daemon.client("ec2", FUZZ_ACCOUNT)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.9.1.0/24",
                               Ipv6CidrBlock=ipv6_subnet(block, 1))["Subnet"]
    group = ec2.create_security_group(GroupName="fuzz", Description="fuzz",
                                      VpcId=vpc["VpcId"])["GroupId"]
    instance = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                 SubnetId=subnet["SubnetId"])["Instances"][0]
    tables = ec2.describe_route_tables()["RouteTables"]
    return (vpc["VpcId"], subnet["SubnetId"], group, instance["InstanceId"],
            instance["NetworkInterfaces"][0]["NetworkInterfaceId"], tables[0]["RouteTableId"],
            tables[0]["Associations"][0]["RouteTableAssociationId"])


@pytest.fixture(scope="module")
def real_zones(daemon, real_ids) -> tuple[str, ...]:
    """Hosted zones of the fuzzing account: one public, one private in its VPC."""
    route53 = daemon.client("route53", FUZZ_ACCOUNT)
    public = route53.create_hosted_zone(Name="fuzz.example.com", CallerReference="fuzz-public")
    private = route53.create_hosted_zone(Name="fuzz.internal", CallerReference="fuzz-private",
                                         VPC={"VPCRegion": "us-east-1", "VPCId": real_ids[0]})
    return tuple(z["HostedZone"]["Id"].split("/")[-1] for z in (public, private))


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bent_requests_get_aws_answers(client: Client, real_ids: tuple[str, ...],
                                       data: st.DataObject) -> None:
    service, operation_name = data.draw(st.sampled_from(IMPLEMENTED))
    wire = data.draw(bent_request(service, operation_name, real_ids))
    status, body = client.send(service, wire)
    check(service, operation_name, status, body)


def _has_body(service: str, operation_name: str) -> bool:
    shape = specs.load(service).model.operation_model(operation_name).input_shape
    return shape is not None and any("location" not in m.serialization
                                     for m in shape.members.values())


# Route 53's operations, those with an XML body four times over: bodies are what is bent.
ROUTE53 = [op for op in IMPLEMENTED if op[0] == "route53"
           for _ in range(4 if _has_body(*op) else 1)]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bent_route53_requests_get_aws_answers(client: Client, real_zones: tuple[str, ...],
                                               data: st.DataObject) -> None:
    """Route 53's rest-xml on its own: paths, bodies and namespaces bent, on zones that
    exist (a public and a private one) so that bodies reach the handlers."""
    service, operation_name = data.draw(st.sampled_from(ROUTE53))
    status, body = client.send(service, data.draw(bent_request(service, operation_name,
                                                               real_zones)))
    check(service, operation_name, status, body)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(service=st.sampled_from(["ec2", "elbv2", "sts"]),
       action=st.one_of(junk_key, st.sampled_from(["", "describe_vpcs", "DescribeVpcs "])))
def test_unknown_actions_are_invalid_action(client: Client, service: str, action: str) -> None:
    version = specs.load(service).model.metadata["apiVersion"]
    status, body = client.send(service, {"Action": action, "Version": version})
    check(service, None, status, body)
    assert b"InvalidAction" in body


@pytest.mark.parametrize("service", ["ec2", "elbv2", "sts", "route53", "acm"])
def test_every_model_operation_answers(client: Client, service: str) -> None:
    """Implemented or not, each operation of the model gets a well-formed answer."""
    spec = specs.load(service)
    for operation_name in spec.model.operation_names:
        operation = spec.model.operation_model(operation_name)
        uri_members = {} if operation.input_shape is None else {
            name: "x" for name, member in operation.input_shape.members.items()
            if member.serialization.get("location") == "uri"}
        status, body = client.send(service, serialized(service, operation_name, uri_members))
        check(service, operation_name, status, body)


# --- the HTTP around the request: headers and sizes ---------------------------------------

# Headers a client may send with any value; framing headers (Content-Length, Transfer-Encoding,
# Host) are bent on a raw socket below, where the client cannot fix them for us.
header_name = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,30}", fullmatch=True).filter(
        lambda n: n.lower() not in ("content-length", "transfer-encoding", "host")),
    st.sampled_from(["Content-Type", "X-Amz-Target", "X-Amz-Date", "X-Amz-Security-Token",
                     "X-Amz-Content-SHA256", "Authorization", "Expect", "Accept-Encoding",
                     "Content-Encoding", "Origin", "Connection", "Cookie"]))
header_value = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=64),
    st.integers(0, 4096).map(lambda n: "v" * n),
    st.sampled_from(["", "close", "keep-alive", "100-continue", "gzip", "text/plain",
                     "application/json", "application/x-amz-json-1.1",
                     "AWS4-HMAC-SHA256 Credential=x", "19700101T000000Z"]))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_headers_and_large_bodies_get_aws_answers(client: Client, real_ids: tuple[str, ...],
                                                         data: st.DataObject) -> None:
    service, operation_name = data.draw(st.sampled_from(IMPLEMENTED))
    wire = data.draw(bent_request(service, operation_name, real_ids))
    wire.extra = data.draw(st.dictionaries(header_name, header_value, max_size=4))
    if data.draw(st.integers(0, 9)) == 0:  # now and then a large body
        size = data.draw(st.sampled_from([64 * 1024, 1024 * 1024, 4 * 1024 * 1024]))
        wire.body += (b" " * size if service in ("route53", "acm") else
                      b"&" + urlencode({"Padding": "x" * size}).encode())
    status, body = client.send(service, wire)
    check(service, operation_name, status, body)


def _raw(daemon, head: bytes, body: bytes) -> tuple[int, bytes]:
    """One request on a raw socket; the status and the body of the first answer."""
    url = urlparse(daemon.endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=15) as raw:
        raw.sendall(head + b"\r\n" + body)
        raw.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


ODD_BODY = b"Action=DescribeVpcs&Version=2016-11-15&MaxResults=5"  # 51 bytes


@pytest.mark.parametrize("length", ["0051", "51 ", "+51", "-1", "1e3", "0x33", "",
                                    "99999999999999999999", "51, 52", "10"])
def test_odd_content_lengths_never_get_a_5xx(daemon, length: str) -> None:
    """The well-formed odd ones (leading zeros, a trailing space) reach EC2 and get its
    answer; the malformed ones are refused at the HTTP level (4xx), and the daemon stays up.
    (That HTTP-level refusal is in AWS's format is the gateway's to test.)"""
    body = ODD_BODY
    head = (f"POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={FUZZ_ACCOUNT}/20260101/us-east-1/ec2/"
            f"aws4_request, SignedHeaders=host, Signature=00\r\n"
            f"Content-Length: {length}\r\n").encode()
    status, answer = _raw(daemon, head, body)
    assert status < 500, answer
    assert b"Traceback" not in answer
    if re.fullmatch(r"0*51\s*", length):
        check("ec2", "DescribeVpcs", status, answer)
    url = urlparse(daemon.endpoint)
    still_up = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    still_up.request("GET", "/_pocketlink/health")
    assert still_up.getresponse().status == 200


def test_malformed_http_is_refused_cleanly(daemon) -> None:
    url = urlparse(daemon.endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.putrequest("POST", "/")
    connection.putheader("Content-Length", "not-a-number")
    connection.endheaders()
    assert connection.getresponse().status == 400
