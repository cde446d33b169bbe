"""Every kind of security group rule renders to a ruleset nft accepts (checked with
``nft -c``, which loads nothing), and the rules say what the group says."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pocketlink.daemon import open_store
from pocketlink.model.ec2 import NetworkInterface, SecurityGroup, SecurityGroupRule, Vpc
from pocketlink.model.elbv2 import LoadBalancer
from pocketlink.model.privatelink import EndpointService, VpcEndpoint
from pocketlink.network.firewall import router_ruleset, ruleset


def rule(n: int, protocol: str, low: int | None = None, high: int | None = None,
         egress: bool = False, **peer: str) -> SecurityGroupRule:
    return SecurityGroupRule(rule_id=f"sgr-{n:017x}", egress=egress, ip_protocol=protocol,
                             from_port=low, to_port=high, **peer)


RULES = [
    rule(1, "tcp", 80, 80, cidr_ipv4="10.0.0.0/16"),
    rule(2, "udp", 1000, 2000, cidr_ipv6="::/0"),
    rule(3, "icmp", 3, 4, cidr_ipv4="0.0.0.0/0"),  # fragmentation needed: type and code
    rule(4, "icmp", 8, -1, cidr_ipv4="10.0.0.0/8"),
    rule(5, "icmp", -1, -1, cidr_ipv4="10.0.0.0/8"),
    rule(6, "icmpv6", 1, 4, cidr_ipv6="fd00::/8"),
    rule(7, "icmpv6", -1, -1, cidr_ipv6="::/0"),
    rule(8, "50", cidr_ipv4="10.1.0.0/16"),  # a protocol by number (ESP)
    rule(9, "-1", referenced_group_id="sg-00000000000000001", referenced_user_id="1"),
    rule(10, "tcp", 443, 443, egress=True, cidr_ipv4="0.0.0.0/0"),
]


@pytest.fixture
def world(tmp_path):
    store = open_store(tmp_path / "state.db")
    vpc = Vpc(id="vpc-00000000000000001", account="1", region="us-east-1",
              cidr_block="10.0.0.0/16")
    group = SecurityGroup(id="sg-00000000000000001", account="1", region="us-east-1",
                          vpc_id=vpc.id, group_name="all", description="all", rules=RULES)
    eni = NetworkInterface(id="eni-00000000000000001", account="1", region="us-east-1",
                           vpc_id=vpc.id, subnet_id="subnet-1", availability_zone="us-east-1a",
                           private_ip_address="10.0.1.5", ipv6_addresses=["fd00::5"],
                           group_ids=[group.id], interface_type="vpc_endpoint")
    with store.transaction() as tx:
        for resource in (vpc, group, eni):
            tx.put(resource)
    yield store, vpc, eni
    store.close()


@pytest.mark.skipif(shutil.which("nft") is None, reason="needs nft")
def test_every_rule_kind_is_valid_nftables(world):
    store, vpc, eni = world
    for text in (ruleset(store, eni, vpc), router_ruleset(store, vpc, [eni], {eni.id})):
        checked = subprocess.run(["nft", "-c", "-f", "-"], input=text, capture_output=True,
                                 text=True)
        assert checked.returncode == 0, f"{checked.stderr}\n{text}"


def test_the_rules_say_what_the_group_says(world):
    store, vpc, eni = world
    text = ruleset(store, eni, vpc)
    assert "ip saddr { 10.0.0.0/16 } tcp dport 80 accept" in text
    assert "ip6 saddr { ::/0 } udp dport 1000-2000 accept" in text
    assert "icmp type 3 icmp code 4 accept" in text
    assert "icmpv6 type 1 icmpv6 code 4 accept" in text
    assert "ip saddr { 10.0.1.5 } accept" in text  # the group's own members, by reference
    assert "ip daddr { 0.0.0.0/0 } tcp dport 443 accept" in text
    assert "policy drop" in text


@pytest.fixture
def balanced(world):
    """The world's endpoint ENI in front of an NLB with a security group of its own (port 80
    from 10.9.0.0/16 in, port 8080 to anywhere out), enforcing it on PrivateLink traffic."""
    store, vpc, eni = world
    group = SecurityGroup(id="sg-00000000000000002", account="1", region="us-east-1",
                          vpc_id=vpc.id, group_name="nlb", description="nlb", rules=[
                              rule(11, "tcp", 80, 80, cidr_ipv4="10.9.0.0/16"),
                              rule(12, "tcp", 8080, 8080, egress=True, cidr_ipv4="0.0.0.0/0")])
    node = NetworkInterface(id="eni-00000000000000002", account="1", region="us-east-1",
                            vpc_id=vpc.id, subnet_id="subnet-1", availability_zone="us-east-1a",
                            private_ip_address="10.0.1.6", group_ids=[group.id],
                            interface_type="network_load_balancer")
    balancer = LoadBalancer(id="arn:nlb", account="1", region="us-east-1", name="nlb",
                            load_balancer_id="1", scheme="internal", vpc_id=vpc.id,
                            ip_address_type="ipv4", security_group_ids=[group.id],
                            dns_name="nlb")
    service = EndpointService(id="vpce-svc-00000000000000001", account="1",
                              region="us-east-1", service_name="svc",
                              network_load_balancer_arns=[balancer.id])
    endpoint = VpcEndpoint(id="vpce-00000000000000001", account="1", region="us-east-1",
                           vpc_id=vpc.id, service_name="svc", service_id=service.id, service_owner="1",
                           state="available",
                           endpoint_type="Interface", network_interface_ids=[eni.id])
    with store.transaction() as tx:
        for resource in (group, node, balancer, service, endpoint):
            tx.put(resource)
    return store, vpc, eni, node, endpoint


@pytest.mark.skipif(shutil.which("nft") is None, reason="needs nft")
def test_an_nlbs_groups_on_the_router_are_valid_nftables(balanced):
    store, vpc, eni, node, endpoint = balanced
    text = router_ruleset(store, vpc, [eni, node], {eni.id, node.id}, [endpoint], [eni, node])
    checked = subprocess.run(["nft", "-c", "-f", "-"], input=text, capture_output=True,
                             text=True)
    assert checked.returncode == 0, f"{checked.stderr}\n{text}"


def test_an_enforcing_nlbs_inbound_rules_follow_the_endpoints(balanced):
    store, vpc, eni, node, endpoint = balanced
    chain = "eni_00000000000000001"
    text = router_ruleset(store, vpc, [eni, node], {eni.id, node.id}, [endpoint], [eni, node])
    # What the endpoint's group admits goes on to the NLB's rules, on the client's address.
    assert f"ip saddr {{ 10.0.0.0/16 }} tcp dport 80 goto nlb_{chain}" in text
    nlb_chain = text.split(f"chain nlb_{chain} {{", 1)[1].split("}\n", 1)[0]
    assert "ip saddr { 10.9.0.0/16 } tcp dport 80 accept" in nlb_chain
    # The node: its inbound rules on its address, its outbound rules on what it sends.
    assert "ip daddr 10.0.1.6 jump eni_00000000000000002" in text
    assert "ip saddr 10.0.1.6 jump out_eni_00000000000000002" in text
    assert "ip daddr { 0.0.0.0/0 } tcp dport 8080 accept" in text
    with store.transaction() as tx:
        tx.edit(LoadBalancer, "arn:nlb").enforce_inbound_rules_on_privatelink = "off"
    text = router_ruleset(store, vpc, [eni, node], {eni.id, node.id}, [endpoint], [eni, node])
    assert f"chain nlb_{chain}" not in text
    assert "ip saddr { 10.0.0.0/16 } tcp dport 80 accept" in text


def test_the_nlbs_rules_come_from_the_vpcs_own_endpoints(balanced):
    """The router's chains are planned from the endpoints of its VPC only: an endpoint the
    plan is not given (another VPC's) adds no NLB chain here."""
    store, vpc, eni, node, endpoint = balanced
    assert "chain nlb_" not in router_ruleset(store, vpc, [eni, node], {eni.id, node.id},
                                              [], [eni, node])
    assert "chain nlb_" in router_ruleset(store, vpc, [eni, node], {eni.id, node.id},
                                          [endpoint], [eni, node])


def test_a_group_reference_on_privatelink_traffic_names_only_the_routers_clients(balanced):
    """Overlapping CIDRs: the provider's VPC is 10.0.0.0/16, as the consumer's is. A
    member of the group the NLB's rule names, at 10.0.1.7 there, does not admit the
    consumer's own 10.0.1.7 (at AWS that consumer is no member); a member among the
    router's clients (its VPC's ENIs, its peers') is admitted by its address."""
    store, vpc, eni, node, endpoint = balanced
    provider = Vpc(id="vpc-00000000000000002", account="1", region="us-east-1",
                   cidr_block="10.0.0.0/16")
    app = SecurityGroup(id="sg-00000000000000003", account="1", region="us-east-1",
                        vpc_id=provider.id, group_name="app", description="app")
    member = NetworkInterface(id="eni-00000000000000003", account="1", region="us-east-1",
                              vpc_id=provider.id, subnet_id="subnet-2",
                              availability_zone="us-east-1a", private_ip_address="10.0.1.7",
                              group_ids=[app.id])
    nlb_group = store.get(SecurityGroup, "sg-00000000000000002")
    nlb_group = SecurityGroup(**{**vars(nlb_group), "rules": [
        *nlb_group.rules, rule(13, "tcp", 80, 80, referenced_group_id=app.id,
                                referenced_user_id="1")]})
    with store.transaction() as tx:
        for resource in (provider, app, member, nlb_group):
            tx.put(resource)

    def nlb_chain(clients: list[NetworkInterface]) -> str:
        text = router_ruleset(store, vpc, [eni, node], {eni.id, node.id}, [endpoint], clients)
        return text.split("chain nlb_eni_00000000000000001 {", 1)[1].split("}\n", 1)[0]

    assert "10.0.1.7" not in nlb_chain([eni, node])
    client = NetworkInterface(id="eni-00000000000000004", account="1", region="us-east-1",
                              vpc_id=vpc.id, subnet_id="subnet-1",
                              availability_zone="us-east-1a", private_ip_address="10.0.1.8",
                              group_ids=[app.id])
    assert "ip saddr { 10.0.1.8 } tcp dport 80 accept" in nlb_chain([eni, node, client])
