"""The control plane off the web (issue 14, items 4 and 9): shutdown and the detailed
status are on a 0600 unix socket only; a page in a browser cannot drive the API; and
``pocketlink down`` stops the daemon of the state it names, and no other."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from pocketlink.gateway import control
from tests.security.signed import form, presign, raw, send, sign


def health(daemon) -> int:
    return raw(daemon.endpoint, "GET", "/_pocketlink/health").status


def test_shutdown_over_http_is_not_there(make_daemon) -> None:
    daemon = make_daemon("--no-network", "--strict-auth")
    for content_type in ("text/plain", "application/json", "application/x-www-form-urlencoded"):
        sent = raw(daemon.endpoint, "POST", "/_pocketlink/shutdown", b"x",
                   {"Content-Type": content_type})
        assert sent.status == 404
    assert health(daemon) == 200
    assert daemon.process.poll() is None


def test_status_over_http_says_nothing_of_anyone(daemon) -> None:
    daemon.client("ec2", "121212121212").create_vpc(CidrBlock="10.70.0.0/16")
    assert raw(daemon.endpoint, "GET", "/_pocketlink/status").status == 404
    sent = raw(daemon.endpoint, "GET", "/_pocketlink/health")
    assert json.loads(sent.body) == {"status": "running"}


def test_control_is_a_socket_only_its_user_may_open(daemon) -> None:
    record = control.RuntimeRecord.read(daemon.state)
    assert record is not None and record.port == daemon.port
    assert record.pid == daemon.process.pid
    for path in (control.RuntimeRecord.path_for(daemon.state), record.socket):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(os.path.dirname(record.socket)).st_mode) == 0o700
    status = control.ask(record, "GET", "/_pocketlink/status")
    assert status["port"] == daemon.port and "resources" in status


def test_the_state_is_its_owners_only(daemon) -> None:
    daemon.client("ec2").describe_vpcs()
    for suffix in ("", "-wal", "-shm"):
        path = f"{daemon.state}{suffix}"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_a_readable_credentials_file_is_one_warning(make_daemon, tmp_path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('[[credentials]]\naccess_key = "AKIAOPEN"\nsecret_key = "s"\n'
                    'account = "111111111111"\n')
    path.chmod(0o644)
    daemon = make_daemon("--no-network", "--credentials", str(path))
    warnings = [line for line in daemon.log.read_text().splitlines()
                if str(path) in line and "readable by others" in line]
    assert len(warnings) == 1


def test_a_request_from_a_foreign_web_page_is_refused(daemon) -> None:
    """A form any web page can post, and a query-string "signed" URL a page can load."""
    body = form("CreateVpc", CidrBlock="10.71.0.0/16").encode()
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        sent = raw(daemon.endpoint, "POST", "/", body,
                   {"Content-Type": "application/x-www-form-urlencoded", **headers})
        assert sent.status == 403, headers
        assert "<Code>AccessDenied</Code>" in sent.body and "<RequestID>" in sent.body
    url = presign(daemon.endpoint, form("CreateVpc", CidrBlock="10.71.0.0/16"),
                  "131313131313", "x", 300)
    assert raw(daemon.endpoint, "GET", url, headers={"Sec-Fetch-Site": "cross-site"}).status \
        == 403
    assert raw(daemon.endpoint, "GET", url, headers={"Origin": "http://localhost:8080"}).status \
        == 403
    ec2 = daemon.client("ec2", "131313131313")
    assert ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"] == []


def test_a_foreign_preflight_gets_no_cors_allowance(daemon) -> None:
    sent = raw(daemon.endpoint, "OPTIONS", "/", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert sent.status == 403
    assert not any(name.startswith("access-control-allow") for name in sent.headers)


def test_the_daemons_own_origin_is_served(daemon) -> None:
    for origin in (f"http://localhost:{daemon.port}", f"http://127.0.0.1:{daemon.port}"):
        sent = send(daemon.endpoint, sign(daemon.endpoint, form("DescribeVpcs"),
                                          "141414141414", "x"),
                    headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"})
        assert sent.status == 200, sent.body


@pytest.mark.skipif(os.geteuid() != 0, reason="pocketlink down needs root")
def test_down_stops_only_the_daemon_of_its_state(make_daemon) -> None:
    mine = make_daemon("--no-network")
    other = make_daemon("--no-network")
    other_ec2 = other.client("ec2", "151515151515")
    other_ec2.create_vpc(CidrBlock="10.72.0.0/16")
    # the old way to name a daemon, by its port, names the other one here: it is ignored
    done = subprocess.run([sys.executable, "-m", "pocketlink", "down", "--state",
                           str(mine.state), "--port", str(other.port)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"pid {mine.process.pid}" in done.stdout
    mine.process.wait(timeout=30)
    assert health(other) == 200
    assert len(other_ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"]) == 1
    assert control.RuntimeRecord.read(mine.state) is None
    # a state no daemon serves stops nothing
    done = subprocess.run([sys.executable, "-m", "pocketlink", "down", "--state",
                           str(mine.state.parent / "none.db")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert health(other) == 200


def test_a_second_daemon_on_one_state_is_refused(daemon) -> None:
    done = subprocess.run([sys.executable, "-m", "pocketlink", "up", "--no-network", "--port",
                           "0", "--state", str(daemon.state)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"already serves {daemon.state}" in done.stderr
    assert health(daemon) == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")
def test_a_namespace_is_claimed_before_it_is_made(monkeypatch) -> None:
    """Another daemon's ``down`` sweeps namespaces nobody claims: the claim comes first."""
    from pyroute2 import netns as pyroute2_netns

    from pocketlink.network import netns

    name = f"pl-claimtest-{os.getpid()}"
    seen: list[str | None] = []
    make = pyroute2_netns._create

    def watched(*args, **kwargs):
        seen.append(netns.owner_of(name))
        return make(*args, **kwargs)

    monkeypatch.setattr(pyroute2_netns, "_create", watched)
    try:
        assert netns.create(name, "/some/state.db")
        assert seen == ["/some/state.db"]
        assert netns.owner_of(name) == "/some/state.db"
    finally:
        netns.remove(name)


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")
def test_a_starting_daemon_holds_its_state_and_down_stops_it(make_daemon, tmp_path) -> None:
    """A restart held at its start, before its port is bound: here its credentials file is
    a FIFO nothing writes to yet. Its state is claimed already: a second ``up`` is refused,
    ``down`` finds it, stops it by its pid, and removes what the state's daemons made."""
    from pocketlink.harness import HOST, free_port
    from pocketlink.instances import processes
    from pocketlink.network import netns
    from tests.conftest import settled, wait_for

    first = make_daemon()
    ec2 = first.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.74.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.74.1.0/24")["Subnet"]["SubnetId"]
    launched = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                                 SubnetId=subnet)["Instances"][0]["InstanceId"]
    assert settled(ec2, [launched]) == {launched: "running"}
    first.stop()  # its namespaces, and the instance in one, outlive it (a restart keeps them)
    owner = str(first.state.resolve())
    made = netns.ours(owner)
    running = [pid for namespace in made for pid in processes.pids_in(namespace)]
    assert made and running

    credentials = tmp_path / "credentials.toml"
    os.mkfifo(credentials, 0o600)
    log = (tmp_path / "starting.log").open("wb")
    starting = subprocess.Popen(
        [sys.executable, "-m", "pocketlink", "up", "--host", HOST, "--port", str(free_port()),
         "--public-dns-port", str(free_port()), "--state", str(first.state),
         "--credentials", str(credentials)], stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL)
    try:
        record = wait_for(lambda: control.RuntimeRecord.read(first.state), "the claim")
        assert record.starting and record.pid == starting.pid
        assert control.holder(first.state) == starting.pid
        again = subprocess.run([sys.executable, "-m", "pocketlink", "up", "--no-network",
                                "--port", str(free_port()), "--state", str(first.state)],
                               capture_output=True, text=True, timeout=60)
        assert again.returncode != 0
        assert "Traceback" not in again.stderr
        assert f"(pid {starting.pid}) already serves {first.state}" in again.stderr
        status = subprocess.run([sys.executable, "-m", "pocketlink", "status", "--state",
                                 str(first.state)], capture_output=True, text=True, timeout=60)
        assert f"starting on {first.state} (pid {starting.pid})" in status.stdout
        done = subprocess.run([sys.executable, "-m", "pocketlink", "down", "--state",
                               str(first.state)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"starting (pid {starting.pid}" in done.stdout
        assert starting.wait(timeout=30) != 0
        assert netns.ours(owner) == set()
        wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in running),
                 "the instance's processes gone")
        assert control.RuntimeRecord.read(first.state) is None
        assert control.holder(first.state) is None
    finally:
        if starting.poll() is None:
            starting.kill()
            starting.wait(timeout=30)
        log.close()


def test_stopping_closes_idle_connections_and_lets_a_request_finish(make_daemon) -> None:
    daemon = make_daemon("--no-network")
    idle = socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
    idle.sendall(b"GET /_pocketlink/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"200 OK" in idle.recv(4096)
    half = socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
    body = form("DescribeVpcs").encode()
    half.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
                 b"urlencoded\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    record = control.RuntimeRecord.read(daemon.state)
    assert control.ask(record, "POST", "/_pocketlink/shutdown") == {"status": "stopping"}
    half.sendall(body)
    answer = b""
    while piece := half.recv(65536):
        answer += piece
    assert answer.startswith(b"HTTP/1.1 200 OK"), answer[:300]
    assert idle.recv(1) == b""  # closed by the daemon
    assert daemon.process.wait(timeout=30) == 0
    idle.close()
    half.close()


def test_a_foreign_origin_is_refused_in_the_services_own_format(daemon) -> None:
    sent = raw(daemon.endpoint, "GET", "/2013-04-01/hostedzone",
               headers={"Origin": "http://evil.example"})
    assert sent.status == 403
    assert "<ErrorResponse" in sent.body and "<Code>AccessDenied</Code>" in sent.body
