"""Endpoint policies, enforced: every request that came through a VPC endpoint is evaluated
against that endpoint's PolicyDocument before a service sees it, and a denied one gets the
service's own AccessDenied error.

Only the service front knows that a request came through an endpoint: it hands the gateway a
``NetworkPath`` naming the endpoint (``vpce_id``). A request without one (the host's :4566,
the "internet") meets no endpoint policy. The request is put as IAM sees it: the IAM actions
of its operation (``policy.actions``), the ARNs it acts on (``policy.resources``), who signed
it (``caller_of``, the one place a principal is decided) and the context keys the path gives
(aws:SourceVpce, aws:SourceVpc, aws:VpcSourceIp; not aws:SourceIp, which AWS leaves out
through an endpoint). The words of a denial are IAM's ("Troubleshoot access denied error
messages"): ``User: ARN is not authorized to perform: ACTION on resource: ARN because no VPC
endpoint policy allows the ACTION action`` or ``... with an explicit deny in a VPC endpoint
policy``.

A gateway endpoint's policy takes this same road (the front names the gateway endpoint in the
path); what differs there is how it reads an account principal: as the account's root user
alone (``Policy.account_is_root``), as AWS documents for gateway endpoints. AWS does not
refuse such a policy, so neither does CreateVpcEndpoint here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from pocketlink.gateway.identity import Credentials
from pocketlink.gateway.paths import NetworkPath
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.policy import (
    EXPLICIT_DENY,
    Caller,
    Decision,
    MalformedPolicy,
    Policy,
    Request,
    evaluate,
    parse_endpoint_policy,
)
from pocketlink.policy.actions import iam_actions
from pocketlink.policy.document import DEFAULT_VERSION
from pocketlink.policy.resources import resource_arns
from pocketlink.services.operations import Call
from pocketlink.store import Store
from pocketlink.wire.errors import ServiceError

log = logging.getLogger("pocketlink.api")

# A policy that allows nothing: what a stored document IAM's grammar refuses, or a vanished
# endpoint, amounts to (fail closed).
_NOTHING = Policy(DEFAULT_VERSION, ())

# How each service says "access denied": (code, HTTP status). JSON services answer
# AccessDeniedException with 400 (the SSM answer in the issue; DynamoDB, KMS, Logs, ECR,
# Secrets Manager alike); EC2 UnauthorizedOperation; the query and REST services AccessDenied
# with 403; SNS its modelled AuthorizationError (403); SQS its query API's AccessDenied (403,
# a guess for its JSON protocol).
_DENIED: dict[str, tuple[str, int]] = {
    "ec2": ("UnauthorizedOperation", 403),
    "s3": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
    "elbv2": ("AccessDenied", 403),
    "route53": ("AccessDenied", 403),
    "iam": ("AccessDenied", 403),
    "sqs": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
}
_JSON_DENIED = ("AccessDeniedException", 400)
# Operations AWS authorizes against no policy: "No permissions are required to perform this
# operation. If an administrator attaches a policy to your identity that explicitly denies
# access to the sts:GetCallerIdentity action, you can still perform this operation" (the STS
# API Reference).
_UNAUTHORIZED = frozenset({("sts", "GetCallerIdentity")})


class EndpointPolicyDenied(ServiceError):
    """A request an endpoint policy refused, in the words and code of its service."""

    def __init__(self, service: str, message: str) -> None:
        code, status = _DENIED.get(service, _JSON_DENIED)
        super().__init__(message, code=code, status=status)


def caller_of(credentials: Credentials, access_key: str) -> Caller:
    """Who signed the request, as a policy's Principal and aws:PrincipalArn see it: an account's
    own key acts as the account (``arn:aws:iam::ACCOUNT:root``); an instance role's key as its
    session (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/i-...``), which a policy may also name
    by the role's ARN; no key is anonymous."""
    if not access_key:
        return Caller()
    known = credentials.find(access_key)
    if known is None or known.principal is None:
        account = credentials.account_for(access_key)
        return Caller(account=account, arn=f"arn:aws:iam::{account}:root")
    return Caller(account=known.account, arn=known.principal, role_arn=known.role_arn)


def network_context(path: NetworkPath | None, loopback: bool = False) -> dict[str, object]:
    """The condition keys the path a request took gives (bucket policies' too). A request
    on the daemon's own port (None: the host's) has no address AWS would know, and came
    over plain HTTP: aws:SecureTransport is false, unless that port listens on loopback
    only (``loopback``, the default ``--host 127.0.0.1``). Then the request never left the
    machine, which is what a TLS-only policy (``cdk bootstrap``'s bucket's
    AllowSSLRequestsOnly) guards, and the SDKs pointed at ``http://localhost`` pass it."""
    if path is None:
        return {"aws:SecureTransport": loopback}
    context: dict[str, object] = {"aws:SecureTransport": True}  # the front speaks only TLS
    if path.vpce_id:
        context["aws:SourceVpce"] = path.vpce_id
    if path.vpc_id:
        context["aws:SourceVpc"] = path.vpc_id
        context["aws:VpcSourceIp"] = path.source_ip
    else:
        context["aws:SourceIp"] = path.source_ip
    return context


def request_context(path: NetworkPath | None, caller: Caller, call: Call, region: str,
                    now: datetime | None = None, loopback: bool = False) -> dict[str, object]:
    now = now or datetime.now(UTC)
    context = network_context(path, loopback)
    context.update({
        "aws:RequestedRegion": region,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(now.timestamp()),
        "aws:PrincipalType": "Account" if caller.account else "Anonymous",
        "aws:ViaAWSService": False,
        "aws:PrincipalIsAWSService": False,
    })
    if caller.account:
        context["aws:userid"] = caller.account  # the root user's id is its account's
    if call.service == "s3":  # ListBucket's own keys: which part of the bucket is listed
        for key, member in (("s3:prefix", "Prefix"), ("s3:delimiter", "Delimiter")):
            if member in call.params:
                context[key] = call.params[member]
    return context


def policy_requests(call: Call, caller: Caller, path: NetworkPath | None, region: str,
                    now: datetime | None = None, loopback: bool = False
                    ) -> tuple[Request, ...]:
    """The request as IAM evaluates it: one per IAM action the operation needs, each with
    the resources that action concerns. A request whose operation is unknown is asked as
    action ``*``, which only a policy allowing every action lets through."""
    context = request_context(path, caller, call, region, now, loopback)
    actions = iam_actions(call.service, call.operation) if call.operation else ("*",)
    arns = resource_arns(call.service, call.operation, call.params, caller.account or "",
                         region)
    return tuple(Request(action, arns[i] if i < len(arns) else ("*",), caller, context)
                 for i, action in enumerate(actions))


def denial_message(service: str, caller: Caller, action: str, decision: Decision) -> str:
    if service == "s3":
        return "Access Denied"  # S3 gives IAM's words only to its own account and organization
    who = caller.arn or "anonymous"
    on = f" on resource: {decision.resource}" if decision.resource not in (None, "*") else ""
    why = (" with an explicit deny in a VPC endpoint policy" if decision.effect == EXPLICIT_DENY
           else f" because no VPC endpoint policy allows the {action} action")
    message = f"User: {who} is not authorized to perform: {action}{on}{why}"
    if service == "ec2":
        return f"You are not authorized to perform this operation. {message}"
    return message


class EndpointPolicies:
    def __init__(self, store: Store, credentials: Credentials) -> None:
        self.store = store
        self.credentials = credentials
        self._parsed: dict[str, tuple[str, Policy]] = {}  # endpoint id -> (document, policy)

    def authorize(self, path: NetworkPath | None, call: Callable[[], Call], access_key: str,
                  region: str) -> None:
        """Raise ``EndpointPolicyDenied`` if the endpoint the request came through refuses it.
        ``call`` is asked only then: reading a request costs a parse."""
        if path is None or not path.vpce_id:
            return
        endpoint = self.store.get(VpcEndpoint, path.vpce_id)
        if endpoint is None:
            self._parsed.pop(path.vpce_id, None)
        policy = self.policy_of(endpoint) if endpoint is not None else _NOTHING
        if policy is None:
            return  # a service without endpoint policies: "we allow full access"
        request = call()
        if (request.service, request.operation) in _UNAUTHORIZED:
            return
        caller = caller_of(self.credentials, access_key)
        for asked in policy_requests(request, caller, path, region):
            decision = evaluate(policy, asked)
            if not decision.allowed:
                log.info("%s %s through %s: %s", request.service, asked.action, path.vpce_id,
                         decision.reason)
                raise EndpointPolicyDenied(request.service, denial_message(
                    request.service, caller, asked.action, decision))

    def policy_of(self, endpoint: VpcEndpoint) -> Policy | None:
        """The endpoint's policy, parsed once per version of its document; None for an
        endpoint whose service takes no policy (a custom endpoint service)."""
        document = endpoint.policy_document
        if document is None:
            return None
        cached = self._parsed.get(endpoint.id)
        if cached is not None and cached[0] == document:
            return cached[1]
        try:
            policy = parse_endpoint_policy(document)
            if endpoint.endpoint_type == "Gateway":
                policy = replace(policy, account_is_root=True)
        except MalformedPolicy as error:
            log.warning("the policy of %s is not a valid endpoint policy (%s): it allows "
                        "nothing", endpoint.id, error)
            policy = _NOTHING
        self._parsed[endpoint.id] = (document, policy)
        return policy
