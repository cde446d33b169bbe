"""S3 bucket policies, enforced: every S3 request that reaches the backend, from the host or
through an endpoint, is evaluated against its bucket's policy before moto sees it, with
the condition keys of the path it took (``endpoint_policy.network_context``): through a
gateway or interface endpoint aws:SourceVpce, aws:SourceVpc and aws:VpcSourceIp; from the
host (the daemon's own port) none of them, and aws:SecureTransport false (true when that
port listens on loopback only, ``network_context``). So the classic
"Deny unless aws:SourceVpce is vpce-..." locks out the host and every other VPC, and lets
in the endpoint's VPC, as at AWS.

The policy lives in moto (PutBucketPolicy goes there as any S3 call); pocketlink reads it
from the backend the first time a bucket is asked for, keeps it, and forgets it when a
PutBucketPolicy, DeleteBucketPolicy or DeleteBucket through the gateway succeeds (every
change goes through the gateway). A document IAM's grammar refuses is refused at
PutBucketPolicy with S3's MalformedPolicy, so that the stored policy is the enforced one.

What is enforced is the policy's explicit Deny, which wins over everything as at AWS. An
Allow adds nothing: pocketlink has no IAM identity policies (an account's key acts as its
root user, a role's session as the role, each allowed whatever its account holds), and
moto lets every account reach every bucket. The bucket owner's root user keeps
GetBucketPolicy, PutBucketPolicy and DeleteBucketPolicy whatever the policy says, as at
AWS ("To ensure that bucket owners don't inadvertently lock themselves out of their own
buckets, the root principal in a bucket owner's account can perform ... even if their bucket
policy explicitly denies the root principal's access"): on the host, an account's own key
can always take a locking policy away. pocketlink does not know a bucket's owner, so the
root user of any account keeps these three (a guess that only matters across accounts).
A denial is S3's: 403 AccessDenied, "Access Denied".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from pocketlink.gateway.endpoint_policy import caller_of, policy_requests
from pocketlink.gateway.identity import Credentials
from pocketlink.gateway.paths import NetworkPath
from pocketlink.policy import EXPLICIT_DENY, MalformedPolicy, Policy, evaluate, parse_policy
from pocketlink.services.operations import Call
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.message import HttpRequest, HttpResponse

log = logging.getLogger("pocketlink.api")

# The bucket owner's root user may always do these (S3 API Reference, DeleteBucketPolicy).
ROOT_KEEPS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})
# A successful one of these changes (or ends) a bucket's policy.
CHANGES = frozenset({"PutBucketPolicy", "DeleteBucketPolicy", "DeleteBucket"})
KEPT = 10_000  # buckets whose policy is kept; past that the oldest is read again when asked

Exchange = Callable[[HttpRequest], Awaitable[HttpResponse]]


class BucketPolicyDenied(ServiceError):
    def __init__(self) -> None:
        super().__init__("Access Denied", code="AccessDenied", status=403)


class BucketPolicies:
    def __init__(self, credentials: Credentials, loopback: bool = False) -> None:
        self.credentials = credentials
        self.loopback = loopback  # the daemon's own port listens on loopback only
        self._policies: dict[str, Policy | None] = {}  # bucket -> its policy, None: none
        # Counts the changes: a policy read while one was made is used once, not kept.
        self._changes = 0

    async def authorize(self, exchange: Exchange, path: NetworkPath | None, call: Call,
                        request: HttpRequest, access_key: str, region: str) -> None:
        """Raise ``BucketPolicyDenied`` if the bucket's policy denies ``call``;
        ``exchange`` asks the backend (the policy, read once)."""
        bucket = call.params.get("Bucket")
        if not bucket:
            return  # ListBuckets, or a request S3 will refuse itself
        if call.operation == "PutBucketPolicy":
            _check(request.body)
        policy = await self._policy(exchange, bucket)
        if policy is None:
            return
        caller = caller_of(self.credentials, access_key)
        root = caller.role_arn is None and caller.arn == f"arn:aws:iam::{caller.account}:root"
        for asked in policy_requests(call, caller, path, region, loopback=self.loopback):
            if root and asked.action in ROOT_KEEPS:
                continue
            for resource in asked.resources:  # each: only an explicit deny counts here
                decision = evaluate(policy, replace(asked, resources=(resource,)))
                if decision.effect == EXPLICIT_DENY:
                    log.info("s3 %s on %s: %s by its bucket policy", asked.action, resource,
                             decision.reason)
                    raise BucketPolicyDenied()

    def answered(self, call: Call, response: HttpResponse) -> None:
        """Forget the policy of a bucket whose policy a request changed."""
        if call.operation in CHANGES and response.status < 300:
            self._policies.pop(call.params.get("Bucket", ""), None)
            self._changes += 1

    async def _policy(self, exchange: Exchange, bucket: str) -> Policy | None:
        if bucket in self._policies:
            return self._policies[bucket]
        changes = self._changes
        answer = await exchange(HttpRequest("GET", f"/{bucket}", "policy",
                                            {"host": "s3.amazonaws.com"}))
        policy: Policy | None = None
        if answer.status == 200:
            try:
                policy = parse_policy(answer.body.decode(), require_principal=True)
            except (MalformedPolicy, UnicodeDecodeError) as error:
                log.warning("the policy of bucket %s is not valid (%s): not enforced", bucket,
                            error)
        elif answer.status != 404:  # 404: NoSuchBucketPolicy (or NoSuchBucket: moto says so)
            raise ServiceError("the bucket's policy could not be read; try again",
                               code="ServiceUnavailable", status=503)
        if changes != self._changes:
            return policy
        self._policies[bucket] = policy
        if len(self._policies) > KEPT:  # names asked for by a caller are not bounded
            del self._policies[next(iter(self._policies))]
        return policy


def _check(body: bytes) -> None:
    """PutBucketPolicy's document, as IAM's grammar reads it (S3's MalformedPolicy)."""
    try:
        parse_policy(body.decode(), require_principal=True)
    except (MalformedPolicy, UnicodeDecodeError) as error:
        raise ServiceError(str(error), code="MalformedPolicy", status=400) from None
