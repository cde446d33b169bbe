"""An instance's resource name (``i-0123....compute.internal``) in its VPC's resolver: there
when the subnet's PrivateDnsNameOptionsOnLaunch asked for it at launch (the API reference's
EnableResourceNameDnsARecordOnLaunch / ...AAAARecordOnLaunch), never otherwise for an
instance with an IPv4 address. The attribute through the API: tests/api/test_subnets.py."""

from __future__ import annotations

import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from pocketlink.daemon import KINDS
from pocketlink.dns.vpc import vpc_zones
from pocketlink.model.ec2 import Instance, NetworkInterface, Vpc
from pocketlink.store import Store

REGION = "us-west-2"
ACCOUNT = "111111111111"


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "state.db", KINDS)
    yield store
    store.close()


def _launch(store: Store, instance_id: str, ip: str | None, ipv6: str, *, a: bool,
            aaaa: bool) -> None:
    eni = NetworkInterface(id=f"eni-{instance_id[2:]}", account=ACCOUNT, region=REGION,
                           vpc_id="vpc-0123456789abcdef0", subnet_id="subnet-0123456789abcdef0",
                           availability_zone=f"{REGION}a", private_ip_address=ip,
                           ipv6_addresses=[ipv6], instance_id=instance_id, status="in-use")
    instance = Instance(id=instance_id, account=ACCOUNT, region=REGION, reservation_id="r-1",
                        image_id="ami-0123456789abcdef0", instance_type="t3.micro",
                        subnet_id=eni.subnet_id, vpc_id=eni.vpc_id,
                        availability_zone=eni.availability_zone, network_interface_id=eni.id,
                        private_ip_address=ip, enable_resource_name_dns_a_record=a,
                        enable_resource_name_dns_aaaa_record=aaaa)
    with store.transaction() as tx:
        tx.put(eni)
        tx.put(instance)


def test_resource_names_as_the_launch_options_say(store):
    with store.transaction() as tx:
        tx.put(Vpc(id="vpc-0123456789abcdef0", account=ACCOUNT, region=REGION,
                   cidr_block="10.0.0.0/16", enable_dns_hostnames=True))
    _launch(store, "i-0aaaaaaaaaaaaaaa1", "10.0.1.10", "fd00::10", a=True, aaaa=True)
    _launch(store, "i-0bbbbbbbbbbbbbbb2", "10.0.1.11", "fd00::11", a=False, aaaa=False)
    _launch(store, "i-0ccccccccccccccc3", None, "fd00::12", a=False, aaaa=False)  # IPv6-only
    zones = vpc_zones(store, "vpc-0123456789abcdef0")

    def answer(name: str, rdtype: str) -> list[str]:
        found = zones.lookup(dns.name.from_text(f"{name}.{REGION}.compute.internal."),
                             dns.rdatatype.from_text(rdtype))
        assert found.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
        return [r.to_text() for rrset in found.answer for r in rrset]

    assert answer("i-0aaaaaaaaaaaaaaa1", "A") == ["10.0.1.10"]
    assert answer("i-0aaaaaaaaaaaaaaa1", "AAAA") == ["fd00::10"]
    assert answer("i-0bbbbbbbbbbbbbbb2", "A") == []
    assert answer("i-0bbbbbbbbbbbbbbb2", "AAAA") == []
    assert answer("ip-10-0-1-11", "A") == ["10.0.1.11"]  # the ip-name stays
    # an IPv6-only instance's only name is its resource name (HostnameType resource-name)
    assert answer("i-0ccccccccccccccc3", "AAAA") == ["fd00::12"]
