"""One pager for every service whose page tokens are ours to make (EC2, ACM, Auto Scaling,
ELBv2, CloudWatch): ``pages.window`` as data, then each service paging through a listing
and refusing a token it did not give, in its own words."""

from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError

from pocketlink.api.pages import window


class Refused(Exception):
    pass


def _refuse() -> Exception:
    return Refused()


@pytest.mark.parametrize("items, size, pages", [
    (list(range(5)), 2, [[0, 1], [2, 3], [4]]),
    (list(range(4)), 2, [[0, 1], [2, 3]]),
    (list(range(3)), 5, [[0, 1, 2]]),
    ([], 3, [[]]),
])
def test_a_window_walks_a_listing_page_by_page(items, size, pages):
    got, token = [], None
    while True:
        chunk, token = window(items, token, size, _refuse)
        got.append(chunk)
        if token is None:
            break
    assert got == pages


@pytest.mark.parametrize("token", [
    "nonsense", "12", base64.urlsafe_b64encode(b"12").decode(),
    base64.urlsafe_b64encode(b"acm:1").decode(), base64.urlsafe_b64encode(b"pl:x").decode(),
    base64.urlsafe_b64encode("pl:\u0662".encode()).decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode()])
def test_a_token_the_pager_did_not_make_is_the_services_error(token):
    with pytest.raises(Refused):
        window([1, 2, 3], token, 1, _refuse)


def _code(call, **params) -> str:
    with pytest.raises(ClientError) as refused:
        call(**params)
    return refused.value.response["Error"]["Code"]


def test_every_service_refuses_a_token_it_did_not_give_in_its_own_words(client):
    bad = "bm90LW91cnM="  # base64 of "not-ours"
    assert _code(client("ec2").describe_vpcs, MaxResults=5, NextToken=bad) == \
        "InvalidPaginationToken"
    assert _code(client("acm").list_certificates, NextToken=bad) == "InvalidArgsException"
    assert _code(client("autoscaling").describe_auto_scaling_groups, NextToken=bad) == \
        "InvalidNextToken"
    assert _code(client("elbv2").describe_load_balancers, Marker=bad) == "ValidationError"
    assert _code(client("cloudwatch").list_metrics, NextToken=bad) == "InvalidNextToken"


def test_elbv2_pages_through_its_ssl_policies_with_markers(client):
    elbv2 = client("elbv2")
    every = [p["Name"] for p in elbv2.describe_ssl_policies()["SslPolicies"]]
    assert len(every) > 3
    seen, marker = [], None
    while True:
        page = elbv2.describe_ssl_policies(PageSize=3, **({"Marker": marker} if marker else {}))
        assert len(page["SslPolicies"]) <= 3
        seen += [p["Name"] for p in page["SslPolicies"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == every
