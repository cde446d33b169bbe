"""The typed pieces under the handlers, without a daemon: error classes per service, the
lookup table, ``tx.edit`` and the one polling helper."""

from __future__ import annotations

import pytest

from pocketlink.api.errors import ec2, elbv2, route53
from pocketlink.api.lookups import LOOKUPS
from pocketlink.model.ec2 import Vpc
from pocketlink.model.vpn import CustomerGateway, VpnConnection, VpnGateway
from pocketlink.polling import NotYet, wait_for
from pocketlink.store.sqlite import Store, Vanished
from pocketlink.wire.errors import EC2_ERRORS


def test_an_ec2_class_is_its_code_without_dots_and_words_its_message() -> None:
    error = ec2.InvalidVpcIDNotFound("vpc-0123")
    assert (error.code, error.status, error.message) == (
        "InvalidVpcID.NotFound", 400, "The vpc ID 'vpc-0123' does not exist")
    assert ec2.DryRunOperation().status == 412
    assert {getattr(ec2, code.replace(".", "")).code for code in EC2_ERRORS} == set(EC2_ERRORS)


def test_model_error_shapes_keep_the_models_code_and_status() -> None:
    error = elbv2.LoadBalancerNotFoundException("Load balancer 'x' not found")
    assert (error.code, error.status, error.message) == (
        "LoadBalancerNotFound", 400, "Load balancer 'x' not found")
    assert route53.NoSuchHostedZone("gone").status == 404


def test_every_lookup_names_a_malformed_error_with_its_prefix() -> None:
    # Site-to-Site VPN's ids have a prefix (CreateTags finds their kind by it), but AWS's
    # Malformed errors for them are not known: an id of the wrong shape is not found.
    unknown = {VpnGateway, CustomerGateway, VpnConnection}
    for kind, lookup in LOOKUPS.items():
        assert (lookup.malformed is None) == (lookup.prefix == "" or kind in unknown), kind


def test_edit_of_a_resource_that_is_gone_raises(tmp_path) -> None:
    store = Store(tmp_path / "state.db", [Vpc])
    with pytest.raises(Vanished), store.transaction() as tx:
        tx.edit(Vpc, "vpc-0123456789abcdef0")
    store.close()


def test_wait_for_gives_the_first_true_answer_or_says_what_never_came() -> None:
    answers = iter([0, [], "yes"])
    assert wait_for(lambda: next(answers), "an answer", timeout=5, every=0) == "yes"
    with pytest.raises(NotYet, match="the impossible"):
        wait_for(lambda: False, "the impossible", timeout=0.01, every=0)
