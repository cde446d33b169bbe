"""FIS tests: checked clients of each test's own account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import check_aws_error
from tests.privatelink.conftest import new_account

REGION = "us-east-1"
ROLE = "arn:aws:iam::{}:role/fis"


def checked(daemon, service: str, account: str, region: str = REGION) -> Any:
    made = daemon.client(service, account, region)
    made.meta.events.register("after-call", check_aws_error)
    return made


@pytest.fixture
def account() -> str:
    return new_account()


@pytest.fixture
def client(daemon, account) -> Callable[..., Any]:
    return lambda service: checked(daemon, service, account)


def disrupt_template(fis, account: str, subnet_arns: list[str], duration: str = "PT5M",
                     **extra) -> dict:
    """A template that disrupts the subnets' connectivity for ``duration``."""
    return fis.create_experiment_template(
        description="cut the subnets off", roleArn=ROLE.format(account),
        stopConditions=[{"source": "none"}],
        targets={"subnets": {"resourceType": "aws:ec2:subnet", "resourceArns": subnet_arns,
                             "selectionMode": "ALL"}},
        actions={"cut": {"actionId": "aws:network:disrupt-connectivity",
                         "parameters": {"duration": duration, "scope": "all"},
                         "targets": {"Subnets": "subnets"}}}, **extra)["experimentTemplate"]
