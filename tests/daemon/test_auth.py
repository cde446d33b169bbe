"""Access keys pick the account; with --strict-auth, SigV4 signatures are checked."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def strict(make_daemon, tmp_path_factory):
    path = tmp_path_factory.mktemp("creds") / "credentials.toml"
    path.write_text('[[credentials]]\naccess_key = "AKIAPROVIDER"\n'
                    'secret_key = "provider-secret"\naccount = "111111111111"\n')
    return make_daemon("--credentials", str(path), "--strict-auth")


def test_known_key_with_its_secret_is_its_account(strict) -> None:
    sts = strict.client("sts", access_key="AKIAPROVIDER", secret="provider-secret")
    assert sts.get_caller_identity()["Account"] == "111111111111"


def test_wrong_secret_is_signature_does_not_match(strict) -> None:
    ec2 = strict.client("ec2", access_key="AKIAPROVIDER", secret="not-the-secret")
    with pytest.raises(ClientError) as error:
        ec2.describe_vpcs()
    assert error.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key_is_refused_under_strict_auth(strict) -> None:
    sts = strict.client("sts", access_key="AKIASTRANGER", secret="x")
    with pytest.raises(ClientError) as error:
        sts.get_caller_identity()
    assert error.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_without_strict_auth_any_secret_goes(daemon) -> None:
    assert daemon.client("sts", "333333333333", secret="anything").get_caller_identity()[
        "Account"] == "333333333333"
    assert daemon.client("sts", access_key="test").get_caller_identity()[
        "Account"] == "000000000000"
