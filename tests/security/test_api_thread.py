"""The API served apart (issue 14, "limits everywhere"): its HTTP side runs on a thread of
its own (gateway/api_thread.py), so that what a client sends is read there, not on the
daemon's loop, where the reconciler, the metadata service, the health checks and the
control socket run.

Shown by counts, not times: the kernel keeps, per thread, the bytes each one read
(/proc/PID/task/TID/io ``rchar``; uvloop, a dependency on Linux, reads sockets with
read(2), which it counts). While a client sends the API 1 MiB bodies and holds
connections with a request begun and never finished, the bytes are read by the thread the
control's status names as the API's, and the daemon's loop (its main thread) reads next to
none of them; the status, answered on that loop, counts the API thread's connections.

The API thread also parses each request ahead of its turn (gateway/dispatch.py
``parse_ahead``); what a request is refused for first stays the same: under strict auth,
a request both unsigned (or signed with a wrong secret) and malformed is refused for its
signature, as before.

And what the daemon's loop serves an instance goes on while the API is flooded: every one
of an instance's metadata requests is answered while a client holds connections mid-body
and sends the API 1 MiB requests, the flood still under way at the last answer."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from pocketlink.gateway.dispatch import MAX_BODY
from tests.conftest import wait_for
from tests.network.conftest import dual_stack_vpc, launch, run_in
from tests.security.signed import form, raw, send, sign
from tests.security.test_auth import KEY, SECRET, strict  # noqa: F401 (a fixture)
from tests.security.test_http_limits import aws_error, exchange

BODIES = 16  # requests of almost MAX_BODY each, answered
OVERSIZED = 4  # and requests over it, refused (413) while the daemon reads what follows
HELD = 20  # connections left in the middle of a request's body
PARTIAL = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nAction="


def bytes_read(pid: int, thread: int) -> int:
    for line in Path(f"/proc/{pid}/task/{thread}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


def request(size: int) -> bytes:
    filler = b"Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag:big&Filter.1.Value.1="
    body = filler + b"x" * (size - len(filler))
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def test_the_api_is_read_on_its_own_thread_not_on_the_daemons_loop(make_daemon) -> None:
    daemon = make_daemon("--no-network", "--max-request-rate", "1000000")
    api = daemon.status()["api"]
    pid, thread = daemon.pid, api["thread"]
    assert thread != pid and Path(f"/proc/{pid}/task/{thread}").is_dir()  # not the main one
    exchange(daemon, request(1024))  # what the first call reads from disk (botocore's model)
    loop_before, api_before = bytes_read(pid, pid), bytes_read(pid, thread)

    held = [socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
            for _ in range(HELD)]
    try:
        for sock in held:
            sock.sendall(PARTIAL)
        # counted by the API thread's servers, told by the daemon's loop
        wait_for(lambda: daemon.status()["api"]["connections"] >= HELD)
        for _ in range(BODIES):
            status, body = exchange(daemon, request(MAX_BODY - 1024))
            assert status == 200, body[:500]
        for _ in range(OVERSIZED):
            status, _ = exchange(daemon, request(MAX_BODY + 1024))
            assert status == 413
    finally:
        for sock in held:
            sock.close()

    sent = BODIES * (MAX_BODY - 1024)  # at least this much was read, all of it by the API
    api_read, loop_read = bytes_read(pid, thread) - api_before, bytes_read(pid, pid) - loop_before
    print(f"\nread by the API thread: {api_read:,} bytes; by the daemon's loop: {loop_read:,}")
    assert api_read >= sent
    assert loop_read < sent // 16, loop_read  # its own few reads (the status asked above)
    assert os.path.exists(f"/proc/{pid}")
    assert daemon.status()["api"]["thread"] == thread


def test_a_request_parsed_ahead_is_refused_for_its_signature_first(strict) -> None:  # noqa: F811
    malformed = form("DescribeVpcs", Bogus="1")
    unsigned = raw(strict.endpoint, "POST", "/", malformed.encode(),
                   {"Content-Type": "application/x-www-form-urlencoded"})
    assert (unsigned.status, aws_error(unsigned.body)) == (403, "MissingAuthenticationToken")
    wrong = send(strict.endpoint, sign(strict.endpoint, malformed, KEY, "not-the-secret"))
    assert (wrong.status, aws_error(wrong.body)) == (403, "SignatureDoesNotMatch")
    signed = send(strict.endpoint, sign(strict.endpoint, malformed, KEY, SECRET))
    assert (signed.status, aws_error(signed.body)) == (400, "UnknownParameter")


# Inside the instance: metadata requests one after another on new connections, each given
# ample time; prints how many were answered 200 and how many were not.
METADATA = """
import http.client, json
answered = failed = 0
for _ in range(int(__import__("sys").argv[1])):
    try:
        connection = http.client.HTTPConnection("169.254.169.254", 80, timeout=20)
        connection.request("GET", "/latest/meta-data/instance-id")
        response = connection.getresponse()
        response.read()
        connection.close()
        answered += response.status == 200
        failed += response.status != 200
    except OSError:
        failed += 1
print(json.dumps({"answered": answered, "failed": failed}))
"""
LOOKUPS = 100


@pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")
def test_an_instances_metadata_is_answered_while_the_api_is_flooded(make_daemon) -> None:
    daemon = make_daemon("--max-request-rate", "1000000")
    ec2 = daemon.client("ec2")
    _, subnet = dual_stack_vpc(ec2, "10.63.0.0/16")
    [instance] = launch(ec2, subnet)
    flooded, stop = [0], threading.Event()

    def flood() -> None:
        while not stop.is_set():
            status, _ = exchange(daemon, request(MAX_BODY - 1024))
            flooded[0] += status == 200

    held = [socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
            for _ in range(HELD)]
    flooders = [threading.Thread(target=flood) for _ in range(2)]
    try:
        for sock in held:
            sock.sendall(PARTIAL)
        for thread in flooders:
            thread.start()
        wait_for(lambda: flooded[0] >= 2)
        before = flooded[0]
        found = run_in(instance["InstanceId"], "python3", "-c", METADATA, str(LOOKUPS),
                       timeout=600)
        during = flooded[0] - before
        assert daemon.status()["api"]["connections"] >= HELD  # the held ones, still held
    finally:
        stop.set()
        for thread in flooders:
            thread.join(120)
        for sock in held:
            sock.close()
    assert found.returncode == 0, found.stderr[-2000:]
    assert json.loads(found.stdout.splitlines()[-1]) == {"answered": LOOKUPS, "failed": 0}
    assert during > 0  # the flood went on while the instance asked
    print(f"\n{LOOKUPS} metadata answers while the API answered {during} requests of ~1 MiB")
