"""ECR's authorization tokens, without a daemon: what one holds, how long, and what is not one."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from pocketlink.services.ecr_tokens import (
    AuthorizationTokens,
    ExpiredToken,
    InvalidToken,
    basic_credentials,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_a_token_holds_12_hours(tmp_path) -> None:
    tokens = AuthorizationTokens(tmp_path)
    password, expires = tokens.issue("444444444444", "ap-northeast-1", "arn:aws:iam::444444444444:root", NOW)
    assert expires == NOW + timedelta(hours=12)
    token = tokens.check(password, NOW + timedelta(hours=11, minutes=59))
    assert (token.account, token.region, token.expires) == ("444444444444", "ap-northeast-1",
                                                            expires)
    with pytest.raises(ExpiredToken):
        tokens.check(password, NOW + timedelta(hours=12))
    assert (tmp_path / "token.key").stat().st_mode & 0o777 == 0o600


def test_the_key_is_kept_and_nobody_else_makes_tokens(tmp_path) -> None:
    password, _ = AuthorizationTokens(tmp_path / "a").issue("1" * 12, "us-east-1", "x", NOW)
    assert AuthorizationTokens(tmp_path / "a").check(password, NOW).account == "1" * 12
    with pytest.raises(InvalidToken):
        AuthorizationTokens(tmp_path / "b").check(password, NOW)
    document = json.loads(base64.b64decode(password))
    claims = json.loads(base64.b64decode(document["payload"]))
    claims["account"] = "2" * 12  # another account's registry, with the old signature
    document["payload"] = base64.b64encode(json.dumps(claims).encode()).decode()
    with pytest.raises(InvalidToken):
        AuthorizationTokens(tmp_path / "a").check(
            base64.b64encode(json.dumps(document).encode()).decode(), NOW)
    for junk in ("", "AWS", "e30=", base64.b64encode(b"[]").decode()):
        with pytest.raises(InvalidToken):
            AuthorizationTokens(tmp_path / "a").check(junk, NOW)


def test_basic_credentials() -> None:
    header = "Basic " + base64.b64encode(b"AWS:pass:word").decode()
    assert basic_credentials(header) == ("AWS", "pass:word")
    assert basic_credentials("Bearer x") is None
    assert basic_credentials("Basic !!!") is None
    assert basic_credentials("Basic " + base64.b64encode(b"nocolon").decode()) is None
