"""A restart serves the endpoints' listeners and the VPCs' resolvers from the serving
snapshot (snapshot.py) before the daemon's imports, its API and its first pass; the first
pass takes them over; a snapshot that is missing, corrupt or another pocketlink's is
ignored and the start is as without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pocketlink import snapshot
from pocketlink.polling import PATIENCE
from tests.conftest import CONSUMER, wait_for
from tests.network.conftest import WEB_PORT, curl, launch
from tests.reconcile.web import consumer_vpc, endpoint, endpoint_address, service_of_a_web_server

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="builds namespaces: needs root")
RESTORED = "back from the serving snapshot"
RESOLVER_BOUND = "AmazonProvidedDNS of {} listening"


def _carrying(make_daemon):
    """A daemon with one consumer VPC whose endpoint carries; the snapshot written."""
    daemon = make_daemon()
    service, zone = service_of_a_web_server(daemon)
    ec2 = daemon.client("ec2", CONSUMER, "us-west-2")
    vpc, subnet = consumer_vpc(ec2, "10.1.0.0/16", zone)
    [client] = launch(ec2, subnet)
    endpoint_id = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service,
                                          VpcEndpointType="Interface",
                                          SubnetIds=[subnet])["VpcEndpoint"]["VpcEndpointId"]
    wait_for(lambda: endpoint(ec2, endpoint_id)["State"] == "available")
    address = endpoint_address(ec2, endpoint_id)
    assert "Hello World" in curl(client["InstanceId"], f"http://{address}:{WEB_PORT}/").stdout
    path = snapshot.path_for(daemon.state)
    wait_for(lambda: path.exists() and address in path.read_text())
    return daemon, vpc, client["InstanceId"], address


def _after(log: Path, since: int) -> str:
    return log.read_bytes()[since:].decode(errors="replace")


@needs_root
def test_a_restart_serves_traffic_from_the_snapshot_before_the_api(make_daemon) -> None:
    """A prober in the root namespace, with its sockets made in the client's namespace,
    tries the endpoint and the VPC's resolver from before the start; once both answered it
    tries the API port: refused, as the API is built after the daemon's imports. The log
    says the listeners came from the snapshot, and the first pass took the resolver over
    rather than binding it again."""
    daemon, vpc, client, address = _carrying(make_daemon)
    assert snapshot.path_for(daemon.state).stat().st_mode & 0o777 == 0o600
    resolver = "10.1.0.2"
    daemon.stop()
    since = daemon.log.stat().st_size
    witness = subprocess.Popen([sys.executable, "-c", PROBER, f"pl-{client}", address,
                                str(WEB_PORT), resolver, str(daemon.port)],
                               stdout=subprocess.PIPE, text=True)
    try:
        daemon.start()
        said, _ = witness.communicate(timeout=PATIENCE)
    finally:
        if witness.poll() is None:
            witness.kill()
            witness.wait()
    assert said.split() == ["carried", "resolved", "api-refused"]
    log = _after(daemon.log, since)
    assert RESTORED in log
    wait_for(lambda: "network checked again after the start" in _after(daemon.log, since))
    assert RESOLVER_BOUND.format(vpc) not in _after(daemon.log, since)
    assert "Hello World" in curl(client, f"http://{address}:{WEB_PORT}/").stdout


@needs_root
def test_a_corrupt_or_missing_snapshot_is_ignored(make_daemon) -> None:
    daemon, vpc, client, address = _carrying(make_daemon)
    path = snapshot.path_for(daemon.state)
    for spoil in (lambda: path.write_text('{"format": 1, "listeners": [{"nam'),
                  lambda: path.unlink()):
        daemon.stop()
        spoil()
        since = daemon.log.stat().st_size
        daemon.start()
        wait_for(lambda at=since: RESOLVER_BOUND.format(vpc) in _after(daemon.log, at))
        assert RESTORED not in _after(daemon.log, since)
        assert "Hello World" in curl(client, f"http://{address}:{WEB_PORT}/").stdout
        # Written again by this daemon's passes.
        wait_for(lambda: path.exists() and address in path.read_text())


def test_a_snapshot_of_another_pocketlink_or_unreadable_is_not_used(tmp_path) -> None:
    state = tmp_path / "state.db"
    assert snapshot.read(state) is None  # missing
    path = snapshot.path_for(state)
    for text in ("not json", "[]", json.dumps({"format": snapshot.FORMAT + 1}),
                 json.dumps({"format": snapshot.FORMAT, "version": "0.0.0"}),
                 json.dumps({"format": snapshot.FORMAT, "version": snapshot.__version__,
                             "listeners": [], "resolvers": {"vpc-1": ["pl-vpc-1", []]},
                             "zones": {}, "views": {"vpc-1": ["gone"]}})):
        path.write_text(text)
        assert snapshot.read(state) is None, text


def test_a_resolver_without_a_view_serves_no_zone_and_keeps_the_rest(tmp_path) -> None:
    """A VPC whose zones were never shipped (its first build raised) has no view: the
    snapshot still gives the others' listeners and resolvers."""
    state = tmp_path / "state.db"
    snapshot.path_for(state).write_text(json.dumps(
        {"format": snapshot.FORMAT, "version": snapshot.__version__, "listeners": [],
         "resolvers": {"vpc-1": ["pl-vpc-1", ["10.1.0.2"]], "vpc-2": ["pl-vpc-2", ["10.2.0.2"]]},
         "zones": {"z": {}}, "views": {"vpc-2": ["z"]}}))
    found = snapshot.read(state)
    assert found is not None
    _, resolvers, _, views = found
    assert set(resolvers) == {"vpc-1", "vpc-2"}
    assert views == {"vpc-1": [], "vpc-2": ["z"]}


class _Served:
    """The DNS process as the keeper asks it: the zones and views it serves."""

    def served(self, vpcs):
        return {}, {vpc: [] for vpc in vpcs}


def test_a_stop_writes_what_the_gap_held_back(tmp_path) -> None:
    """Two passes within SAVE_GAP: the second's picture waits for a later pass, or for the
    stop's flush, so that the next start does not serve what was deleted before it."""
    state = tmp_path / "state.db"
    keeper = snapshot.Keeper(state)
    keeper.save({}, {"vpc-1": ("pl-vpc-1", ("10.1.0.2",))}, _Served())
    keeper.save({}, {}, _Served())  # within the gap: not written yet
    assert "vpc-1" in snapshot.path_for(state).read_text()
    keeper.flush()
    assert "vpc-1" not in snapshot.path_for(state).read_text()
    assert snapshot.path_for(state).stat().st_mode & 0o777 == 0o600


# Tries the endpoint (a byte of its answer) and the resolver (any answer) with sockets made
# inside the namespace, until both answered, then connects to the API port on loopback
# here; prints what happened, in order.
PROBER = """
import socket, sys, time
from pocketlink.network import netns
namespace, address, port, resolver, api = sys.argv[1:]
query = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")
said = []
while len(said) < 2:
    if "carried" not in said:
        sock = netns.run_in(namespace, lambda: socket.socket())
        sock.settimeout(0.5)
        try:
            sock.connect((address, int(port)))
            sock.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            if sock.recv(1):
                said.append("carried")
        except OSError:
            pass
        finally:
            sock.close()
    if "resolved" not in said:
        sock = netns.run_in(namespace, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        sock.settimeout(0.2)
        try:
            sock.sendto(query, (resolver, 53))
            if sock.recv(512):
                said.append("resolved")
        except OSError:
            pass
        finally:
            sock.close()
    time.sleep(0.02)
try:
    socket.create_connection(("127.0.0.1", int(api)), timeout=1).close()
    said.append("api-up")
except OSError:
    said.append("api-refused")
print(" ".join(sorted(said[:2])), said[2])
"""
