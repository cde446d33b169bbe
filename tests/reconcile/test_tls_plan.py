"""The data plane's plan for a TLS listener: it listens once its certificates are issued
(their files there), with its certificates, policy and ALPN beside the backend; the spec
travels to the workers and back unchanged. No daemon, no root."""

from __future__ import annotations

from dataclasses import replace

from pocketlink.dataplane.control import spec_from, spec_message
from pocketlink.dataplane.plan import TlsTermination, plan
from pocketlink.model.elbv2 import Listener
from tests.reconcile.conftest import BALANCER, GROUP, add_endpoint, common

CERTIFICATE = "arn:aws:acm:us-west-2:111111111111:certificate/00000000-0000-0000-0000-000000000001"
SNI = "arn:aws:acm:us-west-2:111111111111:certificate/00000000-0000-0000-0000-000000000002"
FILES = {CERTIFICATE: ("/acm/1.pem", "/acm/1.key"), SNI: ("/acm/2.pem", "/acm/2.key")}


def _tls_listener(store) -> None:
    with store.transaction() as tx:
        tx.put(Listener(**common(id=BALANCER + "/tls", load_balancer_arn=BALANCER,
                                 protocol="TLS", port=443, target_group_arn=GROUP,
                                 certificates=[CERTIFICATE, SNI],
                                 ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                                 alpn_policy=["HTTP2Preferred"])))


def test_a_tls_listener_is_planned_once_its_certificates_are_issued(store) -> None:
    endpoint = add_endpoint(store, 1, "available")
    _tls_listener(store)
    ports = {(s.owner, s.port) for s in plan(store).values()}
    assert (endpoint.id, 443) not in ports  # no certificate files: nowhere
    assert (endpoint.id, 443) not in {(s.owner, s.port) for s in plan(
        store, certificates=lambda arn: FILES[arn] if arn == CERTIFICATE else None).values()}
    planned = plan(store, certificates=FILES.get)
    [spec] = [s for s in planned.values() if s.owner == endpoint.id and s.port == 443]
    assert spec.tls == TlsTermination(certificates=(FILES[CERTIFICATE], FILES[SNI]),
                                      ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                                      alpn=("h2", "http/1.1"), reencrypt=False)
    [tcp] = [s for s in planned.values() if s.owner == endpoint.id and s.port == 80]
    assert tcp.tls is None and tcp.backend == spec.backend  # the same way to the targets
    # The worker is told all but the daemon's own ``target_group`` (its per-target counts).
    assert spec.backend.target_group == GROUP
    for told in (spec, tcp):
        assert spec_from(spec_message(told)) == replace(
            told, backend=replace(told.backend, target_group=""))
