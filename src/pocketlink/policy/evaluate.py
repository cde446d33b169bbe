"""The decision: one resource-based policy (an endpoint policy) against one request.

IAM's "Policy evaluation logic", for a single policy: every statement that applies is found;
an applicable ``Deny`` is an explicit deny and wins; otherwise an applicable ``Allow`` allows;
otherwise the request is implicitly denied ("By default, all requests are implicitly
denied"). A statement applies when its principal, action, resource and every condition match.
A request naming several resources is allowed only if each of them is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pocketlink.policy.conditions import Value, condition_matches, normalize_context
from pocketlink.policy.document import Policy, Principals, Statement
from pocketlink.policy.patterns import expand, like, resource_like

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class Caller:
    """Who signed the request. ``account`` None is an anonymous (unsigned) request.

    ``arn`` is the caller's own ARN (a user, or an assumed-role session); ``role_arn`` the
    role behind a session, which a policy may name instead ("IAM role principals").
    ``service`` is a service principal such as ``ec2.amazonaws.com``.
    """

    account: str | None = None
    arn: str | None = None
    role_arn: str | None = None
    service: str | None = None

    @property
    def principal_arn(self) -> str | None:
        """aws:PrincipalArn: the role's ARN for a role session, else the caller's ARN."""
        return self.role_arn or self.arn


@dataclass(frozen=True)
class Request:
    action: str  # "ssm:GetParameter"
    resources: tuple[str, ...] = ("*",)  # ARNs; "*" for an action on no particular resource
    caller: Caller = field(default_factory=Caller)
    context: Mapping[str, object] = field(default_factory=dict)  # condition keys -> values


@dataclass(frozen=True)
class Decision:
    effect: str  # ALLOW | EXPLICIT_DENY | IMPLICIT_DENY
    statement: Statement | None = None  # the statement that decided, if one did
    resource: str | None = None  # for a deny: the resource it concerns

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW

    @property
    def reason(self) -> str:
        """Why, in words an AccessDenied message can carry."""
        if self.effect == ALLOW:
            return f"allowed by {self.statement.name}"
        if self.effect == EXPLICIT_DENY:
            return f"explicitly denied by {self.statement.name}"
        return "no statement allows it"


def evaluate(policy: Policy, request: Request) -> Decision:
    context = request_context(request)
    allowed_by: Statement | None = None
    for resource in request.resources or ("*",):
        decision = _evaluate_one(policy, request, resource, context)
        if decision.effect != ALLOW:
            return decision
        allowed_by = allowed_by or decision.statement
    return Decision(ALLOW, allowed_by)


def _evaluate_one(policy: Policy, request: Request, resource: str, context: dict[str, Value]) -> Decision:
    allow: Statement | None = None
    for statement in policy.statements:
        if not _applies(statement, policy, request, resource, context):
            continue
        if statement.effect == "Deny":
            return Decision(EXPLICIT_DENY, statement, resource)
        allow = allow or statement
    return Decision(ALLOW, allow) if allow else Decision(IMPLICIT_DENY, None, resource)


def request_context(request: Request) -> dict[str, Value]:
    """The request's condition keys, lower-cased, with what the caller implies filled in.

    aws:PrincipalAccount, aws:PrincipalArn and (for an IAM user) aws:username come from the
    caller unless the context already holds them. An anonymous caller's account is the word
    ``anonymous`` ("For anonymous requests, the request context returns anonymous").
    """
    context = normalize_context(request.context)
    caller = request.caller
    if caller.account or not caller.service:
        context.setdefault("aws:principalaccount", caller.account or "anonymous")
    if caller.principal_arn:
        context.setdefault("aws:principalarn", caller.principal_arn)
    if caller.arn and caller.arn.split(":", 5)[-1].startswith("user/"):
        context.setdefault("aws:username", caller.arn.rsplit("/", 1)[-1])
    return context


def _applies(statement: Statement, policy: Policy, request: Request, resource: str,
             context: dict[str, Value]) -> bool:
    root = policy.account_is_root
    if statement.principal is not None and not _principal_matches(statement.principal, request.caller,
                                                                   root):
        return False
    if statement.not_principal is not None and _principal_matches(statement.not_principal, request.caller,
                                                                  root):
        return False
    if statement.actions is not None and not _action_matches(statement.actions, request.action):
        return False
    if statement.not_actions is not None and _action_matches(statement.not_actions, request.action):
        return False
    if statement.resources is not None and not _resource_matches(
            statement.resources, resource, policy, context):
        return False
    if statement.not_resources is not None and _resource_matches(
            statement.not_resources, resource, policy, context):
        return False
    return all(condition_matches(c, context, policy.variables) for c in statement.conditions)


def _principal_matches(principals: Principals, caller: Caller, account_is_root: bool = False) -> bool:
    """``*`` is everyone, anonymous callers included; an account ("arn:aws:iam::ID:root")
    stands for every principal of that account ("does not limit permissions to only the root
    user"), or for its root user alone when ``account_is_root`` (a gateway endpoint's
    policy); other ARNs name one user, role or session."""
    if principals.everyone:
        return True
    for kind, identifier in principals.identifiers:
        if kind == "AWS":
            if caller.account and identifier == f"arn:aws:iam::{caller.account}:root" and (
                    not account_is_root or caller.arn == identifier):
                return True
            if identifier in (caller.arn, caller.role_arn):
                return True
        elif kind == "Service" and identifier == caller.service:
            return True
    return False


def _action_matches(patterns: tuple[str, ...], action: str) -> bool:
    """Actions: the prefix and the name "are case insensitive"; ``*`` and ``?`` are wildcards."""
    return any(like(((pattern, True),), action, ignore_case=True) for pattern in patterns)


def _resource_matches(patterns: tuple[str, ...], resource: str, policy: Policy,
                      context: dict[str, Value]) -> bool:
    for pattern in patterns:
        pieces = expand(pattern, context, policy.variables)
        # "the resource that includes a policy variable with no value will not match any resource"
        if pieces is not None and resource_like(pieces, resource):
            return True
    return False
