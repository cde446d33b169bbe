"""``BucketPolicies`` on its own: which answers of the backend it keeps. The backend is a
function here so that a change can land while a policy is being read, which a real one
makes a matter of timing (the end-to-end tests are tests/services/test_gateway_endpoints.py)."""

from __future__ import annotations

import asyncio
import json

import pytest

from pocketlink.gateway.bucket_policy import BucketPolicies, BucketPolicyDenied
from pocketlink.gateway.identity import Credentials
from pocketlink.gateway.paths import NetworkPath
from pocketlink.services.operations import Call
from pocketlink.wire.message import HttpRequest, HttpResponse

ACCOUNT = "111111111111"
DENY_OUTSIDE = json.dumps({"Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
    "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]})
GET = Call("s3", "GetObject", {"Bucket": "b", "Key": "k"})
REQUEST = HttpRequest("GET", "/b/k", "", {})


def _run(policies: BucketPolicies, exchange, path: NetworkPath | None) -> None:
    asyncio.run(policies.authorize(exchange, path, GET, REQUEST, ACCOUNT, "us-east-1"))


def test_a_policy_is_read_once_and_forgotten_when_it_changes() -> None:
    reads = []

    async def exchange(request: HttpRequest) -> HttpResponse:
        reads.append(request.query)
        return HttpResponse(200, DENY_OUTSIDE.encode())

    policies = BucketPolicies(Credentials())
    with pytest.raises(BucketPolicyDenied):
        _run(policies, exchange, None)
    _run(policies, exchange, NetworkPath("10.0.1.5", "vpce-1", "vpc-1"))
    assert reads == ["policy"]
    policies.answered(Call("s3", "DeleteBucketPolicy", {"Bucket": "b"}), HttpResponse(204, b""))
    with pytest.raises(BucketPolicyDenied):
        _run(policies, exchange, None)
    assert reads == ["policy", "policy"]


def test_a_policy_read_while_it_changed_is_not_kept() -> None:
    policies = BucketPolicies(Credentials())
    reads = []

    async def exchange(request: HttpRequest) -> HttpResponse:
        reads.append(request.query)
        if len(reads) == 1:  # the old policy, answered as a DeleteBucketPolicy succeeds
            policies.answered(Call("s3", "DeleteBucketPolicy", {"Bucket": "b"}),
                              HttpResponse(204, b""))
            return HttpResponse(200, DENY_OUTSIDE.encode())
        return HttpResponse(404, b"<Error><Code>NoSuchBucketPolicy</Code></Error>")

    with pytest.raises(BucketPolicyDenied):
        _run(policies, exchange, None)
    _run(policies, exchange, None)  # read again: none now
    assert len(reads) == 2
