"""The pure planners, table-driven against an in-memory store: desired topology, the data
plane's plan and the due state transitions. No daemon, no root, no kernel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketlink.dataplane.plan import plan
from pocketlink.dataplane.sockets import ROOT_NAMESPACE
from pocketlink.model.acm import Certificate
from pocketlink.model.aws_services import gateway_network, gateway_prefix_lists, public_addresses
from pocketlink.model.ec2 import Route, RouteTable
from pocketlink.model.peering import VpcPeeringConnection
from pocketlink.model.privatelink import LastError, VpcEndpoint
from pocketlink.model.states import (
    TRANSITIONS,
    AttachmentState,
    CertificateStatus,
    InstanceState,
    LoadBalancerState,
    PeeringState,
    TransitGatewayState,
    VpcEndpointState,
    VpnState,
    may_become,
)
from pocketlink.model.transit_gateways import (
    TransitGateway,
    TransitGatewayRouteTable,
    TransitGatewayVpcAttachment,
)
from pocketlink.model.vpn import VpcAttachment, VpnConnection, VpnGateway
from pocketlink.network import names
from pocketlink.network.topology import RouteSpec, desired, desired_vpc, inputs, unchanged
from pocketlink.reconcile.certificates import _issued, _timed_out
from pocketlink.reconcile.lifecycle import ENDPOINT_ERROR, LAUNCH_ERROR, due_transitions
from pocketlink.reconcile.network import NetworkStatus
from pocketlink.services.acm_authority import Issued
from tests.reconcile.conftest import (
    ACCOUNT,
    BALANCER,
    PROVIDER_VPC,
    REGION,
    SUBNET,
    VPC,
    add_endpoint,
    add_instance,
    common,
)

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def _applied(store, transitions) -> None:
    with store.transaction() as tx:
        for transition in transitions:
            transition.apply(tx)


# --- desired topology ----------------------------------------------------------------------
@pytest.mark.parametrize(("state", "hosted"), [
    ("pending", True), ("running", True), ("stopping", True), ("stopped", True),
    ("shutting-down", False), ("terminated", False),
])
def test_an_instance_has_a_namespace_while_hosted(store, state, hosted) -> None:
    instance = add_instance(store, 1, state)
    topology = desired(store)
    assert (names.namespace(instance.id) in topology.namespaces) is hosted
    assert {r.vpc_id for r in topology.routers} == {VPC, PROVIDER_VPC}


def test_a_router_has_a_bridge_per_subnet_with_its_gateway_and_the_resolver(store) -> None:
    router = next(r for r in desired(store).routers if r.vpc_id == VPC)
    (bridge,) = router.bridges
    assert bridge.addresses == ("10.0.1.1/24",)
    assert "10.0.0.2/32" in router.resolver_addresses


@pytest.mark.parametrize(("state", "open_"), [
    ("pendingAcceptance", False), ("pending", True), ("available", True),
    ("rejected", False), ("failed", False),
])
def test_an_endpoint_eni_lets_traffic_in_only_while_listening(store, state, open_) -> None:
    add_endpoint(store, 1, state)
    router = next(r for r in desired(store).routers if r.vpc_id == VPC)
    # A closed ENI is dispatched to a chain that drops; an open one without groups is not.
    assert ("ip daddr 10.0.1.101 jump" in router.ruleset) is not open_
    assert "10.0.1.101/24" in router.bridges[0].addresses


def test_only_a_changed_vpc_has_new_inputs(store) -> None:
    before = {v: g.members() for v, g in inputs(store).items()}
    add_instance(store, 1, "pending")
    after = {v: g.members() for v, g in inputs(store).items()}
    assert unchanged(before[PROVIDER_VPC], after[PROVIDER_VPC])
    assert not unchanged(before[VPC], after[VPC])
    assert len(desired_vpc(store, inputs(store)[VPC]).hosts) == 1


# --- the data plane's plan -----------------------------------------------------------------
@pytest.mark.parametrize(("state", "listens"), [
    ("pendingAcceptance", False), ("pending", True), ("available", True),
    ("rejected", False), ("failed", False), ("deleting", False),
])
def test_an_endpoint_is_planned_while_listening(store, state, listens) -> None:
    endpoint = add_endpoint(store, 1, state)
    owners = {spec.owner for spec in plan(store).values()}
    assert (endpoint.id in owners) is listens
    assert BALANCER in owners


def test_an_endpoint_listener_goes_to_the_node_of_its_zone(store) -> None:
    endpoint = add_endpoint(store, 1, "available")
    (spec,) = [s for s in plan(store).values() if s.owner == endpoint.id]
    assert (spec.namespace, spec.address, spec.port) == (names.namespace(VPC), "10.0.1.101", 80)
    assert spec.backend.source == "10.1.1.9"
    assert spec.backend.namespace == names.namespace(PROVIDER_VPC)


def test_an_endpoint_to_an_aws_service_goes_to_the_service_front(store) -> None:
    """From the daemon's own namespace to the front's loopback port, with the PROXY header
    that names the endpoint; nowhere without a front."""
    endpoint = add_endpoint(store, 2, "available")
    with store.transaction() as tx:
        mine = tx.get(VpcEndpoint, endpoint.id)
        mine.service_id, mine.service_name = None, "com.amazonaws.us-west-2.ssm"
        mine.ip_address_type = "ipv4"
    assert not [s for s in plan(store).values() if s.owner == endpoint.id]
    (spec,) = [s for s in plan(store, ("127.0.0.1", 40123)).values() if s.owner == endpoint.id]
    assert (spec.namespace, spec.address, spec.port) == (names.namespace(VPC), "10.0.1.102", 443)
    assert spec.backend.namespace == ROOT_NAMESPACE
    assert (spec.backend.targets, spec.backend.proxy_protocol, spec.backend.endpoint_id) == (
        (("127.0.0.1", 40123),), True, endpoint.id)


def test_a_gateway_endpoints_route_is_a_local_route_and_a_listener_in_the_router(store) -> None:
    """The prefix list's CIDR delivered to the router in the table of the subnets that
    route it, a listener on the service's public address there, going to the front with
    the endpoint each caller's subnet routes through; nothing once the route is gone."""
    [s3] = [p for p in gateway_prefix_lists(REGION) if p.name.endswith(".s3")]
    table = "rtb-" + VPC[4:]
    with store.transaction() as tx:
        tx.put(VpcEndpoint(**common(
            id="vpce-00000000000000042", vpc_id=VPC, service_name=f"com.amazonaws.{REGION}.s3",
            service_id=None, service_owner="amazon", endpoint_type="Gateway", state="available",
            route_table_ids=[table])))
        tx.get(RouteTable, table).routes.append(Route(
            destination_prefix_list_id=s3.prefix_list_id, gateway_id="vpce-00000000000000042"))
    router = desired_vpc(store, inputs(store)[VPC]).router
    number = names.route_table_number(SUBNET)
    assert RouteSpec(number, str(gateway_network(REGION, "s3")), local=True) in router.routes
    (spec,) = [s for s in plan(store, ("127.0.0.1", 40123)).values()
               if s.owner == "vpce-00000000000000042"]
    assert (spec.namespace, spec.address, spec.port) == (
        names.namespace(VPC), public_addresses(REGION, "s3")[0], 443)
    assert spec.backend.gateway_routes == (("10.0.1.0/24", "vpce-00000000000000042"),)
    assert spec.backend.targets == (("127.0.0.1", 40123),) and spec.backend.proxy_protocol

    with store.transaction() as tx:
        tx.get(RouteTable, table).routes.clear()
    assert not [r for r in desired_vpc(store, inputs(store)[VPC]).router.routes if r.local]
    assert not [s for s in plan(store, ("127.0.0.1", 40123)).values()
                if s.owner == "vpce-00000000000000042"]


# --- due transitions -----------------------------------------------------------------------
@pytest.mark.parametrize(("state", "network", "expected"), [
    ("pending", None, "running"),
    ("pending", NetworkStatus(), "pending"),
    ("pending", NetworkStatus(ready={"i-00000000000000001"}), "running"),
    ("pending", NetworkStatus(failed={VPC: "no"}), "pending"),
    ("stopping", NetworkStatus(), "stopping"),
    ("stopping", NetworkStatus(halted={"i-00000000000000001"}), "stopped"),
    ("shutting-down", NetworkStatus(namespaces={"pl-i-00000000000000001"}), "shutting-down"),
    ("shutting-down", NetworkStatus(), "terminated"),
    ("running", NetworkStatus(failed={VPC: "no"}), "running"),
])
def test_instance_transitions(store, state, network, expected) -> None:
    instance = add_instance(store, 1, state)
    _applied(store, due_transitions(store, MOMENT, network))
    assert store.get(type(instance), instance.id).state == expected


def test_an_instance_whose_network_fails_stays_pending_with_a_reason_then_runs(store) -> None:
    instance = add_instance(store, 1, "pending")
    failed = NetworkStatus(failed={instance.id: "AddAddress eth0 10.0.1.11/24: Permission denied"})
    _applied(store, due_transitions(store, MOMENT, failed))
    seen = store.get(type(instance), instance.id)
    assert (seen.state, seen.state_reason) == ("pending", LAUNCH_ERROR)
    assert "Permission denied" in seen.state_reason_message
    assert due_transitions(store, MOMENT, failed) == []  # said once, not again each pass
    _applied(store, due_transitions(store, MOMENT, NetworkStatus(ready={instance.id})))
    seen = store.get(type(instance), instance.id)
    assert (seen.state, seen.state_reason) == ("running", None)


@pytest.mark.parametrize(("state", "network", "listening", "expected"), [
    ("pending", None, True, "available"),
    ("pending", NetworkStatus(), False, "pending"),
    ("pending", NetworkStatus(), True, "available"),
    ("pending", NetworkStatus(failed={VPC: "refused"}), True, "failed"),
    ("available", NetworkStatus(failed={VPC: "refused"}), True, "failed"),
    ("available", NetworkStatus(failed={PROVIDER_VPC: "refused"}), True, "available"),
    ("pendingAcceptance", NetworkStatus(failed={VPC: "refused"}), True, "pendingAcceptance"),
    ("deleting", NetworkStatus(), True, "deleted"),
])
def test_endpoint_transitions(store, state, network, listening, expected) -> None:
    endpoint = add_endpoint(store, 1, state)
    _applied(store, due_transitions(store, MOMENT, network, lambda _: listening))
    seen = store.get(VpcEndpoint, endpoint.id)
    assert seen.state == expected
    if expected == "failed":
        assert seen.last_error.code == ENDPOINT_ERROR
        assert "refused" in seen.last_error.message


@pytest.mark.parametrize(("code", "network", "expected"), [
    (ENDPOINT_ERROR, NetworkStatus(), "pending"),  # the network converged again
    (ENDPOINT_ERROR, NetworkStatus(failed={VPC: "still"}), "failed"),
    (ENDPOINT_ERROR, None, "failed"),  # no network: nothing says it is repaired
    ("SomethingElse", NetworkStatus(), "failed"),  # not the reconciler's failure
])
def test_a_failed_endpoint_recovers_only_from_its_network_failure(store, code, network,
                                                                   expected) -> None:
    endpoint = add_endpoint(store, 1, "failed")
    with store.transaction() as tx:
        tx.get(VpcEndpoint, endpoint.id).last_error = LastError(code=code, message="x")
    _applied(store, due_transitions(store, MOMENT, network))
    seen = store.get(VpcEndpoint, endpoint.id)
    assert seen.state == expected
    assert (seen.last_error is None) is (expected == "pending")


@pytest.mark.parametrize(("listening", "network", "expected"), [
    (True, NetworkStatus(), "active"),
    (False, NetworkStatus(), "provisioning"),
    (True, NetworkStatus(failed={PROVIDER_VPC: "no"}), "provisioning"),
])
def test_load_balancer_transitions(store, listening, network, expected) -> None:
    from pocketlink.model.elbv2 import LoadBalancer
    with store.transaction() as tx:
        tx.get(LoadBalancer, BALANCER).state = "provisioning"
    _applied(store, due_transitions(store, MOMENT, network, lambda _: listening))
    assert store.get(LoadBalancer, BALANCER).state == expected


# --- the state machines --------------------------------------------------------------------
@pytest.mark.parametrize(("current", "new", "allowed"), [
    ("pending", InstanceState.RUNNING, True),
    ("running", InstanceState.PENDING, False),
    ("terminated", InstanceState.RUNNING, False),
    ("pending", VpcEndpointState.AVAILABLE, True),
    ("pending", VpcEndpointState.FAILED, True),
    ("failed", VpcEndpointState.PENDING, True),
    ("deleted", VpcEndpointState.PENDING, False),
    ("rejected", VpcEndpointState.AVAILABLE, False),
    ("provisioning", LoadBalancerState.ACTIVE, True),
    ("active", LoadBalancerState.PROVISIONING, False),
    ("pending", LoadBalancerState.ACTIVE, False),  # another machine's "pending"
    ("initiating-request", PeeringState.PENDING_ACCEPTANCE, True),
    ("pending-acceptance", PeeringState.PROVISIONING, True),
    ("provisioning", PeeringState.ACTIVE, True),
    ("active", PeeringState.EXPIRED, False),
    ("rejected", PeeringState.ACTIVE, False),
    ("pending", TransitGatewayState.AVAILABLE, True),
    ("pending", TransitGatewayState.DELETING, True),
    ("available", TransitGatewayState.DELETED, False),  # through deleting
    ("deleted", TransitGatewayState.AVAILABLE, False),
    ("pending", VpnState.AVAILABLE, True),
    ("available", VpnState.DELETED, True),  # a gateway's deletion
    ("deleted", VpnState.PENDING, False),
    ("attaching", AttachmentState.ATTACHED, True),
    ("attached", AttachmentState.DETACHING, True),
    ("attached", AttachmentState.DETACHED, False),  # through detaching
    ("detached", AttachmentState.ATTACHED, False),
    ("PENDING_VALIDATION", CertificateStatus.ISSUED, True),
    ("PENDING_VALIDATION", CertificateStatus.VALIDATION_TIMED_OUT, True),
    ("ISSUED", CertificateStatus.VALIDATION_TIMED_OUT, False),
    ("VALIDATION_TIMED_OUT", CertificateStatus.ISSUED, False),
    ("ISSUED", CertificateStatus.REVOKED, True),
])
def test_may_become(current, new, allowed) -> None:
    assert may_become(current, new) is allowed


@pytest.mark.parametrize("machine", list(TRANSITIONS), ids=lambda m: m.__name__)
def test_every_machine_names_each_of_its_states_once_and_moves_only_within_itself(
        machine) -> None:
    assert set(TRANSITIONS[machine]) == set(machine)
    assert all(type(new) is machine for moves in TRANSITIONS[machine].values() for new in moves)


TGW = "tgw-00000000000000001"
TGW_TABLE = "tgw-rtb-00000000000000001"
TGW_ATTACHMENT = "tgw-attach-00000000000000001"
PEERING = "pcx-00000000000000001"
VGW = "vgw-00000000000000001"
VPN = "vpn-00000000000000001"
CERTIFICATE = "arn:aws:acm:us-west-2:111111111111:certificate/00000000-0000-0000-0000-000000000001"


def _state_machines(store) -> None:
    """One resource of each machine the reconciler moves outside model/states.py's first
    five: a peering, a transit gateway with a route table and an attachment, a virtual
    private gateway attaching, a VPN connection."""
    with store.transaction() as tx:
        tx.put(VpcPeeringConnection(**common(
            id=PEERING, requester_vpc_id=VPC, accepter_vpc_id=PROVIDER_VPC,
            accepter_owner_id=ACCOUNT, accepter_region=REGION)))
        tx.put(TransitGateway(**common(id=TGW)))
        tx.put(TransitGatewayRouteTable(**common(id=TGW_TABLE, transit_gateway_id=TGW)))
        tx.put(TransitGatewayVpcAttachment(**common(
            id=TGW_ATTACHMENT, transit_gateway_id=TGW, vpc_id=VPC, subnet_ids=[SUBNET])))
        tx.put(VpnGateway(**common(id=VGW, attachments=[VpcAttachment(vpc_id=VPC)])))
        tx.put(VpnConnection(**common(id=VPN, customer_gateway_id="cgw-00000000000000001",
                                      vpn_gateway_id=VGW)))


def _states(store) -> dict[str, str]:
    return {PEERING: store.get(VpcPeeringConnection, PEERING).status,
            TGW: store.get(TransitGateway, TGW).state,
            TGW_TABLE: store.get(TransitGatewayRouteTable, TGW_TABLE).state,
            TGW_ATTACHMENT: store.get(TransitGatewayVpcAttachment, TGW_ATTACHMENT).state,
            VGW: store.get(VpnGateway, VGW).attachments[0].state,
            VPN: store.get(VpnConnection, VPN).state}


def test_the_reconcilers_moves_of_the_other_machines(store) -> None:
    _state_machines(store)
    _applied(store, due_transitions(store, MOMENT))
    assert _states(store) == {PEERING: "pending-acceptance", TGW: "available",
                              TGW_TABLE: "pending",  # its gateway was pending at the pass
                              TGW_ATTACHMENT: "available", VGW: "attached", VPN: "available"}
    _applied(store, due_transitions(store, MOMENT))
    assert _states(store)[TGW_TABLE] == "available"


# Each move the reconciler would make, taken out of the table: the pass refuses to write it.
@pytest.mark.parametrize(("machine", "state", "resource"), [
    (PeeringState, PeeringState.INITIATING_REQUEST, PEERING),
    (TransitGatewayState, TransitGatewayState.PENDING, TGW),
    (VpnState, VpnState.PENDING, VPN),
    (AttachmentState, AttachmentState.ATTACHING, f"{VGW}'s attachment"),
])
def test_a_move_the_table_forbids_is_never_written(store, monkeypatch, machine, state,
                                                   resource) -> None:
    _state_machines(store)
    monkeypatch.setitem(TRANSITIONS[machine], state, ())
    before = _states(store)
    with pytest.raises(ValueError, match=f"{resource}.*no move from {state}"):
        _applied(store, due_transitions(store, MOMENT))
    assert _states(store) == before


@pytest.mark.parametrize(("status", "issued", "timed_out"), [
    ("PENDING_VALIDATION", "ISSUED", "VALIDATION_TIMED_OUT"),
    ("VALIDATION_TIMED_OUT", "VALIDATION_TIMED_OUT", "VALIDATION_TIMED_OUT"),
    ("ISSUED", "ISSUED", "ISSUED"),  # issued by a round while the pass timed it out
])
def test_a_certificate_moves_only_as_its_machine_lets_it(store, status, issued,
                                                         timed_out) -> None:
    with store.transaction() as tx:
        tx.put(Certificate(**common(
            id=CERTIFICATE, domain_name="example.com", subject_alternative_names=["example.com"],
            validation_method="DNS", key_algorithm="RSA_2048", status=status)))
    proof = Issued(serial="01", subject="CN=example.com", issuer="CN=pocketlink",
                   not_before=MOMENT, not_after=MOMENT, certificate_pem="", chain_pem="")
    with store.transaction() as tx:
        _issued(CERTIFICATE, proof)(tx)
    assert store.get(Certificate, CERTIFICATE).status == issued
    with store.transaction() as tx:
        tx.get(Certificate, CERTIFICATE).status = status
    with store.transaction() as tx:
        _timed_out(CERTIFICATE)(tx)
    assert store.get(Certificate, CERTIFICATE).status == timed_out


class _Authority:
    """ACM's authority as the validation round calls it: each issue a new leaf."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    def issue(self, certificate_id: str, names: list[str], key_algorithm: str) -> Issued:
        self.issued.append(certificate_id)
        return Issued(serial=f"{len(self.issued):02x}", subject="CN=example.com",
                      issuer="CN=pocketlink", not_before=MOMENT, not_after=MOMENT,
                      certificate_pem="", chain_pem="")

    def forget_all_but(self, kept: set[str]) -> None:
        pass


def test_a_certificate_a_round_issued_is_not_asked_again_before_its_move(store) -> None:
    """The round's certificate is still PENDING_VALIDATION in the store until its ISSUED
    move is written: asked again meanwhile, it was issued twice, its files a leaf whose
    serial the store did not hold (the listener then served another serial)."""
    import asyncio

    from pocketlink.reconcile.certificates import CertificateValidation

    with store.transaction() as tx:
        tx.put(Certificate(**common(
            id=CERTIFICATE, domain_name="example.com", subject_alternative_names=["example.com"],
            validation_method="DNS", key_algorithm="RSA_2048", status="PENDING_VALIDATION")))
    authority = _Authority()

    async def settle() -> None:
        pass

    async def passes() -> list[str]:
        validation = CertificateValidation(store, authority, ("127.0.0.1", 9), settle)
        assert await validation.moves() == []  # the round starts
        await validation._round
        with store.transaction() as tx:  # the store changes meanwhile, as it always does
            tx.put(Certificate(**common(
                id="other", domain_name="example.org", subject_alternative_names=[],
                validation_method="EMAIL", key_algorithm="RSA_2048", status="ISSUED")))
        moves = await validation.moves()
        assert validation._round is None  # no second round for the same certificate
        return [move.what for move in moves]

    assert asyncio.run(passes()) == [f"{CERTIFICATE} ISSUED"]
    assert authority.issued == [CERTIFICATE]


def test_states_are_stored_as_aws_strings() -> None:
    import json
    assert json.dumps(VpcEndpointState.PENDING_ACCEPTANCE) == '"pendingAcceptance"'
    assert InstanceState.SHUTTING_DOWN == "shutting-down"
