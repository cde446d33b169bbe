"""ACM and TLS listener tests: checked clients on the shared API-only daemon, accounts and
domains of each test's own (the public DNS is one for all accounts)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from pocketlink.polling import wait_for
from tests.conftest import check_aws_error
from tests.privatelink.conftest import new_account

REGION = "us-east-1"


@pytest.fixture
def account() -> str:
    return new_account()


@pytest.fixture
def client(daemon, account) -> Callable[..., Any]:
    """``client(service)``: the test's account's boto3 client, its errors checked."""

    def make(service: str, region: str = REGION):
        made = daemon.client(service, account, region)
        made.meta.events.register("after-call", check_aws_error)
        return made

    return make


@pytest.fixture
def acm(client):
    return client("acm")


@pytest.fixture
def domain() -> str:
    return f"t{secrets.token_hex(4)}.example.com"


@pytest.fixture
def zone(client, domain) -> dict:
    """A public hosted zone of the test's own domain."""
    return client("route53").create_hosted_zone(
        Name=domain, CallerReference=secrets.token_hex(8))["HostedZone"]


def publish(route53, zone: dict, record: dict) -> None:
    """The validation CNAME ACM asked for, written in ``zone``."""
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": record["Name"], "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": record["Value"]}]}}]})


def issued(acm, route53, zone: dict, name: str, **params) -> str:
    """A certificate for ``name``, validated through ``zone`` and ISSUED: its ARN."""
    arn = acm.request_certificate(DomainName=name, ValidationMethod="DNS",
                                  **params)["CertificateArn"]
    for option in acm.describe_certificate(CertificateArn=arn)["Certificate"][
            "DomainValidationOptions"]:
        publish(route53, zone, option["ResourceRecord"])
    wait_for(lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
             == "ISSUED", f"{name} issued")
    return arn
