"""HTTP limits (issue 14, items 6 and 8): a huge header, a huge body, a request line that is
not one; each answered with an AWS-format error, and the daemon answers the next request.
Idle connections close; a client over its request rate is throttled as AWS throttles."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from xml.etree import ElementTree

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.security.signed import form, raw, send, sign

MiB = 1024 * 1024


def exchange(daemon, data: bytes, chunk: int = 64 * 1024) -> tuple[int, str]:
    """Sends ``data`` raw on a new connection (as far as the daemon takes it), then reads
    the answer to the end: its status and body."""
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as sock:
        def pump() -> None:
            try:
                for start in range(0, len(data), chunk):
                    sock.sendall(data[start:start + chunk])
            except OSError:
                pass  # the daemon stopped reading: what it refused, it refused
        sender = threading.Thread(target=pump)
        sender.start()
        answer = b""
        while True:
            try:
                piece = sock.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            answer += piece
        sender.join()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), answer[:200]
    return int(head.split()[1]), body.decode()


def aws_error(body: str) -> str:
    """The code of an AWS-format error (EC2's <Response><Errors> or <ErrorResponse>), with
    its request id; fails on anything else."""
    root = ElementTree.fromstring(body)
    code = root.find(".//{*}Code")
    assert code is not None and code.text, body
    assert root.find(".//{*}RequestID") is not None or root.find(".//{*}RequestId") is not None
    return code.text


def still_answers(daemon) -> None:
    assert daemon.client("ec2").describe_vpcs()["ResponseMetadata"]["HTTPStatusCode"] == 200


def rss(daemon) -> int:
    for line in Path(f"/proc/{daemon.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_a_huge_header_is_431_in_aws_format(daemon) -> None:
    status, body = exchange(daemon, b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MiB
                            + b"\r\n\r\n")
    assert status == 431
    assert aws_error(body) == "RequestHeaderSectionTooLarge"
    still_answers(daemon)


def test_an_endless_header_costs_the_daemon_nothing(daemon) -> None:
    still_answers(daemon)
    before = rss(daemon)
    for _ in range(4):
        status, _body = exchange(daemon, b"GET / HTTP/1.1\r\nX-Endless: " + b"b" * (32 * MiB))
        assert status == 431
    assert rss(daemon) - before < 16 * MiB
    still_answers(daemon)


def test_a_huge_url_is_refused(daemon) -> None:
    status, body = exchange(daemon, b"GET /?" + b"A=1&" * 8192 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 431
    assert aws_error(body) == "RequestHeaderSectionTooLarge"
    still_answers(daemon)


def test_a_huge_body_is_refused_from_its_length_alone(daemon) -> None:
    """Content-Length says 100 MiB and nothing follows: the answer comes at once."""
    request = sign(daemon.endpoint, form("DescribeVpcs"), "161616161616", "x")
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    status, body = exchange(daemon, (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
                                     f"{head}Content-Length: {100 * MiB}\r\n\r\n").encode())
    assert status == 413
    assert aws_error(body) == "RequestEntityTooLargeException"
    still_answers(daemon)


def test_a_huge_chunked_body_is_refused(daemon) -> None:
    chunk = b"a" * 65536
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + (
        b"10000\r\n" + chunk + b"\r\n") * 40 + b"0\r\n\r\n"
    status, body = exchange(daemon, data)
    assert status == 413
    assert aws_error(body) == "RequestEntityTooLargeException"
    still_answers(daemon)


def test_a_body_under_the_limit_is_served(daemon) -> None:
    padding = "x" * (512 * 1024)
    sent = send(daemon.endpoint, sign(daemon.endpoint, form("DescribeVpcs") + "&Pad=" + padding,
                                      "161616161616", "x"))
    assert sent.status == 400  # Pad is not a parameter of DescribeVpcs: an AWS error
    assert aws_error(sent.body) == "UnknownParameter"


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                                  b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"\x00\x01\x02\r\n\r\n"])
def test_a_malformed_request_is_400_in_aws_format(daemon, line) -> None:
    status, body = exchange(daemon, line)
    assert status == 400
    assert aws_error(body) == "MalformedHttpRequestException"
    still_answers(daemon)


def test_an_upgrade_is_answered_as_plain_http_then_closed(daemon) -> None:
    status, body = exchange(daemon, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                                    b"Upgrade: websocket\r\n\r\nwhatever comes next")
    assert status == 400
    assert aws_error(body) == "UnknownService"  # one answer, and nothing after it


def test_an_idle_connection_is_closed(daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=60) as sock:
        assert sock.recv(1) == b""  # closed by the daemon after its keep-alive timeout


def test_a_kept_alive_connection_serves_request_after_request(daemon) -> None:
    for _ in range(3):
        assert raw(daemon.endpoint, "GET", "/_pocketlink/health").status == 200


def unretried(daemon, service: str, account: str):
    """A client that does not try a throttled call again (botocore would, once, and the
    daemon holds a throttled connection long enough for the retry to pass)."""
    return boto3.client(service, endpoint_url=daemon.endpoint, region_name="us-east-1",
                        aws_access_key_id=account, aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1}, proxies={}))


def test_a_client_over_its_rate_is_throttled_others_are_not(make_daemon) -> None:
    daemon = make_daemon("--no-network", "--max-request-rate", "1")
    ec2 = unretried(daemon, "ec2", "171717171717")
    codes = []
    for _ in range(20):
        try:
            ec2.describe_vpcs()
            codes.append("ok")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
            break
    assert codes[-1] == "RequestLimitExceeded" and codes[0] == "ok"
    sts = unretried(daemon, "sts", "171717171717")
    with pytest.raises(ClientError) as error:
        for _ in range(20):
            sts.get_caller_identity()
    assert error.value.response["Error"]["Code"] == "Throttling"
    # another client (access key) has its own bucket
    assert daemon.client("ec2", "181818181818").describe_vpcs(
        Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"] == []
    time.sleep(2)  # not an assertion on time: the bucket refills, at one request a second
    assert ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"] == []


def test_a_throttled_connection_is_not_read_for_a_while(make_daemon) -> None:
    """A client refused for its rate gets its answer at once, and what it sends next on
    that connection waits (a second) unread: another client, who asked after it, is
    answered first. So a flood of refused requests cannot take the loop that every client
    and every VPC resolver share (tests/security/test_hostile_tenant.py)."""
    daemon = make_daemon("--no-network", "--max-request-rate", "1")
    request = sign(daemon.endpoint, form("DescribeVpcs"), "191919191919", "secret")
    answered: list[str] = []
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as flooder:
        wire = head_and_body(request)
        statuses = []
        while not statuses or statuses[-1] != 503:  # burst of 2, then throttled
            flooder.sendall(wire)
            statuses.append(read_answer(flooder))
        flooder.sendall(wire)  # sent while held: not read yet

        def flood_answered() -> None:
            read_answer(flooder)
            answered.append("flooder")
        waiter = threading.Thread(target=flood_answered)
        waiter.start()
        assert send(daemon.endpoint, sign(daemon.endpoint, form("DescribeVpcs"),
                                          "202020202020", "secret")).status == 200
        answered.append("other")
        waiter.join(30)
    assert answered == ["other", "flooder"]


def head_and_body(request) -> bytes:
    head = ["POST / HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(request.body)}",
            *(f"{k}: {v}" for k, v in request.headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + request.body


def read_answer(sock: socket.socket) -> int:
    """One keep-alive answer off ``sock``: its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1])
