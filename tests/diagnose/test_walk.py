"""The hop walker on a small world in an in-memory store (tests/reconcile/conftest.py's,
with security groups, a target and a private DNS name added): no daemon, no root. Each
case breaks one thing and expects the first failing hop and the fix's command."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

import pytest

from pocketlink.daemon import KINDS
from pocketlink.diagnose import diagnose
from pocketlink.diagnose.groups import allows
from pocketlink.diagnose.report import split_target
from pocketlink.model.aws_services import gateway_prefix_lists
from pocketlink.model.ec2 import (
    CidrAssociation,
    Instance,
    NetworkInterface,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    Vpc,
)
from pocketlink.model.elbv2 import Listener, LoadBalancer, Target, TargetGroup
from pocketlink.model.faults import OWNER, Fault
from pocketlink.model.internet import InternetGateway
from pocketlink.model.peering import VpcPeeringConnection
from pocketlink.model.privatelink import AllowedPrincipal, EndpointService, VpcEndpoint
from pocketlink.store import Store
from tests.reconcile.conftest import (
    BALANCER,
    GROUP,
    PROVIDER_SUBNET,
    PROVIDER_VPC,
    SERVICE,
    SUBNET,
    VPC,
    add_endpoint,
    add_instance,
    common,
)
from tests.reconcile.conftest import (
    world as small_world,
)

NAME = "api.example.com"
CLIENT_SG, ENDPOINT_SG, TARGET_SG = "sg-00000000000000001", "sg-00000000000000002", \
    "sg-00000000000000003"
NLB_SG = "sg-00000000000000004"  # all out, nothing in; the NLB is born without groups


def _rule(number: int, egress: bool, **peer) -> SecurityGroupRule:
    return SecurityGroupRule(rule_id=f"sgr-{number:017d}", egress=egress, ip_protocol="tcp",
                             from_port=80, to_port=80, **peer)


@pytest.fixture
def world() -> Iterator[Store]:
    store = Store(":memory:", KINDS)
    small_world(store)
    endpoint = add_endpoint(store, 1, "available")
    instance = add_instance(store, 1, "running")
    with store.transaction() as tx:
        tx.put(SecurityGroup(**common(id=CLIENT_SG, vpc_id=VPC, group_name="client",
                                      description="", rules=[SecurityGroupRule(
                                          rule_id="sgr-00000000000000000", egress=True,
                                          ip_protocol="-1", cidr_ipv4="0.0.0.0/0")])))
        tx.put(SecurityGroup(**common(id=ENDPOINT_SG, vpc_id=VPC, group_name="vpce",
                                      description="", rules=[
                                          _rule(1, False, referenced_group_id=CLIENT_SG)])))
        tx.put(SecurityGroup(**common(id=TARGET_SG, vpc_id=PROVIDER_VPC, group_name="web",
                                      description="", rules=[
                                          _rule(2, False, cidr_ipv4="10.1.0.0/16")])))
        tx.put(SecurityGroup(**common(id=NLB_SG, vpc_id=PROVIDER_VPC, group_name="nlb",
                                      description="", rules=[SecurityGroupRule(
                                          rule_id="sgr-00000000000000004", egress=True,
                                          ip_protocol="-1", cidr_ipv4="0.0.0.0/0")])))
        tx.edit(type(instance), instance.id).group_ids = [CLIENT_SG]
        tx.edit(NetworkInterface, instance.network_interface_id).group_ids = [CLIENT_SG]
        tx.edit(NetworkInterface, endpoint.network_interface_ids[0]).group_ids = [ENDPOINT_SG]
        mine = tx.edit(VpcEndpoint, endpoint.id)
        mine.private_dns_enabled = True
        mine.dns_label = "abcdefgh"
        service = tx.edit(EndpointService, SERVICE)
        service.private_dns_name, service.private_dns_state = NAME, "verified"
        service.allowed_principals = []
        tx.edit(Vpc, VPC).enable_dns_hostnames = True
        tx.put(NetworkInterface(**common(
            id="eni-30000000000000001", vpc_id=PROVIDER_VPC, subnet_id=PROVIDER_SUBNET,
            availability_zone="us-west-2a", private_ip_address="10.1.1.50",
            group_ids=[TARGET_SG])))
        tx.edit(TargetGroup, GROUP).targets = [Target(
            id="10.1.1.50", port=80, availability_zone="us-west-2a", health="healthy",
            health_reason=None)]
    yield store
    store.close()


def _edit(cls, id_: str, change: Callable) -> Callable[[Store], None]:
    def apply(store: Store) -> None:
        with store.transaction() as tx:
            change(tx.edit(cls, id_))
    return apply


def _fault(action: str, target: str) -> Callable[[Store], None]:
    def apply(store: Store) -> None:
        with store.transaction() as tx:
            tx.put(Fault(id="fault-00000000000000001", account=OWNER, region="",
                         action=action, target=target))
    return apply


def _both(*changes: Callable[[Store], None]) -> Callable[[Store], None]:
    def apply(store: Store) -> None:
        for change in changes:
            change(store)
    return apply


def _nodes_in_another_zone(store: Store) -> None:
    """The NLB's node in usw2-az2 only (its subnets changed): the consumer VPC has a
    subnet there too, for the endpoint to move to."""
    with store.transaction() as tx:
        for vpc, subnet, cidr in ((VPC, AZ2_SUBNET, "10.0"),
                                  (PROVIDER_VPC, AZ2_PROVIDER_SUBNET, "10.1")):
            tx.put(Subnet(**common(id=subnet, vpc_id=vpc, cidr_block=f"{cidr}.2.0/24",
                                   availability_zone="us-west-2b",
                                   availability_zone_id="usw2-az2")))
        node = tx.edit(LoadBalancer, BALANCER).nodes[0]
        node.subnet_id, node.availability_zone = AZ2_PROVIDER_SUBNET, "us-west-2b"


def _endpoint_moved(store: Store) -> None:
    """The printed fix, as ModifyVpcEndpoint does it: the endpoint's ENI now in usw2-az2."""
    with store.transaction() as tx:
        endpoint = tx.edit(VpcEndpoint, ENDPOINT)
        endpoint.subnet_ids = [AZ2_SUBNET]
        eni = tx.edit(NetworkInterface, endpoint.network_interface_ids[0])
        eni.subnet_id, eni.availability_zone = AZ2_SUBNET, "us-west-2b"


ENDPOINT = "vpce-00000000000000001"
AZ2_SUBNET, AZ2_PROVIDER_SUBNET = "subnet-00000000000000003", "subnet-00000000000000004"
TARGET_INSTANCE = "i-00000000000000009"
CASES = {
    "nothing broken": (lambda s: None, None, None),
    "endpoint SG missing the port": (
        _edit(SecurityGroup, ENDPOINT_SG, lambda g: g.rules.clear()),
        "endpoint SG ingress", "authorize-security-group-ingress"),
    "instance SG egress closed": (
        _edit(SecurityGroup, CLIENT_SG, lambda g: g.rules.clear()),
        "instance SG egress", "authorize-security-group-egress"),
    "pendingAcceptance": (
        _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "state", "pendingAcceptance")),
        "DNS", "accept-vpc-endpoint-connections"),
    "rejected": (
        _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "state", "rejected")),
        "DNS", "delete-vpc-endpoints"),
    "private DNS off": (
        _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "private_dns_enabled", False)),
        "DNS", "modify-vpc-endpoint"),
    "name not verified": (
        _edit(EndpointService, SERVICE, lambda s: setattr(s, "private_dns_state",
                                                          "pendingVerification")),
        "DNS", "start-vpc-endpoint-service-private-dns-verification"),
    "enableDnsSupport off": (
        _edit(Vpc, VPC, lambda v: setattr(v, "enable_dns_support", False)),
        "DNS", "modify-vpc-attribute"),
    "listener on another port": (
        _edit(Listener, BALANCER + "/listener", lambda x: setattr(x, "port", 81)),
        "NLB listener", "modify-listener"),
    "NLB SG closed, enforced on PrivateLink traffic": (
        _edit(LoadBalancer, BALANCER, lambda b: setattr(b, "security_group_ids", [NLB_SG])),
        "NLB SG ingress", f"authorize-security-group-ingress --group-id {NLB_SG} --protocol "
                          "tcp --port 80 --cidr 10.0.1.11/32 "),
    "NLB SG without an outbound rule to the target": (
        _both(_edit(LoadBalancer, BALANCER, lambda b: setattr(b, "security_group_ids",
                                                              [NLB_SG])),
              _edit(SecurityGroup, NLB_SG, lambda g: g.rules.__setitem__(
                  slice(None), [_rule(11, False, cidr_ipv4="10.0.0.0/16")]))),
        "NLB SG egress", f"authorize-security-group-egress --group-id {NLB_SG} "
                         "--ip-permissions IpProtocol=tcp,FromPort=80,ToPort=80,"
                         "IpRanges=[{CidrIp=10.1.1.50/32}] "),
    "no registered target": (
        _edit(TargetGroup, GROUP, lambda g: g.targets.clear()),
        "target group", "register-targets"),
    "no registered target, the last one draining": (
        _edit(TargetGroup, GROUP, lambda g: setattr(g.targets[0], "deregistered",
                                                    "2026-01-01T00:00:00+00:00")),
        "target group", f"register-targets --target-group-arn {GROUP} "
                        "--targets Id=10.1.1.50,Port=80 "),
    "target unhealthy, its SG closed": (
        lambda s: (_edit(TargetGroup, GROUP, lambda g: setattr(g.targets[0], "health",
                                                               "unhealthy"))(s),
                   _edit(SecurityGroup, TARGET_SG, lambda g: g.rules.clear())(s)),
        "target health", "authorize-security-group-ingress"),
    "target SG closed, the target still healthy": (
        _edit(SecurityGroup, TARGET_SG, lambda g: g.rules.clear()),
        "target SG ingress", f"authorize-security-group-ingress --group-id {TARGET_SG} "
                             "--protocol tcp --port 80 --cidr 10.1.0.0/16 "),
    "cross-zone off, no target in the zone": (
        _edit(TargetGroup, GROUP, lambda g: setattr(g.targets[0], "availability_zone",
                                                    "us-west-2b")),
        "cross-zone", "modify-load-balancer-attributes"),
    "no NLB node in the endpoint's zone": (
        _nodes_in_another_zone,
        "zone", f"modify-vpc-endpoint --vpc-endpoint-id {ENDPOINT} --add-subnet-ids "
                f"{AZ2_SUBNET} --remove-subnet-ids {SUBNET} "),
    "private DNS off, and enableDnsHostnames off": (
        _both(_edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "private_dns_enabled", False)),
              _edit(Vpc, VPC, lambda v: setattr(v, "enable_dns_hostnames", False))),
        "DNS", "--enable-dns-hostnames"),
    "no endpoint for the name": (
        _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "state", "deleted")),
        "DNS", f"create-vpc-endpoint --vpc-id {VPC} --vpc-endpoint-type Interface "
               f"--service-name com.amazonaws.vpce.x --subnet-ids {SUBNET} "),
    "the zone is lost (fault)": (
        _fault("lose-az", "usw2-az1"), "fault", "pocketlink fault clear fault-"),
    "the resolver is stopped (fault)": (
        _fault("stop-resolver", VPC), "fault", "pocketlink fault clear fault-"),
    "the only target is killed (fault)": (
        _both(_edit(NetworkInterface, "eni-30000000000000001",
                    lambda e: setattr(e, "instance_id", TARGET_INSTANCE)),
              _fault("kill-target", TARGET_INSTANCE)),
        "fault", "pocketlink fault clear fault-"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_first_failing_hop_and_its_fix(world, case):
    breaks, hop, command = CASES[case]
    breaks(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    if hop is None:
        assert found.reachable, found.hops
        assert found.address == "10.0.1.101"
        return
    assert found.failure is not None and found.failure.name == hop, found.hops
    assert found.failure.fix is not None and command in found.failure.fix.command, \
        found.failure.fix


def _unfault(store: Store) -> None:
    with store.transaction() as tx:
        for fault in store.all(Fault):
            tx.delete(fault)


def _cross_zone_on(balancer: LoadBalancer) -> None:
    balancer.attributes["load_balancing.cross_zone.enabled"] = "true"


# What each case's printed fix does, done to the store: after it the walk finds the path
# (test_fixes.py runs the printed commands themselves on a real network, with the probe).
# "rejected" has none: its fix (delete the endpoint) is the first of two, then ask anew.
MENDS: dict[str, Callable[[Store], None]] = {
    "endpoint SG missing the port": _edit(SecurityGroup, ENDPOINT_SG, lambda g: g.rules.append(
        _rule(5, False, referenced_group_id=CLIENT_SG))),
    "instance SG egress closed": _edit(SecurityGroup, CLIENT_SG, lambda g: g.rules.append(
        _rule(6, True, cidr_ipv4="10.0.1.101/32"))),
    "pendingAcceptance": _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "state",
                                                                       "available")),
    "private DNS off": _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(
        e, "private_dns_enabled", True)),
    "name not verified": _edit(EndpointService, SERVICE, lambda s: setattr(
        s, "private_dns_state", "verified")),
    "enableDnsSupport off": _edit(Vpc, VPC, lambda v: setattr(v, "enable_dns_support", True)),
    "listener on another port": _edit(Listener, BALANCER + "/listener",
                                      lambda x: setattr(x, "port", 80)),
    # The consumer client's own address, as the NLB's rules see PrivateLink traffic.
    "NLB SG closed, enforced on PrivateLink traffic": _edit(
        SecurityGroup, NLB_SG, lambda g: g.rules.append(_rule(8, False,
                                                              cidr_ipv4="10.0.1.11/32"))),
    "NLB SG without an outbound rule to the target": _edit(
        SecurityGroup, NLB_SG, lambda g: g.rules.append(_rule(12, True,
                                                              cidr_ipv4="10.1.1.50/32"))),
    "no registered target": _edit(TargetGroup, GROUP, lambda g: g.targets.append(Target(
        id="10.1.1.50", port=80, availability_zone="us-west-2a", health="initial"))),
    "no registered target, the last one draining": _edit(
        TargetGroup, GROUP, lambda g: setattr(g.targets[0], "deregistered", None)),
    # The rule admits the node; the next health checks pass.
    "target unhealthy, its SG closed": _both(
        _edit(SecurityGroup, TARGET_SG, lambda g: g.rules.append(
            _rule(7, False, cidr_ipv4="10.1.0.0/16"))),
        _edit(TargetGroup, GROUP, lambda g: setattr(g.targets[0], "health", "healthy"))),
    "target SG closed, the target still healthy": _edit(
        SecurityGroup, TARGET_SG, lambda g: g.rules.append(_rule(9, False,
                                                               cidr_ipv4="10.1.0.0/16"))),
    "cross-zone off, no target in the zone": _edit(LoadBalancer, BALANCER, _cross_zone_on),
    # The world's one target is in us-west-2a: the node the endpoint now reaches in
    # us-west-2b sends it there only with cross-zone on.
    "no NLB node in the endpoint's zone": _both(_endpoint_moved,
                                                _edit(LoadBalancer, BALANCER, _cross_zone_on)),
    "private DNS off, and enableDnsHostnames off": _both(
        _edit(Vpc, VPC, lambda v: setattr(v, "enable_dns_hostnames", True)),
        _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "private_dns_enabled", True))),
    "no endpoint for the name": _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(
        e, "state", "available")),
    "the zone is lost (fault)": _unfault,
    "the resolver is stopped (fault)": _unfault,
    "the only target is killed (fault)": _unfault,
}


@pytest.mark.parametrize("case", list(MENDS), ids=list(MENDS))
def test_the_fix_makes_the_walk_pass(world, case):
    CASES[case][0](world)
    assert not diagnose(world, "i-00000000000000001", NAME, 80).reachable
    MENDS[case](world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.reachable, found.failure


def test_every_failure_mode_has_its_mend():
    assert set(CASES) - set(MENDS) == {"nothing broken", "rejected"}


def test_of_two_endpoints_the_name_is_the_one_with_private_dns(world):
    """The world's endpoint with private DNS off, a second one with it on and rejected:
    the name does not answer because of the second's state, and its fix is the second's."""
    second = add_endpoint(world, 2, "rejected")
    _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "private_dns_enabled", False))(world)
    _edit(VpcEndpoint, second.id, lambda e: setattr(e, "private_dns_enabled", True))(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.failure is not None and found.failure.name == "DNS"
    assert found.failure.fix is not None
    assert found.failure.fix.command.startswith(
        f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {second.id} ")


def test_an_unhealthy_target_is_named_with_its_reason(world):
    _edit(TargetGroup, GROUP, lambda g: (setattr(g.targets[0], "health", "unhealthy"),
                                         setattr(g.targets[0], "health_reason",
                                                 "Target.FailedHealthChecks")))(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.failure is not None and found.failure.name == "target health", found.hops
    assert "10.1.1.50:80 unhealthy (Target.FailedHealthChecks)" in found.failure.detail
    # Its groups admit the node: what is left to ask is whether a process listens there
    # (the CLI's last hop reads the target's sockets: test_fixes.py).
    assert "is a process listening on the target's port?" in found.failure.detail


def test_a_consumer_no_longer_allowed_keeps_its_connection(world):
    """Principals are checked when an endpoint connects (AWS): removing the consumer's
    account later leaves the endpoint connected, a note on the service hop."""
    _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "account", "222222222222"))(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    [service] = [h for h in found.hops if h.name == "service"]
    assert service.verdict == "note", found.hops
    assert "222222222222 is no longer an allowed principal" in service.detail
    _edit(EndpointService, SERVICE, lambda s: s.allowed_principals.append(
        AllowedPrincipal(principal="arn:aws:iam::222222222222:root", principal_type="Account",
                         permission_id="vpce-svc-perm-00000000000000001")))(world)
    [service] = [h for h in diagnose(world, "i-00000000000000001", NAME, 80).hops
                 if h.name == "service"]
    assert service.verdict == "ok" and "222222222222 is allowed" in service.detail


def test_latency_is_a_note_on_the_way(world):
    _fault("latency", "eni-20000000000000001")(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.reachable
    assert [(h.name, h.verdict) for h in found.hops if h.name == "fault"] == [("fault", "note")]


def test_an_address_outside_the_vpc_takes_its_route(world):
    found = diagnose(world, "i-00000000000000001", "192.0.2.7", 443)
    assert found.failure is not None and found.failure.name == "route", found.hops
    assert found.failure.fix is not None
    assert "--gateway-id GATEWAY_ID" in found.failure.fix.command
    with world.transaction() as tx:
        tx.put(InternetGateway(**common(id="igw-00000000000000001", vpc_id=VPC)))
    found = diagnose(world, "i-00000000000000001", "192.0.2.7", 443)
    assert found.failure is not None and found.failure.fix is not None
    assert found.failure.fix.command == (
        f"aws ec2 create-route --route-table-id rtb-{VPC[4:]} --destination-cidr-block "
        "192.0.2.7/32 --gateway-id igw-00000000000000001 --region us-west-2")
    with world.transaction() as tx:
        tx.edit(RouteTable, f"rtb-{VPC[4:]}").routes.append(Route(
            destination_cidr_block="0.0.0.0/0", gateway_id="igw-00000000000000001"))
    found = diagnose(world, "i-00000000000000001", "192.0.2.7", 443)
    assert found.reachable, found.hops
    assert [h.name for h in found.hops][-2:] == ["route", "destination"]
    assert found.hops[-1].verdict == "note"


def test_a_peering_is_walked_there_and_back(world):
    """Each fix the walk prints, applied, moves the failure one hop on."""
    consumer_table, provider_table = f"rtb-{VPC[4:]}", f"rtb-{PROVIDER_VPC[4:]}"
    with world.transaction() as tx:
        tx.put(VpcPeeringConnection(**common(
            id="pcx-00000000000000001", requester_vpc_id=VPC, accepter_vpc_id=PROVIDER_VPC,
            accepter_owner_id="111111111111", accepter_region="us-west-2", status="active")))
        tx.edit(NetworkInterface, "eni-30000000000000001").instance_id = TARGET_INSTANCE

    def failure() -> tuple[str, str]:
        found = diagnose(world, "i-00000000000000001", "10.1.1.50", 80)
        assert found.failure is not None, found.hops
        return found.failure.name, found.failure.fix.command if found.failure.fix else ""

    assert failure() == ("route", f"aws ec2 create-route --route-table-id {consumer_table} "
                         "--destination-cidr-block 10.1.0.0/16 --vpc-peering-connection-id "
                         "pcx-00000000000000001 --region us-west-2")
    with world.transaction() as tx:
        tx.edit(RouteTable, consumer_table).routes.append(Route(
            destination_cidr_block="10.1.0.0/16", vpc_peering_connection_id="pcx-00000000000000001"))
    assert failure() == ("return route", f"aws ec2 create-route --route-table-id "
                         f"{provider_table} --destination-cidr-block 10.0.0.0/16 "
                         "--vpc-peering-connection-id pcx-00000000000000001 --region us-west-2")
    with world.transaction() as tx:
        tx.edit(RouteTable, provider_table).routes.append(Route(
            destination_cidr_block="10.0.0.0/16", vpc_peering_connection_id="pcx-00000000000000001"))
    name, command = failure()
    assert name == "destination SG ingress"
    assert command.startswith(f"aws ec2 authorize-security-group-ingress --group-id {TARGET_SG}")


def test_a_pending_acceptance_endpoint_by_its_own_name(world):
    _edit(VpcEndpoint, ENDPOINT, lambda e: setattr(e, "state", "pendingAcceptance"))(world)
    name = f"{ENDPOINT}-abcdefgh.{SERVICE}.us-west-2.vpce.amazonaws.com"
    found = diagnose(world, "i-00000000000000001", name, 80)
    assert found.failure is not None and found.failure.name == "endpoint state"
    assert found.failure.fix is not None
    assert found.failure.fix.command.startswith("aws ec2 accept-vpc-endpoint-connections")


def test_a_rule_for_another_port_or_peer_does_not_allow(world):
    assert allows(world, [ENDPOINT_SG], False, "10.0.1.11", 80, [CLIENT_SG]) is not None
    assert allows(world, [ENDPOINT_SG], False, "10.0.1.11", 443, [CLIENT_SG]) is None
    assert allows(world, [ENDPOINT_SG], False, "10.0.1.11", 80, []) is None
    assert allows(world, [ENDPOINT_SG], True, "10.0.1.11", 80, [CLIENT_SG]) is None


@pytest.mark.parametrize(("to", "expected"), [
    ("example.com", ("example.com", 80)), ("example.com:8080", ("example.com", 8080)),
    ("fd00::1", ("fd00::1", 80)), ("[fd00::1]:443", ("fd00::1", 443))])
def test_name_and_port(to, expected):
    assert split_target(to, 80) == expected


def test_an_ipv6_destination_needs_the_instance_to_have_ipv6(world):
    with world.transaction() as tx:
        tx.edit(Vpc, VPC).ipv6_associations = [CidrAssociation(
            association_id="vpc-cidr-assoc-1", cidr="fd00:0:0:1::/56")]
        tx.edit(NetworkInterface, "eni-10000000000000001").ipv6_addresses = ["fd00:0:0:1::64"]
    found = diagnose(world, "i-00000000000000001", "fd00:0:0:1::64", 80)
    assert found.failure is not None and found.failure.name == "instance IPv6", found.hops
    assert found.failure.fix is not None
    assert found.failure.fix.command.startswith(
        "aws ec2 assign-ipv6-addresses --network-interface-id eni-20000000000000001")
    with world.transaction() as tx:
        tx.edit(Instance, "i-00000000000000001").ipv6_addresses = ["fd00:0:0:1::b"]
        tx.edit(NetworkInterface, "eni-20000000000000001").ipv6_addresses = ["fd00:0:0:1::b"]
    found = diagnose(world, "i-00000000000000001", "fd00:0:0:1::64", 80)
    # The client's group lets IPv4 out only (0.0.0.0/0), as a group made without ::/0 does.
    assert found.failure is not None and found.failure.name == "instance SG egress"
    with world.transaction() as tx:
        tx.edit(SecurityGroup, CLIENT_SG).rules.append(SecurityGroupRule(
            rule_id="sgr-00000000000000009", egress=True, ip_protocol="-1",
            cidr_ipv6="::/0"))
    found = diagnose(world, "i-00000000000000001", "fd00:0:0:1::64", 80)
    assert found.reachable, found.hops
    assert "from fd00:0:0:1::b" in next(h.detail for h in found.hops
                                        if h.name == "endpoint SG ingress")


def test_an_aws_service_endpoint_notes_its_policy(world):
    with world.transaction() as tx:
        mine = tx.edit(VpcEndpoint, ENDPOINT)
        mine.service_id, mine.service_name = None, "com.amazonaws.us-west-2.s3"
        mine.policy_document = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
            '"Action":"s3:DeleteObject","Resource":"*"},{"Effect":"Allow","Principal":"*",'
            '"Action":"s3:*","Resource":"*"}]}')
        tx.edit(SecurityGroup, ENDPOINT_SG).rules.append(SecurityGroupRule(
            rule_id="sgr-00000000000000008", egress=False, ip_protocol="tcp", from_port=443,
            to_port=443, referenced_group_id=CLIENT_SG))
    found = diagnose(world, "i-00000000000000001", "10.0.1.101", 443)
    assert found.reachable, found.hops
    [policy] = [h for h in found.hops if h.name == "endpoint policy"]
    assert policy.verdict == "note" and "1 Allow, 1 Deny" in policy.detail


def test_a_gateway_endpoint_is_the_route_of_its_prefix_list(world):
    s3 = next(p for p in gateway_prefix_lists("us-west-2") if p.name.endswith(".s3"))
    address = str(next(ipaddress.ip_network(s3.cidrs[0]).hosts()))
    with world.transaction() as tx:
        tx.edit(RouteTable, f"rtb-{VPC[4:]}").routes.append(Route(
            destination_prefix_list_id=s3.prefix_list_id, gateway_id="vpce-0000000000000000a"))
    found = diagnose(world, "i-00000000000000001", address, 443)
    assert found.reachable, found.hops
    [route] = [h for h in found.hops if h.name == "route"]
    assert f"{s3.cidrs[0]} via vpce-0000000000000000a" in route.detail


def test_proxy_protocol_on_is_a_note_for_the_target(world):
    _edit(TargetGroup, GROUP, lambda g: g.attributes.update(
        {"proxy_protocol_v2.enabled": "true"}))(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.reachable
    [proxy] = [h for h in found.hops if h.name == "proxy protocol v2"]
    assert proxy.verdict == "note" and "must parse it" in proxy.detail


def _nlb_guarded(balancer: LoadBalancer) -> None:
    balancer.security_group_ids = [NLB_SG]


def test_an_nlb_that_does_not_enforce_its_rules_on_privatelink_traffic(world):
    _edit(LoadBalancer, BALANCER, _nlb_guarded)(world)
    assert not diagnose(world, "i-00000000000000001", NAME, 80).reachable
    _edit(LoadBalancer, BALANCER, lambda b: setattr(
        b, "enforce_inbound_rules_on_privatelink", "off"))(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.reachable, found.failure
    [hop] = [h for h in found.hops if h.name == "NLB SG ingress"]
    assert "does not enforce its inbound rules on PrivateLink traffic" in hop.detail


def test_a_group_reference_on_privatelink_traffic_is_the_clients_own(world):
    """The NLB's rule names a group of the provider's VPC, whose member there has the
    consumer client's address (overlapping CIDRs): that is not the client, who is refused,
    as the firewall refuses it; a rule naming the client's own group admits it."""
    app = "sg-00000000000000006"
    with world.transaction() as tx:
        tx.put(SecurityGroup(**common(id=app, vpc_id=PROVIDER_VPC, group_name="app",
                                      description="", rules=[])))
        tx.put(NetworkInterface(**common(
            id="eni-20000000000000006", vpc_id=PROVIDER_VPC, subnet_id=PROVIDER_SUBNET,
            availability_zone="us-west-2a", private_ip_address="10.0.1.11",
            group_ids=[app])))
        tx.edit(SecurityGroup, NLB_SG).rules.append(_rule(15, False, referenced_group_id=app))
    _edit(LoadBalancer, BALANCER, _nlb_guarded)(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.failure is not None and found.failure.name == "NLB SG ingress", found.hops
    _edit(SecurityGroup, NLB_SG, lambda g: g.rules.append(
        _rule(16, False, referenced_group_id=CLIENT_SG)))(world)
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.reachable, found.failure


def test_straight_to_an_nlb_its_groups_see_the_client(world):
    """An instance of the NLB's own VPC dialling a node: the NLB's inbound rules see the
    client's address; a rule naming the client's group admits it."""
    client_sg = "sg-00000000000000005"
    with world.transaction() as tx:
        tx.put(SecurityGroup(**common(id=client_sg, vpc_id=PROVIDER_VPC, group_name="app",
                                      description="", rules=[SecurityGroupRule(
                                          rule_id="sgr-00000000000000010", egress=True,
                                          ip_protocol="-1", cidr_ipv4="0.0.0.0/0")])))
        tx.put(NetworkInterface(**common(
            id="eni-20000000000000005", vpc_id=PROVIDER_VPC, subnet_id=PROVIDER_SUBNET,
            availability_zone="us-west-2a", private_ip_address="10.1.1.20",
            group_ids=[client_sg])))
        tx.put(Instance(**common(
            id="i-00000000000000005", reservation_id="r-0", image_id="ami-0",
            instance_type="t3.micro", subnet_id=PROVIDER_SUBNET, vpc_id=PROVIDER_VPC,
            availability_zone="us-west-2a", network_interface_id="eni-20000000000000005",
            private_ip_address="10.1.1.20", state="running", group_ids=[client_sg])))
    found = diagnose(world, "i-00000000000000005", "10.1.1.9", 80)
    assert found.reachable, found.failure
    names = [h.name for h in found.hops]
    assert names[names.index("destination"):][:3] == ["destination", "NLB SG ingress",
                                                       "NLB listener"]
    _edit(LoadBalancer, BALANCER, _nlb_guarded)(world)
    found = diagnose(world, "i-00000000000000005", "10.1.1.9", 80)
    assert found.failure is not None and found.failure.name == "NLB SG ingress", found.hops
    assert found.failure.fix is not None and found.failure.fix.command == (
        f"aws ec2 authorize-security-group-ingress --group-id {NLB_SG} --protocol tcp "
        "--port 80 --cidr 10.1.1.20/32 --region us-west-2")
    _edit(SecurityGroup, NLB_SG, lambda g: g.rules.append(
        _rule(9, False, referenced_group_id=client_sg)))(world)
    found = diagnose(world, "i-00000000000000005", "10.1.1.9", 80)
    assert found.reachable, found.failure


def test_a_target_rule_naming_the_nlbs_group_admits_its_nodes(world):
    with world.transaction() as tx:
        tx.edit(LoadBalancer, BALANCER).enforce_inbound_rules_on_privatelink = "off"
        tx.edit(LoadBalancer, BALANCER).security_group_ids = [NLB_SG]
        tx.edit(NetworkInterface, "eni-00000000000000009").group_ids = [NLB_SG]
        tx.edit(SecurityGroup, TARGET_SG).rules[:] = [
            _rule(14, False, referenced_group_id=NLB_SG)]
    found = diagnose(world, "i-00000000000000001", NAME, 80)
    assert found.reachable, found.failure
    assert [h.verdict for h in found.hops if h.name.startswith("NLB SG")] == ["ok", "ok"]
