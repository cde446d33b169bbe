"""The evaluator against AWS's documented answers (the table in cases.py), and the parser's refusals."""

# ruff: noqa: E501 (the MALFORMED table quotes AWS, one row a case: rows stay on their lines)
from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketlink.policy import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Caller,
    MalformedPolicy,
    Request,
    evaluate,
    parse_endpoint_policy,
    parse_policy,
)
from tests.policy.cases import ACCOUNT, CASES, PARAM, Case, policy, request, statement


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_documented_decision(case: Case) -> None:
    decision = evaluate(parse_policy(case.policy, require_principal=True), case.request)
    assert decision.effect == case.expected, f"{case.source}: {case.quote!r}"
    # The statement that decided is named, so an AccessDenied can say why.
    assert (decision.statement is None) == (case.expected == IMPLICIT_DENY)
    if case.expected == EXPLICIT_DENY:
        assert decision.statement.effect == "Deny"


def test_table_is_large_and_cited() -> None:
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.source and len(c.quote) >= 10 for c in CASES)


def test_reason_names_the_statement() -> None:
    document = policy(statement(Sid="AllowAll"), statement("Deny", Sid="NoGetParameter", Action="ssm:GetParameter"))
    parsed = parse_policy(json.dumps(document))
    assert evaluate(parsed, request()).reason == "explicitly denied by statement 'NoGetParameter'"
    assert evaluate(parsed, request("ssm:GetParameters")).reason == "allowed by statement 'AllowAll'"
    unnamed = parse_policy(policy(statement(Action="sqs:*")))
    assert evaluate(unnamed, request()).reason == "no statement allows it"
    assert evaluate(unnamed, request("sqs:SendMessage")).reason == "allowed by statement #0"


def test_caller_fills_principal_keys() -> None:
    """aws:PrincipalAccount / aws:PrincipalArn come from the signer; an explicit context value wins."""
    document = parse_policy(policy(statement(Condition={"StringEquals": {"aws:PrincipalAccount": "999999999999"}})))
    caller = Caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert not evaluate(document, Request("ssm:GetParameter", (PARAM,), caller)).allowed
    forced = Request("ssm:GetParameter", (PARAM,), caller, {"aws:PrincipalAccount": "999999999999"})
    assert evaluate(document, forced).allowed


def test_a_gateway_endpoint_reads_an_account_principal_as_its_root_user() -> None:
    """"For gateway endpoints ... If you specify the principal in the format "AWS":
    "AWS-account-ID" or "AWS":"arn:aws:iam::AWS-account-ID:root", access is granted to the
    AWS account root user only, and not all IAM users and roles for the account" (Control
    access to VPC endpoints using endpoint policies)."""
    document = parse_endpoint_policy(policy(statement(Principal={"AWS": ACCOUNT})))
    gateway = dataclasses.replace(document, account_is_root=True)
    root = Caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")
    role = Caller(ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/app/i-1",
                  role_arn=f"arn:aws:iam::{ACCOUNT}:role/app")
    assert evaluate(document, request(caller=role)).allowed  # an interface endpoint's
    assert evaluate(gateway, request(caller=root)).allowed
    assert not evaluate(gateway, request(caller=role)).allowed


def test_no_resources_means_star() -> None:
    document = parse_policy(policy(statement(Resource=PARAM)))
    assert evaluate(document, Request("sts:GetCallerIdentity", ())).effect == IMPLICIT_DENY
    assert evaluate(parse_policy(policy(statement())), Request("sts:GetCallerIdentity", ())).effect == ALLOW


# A malformed document is refused with a reason: the VPC endpoint API answers it as
# MalformedPolicyDocument. Each row: id, what AWS says, the document, words of the reason.
MALFORMED = [
    ("not-json", "An endpoint policy is a JSON policy document", "{", "Syntax errors in policy"),
    ("not-object", "An endpoint policy is a JSON policy document", "[]", "must be a JSON object"),
    ("bad-version", "IAM supports the following Version element values", policy(statement(), version="2020-01-01"),
     "Version"),
    ("no-statement", "Statement", {"Version": "2012-10-17"}, "Missing required field Statement"),
    ("empty-statement", "Statement", {"Version": "2012-10-17", "Statement": []}, "Statement must be"),
    ("unknown-top", "policy grammar", {"Statement": [statement()], "Foo": 1}, "unknown element: Foo"),
    ("unknown-element", "policy grammar", policy({**statement(), "Actions": "s3:*"}), "unknown element: Actions"),
    ("bad-effect", "Effect: Allow or Deny", policy(statement("Permit")), "Effect must be Allow or Deny"),
    ("no-principal", "It must contain a Principal element", policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
     "must have Principal or NotPrincipal"),
    ("null-principal", "It must contain a Principal element", policy({**statement(), "Principal": None}),
     "Principal cannot be null"),
    ("both-principals", "NotPrincipal", policy({**statement(), "NotPrincipal": {"AWS": ACCOUNT}}),
     "cannot have both Principal and NotPrincipal"),
    ("no-action", "Statements must include either an Action or NotAction element",
     policy({"Effect": "Allow", "Principal": "*", "Resource": "*"}), "must have Action or NotAction"),
    ("both-actions", "Statements must include either an Action or NotAction element",
     policy({**statement(), "NotAction": "s3:*"}), "cannot have both Action and NotAction"),
    ("no-resource", "Statements must include either a Resource or a NotResource element",
     policy({"Effect": "Allow", "Principal": "*", "Action": "*"}), "must have Resource or NotResource"),
    ("bad-action", "You specify a value using a service namespace as an action prefix",
     policy(statement(Action="GetParameter")), "must be 'service:Action'"),
    ("bad-resource", "You specify a resource using an ARN", policy(statement(Resource="bucket")), "must be an ARN"),
    ("empty-action-list", "You can specify multiple values for the Action element",
     policy(statement(Action=[])), "non-empty"),
    ("principal-wildcard-part", "You cannot use a wildcard to match part of a principal name or ARN",
     policy(statement(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"})), "wildcard"),
    ("principal-bad-type", "You can specify any of the following principals",
     policy(statement(Principal={"Group": "x"})), "unknown principal type"),
    ("principal-bad-account", "the account ARN (arn:aws:iam::account-ID:root), or a shortened form",
     policy(statement(Principal={"AWS": "1234"})), "invalid principal"),
    ("unknown-operator", "The condition operators can be grouped into the following categories",
     policy(statement(Condition={"StringEqual": {"aws:SourceVpce": "vpce-1"}})), "Unknown condition operator"),
    ("unknown-set-operator", "IAM defines two set operators, ForAnyValue and ForAllValues",
     policy(statement(Condition={"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}})), "Unknown set operator"),
    ("null-ifexists", "You can add IfExists to the end of any condition operator name except the Null condition",
     policy(statement(Condition={"NullIfExists": {"aws:SourceVpce": "true"}})), "IfExists cannot"),
    ("bad-number", "comparing a key to an integer or decimal value",
     policy(statement(Condition={"NumericLessThan": {"s3:max-keys": "ten"}})), "Invalid value"),
    ("bad-date", "You must specify date/time values with one of the W3C implementations",
     policy(statement(Condition={"DateLessThan": {"aws:CurrentTime": "next tuesday"}})), "Invalid value"),
    ("bad-ip", "The value must be in the standard CIDR format",
     policy(statement(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/33"}})), "Invalid value"),
    ("bad-bool", 'comparing a key to "true" or "false."',
     policy(statement(Condition={"Bool": {"aws:SecureTransport": "yes"}})), "Invalid value"),
    ("bad-null", "use either true ... or false",
     policy(statement(Condition={"Null": {"aws:SourceVpce": "maybe"}})), "Invalid value"),
    ("bad-binary", "a base-64 encoded representation of the binary value",
     policy(statement(Condition={"BinaryEquals": {"aws:PrincipalTag/blob": "not base64!"}})), "Invalid value"),
    ("condition-not-object", 'Condition : { "{condition-operator}" : { "{condition-key}" : "{condition-value}" }}',
     policy(statement(Condition=["StringEquals"])), "Condition must be an object"),
    ("condition-value-object", "condition-value",
     policy(statement(Condition={"StringEquals": {"aws:SourceVpce": {"a": 1}}})), "values must be"),
    ("bad-sid", "You can provide Sid (statement ID) as an optional identifier", policy(statement(Sid=7)),
     "Sid must be a string"),
]


@pytest.mark.parametrize(("quote", "document", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_policy_is_refused(quote: str, document: object, reason: str) -> None:
    with pytest.raises(MalformedPolicy) as refused:
        parse_policy(document if isinstance(document, str) else json.dumps(document), require_principal=True)
    assert reason in str(refused.value), quote


def test_sid_rules_are_iams_own() -> None:
    """Sid: "In IAM, the Sid value must be unique within a JSON policy" - IAM's rule, not every service's."""
    parsed = parse_endpoint_policy(policy(statement(Sid="Allow reads"), statement(Sid="Allow reads")))
    assert evaluate(parsed, request()).reason == "allowed by statement 'Allow reads'"


def test_principal_optional_outside_resource_policies() -> None:
    """Identity-style documents (no Principal) parse when a Principal is not required."""
    parsed = parse_policy({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    assert evaluate(parsed, request()).allowed


def test_default_endpoint_policy_has_no_version() -> None:
    """VPCE: the default policy names no Version; 2008-10-17 applies and variables are literal."""
    parsed = parse_policy({"Statement": [statement(Resource="arn:aws:s3:::b-${aws:username}")]})
    assert parsed.version == "2008-10-17"
    assert not evaluate(parsed, request("s3:ListBucket", "arn:aws:s3:::b-alice")).allowed
    assert evaluate(parsed, request("s3:ListBucket", "arn:aws:s3:::b-${aws:username}")).allowed


def test_endpoint_policy_size_limit() -> None:
    """VPCE: "The size of an endpoint policy cannot exceed 20,480 characters, including white space." """
    document = json.dumps(policy(statement(Action="ssm:GetParameter")))
    assert parse_endpoint_policy(document.ljust(20480)).statements
    with pytest.raises(MalformedPolicy, match="at most 20480"):
        parse_endpoint_policy(document.ljust(20481))


def test_endpoint_policy_needs_principal() -> None:
    """VPCE: "It must contain a Principal element." """
    with pytest.raises(MalformedPolicy, match="Principal"):
        parse_endpoint_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


CONTEXT_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.binary(max_size=8),
    st.text(max_size=24), st.sampled_from(["10.0.1.5", "fd00::7", "2026-12-01T02:00:00Z", "1e400", "nan", "0000"]),
    st.lists(st.text(max_size=8), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(case=st.sampled_from(CASES), values=st.lists(CONTEXT_VALUES, min_size=1, max_size=12))
def test_any_context_gets_a_decision(case: Case, values: list) -> None:
    """Whatever the caller puts in the context, a decision comes back: never a traceback."""
    keys = sorted({c.key for s in parse_policy(case.policy).statements for c in s.conditions}) or ["aws:sourcevpce"]
    context = {key: values[i % len(values)] for i, key in enumerate(keys)}
    req = Request(case.request.action, case.request.resources, case.request.caller, context)
    assert evaluate(parse_policy(case.policy), req).effect in (ALLOW, EXPLICIT_DENY, IMPLICIT_DENY)
