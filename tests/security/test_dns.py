"""Issue 14, items 3 and 5: DNS that no tenant can hijack, and a DNS server no tenant can
exhaust.

- A public zone for a name AWS owns (vpce names, compute.internal, amazonaws.com) is
  accepted, as Route 53 accepts it, and never answered from: not on the public DNS, not
  in any VPC's resolver.
- Of two public zones of one name, the delegated one (the oldest) answers; a zone for a
  subdomain answers only once its parent delegates to it with NS records.
- A private zone joins only the caller's own VPCs, or another account's VPC after the
  zone's owner authorized it and the VPC's owner associated it.
- The public DNS (the same server class as every VPC resolver) drops responses and garbage
  without a traceback, closes idle TCP connections, and caps connections per client.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import struct
import subprocess
import time

import dns.message
import dns.rcode
import pytest

from pocketlink.model.aws_services import AWS_PUBLIC_IPV4
from pocketlink.network import names
from tests.conftest import wait_for
from tests.security.aws import REGION, client, refused


def new_account() -> str:
    return f"8{secrets.randbelow(10**11):011d}"


def query(port: int, name: str, rdtype: str = "A", host: str = "127.0.0.1") -> dns.message.Message:
    wire = dns.message.make_query(name, rdtype).to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(wire, (host, port))
        return dns.message.from_wire(udp.recv(65535))


def addresses(port: int, name: str) -> list[str]:
    return sorted(r.to_text() for rrset in query(port, name).answer for r in rrset)


def zone(route53, name: str, **params) -> dict:
    return route53.create_hosted_zone(Name=name, CallerReference=secrets.token_hex(8),
                                      **params)["HostedZone"]


def put(route53, hosted: dict, name: str, kind: str, values: list[str]) -> None:
    route53.change_resource_record_sets(HostedZoneId=hosted["Id"], ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": name, "Type": kind, "TTL": 60,
            "ResourceRecords": [{"Value": v} for v in values]}}]})


# --- names AWS owns ---------------------------------------------------------------------

@pytest.mark.parametrize("origin, name", [
    ("us-east-1.vpce.amazonaws.com", "vpce-0123456789abcdef0-abcdefgh.us-east-1.vpce.amazonaws.com"),
    ("vpce.amazonaws.com", "vpce-0123456789abcdef0-abcdefgh.us-east-1.vpce.amazonaws.com"),
    ("amazonaws.com", "ssm.us-east-1.amazonaws.com"),
    ("elb.us-east-1.amazonaws.com", "web-0123456789abcdef.elb.us-east-1.amazonaws.com"),
    ("compute.internal", "ip-10-0-1-5.us-west-2.compute.internal"),
    ("ec2.internal", "ip-10-0-1-5.ec2.internal"),
    ("api.aws", "ec2.us-east-1.api.aws"),
])
def test_a_public_zone_for_an_aws_name_is_kept_but_never_served(daemon, origin, name):
    route53 = client(daemon, "route53", new_account())
    hijack = zone(route53, origin)  # Route 53 takes it, as AWS does
    put(route53, hijack, name, "A", ["192.0.2.66"])
    answer = query(daemon.dns_port, name)
    assert "192.0.2.66" not in answer.to_text()
    # Nobody's, or pocketlink's own: an AWS service's name on the AWS public range.
    served = [ipaddress.ip_address(r.address) for rrset in answer.answer for r in rrset]
    assert answer.rcode() in (dns.rcode.REFUSED, dns.rcode.NXDOMAIN) or (
        served and all(a in AWS_PUBLIC_IPV4 for a in served))


# --- delegation ---------------------------------------------------------------------------

def test_the_oldest_public_zone_of_a_name_answers_and_the_next_takes_over(daemon):
    name = f"t{secrets.token_hex(4)}.example.com"
    first, second = (client(daemon, "route53", new_account()) for _ in range(2))
    owner = zone(first, name)
    put(first, owner, f"www.{name}", "A", ["192.0.2.1"])
    squatter = zone(second, name)
    put(second, squatter, f"www.{name}", "A", ["192.0.2.66"])
    put(second, squatter, f"evil.{name}", "A", ["192.0.2.66"])
    assert addresses(daemon.dns_port, f"www.{name}") == ["192.0.2.1"]
    assert query(daemon.dns_port, f"evil.{name}").rcode() == dns.rcode.NXDOMAIN
    first.change_resource_record_sets(HostedZoneId=owner["Id"], ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": {
            "Name": f"www.{name}", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.1"}]}}]})
    first.delete_hosted_zone(Id=owner["Id"])
    assert addresses(daemon.dns_port, f"www.{name}") == ["192.0.2.66"]


def test_a_subdomain_zone_answers_only_when_its_parent_delegates(daemon):
    parent_name = f"t{secrets.token_hex(4)}.example.com"
    child_name = f"shop.{parent_name}"
    owner, other = (client(daemon, "route53", new_account()) for _ in range(2))
    parent = zone(owner, parent_name)
    child = other.create_hosted_zone(Name=child_name, CallerReference="child")
    put(other, child["HostedZone"], f"www.{child_name}", "A", ["192.0.2.66"])
    assert query(daemon.dns_port, f"www.{child_name}").rcode() == dns.rcode.NXDOMAIN
    servers = child["DelegationSet"]["NameServers"]
    put(owner, parent, child_name, "NS", [s + "." for s in servers])
    assert addresses(daemon.dns_port, f"www.{child_name}") == ["192.0.2.66"]


# --- private zones and whose VPCs they reach ----------------------------------------------

def with_vpc(daemon) -> tuple:
    """(route53 client, account, VPC id) of a new account with one VPC."""
    account = new_account()
    vpc = client(daemon, "ec2", account).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return client(daemon, "route53", account), account, vpc


@pytest.fixture
def two_accounts(daemon) -> list[tuple]:
    return [with_vpc(daemon), with_vpc(daemon)]


def test_a_private_zone_takes_only_the_callers_own_vpc(two_accounts):
    (route53, _, mine), (_, _, theirs) = two_accounts
    for vpc in (theirs, "vpc-0123456789abcdef0"):
        message = refused("InvalidVPCId", route53.create_hosted_zone, Name="corp.internal",
                          CallerReference=secrets.token_hex(8),
                          VPC={"VPCRegion": REGION, "VPCId": vpc})
        assert message == "The VPC ID is invalid."
    refused("InvalidVPCId", route53.create_hosted_zone, Name="corp.internal",
            CallerReference="wrong-region", VPC={"VPCRegion": "eu-west-1", "VPCId": mine})
    made = route53.create_hosted_zone(Name="corp.internal", CallerReference="ok",
                                      VPC={"VPCRegion": REGION, "VPCId": mine})
    assert made["VPC"] == {"VPCRegion": REGION, "VPCId": mine}
    assert made["HostedZone"]["Config"]["PrivateZone"] is True


def test_another_accounts_vpc_joins_only_after_authorization(two_accounts):
    (owner, owner_account, mine), (other, _, theirs) = two_accounts
    private = zone(owner, "corp.internal", VPC={"VPCRegion": REGION, "VPCId": mine})
    vpc = {"VPCRegion": REGION, "VPCId": theirs}
    # the zone's owner cannot pull another account's VPC in
    refused("NotAuthorizedException", owner.associate_vpc_with_hosted_zone,
            HostedZoneId=private["Id"], VPC=vpc)
    # nor can the VPC's owner join a zone that did not authorize it
    refused("NotAuthorizedException", other.associate_vpc_with_hosted_zone,
            HostedZoneId=private["Id"], VPC=vpc)
    refused("NoSuchHostedZone", other.create_vpc_association_authorization,
            HostedZoneId=private["Id"], VPC=vpc)
    assert owner.create_vpc_association_authorization(
        HostedZoneId=private["Id"], VPC=vpc)["VPC"] == vpc
    assert owner.list_vpc_association_authorizations(HostedZoneId=private["Id"])["VPCs"] == [vpc]
    other.associate_vpc_with_hosted_zone(HostedZoneId=private["Id"], VPC=vpc)
    vpcs = owner.get_hosted_zone(Id=private["Id"])["VPCs"]
    assert {v["VPCId"] for v in vpcs} == {mine, theirs}
    [summary] = other.list_hosted_zones_by_vpc(VPCId=theirs, VPCRegion=REGION)[
        "HostedZoneSummaries"]
    assert summary["Owner"] == {"OwningAccount": owner_account}
    owner.delete_vpc_association_authorization(HostedZoneId=private["Id"], VPC=vpc)
    refused("VPCAssociationAuthorizationNotFound", owner.delete_vpc_association_authorization,
            HostedZoneId=private["Id"], VPC=vpc)
    other.disassociate_vpc_from_hosted_zone(HostedZoneId=private["Id"], VPC=vpc)
    refused("VPCAssociationNotFound", owner.disassociate_vpc_from_hosted_zone,
            HostedZoneId=private["Id"], VPC=vpc)
    refused("LastVPCAssociation", owner.disassociate_vpc_from_hosted_zone,
            HostedZoneId=private["Id"], VPC={"VPCRegion": REGION, "VPCId": mine})


def test_a_public_zone_takes_no_vpc(two_accounts):
    (owner, _, mine), _ = two_accounts
    public = zone(owner, f"t{secrets.token_hex(4)}.example.com")
    refused("PublicZoneVPCAssociation", owner.associate_vpc_with_hosted_zone,
            HostedZoneId=public["Id"], VPC={"VPCRegion": REGION, "VPCId": mine})


def test_a_top_level_domain_is_reserved(daemon):
    route53 = client(daemon, "route53", new_account())
    assert refused("InvalidDomainName", route53.create_hosted_zone, Name="aws",
                   CallerReference="tld") == "aws is reserved by AWS!"


# --- the DNS server itself ----------------------------------------------------------------

def _log_since(daemon, offset: int) -> str:
    return daemon.log.read_bytes()[offset:].decode(errors="replace")


def test_responses_and_garbage_are_dropped_without_a_traceback(daemon):
    offset = daemon.log.stat().st_size
    response = dns.message.make_response(dns.message.make_query("example.com", "A")).to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.5)
        for packet in [response] * 50 + [b"\x00" * 3, b"\xff" * 40, secrets.token_bytes(300)]:
            udp.sendto(packet, ("127.0.0.1", daemon.dns_port))
        with pytest.raises(TimeoutError):
            udp.recv(65535)  # nothing comes back for any of them
    assert query(daemon.dns_port, "nothing.invalid").rcode() == dns.rcode.REFUSED  # still up
    assert "Traceback" not in _log_since(daemon, offset)


def _tcp_query(connection: socket.socket, name: str) -> dns.message.Message | None:
    wire = dns.message.make_query(name, "A").to_wire()
    try:
        connection.sendall(struct.pack("!H", len(wire)) + wire)
        (length,) = struct.unpack("!H", _read(connection, 2))
        return dns.message.from_wire(_read(connection, length))
    except (OSError, struct.error):
        return None


def _read(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _descriptors(daemon) -> int:
    return len(os.listdir(f"/proc/{daemon.process.pid}/fd"))


def test_one_client_holds_at_most_sixteen_tcp_connections(daemon):
    """The issue's flood, scaled down: 300 idle connections from one address cost the
    daemon 16 descriptors, and the API keeps answering."""
    before = _descriptors(daemon)
    connections = []
    try:
        for _ in range(300):
            connection = socket.create_connection(("127.0.0.1", daemon.dns_port), timeout=5)
            connections.append(connection)
        time.sleep(0.5)  # let the server accept (and refuse) them all; not a timing assertion
        assert _descriptors(daemon) - before <= 16 + 4  # a few for the API call below
        client(daemon, "ec2", new_account()).describe_vpcs()
        answered = [c for c in connections if _tcp_query(c, "nothing.invalid") is not None]
        assert len(answered) == 16
    finally:
        for connection in connections:
            connection.close()
    # the slots come back once the connections are gone
    def fresh_answers() -> bool:
        with socket.create_connection(("127.0.0.1", daemon.dns_port), timeout=5) as again:
            return _tcp_query(again, "nothing.invalid") is not None
    wait_for(fresh_answers)


def test_an_idle_tcp_connection_is_closed(daemon):
    with socket.create_connection(("127.0.0.1", daemon.dns_port), timeout=60) as idle:
        assert _tcp_query(idle, "nothing.invalid") is not None
        assert idle.recv(1) == b""  # the server hung up (after its idle timeout)


def test_one_address_is_answered_up_to_its_query_rate(daemon):
    """A UDP flood from one address is answered up to 1,024 queries a second (bursts of
    2,048), as AWS's resolver takes 1,024 packets a second per interface; the rest are
    dropped unanswered, and another address is answered meanwhile."""
    wire = dns.message.make_query("nothing.invalid", "A").to_wire()
    answers = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
        flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        flood.settimeout(1.0)
        begun = time.monotonic()
        for _ in range(60):  # 6,000 queries in about a second
            for _ in range(100):
                flood.sendto(wire, ("127.0.0.1", daemon.dns_port))
            time.sleep(0.015)
        elapsed = time.monotonic() - begun
        # meanwhile, another address (another client) is answered. It asks again after a
        # second's silence, as a stub resolver does: its first packet may find the server's
        # receive buffer still full of the flood, and the kernel drops it there.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.bind(("127.0.0.2", 0))
            other.settimeout(1)
            reply = None
            for _ in range(5):
                other.sendto(wire, ("127.0.0.1", daemon.dns_port))
                try:
                    reply = other.recv(65535)
                    break
                except TimeoutError:
                    continue
            assert reply is not None, "another address was not answered during the flood"
            assert dns.message.from_wire(reply).rcode() == dns.rcode.REFUSED
        try:
            while flood.recv(65535):
                answers += 1
        except TimeoutError:
            pass
    # a bound, not a timing: what the bucket holds plus what it refilled while we sent
    assert 0 < answers <= 2048 + 1024 * (elapsed + 1.0), (answers, elapsed)


# --- inside a VPC: the resolver ------------------------------------------------------------

@pytest.fixture(scope="module")
def network_daemon(make_daemon):
    if os.geteuid() != 0:
        pytest.skip("VPC resolvers need root")
    return make_daemon()


def dig_in(vpc_id: str, name: str, *options: str) -> str:
    """``dig`` inside the VPC's router namespace, at the VPC's resolver."""
    done = subprocess.run(["ip", "netns", "exec", names.namespace(vpc_id), "dig", "+time=2",
                           "+tries=2", "@169.254.169.253", name, *options],
                          capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


def test_inside_a_vpc_only_its_own_private_zones_answer(network_daemon):
    (route53, _, mine), (other_r53, _, theirs) = with_vpc(network_daemon), \
        with_vpc(network_daemon)
    for vpc in (mine, theirs):  # the resolvers are up once they answer
        wait_for(lambda v=vpc: "status: NXDOMAIN" in dig_in(v, "probe.invalid"), timeout=60)
    # a private zone of mine: answers in my VPC only
    corp = zone(route53, "corp.internal", VPC={"VPCRegion": REGION, "VPCId": mine})
    put(route53, corp, "db.corp.internal", "A", ["10.0.9.9"])
    # centralized endpoints: a private zone for an AWS service's name in my own VPC
    ssm = zone(route53, "ssm.us-east-1.amazonaws.com", VPC={"VPCRegion": REGION, "VPCId": mine})
    put(route53, ssm, "ssm.us-east-1.amazonaws.com", "A", ["10.0.8.8"])
    # where pocketlink publishes AWS's names, even my own private zone does not answer
    vpce = zone(route53, "us-east-1.vpce.amazonaws.com",
                VPC={"VPCRegion": REGION, "VPCId": mine})
    put(route53, vpce, "vpce-0123456789abcdef0-abcdefgh.us-east-1.vpce.amazonaws.com", "A",
        ["10.0.7.7"])
    # another account's public zone for an AWS name answers nowhere
    hijack = zone(other_r53, "amazonaws.com")
    put(other_r53, hijack, "ssm.us-east-1.amazonaws.com", "A", ["192.0.2.66"])
    wait_for(lambda: dig_in(mine, "db.corp.internal", "+short") == "10.0.9.9")
    assert dig_in(mine, "ssm.us-east-1.amazonaws.com", "+short") == "10.0.8.8"
    assert dig_in(mine, "vpce-0123456789abcdef0-abcdefgh.us-east-1.vpce.amazonaws.com",
                  "+short") == ""
    assert dig_in(theirs, "db.corp.internal", "+short") == ""
    # their VPC: the service's public name, not the hijacker's nor my private zone's
    public = dig_in(theirs, "ssm.us-east-1.amazonaws.com", "+short")
    assert ipaddress.ip_address(public) in AWS_PUBLIC_IPV4
