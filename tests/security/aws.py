"""What the security suites share: a client whose every error must be a proper AWS error,
and the check that a call is refused with a given code."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import check_aws_error

REGION = "us-east-1"


def client(daemon, service: str, account: str, validate: bool = True):
    """A client of ``account`` (``Daemon.client``) whose every error is checked."""
    made = daemon.client(service, account, REGION, validate=validate)
    made.meta.events.register("after-call", check_aws_error)
    return made


def refused(code: str, call, **params) -> str:
    """Runs ``call`` expecting the AWS error ``code``; gives its message."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert caught.value.response["Error"]["Code"] == code, caught.value.response
    return caught.value.response["Error"]["Message"]
