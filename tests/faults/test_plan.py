"""Faults as data, on tests/reconcile/conftest.py's small world in an in-memory store (no
root): what each fault asks of the kernel, what a request is refused for, and the regional
names dropping a lost zone."""

from __future__ import annotations

from collections.abc import Iterator

import dns.name
import pytest

from pocketlink.daemon import KINDS
from pocketlink.dns.aws_names import aws_zones
from pocketlink.faults import requests
from pocketlink.faults.plan import plan
from pocketlink.model.ec2 import NetworkInterface, Subnet
from pocketlink.model.faults import Fault
from pocketlink.model.privatelink import VpcEndpoint, vpce_names
from pocketlink.network import names
from pocketlink.store import Store
from tests.reconcile.conftest import VPC, add_endpoint, add_instance, common
from tests.reconcile.conftest import world as small_world

SECOND_SUBNET = "subnet-00000000000000003"
ROUTER = names.namespace(VPC)


@pytest.fixture
def world() -> Iterator[Store]:
    """The small world, its endpoint with a second ENI in a second zone, and a client."""
    store = Store(":memory:", KINDS)
    small_world(store)
    endpoint = add_endpoint(store, 1, "available")
    instance = add_instance(store, 1, "running")
    with store.transaction() as tx:
        tx.put(Subnet(**common(id=SECOND_SUBNET, vpc_id=VPC, cidr_block="10.0.2.0/24",
                               availability_zone="us-west-2b", availability_zone_id="usw2-az2")))
        tx.put(NetworkInterface(**common(id="eni-10000000000000002", vpc_id=VPC,
                                         subnet_id=SECOND_SUBNET, availability_zone="us-west-2b",
                                         private_ip_address="10.0.2.101",
                                         interface_type="vpc_endpoint")))
        mine = tx.edit(VpcEndpoint, endpoint.id)
        mine.subnet_ids.append(SECOND_SUBNET)
        mine.network_interface_ids.append("eni-10000000000000002")
        tx.edit(NetworkInterface, instance.network_interface_id).instance_id = instance.id
    yield store
    store.close()


def _answers(store: Store, name: str) -> set[str]:
    [vpce] = [z for z in aws_zones(store) if z.origin == dns.name.from_text("vpce.amazonaws.com.")]
    found = vpce.nodes.get(dns.name.from_text(name + "."), {})
    return {r.address for rrset in found.values() for r in rrset}


def test_losing_a_zone_drops_its_addresses_and_its_instances(world: Store) -> None:
    endpoint = world.get(VpcEndpoint, "vpce-00000000000000001")
    [regional] = vpce_names(endpoint, [])
    zonal = vpce_names(endpoint, ["us-west-2a"])[1]
    assert _answers(world, regional) == {"10.0.1.101", "10.0.2.101"}
    requests.add(world, {"action": "lose-az", "zone": "usw2-az1"})
    wanted = plan(world)
    router = wanted.tables[ROUTER]
    assert "chain prerouting" in router and "chain output" in router
    assert "ip daddr { 10.0.1.101, 10.0.1.11 } drop" in router  # endpoint ENI, instance
    assert "10.0.2.101" not in router
    assert "10.1.1.9" in wanted.tables[names.namespace("vpc-00000000000000002")]  # NLB node
    assert 'iifname "lo" accept' in wanted.tables[names.namespace("i-00000000000000001")]
    # DNS failover: the regional name keeps the zone left; the zonal name has nowhere to go.
    assert _answers(world, regional) == {"10.0.2.101"}
    assert _answers(world, zonal) == {"10.0.1.101"}
    requests.add(world, {"action": "lose-az", "zone": "usw2-az2"})
    assert _answers(world, regional) == {"10.0.1.101", "10.0.2.101"}  # all lost: fails open
    assert len(requests.clear(world, None)) == 2
    assert plan(world).tables == {}


def test_each_fault_in_the_kernel(world: Store) -> None:
    instance, eni = "i-00000000000000001", "eni-20000000000000001"
    requests.add(world, {"action": "kill-target", "instance": instance})
    requests.add(world, {"action": "hang-target", "instance": instance})
    requests.add(world, {"action": "stop-resolver", "vpc": VPC})
    requests.add(world, {"action": "loss", "eni": eni, "percent": "30"})
    wanted = plan(world)
    assert "reject with tcp reset" in wanted.tables[names.namespace(instance)]
    assert wanted.hung == {instance}
    router = wanted.tables[ROUTER]
    assert "ip daddr { 10.0.0.2, 169.254.169.253 } meta l4proto { tcp, udp } th dport 53 drop" \
        in router
    assert "ip daddr 10.0.1.11 numgen random mod 100 < 30 drop" in router


def test_a_disrupted_subnet_s_border_and_what_it_spares(world: Store) -> None:
    requests.add(world, {"action": "disrupt-subnet", "subnet": SECOND_SUBNET})
    router = plan(world).tables[ROUTER]
    spared = "{ 10.0.0.2, 169.254.169.253, 169.254.169.254 }"
    assert "ip saddr 10.0.2.0/24 ip daddr != 10.0.2.0/24 ip daddr != " + spared + " drop" \
        in router  # out of the subnet, but to the resolver and the metadata service
    assert "ip daddr 10.0.2.0/24 ip saddr != 10.0.2.0/24 drop" in router  # into it
    assert "ip saddr 10.0.2.0/24 ip daddr != 10.0.2.0/24 drop" in router  # the router's own
    assert set(plan(world).tables) == {ROUTER}  # no instance drops what stays in the subnet


@pytest.mark.parametrize(("form", "message"), [
    ({"action": "explode"}, "action: one of lose-az"),
    ({"action": "disrupt-subnet", "subnet": "subnet-0123456789abcdef0"}, "no subnet"),
    ({"action": "lose-az", "zone": "us-west-2a"}, "'us-west-2a' is not a zone id"),
    ({"action": "kill-target", "instance": "i-0123456789abcdef0"}, "no instance"),
    ({"action": "loss", "eni": "eni-20000000000000001", "percent": "0"},
     "loss takes --percent from 1 to 100"),
    ({"action": "loss", "eni": "eni-10000000000000001", "percent": "5"},
     "eni-10000000000000001 is a vpc_endpoint ENI"),
    ({"action": "stop-resolver", "vpc": "vpc-0123456789abcdef0"}, "no vpc"),
])
def test_refused(world: Store, form: dict, message: str) -> None:
    with pytest.raises(requests.FaultError, match=message):
        requests.add(world, form)
    assert list(world.all(Fault)) == []


def test_one_fault_of_a_kind_per_target(world: Store) -> None:
    made = requests.add(world, {"action": "stop-resolver", "vpc": VPC})
    with pytest.raises(requests.FaultError, match=f"already injected as {made.id}"):
        requests.add(world, {"action": "stop-resolver", "vpc": VPC})
    with pytest.raises(requests.FaultError, match="no fault 'fault-0'"):
        requests.clear(world, "fault-0")
    assert [f.id for f in requests.clear(world, made.id)] == [made.id]
