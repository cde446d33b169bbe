"""Fixtures of the CloudFormation suite: one networked daemon for the stacks (they make real
VPCs, NLBs and endpoints), each test in accounts of its own."""

from __future__ import annotations

import os
import secrets

import pytest

from tests.conftest import check_aws_error

REGION = "us-east-1"


def new_account() -> str:
    return f"8{secrets.randbelow(10**11):011d}"


@pytest.fixture(scope="module")
def cfn_daemon(make_daemon):
    if os.geteuid() != 0:
        pytest.skip("stacks make real namespaces: root needed")
    return make_daemon("--max-request-rate", "1000000")


@pytest.fixture
def account() -> str:
    return new_account()


@pytest.fixture
def clients(cfn_daemon, account):
    """Checked clients of one fresh account: every error a proper AWS error."""
    def client(service: str):
        made = cfn_daemon.client(service, account)
        made.meta.events.register("after-call", check_aws_error)
        return made
    return client


@pytest.fixture
def cfn(clients):
    return clients("cloudformation")
