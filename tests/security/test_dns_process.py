"""Issue 14, "limits everywhere": the DNS servers (the public DNS and every VPC's resolver)
live in a process of their own, apart from the API's event loop (dns/process.py,
dns/child.py). What a tenant sees of it:

- the DNS process killed, it is started again with one log line, and a lookup inside an
  instance is still answered (its stub asks again; the daemon kept the sockets, so the
  query waits in them for the new process);
- what the API changes (a new instance's name, a private hosted zone's record, a public
  zone's record) reaches it, before and after a restart;
- ``pocketlink down`` stops it, and no process of the daemon is left.
"""

from __future__ import annotations

import os
import secrets
import signal

import pytest

from pocketlink.harness import children
from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import dual_stack_vpc, launch, run_in
from tests.security.test_dns import addresses, put, zone

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="builds namespaces: needs root")

CHILD = "pocketlink.dns.child"


def dns_process(daemon) -> int:
    [pid] = children(daemon.process.pid, CHILD)
    return pid


def lookup(instance_id: str, name: str) -> str:
    """``dig`` inside the instance, at its VPC's resolver, asking again as a stub does (its
    answer without the ";;" notes of the tries that timed out while the process restarted)."""
    out = run_in(instance_id, "dig", "+short", "+time=2", "+tries=8", name, timeout=40).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(";;")).strip()


def test_the_dns_process_comes_back_and_follows_the_store(make_daemon):
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER)
    route53 = daemon.client("route53", PROVIDER)
    vpc, subnet = dual_stack_vpc(ec2)
    [client] = launch(ec2, subnet)
    name = client["PrivateDnsName"]
    wait_for(lambda: lookup(client["InstanceId"], name) == client["PrivateIpAddress"],
             timeout=60)
    public = zone(route53, f"{secrets.token_hex(4)}.example")
    put(route53, public, f"www.{public['Name']}", "A", ["192.0.2.10"])
    wait_for(lambda: addresses(daemon.dns_port, f"www.{public['Name']}") == ["192.0.2.10"])

    first = dns_process(daemon)
    os.kill(first, signal.SIGKILL)
    # asked at once: the query waits in the daemon's socket for the next process
    assert lookup(client["InstanceId"], name) == client["PrivateIpAddress"]
    second = dns_process(daemon)
    assert second != first
    log = daemon.log.read_text()
    assert log.count(f"DNS process (pid {first}) exited") == 1, log[-3000:]
    assert addresses(daemon.dns_port, f"www.{public['Name']}") == ["192.0.2.10"]

    # what changes after the restart reaches the new process: a new instance's name, a
    # private hosted zone's record, a public zone's record
    [other] = launch(ec2, subnet)
    private = zone(route53, "corp.internal", VPC={"VPCRegion": "us-east-1",
                                                  "VPCId": vpc["VpcId"]})
    put(route53, private, "db.corp.internal", "A", ["10.0.9.9"])
    put(route53, public, f"www.{public['Name']}", "A", ["192.0.2.11"])
    wait_for(lambda: lookup(client["InstanceId"], other["PrivateDnsName"]) ==
             other["PrivateIpAddress"])
    wait_for(lambda: lookup(client["InstanceId"], "db.corp.internal") == "10.0.9.9")
    wait_for(lambda: addresses(daemon.dns_port, f"www.{public['Name']}") == ["192.0.2.11"])

    # down stops it with the daemon; nothing of the daemon is left running
    daemon_pid = daemon.process.pid
    done = daemon.down()
    assert done.returncode == 0, done.stderr
    daemon.process.wait(timeout=30)
    assert not os.path.exists(f"/proc/{second}")
    assert children(daemon_pid, CHILD) == []
