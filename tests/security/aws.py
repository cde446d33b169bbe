"""What the security suites share: a client whose every error must be a proper AWS error,
and the check that a call is refused with a given code."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import check_aws_error

REGION = "us-east-1"


def client(daemon, service: str, account: str, validate: bool = True):
    """A client of ``account``; ``validate=False`` lets through what botocore would stop
    before sending, so that the daemon's own checks are what answers."""
    made = boto3.client(service, endpoint_url=daemon.endpoint, region_name=REGION,
                        aws_access_key_id=account, aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 1},
                                      parameter_validation=validate))
    made.meta.events.register("after-call", check_aws_error)
    return made


def refused(code: str, call, **params) -> str:
    """Runs ``call`` expecting the AWS error ``code``; gives its message."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert caught.value.response["Error"]["Code"] == code, caught.value.response
    return caught.value.response["Error"]["Message"]
