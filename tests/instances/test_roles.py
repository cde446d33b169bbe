"""Role credentials and IMDSv2 tokens on their own: rotation, expiry, what a key acts as."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from pocketlink.gateway.identity import Credentials
from pocketlink.imds import roles
from pocketlink.imds.tokens import Tokens
from pocketlink.model.ec2 import Instance
from pocketlink.model.iam import RoleSession
from pocketlink.store import Store

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
ROLE = roles.Role("app-role", "arn:aws:iam::111111111111:role/app-role", "AROAEXAMPLEID1234567")


def _world(tmp_path) -> tuple[Store, Instance]:
    store = Store(tmp_path / "state.db", [Instance, RoleSession])
    instance = Instance(id="i-0123456789abcdef0", account="111111111111", region="us-west-2",
                        reservation_id="r-1", image_id="ami-1", instance_type="t3.micro",
                        subnet_id="subnet-1", vpc_id="vpc-1", availability_zone="us-west-2a",
                        network_interface_id="eni-1", private_ip_address="10.0.1.5")
    with store.transaction() as tx:
        tx.put(instance)
    return store, instance


def test_credentials_are_renewed_before_they_expire(tmp_path):
    store, instance = _world(tmp_path)
    first = roles.session_for(store, instance, ROLE, T0)
    assert first.expiration == T0 + roles.SESSION_LIFE
    assert first.id.startswith("ASIA") and len(first.id) == 20
    later = T0 + roles.SESSION_LIFE - roles.RENEW_BEFORE - timedelta(minutes=1)
    assert roles.session_for(store, instance, ROLE, later).id == first.id
    due = T0 + roles.SESSION_LIFE - roles.RENEW_BEFORE + timedelta(minutes=1)
    second = roles.session_for(store, instance, ROLE, due)
    assert second.id != first.id and second.expiration == due + roles.SESSION_LIFE
    # The old set still works until it expires, as at AWS.
    assert store.get(RoleSession, first.id) is not None
    # Long expired: forgotten.
    roles.session_for(store, instance, ROLE, first.expiration + roles.FORGET_AFTER +
                      timedelta(minutes=1))
    assert store.get(RoleSession, first.id) is None
    store.close()


def test_a_key_acts_as_the_assumed_role(tmp_path):
    store, instance = _world(tmp_path)
    session = roles.session_for(store, instance, ROLE, T0)
    credentials = Credentials()
    credentials.sessions = lambda key: roles.credential(store, key)
    assert credentials.account_for(session.id) == "111111111111"
    assert credentials.caller(session.id) == (
        f"AROAEXAMPLEID1234567:{instance.id}",
        f"arn:aws:sts::111111111111:assumed-role/app-role/{instance.id}")
    assert credentials.session_refusal(session.id, session.session_token, T0) is None
    assert credentials.session_refusal(session.id, None, T0)[0] == "InvalidClientTokenId"
    assert credentials.session_refusal(session.id, "other", T0)[0] == "InvalidClientTokenId"
    assert credentials.session_refusal(session.id, session.session_token,
                                       session.expiration)[0] == "ExpiredToken"
    # A key nobody issued is nobody's.
    assert credentials.caller("ASIAUNKNOWNUNKNOWN00") is None
    store.close()


def test_tokens():
    tokens = Tokens()
    token = tokens.issue("i-1", 60, now=1000.0)
    assert tokens.valid(token, "i-1", now=1059.0)
    assert not tokens.valid(token, "i-1", now=1060.0)  # its TTL is over
    assert not tokens.valid(token, "i-2", now=1000.0)  # another instance's
    raw = base64.urlsafe_b64decode(token)
    forged = base64.urlsafe_b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()
    assert not tokens.valid(forged, "i-1", now=1000.0)
    assert not tokens.valid("not base64 at all!", "i-1", now=1000.0)
    assert not Tokens().valid(token, "i-1", now=1000.0)  # from before a restart
