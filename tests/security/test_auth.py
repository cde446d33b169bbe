"""Strict auth that holds (issue 14, item 2): a signature is good for the very request it
was made for, now, and for nothing else. Every request here is signed by botocore itself,
then replayed, altered or aged as an attacker would; good ones go through."""

from __future__ import annotations

import datetime
import hashlib

import pytest

from pocketlink.gateway import control
from pocketlink.wire import sigv4
from pocketlink.wire.message import HttpRequest
from tests.security.signed import (
    STS_VERSION,
    form,
    presign,
    raw,
    send,
    sign,
    signing_at,
)

KEY, SECRET, ACCOUNT = "AKIASTRICT", "strict-secret", "111111111111"


def now() -> datetime.datetime:
    """Now, when the test runs (not when the module was collected: a long run would age
    every "recent" signature)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@pytest.fixture(scope="module")
def strict(make_daemon, tmp_path_factory):
    path = tmp_path_factory.mktemp("creds") / "credentials.toml"
    path.write_text(f'[[credentials]]\naccess_key = "{KEY}"\nsecret_key = "{SECRET}"\n'
                    f'account = "{ACCOUNT}"\n')
    path.chmod(0o600)
    return make_daemon("--credentials", str(path), "--strict-auth", "--no-network")


def vpcs(daemon, cidr: str) -> list[str]:
    """The VPCs of ``cidr`` the strict daemon's account holds (asked with a good signature)."""
    ec2 = daemon.client("ec2", access_key=KEY, secret=SECRET)
    return [v["VpcId"] for v in ec2.describe_vpcs(
        Filters=[{"Name": "cidr", "Values": [cidr]}])["Vpcs"]]


def error_code(body: str) -> str:
    return body.split("<Code>", 1)[1].split("</Code>", 1)[0]


def test_a_good_signature_goes_through(strict) -> None:
    created = send(strict.endpoint, sign(strict.endpoint, form(
        "CreateVpc", CidrBlock="10.61.0.0/16"), KEY, SECRET))
    assert created.status == 200, created.body
    assert vpcs(strict, "10.61.0.0/16")


def test_a_signature_replayed_with_another_body_is_refused(strict) -> None:
    """The attack of issue 14: DescribeVpcs's signature carrying CreateVpc's body."""
    captured = sign(strict.endpoint, form("DescribeVpcs"), KEY, SECRET)
    body = form("CreateVpc", CidrBlock="10.62.0.0/16").encode()
    replayed = send(strict.endpoint, captured, body=body)
    assert replayed.status == 403
    assert error_code(replayed.body) == "SignatureDoesNotMatch"
    # ... and saying the old body's hash does not help: the body is hashed, not believed
    claimed = hashlib.sha256(captured.body).hexdigest()
    replayed = send(strict.endpoint, captured, body=body,
                    headers={"X-Amz-Content-SHA256": claimed})
    assert replayed.status == 403
    assert error_code(replayed.body) == "SignatureDoesNotMatch"
    assert vpcs(strict, "10.62.0.0/16") == []


def test_a_body_hash_that_is_the_bodys_own_goes_through(strict) -> None:
    body = form("DescribeVpcs")
    request = sign(strict.endpoint, body, KEY, SECRET)
    sent = send(strict.endpoint, request,
                headers={"X-Amz-Content-SHA256": hashlib.sha256(body.encode()).hexdigest()})
    assert sent.status == 200, sent.body


def test_an_unsigned_payload_is_for_s3_only(strict) -> None:
    body = form("CreateVpc", CidrBlock="10.63.0.0/16")
    request = sign(strict.endpoint, body, KEY, SECRET)
    sent = send(strict.endpoint, request, headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert sent.status == 403
    sent = send(strict.endpoint, request, headers={
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"})
    assert sent.status == 403
    assert vpcs(strict, "10.63.0.0/16") == []


def test_an_altered_signed_header_is_refused(strict) -> None:
    request = sign(strict.endpoint, form("CreateVpc", CidrBlock="10.64.0.0/16"), KEY, SECRET)
    altered = send(strict.endpoint, request,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert altered.status == 403
    assert error_code(altered.body) == "SignatureDoesNotMatch"
    missing = send(strict.endpoint, request, headers={"Content-Type": None})
    assert missing.status == 403
    assert vpcs(strict, "10.64.0.0/16") == []


def test_a_request_signed_in_2015_is_refused(strict) -> None:
    """The other attack of issue 14: signed in 2015, replayed as DeleteVpc."""
    vpc = send(strict.endpoint, sign(strict.endpoint, form(
        "CreateVpc", CidrBlock="10.65.0.0/16"), KEY, SECRET))
    vpc_id = vpc.body.split("<vpcId>", 1)[1].split("</vpcId>", 1)[0]
    with signing_at(datetime.datetime(2015, 1, 1)):
        aged = sign(strict.endpoint, form("DeleteVpc", VpcId=vpc_id), KEY, SECRET)
    sent = send(strict.endpoint, aged)
    assert sent.status == 400  # EC2's common error for a time out of range
    assert error_code(sent.body) == "RequestExpired"
    assert vpcs(strict, "10.65.0.0/16") == [vpc_id]
    # a query service says why, as AWS does
    with signing_at(datetime.datetime(2015, 1, 1)):
        aged = sign(strict.endpoint, form("GetCallerIdentity", STS_VERSION), KEY, SECRET,
                    service="sts")
    sent = send(strict.endpoint, aged)
    assert sent.status == 403
    assert error_code(sent.body) == "SignatureDoesNotMatch"
    assert "Signature expired: 20150101T000000Z is now earlier than" in sent.body
    assert "- 15 min.)" in sent.body


def test_a_request_signed_in_the_future_is_refused(strict) -> None:
    with signing_at(now() + datetime.timedelta(hours=1)):
        ahead = sign(strict.endpoint, form("GetCallerIdentity", STS_VERSION), KEY, SECRET,
                     service="sts")
    sent = send(strict.endpoint, ahead)
    assert sent.status == 403
    assert "Signature not yet current:" in sent.body and "+ 15 min.)" in sent.body
    with signing_at(now() + datetime.timedelta(hours=1)):
        ahead = sign(strict.endpoint, form("CreateVpc", CidrBlock="10.66.0.0/16"), KEY, SECRET)
    assert error_code(send(strict.endpoint, ahead).body) == "RequestExpired"
    assert vpcs(strict, "10.66.0.0/16") == []


def test_a_few_minutes_of_clock_skew_are_forgiven(strict) -> None:
    with signing_at(now() - datetime.timedelta(minutes=10)):
        late = sign(strict.endpoint, form("DescribeVpcs"), KEY, SECRET)
    assert send(strict.endpoint, late).status == 200


def test_a_presigned_url_holds_until_it_expires(strict) -> None:
    query = form("DescribeVpcs")
    good = raw(strict.endpoint, "GET", presign(strict.endpoint, query, KEY, SECRET, 300))
    assert good.status == 200, good.body
    with signing_at(now() - datetime.timedelta(seconds=120)):
        stale = presign(strict.endpoint, query, KEY, SECRET, 60)
    sent = raw(strict.endpoint, "GET", stale)
    assert sent.status == 400
    assert error_code(sent.body) == "RequestExpired"
    # a week is the most a presigned URL may say
    with signing_at(now()):
        too_long = presign(strict.endpoint, query, KEY, SECRET, 604801)
    assert raw(strict.endpoint, "GET", too_long).status == 400


@pytest.mark.parametrize("expires", ["%C2%B2", "%D9%A1", "%EF%BC%91", "0", "-1", "1e3", ""])
def test_a_presigned_url_whose_expiry_is_not_a_number_of_seconds_is_refused(strict, expires
                                                                             ) -> None:
    """Only ASCII digits make X-Amz-Expires (a Unicode digit is no number AWS reads)."""
    url = presign(strict.endpoint, form("DescribeVpcs"), KEY, SECRET, 300)
    assert "X-Amz-Expires=300" in url
    sent = raw(strict.endpoint, "GET", url.replace("X-Amz-Expires=300", f"X-Amz-Expires={expires}"))
    assert sent.status == 400, sent.body
    assert error_code(sent.body) == "IncompleteSignature", sent.body


def test_a_presigned_url_cannot_be_pointed_at_another_action(strict) -> None:
    url = presign(strict.endpoint, form("DescribeVpcs"), KEY, SECRET, 300)
    bent = url.replace("Action=DescribeVpcs", "Action=CreateVpc&CidrBlock=10.67.0.0%2F16")
    assert raw(strict.endpoint, "GET", bent).status == 403
    assert vpcs(strict, "10.67.0.0/16") == []


@pytest.mark.parametrize("region", ["", "us-west-2.evil.com", "us-west-2/x", "mars-north-1"])
def test_a_region_that_is_not_one_is_refused_strict(strict, region) -> None:
    sent = send(strict.endpoint, sign(strict.endpoint, form(
        "CreateVpc", CidrBlock="10.68.0.0/16"), KEY, SECRET, region=region))
    assert sent.status in (401, 403)
    assert error_code(sent.body) in ("AuthFailure", "IncompleteSignature")
    assert vpcs(strict, "10.68.0.0/16") == []


@pytest.mark.parametrize("region", ["", "us-west-2.evil.com", "mars-north-1", "us-west-2/x",
                                    "us-west-\u0662"])
def test_a_region_that_is_not_one_is_refused_by_default_too(daemon, region) -> None:
    account = "444444444444"
    sent = send(daemon.endpoint, sign(daemon.endpoint, form(
        "CreateVpc", CidrBlock="10.69.0.0/16"), account, "x", region=region))
    assert sent.status in (401, 403), sent.body
    assert error_code(sent.body) in ("AuthFailure", "IncompleteSignature")
    record = control.RuntimeRecord.read(daemon.state)
    assert record is not None
    holds = control.ask(record, "GET", "/_pocketlink/status")["resources"]
    assert account not in holds
    sts = send(daemon.endpoint, sign(daemon.endpoint, form("GetCallerIdentity", STS_VERSION),
                                     account, "x", service="sts", region=region))
    assert error_code(sts.body) in ("SignatureDoesNotMatch", "IncompleteSignature")


def test_a_bad_region_says_why(daemon) -> None:
    sent = send(daemon.endpoint, sign(daemon.endpoint, form("DescribeVpcs"), "444444444444",
                                      "x", region="us-west-2.evil.com"))
    assert sent.status == 401
    assert error_code(sent.body) == "AuthFailure"
    assert "Credential should be scoped to a valid region, not 'us-west-2.evil.com'" in sent.body


def test_real_regions_of_every_partition_are_served(daemon) -> None:
    for region in ("eu-south-2", "us-gov-west-1", "ap-southeast-5"):
        sent = send(daemon.endpoint, sign(daemon.endpoint, form("DescribeVpcs"), "555555555555",
                                          "x", region=region))
        assert sent.status == 200, (region, sent.body)


def _request(signed_headers: tuple[str, ...], headers: dict[str, str]) -> tuple:
    request = HttpRequest("POST", "/", "", headers, b"Action=DescribeVpcs")
    scope = sigv4.CredentialScope(KEY, "20261201", "us-east-1", "ec2")
    return request, sigv4.Signature(scope, signed_headers, "0" * 64,
                                    headers.get("x-amz-date", ""))


def test_host_and_the_date_must_be_signed() -> None:
    """What botocore never sends, so built by hand: a signature that leaves host or the
    date out of its signed headers is incomplete, whatever it says."""
    now = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
    headers = {"host": "localhost", "x-amz-date": "20261201T120000Z"}
    request, signature = _request(("x-amz-date",), headers)
    assert sigv4.check(request, signature, SECRET, now).kind == "incomplete"
    request, signature = _request(("host",), headers)
    assert sigv4.check(request, signature, SECRET, now).kind == "incomplete"
    request, signature = _request(("host",), {"host": "localhost"})
    assert sigv4.check(request, signature, SECRET, now).kind == "incomplete"
    # the credential scope's day must be the signature's
    request, signature = _request(("host", "x-amz-date"),
                                  {"host": "localhost", "x-amz-date": "20261130T235959Z"})
    problem = sigv4.check(request, signature, SECRET, now)
    assert problem.kind == "mismatch" and "Date in Credential scope" in problem.message


# A ``Date`` header (the one SigV4 reads when there is no X-Amz-Date) whose year or hour
# no C integer holds: ``email.utils.parsedate_to_datetime`` raises OverflowError, not the
# ValueError of a date that is not one.
HUGE_DATES = ["Mon, 01 Jan 99999999999999999999 00:00:00 +0000",
              "Mon, 01 Jan 2026 99999999999999999999:00:00 +0000"]


@pytest.mark.parametrize("date", HUGE_DATES)
def test_a_date_header_no_integer_holds_is_no_date(daemon, strict, date) -> None:
    """Read as no date at all, as any other unreadable Date: ignored without strict auth
    (it signs nothing there), refused for its missing date with it; never an error at the
    HTTP level (the daemon reads the signature from a request's head, to size its body)."""
    def dated(endpoint: str, key: str, secret: str):
        request = sign(endpoint, form("DescribeRegions"), key, secret)
        return send(endpoint, request, headers={"X-Amz-Date": None, "Date": date})

    lax = dated(daemon.endpoint, "666666666666", "x")
    assert lax.status == 200, lax.body
    refused = dated(strict.endpoint, KEY, SECRET)
    assert refused.status in (400, 403), refused.body
    assert error_code(refused.body) in ("IncompleteSignature", "AuthFailure",
                                        "SignatureDoesNotMatch"), refused.body
