"""The table: endpoint policies and requests, each with AWS's documented answer.

Every case cites the page it comes from and quotes a few of its words. Pages (IAM User Guide
unless said otherwise):

- EVAL: "Policy evaluation logic"           - ACTION / NOTACTION: "IAM JSON policy elements: Action / NotAction"
- RESOURCE / NOTRESOURCE: "... Resource / NotResource"
- PRINCIPAL / NOTPRINCIPAL: "AWS JSON policy elements: Principal / NotPrincipal"
- OPS: "IAM JSON policy elements: Condition operators"
- COND: "IAM JSON policy elements: Condition"
- MULTI: "Creating a condition with multiple keys or values"
- SINGLE: "Single-valued vs. multivalued context keys"
- VARS: "IAM policy elements: Variables and tags"    - VERSION: "IAM JSON policy elements: Version"
- VPCE: Amazon VPC / PrivateLink guide, "Control access to VPC endpoints using endpoint policies"
- KEYS: "AWS global condition context keys"

Shared by test_evaluate.py (our evaluator) and test_cross_check.py (iam-simulate).
"""

# ruff: noqa: E501 (a table of AWS quotes, one row a case: rows stay on their lines)
from __future__ import annotations

from dataclasses import dataclass, field

from pocketlink.policy import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Caller, Request

EVAL = "Policy evaluation logic"
ACTION = "Policy elements: Action"
NOTACTION = "Policy elements: NotAction"
RESOURCE = "Policy elements: Resource"
NOTRESOURCE = "Policy elements: NotResource"
PRINCIPAL = "Policy elements: Principal"
NOTPRINCIPAL = "Policy elements: NotPrincipal"
OPS = "Condition operators"
COND = "Policy elements: Condition"
MULTI = "Condition with multiple keys or values"
SINGLE = "Single-valued vs. multivalued context keys"
VARS = "Variables and tags"
VERSION = "Policy elements: Version"
VPCE = "Control access to VPC endpoints using endpoint policies"
KEYS = "AWS global condition context keys"

ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "us-west-2"
ALICE = Caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice")
BOB_OTHER = Caller(OTHER, f"arn:aws:iam::{OTHER}:user/bob")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = Caller(ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/app/i-0abc", role_arn=ROLE_ARN)
ANONYMOUS = Caller()
PARAM = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db-host"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-AbCdEf"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Thread"
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@dataclass(frozen=True)
class Case:
    id: str
    source: str  # the page
    quote: str  # a few of its words
    policy: dict
    request: Request
    expected: str
    cross_check: bool = True  # False where iam-simulate cannot express the case (see docs/policy.md)
    note: str = field(default="")


CASES: list[Case] = []


def statement(effect: str = "Allow", **elements) -> dict:
    """A statement with Principal "*", Action "*" and Resource "*" unless told otherwise."""
    body = {"Effect": effect}
    if "NotPrincipal" not in elements:
        body["Principal"] = elements.pop("Principal", "*")
    if "NotAction" not in elements:
        body["Action"] = elements.pop("Action", "*")
    if "NotResource" not in elements:
        body["Resource"] = elements.pop("Resource", "*")
    body.update(elements)
    return body


def policy(*statements: dict, version: str | None = "2012-10-17") -> dict:
    document: dict = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return document


def request(action: str = "ssm:GetParameter", resource: str | tuple[str, ...] = PARAM,
            caller: Caller = ALICE, **context) -> Request:
    resources = (resource,) if isinstance(resource, str) else resource
    return Request(action, resources, caller, {k.replace("__", "/").replace("_", ":", 1): v
                                              for k, v in context.items()})


def case(id: str, source: str, quote: str, document: dict, req: Request, expected: str, **kw) -> None:
    CASES.append(Case(id, source, quote, document, req, expected, **kw))


def condition_case(id: str, source: str, quote: str, condition: dict, context: dict, holds: bool,
                   req: Request | None = None, **kw) -> None:
    """One Allow statement guarded by ``condition``: Allow if it holds, else the default deny."""
    base = req or request()
    req = Request(base.action, base.resources, base.caller, context)
    case(id, source, quote, policy(statement(Condition=condition)), req, ALLOW if holds else IMPLICIT_DENY, **kw)


# --- Policy evaluation logic --------------------------------------------------------------------
case("eval-default-deny", EVAL, "By default, all requests are implicitly denied",
     policy(statement(Action="ssm:PutParameter")), request(), IMPLICIT_DENY)
case("eval-explicit-allow", EVAL, "An explicit allow in an identity-based or resource-based policy overrides this default",
     policy(statement(Action="ssm:GetParameter")), request(), ALLOW)
case("eval-deny-overrides-allow", EVAL, "An explicit deny in any policy overrides any allows",
     policy(statement(), statement("Deny", Action="ssm:GetParameter")), request(), EXPLICIT_DENY)
case("eval-deny-first-still-wins", EVAL, "If the enforcement code finds even one explicit deny that applies",
     policy(statement("Deny", Action="ssm:GetParameter"), statement()), request(), EXPLICIT_DENY)
case("eval-deny-other-action", EVAL, "If there is no explicit deny, the enforcement code evaluation continues",
     policy(statement(), statement("Deny", Action="ssm:PutParameter")), request(), ALLOW)
case("eval-only-deny", EVAL, "This policy does not allow any actions",
     policy(statement("Deny", Action="ssm:PutParameter")), request(), IMPLICIT_DENY)
case("eval-deny-condition-false", EVAL, "looks for a Deny statement that applies to the request",
     policy(statement(), statement("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})),
     request(aws_SecureTransport=True), ALLOW)
case("eval-deny-condition-true", EVAL, "returns a final decision of Deny",
     policy(statement(), statement("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})),
     request(aws_SecureTransport=False), EXPLICIT_DENY)
case("eval-statement-object", EVAL, "The AWS enforcement code evaluates all policies within the account that apply to the request",
     {"Version": "2012-10-17", "Statement": statement(Action="ssm:GetParameter")}, request(), ALLOW)
case("eval-allow-among-many", EVAL, "evaluates all the permissions granted by the policies for at least one Allow",
     policy(statement(Action="sqs:SendMessage"), statement(Action="ssm:GetParameter")), request(), ALLOW)
case("vpce-default-policy", VPCE, "The default endpoint policy grants full access to the endpoint",
     {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}, request(), ALLOW)
case("vpce-default-policy-any-service", VPCE, "The default endpoint policy grants full access",
     {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
     request("secretsmanager:GetSecretValue", SECRET), ALLOW)
case("vpce-deny-getparameter", VPCE, "an endpoint policy ... control which AWS principals can use the endpoint",
     policy(statement(), statement("Deny", Action="ssm:GetParameter")), request(), EXPLICIT_DENY)
case("vpce-deny-getparameter-other-call", VPCE, "control which AWS principals can use the endpoint to access",
     policy(statement(), statement("Deny", Action="ssm:GetParameter")), request("ssm:GetParameters"), ALLOW)

# --- Action ----------------------------------------------------------------------------------------
case("action-exact", ACTION, '"Action": "sqs:SendMessage"',
     policy(statement(Action="sqs:SendMessage")), request("sqs:SendMessage", QUEUE), ALLOW)
case("action-other", ACTION, "The name must match an action that is supported by the service",
     policy(statement(Action="sqs:SendMessage")), request("sqs:ReceiveMessage", QUEUE), IMPLICIT_DENY)
case("action-prefix-case", ACTION, "The prefix and the action name are case insensitive",
     policy(statement(Action="SSM:GetParameter")), request(), ALLOW)
case("action-name-case", ACTION, "iam:ListAccessKeys is the same as IAM:listaccesskeys",
     policy(statement(Action="ssm:getparameter")), request(), ALLOW)
case("action-request-case", ACTION, "The prefix and the action name are case insensitive",
     policy(statement(Action="ssm:GetParameter")), request("SSM:GETPARAMETER"), ALLOW, cross_check=False,
     note="iam-simulate validates the request's action against its data, case and all")
case("action-list", ACTION, "You can specify multiple values for the Action element",
     policy(statement(Action=["sqs:SendMessage", "ssm:GetParameter"])), request(), ALLOW)
case("action-list-none", ACTION, "You can specify multiple values for the Action element",
     policy(statement(Action=["sqs:SendMessage", "ec2:StartInstances"])), request(), IMPLICIT_DENY)
case("action-service-wildcard", ACTION, "the following Action element applies to all S3 actions",
     policy(statement(Action="ssm:*")), request(), ALLOW)
case("action-service-wildcard-other", ACTION, "give access to all the actions the specific AWS product offers",
     policy(statement(Action="s3:*")), request(), IMPLICIT_DENY)
case("action-all", ACTION, "You can use a wildcard (*)",
     policy(statement(Action="*")), request("kms:Decrypt", KEY), ALLOW)
case("action-infix-wildcard", ACTION, '"iam:*AccessKey*" ... including CreateAccessKey',
     policy(statement(Action="ssm:*Parameter*")), request("ssm:PutParameter"), ALLOW)
case("action-infix-wildcard-miss", ACTION, "all IAM actions that include the string AccessKey",
     policy(statement(Action="ssm:*Parameter*")), request("ssm:DescribeDocument", f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/x"),
     IMPLICIT_DENY)
case("action-prefix-wildcard", ACTION, "use wildcards (*) as part of the action name",
     policy(statement(Action="ssm:Get*")), request("ssm:GetParametersByPath"), ALLOW)
case("action-no-partial", ACTION, "The name must match an action",
     policy(statement(Action="ssm:GetParameter")), request("ssm:GetParameters"), IMPLICIT_DENY)
case("action-question-mark", RESOURCE, "any single character with a question mark (?)",
     policy(statement(Action="ssm:GetParameter?")), request("ssm:GetParameters"), ALLOW)
case("action-question-mark-needs-one", RESOURCE, "any single character with a question mark (?)",
     policy(statement(Action="ssm:GetParameter?")), request(), IMPLICIT_DENY)
case("action-deny-wildcard", ACTION, '"Action": "s3:*"',
     policy(statement(), statement("Deny", Action="ssm:*")), request(), EXPLICIT_DENY)

# --- NotAction -------------------------------------------------------------------------------------
case("notaction-allow-other", NOTACTION, "allows users to access every action in every AWS service except for IAM",
     policy(statement(NotAction="iam:*")), request(), ALLOW)
case("notaction-allow-listed", NOTACTION, "matches everything except the specified list of actions",
     policy(statement(NotAction="ssm:GetParameter")), request(), IMPLICIT_DENY)
case("notaction-allow-wildcard-listed", NOTACTION, '"NotAction": "iam:*"',
     policy(statement(NotAction="ssm:*")), request(), IMPLICIT_DENY)
case("notaction-allow-list", NOTACTION, "everything except the specified list of actions",
     policy(statement(NotAction=["ssm:PutParameter", "ssm:DeleteParameter"])), request(), ALLOW)
case("notaction-deny-other", NOTACTION, "explicitly denies the actions not listed",
     policy(statement(), statement("Deny", NotAction="ssm:GetParameter")), request("ssm:PutParameter"),
     EXPLICIT_DENY)
case("notaction-deny-listed", NOTACTION, "This combination does not allow the listed items",
     policy(statement(), statement("Deny", NotAction="ssm:GetParameter")), request(), ALLOW)
case("notaction-deny-listed-no-allow", NOTACTION, "You must still allow actions that you want to allow",
     policy(statement("Deny", NotAction="ssm:GetParameter")), request(), IMPLICIT_DENY)
case("notaction-deny-condition", NOTACTION, '"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}',
     policy(statement(), statement("Deny", NotAction="iam:*",
                                   Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
     request(), EXPLICIT_DENY)
case("notaction-deny-condition-mfa", NOTACTION, "If the user is signed in with MFA",
     policy(statement(), statement("Deny", NotAction="iam:*",
                                   Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
     request(aws_MultiFactorAuthPresent=True), ALLOW)
case("notaction-case", NOTACTION, "prefix and the action name are case insensitive",
     policy(statement(NotAction="SSM:getparameter")), request(), IMPLICIT_DENY)

# --- Resource --------------------------------------------------------------------------------------
case("resource-exact", RESOURCE, "You specify a resource using an ARN",
     policy(statement(Resource=QUEUE)), request("sqs:SendMessage", QUEUE), ALLOW)
case("resource-other", RESOURCE, "The Resource element specifies the object or objects",
     policy(statement(Resource=QUEUE)), request("sqs:SendMessage", QUEUE + "-dlq"), IMPLICIT_DENY)
case("resource-all", RESOURCE, "you use the wildcard * in the Resource element",
     policy(statement(Resource="*")), request(), ALLOW)
case("resource-bucket-objects", RESOURCE, '"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"',
     policy(statement(Resource=BUCKET + "/*")), request("s3:GetObject", BUCKET + "/a/b.txt"), ALLOW)
case("resource-bucket-objects-not-bucket", RESOURCE, "refers to all items within a specific Amazon S3 bucket",
     policy(statement(Resource=BUCKET + "/*")), request("s3:ListBucket", BUCKET), IMPLICIT_DENY)
for index, key in enumerate(["1/test/object.jpg", "1/2/test/object.jpg", "1/2/test/3/object.jpg",
                             "1/2/3/test/4/object.jpg", "1///test///object.jpg", "1/test/.jpg",
                             "/test/object.jpg", "1/test/"]):
    case(f"resource-expansion-match-{index}", RESOURCE, "The wildcards in the ARN apply to all of the following",
         policy(statement(Resource=BUCKET + "/*/test/*")), request("s3:GetObject", f"{BUCKET}/{key}"), ALLOW)
for index, key in enumerate(["1-test/object.jpg", "test/object.jpg", "1/2/test.jpg"]):
    case(f"resource-expansion-miss-{index}", RESOURCE, "The ARN would not match the following objects",
         policy(statement(Resource=BUCKET + "/*/test/*")), request("s3:GetObject", f"{BUCKET}/{key}"),
         IMPLICIT_DENY)
case("resource-case-sensitive", RESOURCE, "the details of the ARN for a resource depend on the service",
     policy(statement(Resource=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/App/*")), request(), IMPLICIT_DENY)
case("resource-region-wildcard", RESOURCE, "wildcard characters (* and ?) within ARN segments",
     policy(statement(Resource=f"arn:aws:ssm:*:{ACCOUNT}:parameter/app/*")), request(), ALLOW)
case("resource-account-wildcard", RESOURCE, "You can use multiple * or ? characters in each segment",
     policy(statement(Resource=f"arn:aws:ssm:{REGION}:*:parameter/*")), request(), ALLOW)
case("resource-question-mark", RESOURCE, "any single character with a question mark (?)",
     policy(statement(Resource=f"arn:aws:ssm:us-west-?:{ACCOUNT}:parameter/app/db-host")), request(), ALLOW)
case("resource-question-mark-miss", RESOURCE, "any single character with a question mark (?)",
     policy(statement(Resource=f"arn:aws:ssm:us-west-?:{ACCOUNT}:parameter/app/db-hos?s")), request(),
     IMPLICIT_DENY)
case("resource-wildcard-segment-bound", OPS, "The first asterisk matches only us-east-2 and fails on 999999999999",
     policy(statement(Resource=f"arn:aws:logs:*:{ACCOUNT}:log-group:app")),
     request("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{OTHER}:log-group:x:{ACCOUNT}:log-group:app"),
     IMPLICIT_DENY, cross_check=False, note="iam-simulate refuses a request ARN that fits none of the action's resource types")
case("resource-other-account", RESOURCE, "the details of the ARN for a resource depend on the service",
     policy(statement(Resource=f"arn:aws:ssm:{REGION}:{OTHER}:parameter/*")), request(), IMPLICIT_DENY)
case("resource-list", RESOURCE, "You can specify multiple resources",
     policy(statement(Resource=[f"{TABLE}-other", TABLE])), request("dynamodb:GetItem", TABLE), ALLOW)
case("resource-star-in-resource-part", RESOURCE, "expand to replace everything within a segment, including ... /",
     policy(statement(Resource=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter*")), request(), ALLOW)
case("resource-multiple-requested-all-allowed", EVAL, "evaluates all the permissions ... for at least one Allow",
     policy(statement(Resource=[PARAM, PARAM + "-2"])), request("ssm:GetParameters", (PARAM, PARAM + "-2")), ALLOW,
     cross_check=False, note="iam-simulate takes one resource per request")
case("resource-multiple-requested-one-missing", EVAL, "By default, all requests are implicitly denied",
     policy(statement(Resource=PARAM)), request("ssm:GetParameters", (PARAM, PARAM + "-2")), IMPLICIT_DENY,
     cross_check=False, note="iam-simulate takes one resource per request")
case("resource-multiple-requested-one-denied", EVAL, "An explicit deny in any policy overrides any allows",
     policy(statement(), statement("Deny", Resource=PARAM + "-2")), request("ssm:GetParameters", (PARAM, PARAM + "-2")),
     EXPLICIT_DENY, cross_check=False, note="iam-simulate takes one resource per request")
case("resource-deny-specific", RESOURCE, "refers to a specific Amazon SQS queue",
     policy(statement(), statement("Deny", Resource=QUEUE)), request("sqs:SendMessage", QUEUE), EXPLICIT_DENY)

# --- NotResource -----------------------------------------------------------------------------------
case("notresource-deny-other", NOTRESOURCE, "explicitly denies access to all Amazon S3 resources other than the listed",
     policy(statement(), statement("Deny", Action="s3:*", NotResource=[BUCKET + "/Payroll", BUCKET + "/Payroll/*"])),
     request("s3:GetObject", BUCKET + "/other.txt"), EXPLICIT_DENY)
case("notresource-deny-listed", NOTRESOURCE, "resources specified in this element are the only resources that are not limited",
     policy(statement(), statement("Deny", Action="s3:*", NotResource=[BUCKET + "/Payroll", BUCKET + "/Payroll/*"])),
     request("s3:GetObject", BUCKET + "/Payroll/june.csv"), ALLOW)
case("notresource-deny-listed-no-allow", NOTRESOURCE, "this policy does not grant the user access to any resources",
     policy(statement("Deny", Action="s3:*", NotResource=BUCKET + "/Payroll/*")),
     request("s3:GetObject", BUCKET + "/Payroll/june.csv"), IMPLICIT_DENY)
case("notresource-allow-other", NOTRESOURCE, "NotResource allows all services and resources that are not explicitly listed",
     policy(statement(NotResource=BUCKET)), request(), ALLOW)
case("notresource-allow-listed", NOTRESOURCE, "explicitly matches every resource except those specified",
     policy(statement(Action="s3:*", NotResource=BUCKET)), request("s3:ListBucket", BUCKET), IMPLICIT_DENY)
case("notresource-allow-wildcard", NOTRESOURCE, "explicitly matches every resource except those specified",
     policy(statement(NotResource=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/*")), request(), IMPLICIT_DENY)

# --- Principal -------------------------------------------------------------------------------------
case("principal-star", PRINCIPAL, '"Principal": "*"', policy(statement(Principal="*")), request(), ALLOW)
case("principal-aws-star", PRINCIPAL, 'the following elements are equivalent: "Principal" : { "AWS" : "*" }',
     policy(statement(Principal={"AWS": "*"})), request(), ALLOW)
case("principal-star-anonymous", PRINCIPAL, "grants access to all users, including anonymous users",
     policy(statement(Principal="*")), request(caller=ANONYMOUS), ALLOW)
case("principal-account-id", PRINCIPAL, '"Principal": { "AWS": "123456789012" }',
     policy(statement(Principal={"AWS": ACCOUNT})), request(), ALLOW)
case("principal-account-root", PRINCIPAL, "does not limit permissions to only the root user of the account",
     policy(statement(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), request(), ALLOW)
case("principal-account-role-session", PRINCIPAL, "Both delegate permissions to the account",
     policy(statement(Principal={"AWS": ACCOUNT})), request(caller=SESSION), ALLOW)
case("principal-account-other", PRINCIPAL, "This delegates authority to the account",
     policy(statement(Principal={"AWS": OTHER})), request(), IMPLICIT_DENY)
case("principal-account-list", PRINCIPAL, "This is a logical OR and not a logical AND",
     policy(statement(Principal={"AWS": [OTHER, ACCOUNT]})), request(), ALLOW)
case("principal-account-list-cross", PRINCIPAL, "permissions for the 123456789012 account or the 555555555555",
     policy(statement(Principal={"AWS": [OTHER, ACCOUNT]})), request(caller=BOB_OTHER,
                                                                       resource=PARAM), ALLOW)
case("principal-user", PRINCIPAL, '"Principal": { "AWS": "arn:aws:iam::AWS-account-ID:user/user-name" }',
     policy(statement(Principal={"AWS": ALICE.arn})), request(), ALLOW)
case("principal-user-other", PRINCIPAL, "Principals must always name specific users",
     policy(statement(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/carol"})), request(), IMPLICIT_DENY)
case("principal-user-case", PRINCIPAL, "In a Principal element, the user name part of the",
     policy(statement(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/Alice"})), request(), IMPLICIT_DENY)
case("principal-role-session", PRINCIPAL, "the role session principal is granted the permissions based on the ARN of role",
     policy(statement(Principal={"AWS": ROLE_ARN})), request(caller=SESSION), ALLOW)
case("principal-role-other", PRINCIPAL, '"Principal": { "AWS": "arn:aws:iam::AWS-account-ID:role/role-name" }',
     policy(statement(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"})), request(caller=SESSION),
     IMPLICIT_DENY)
case("principal-session-arn", PRINCIPAL, '"arn:aws:sts::AWS-account-ID:assumed-role/role-name/role-session-name"',
     policy(statement(Principal={"AWS": SESSION.arn})), request(caller=SESSION), ALLOW)
case("principal-session-other", PRINCIPAL, "Principals must always name a specific session",
     policy(statement(Principal={"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/app/other"})),
     request(caller=SESSION), IMPLICIT_DENY)
case("principal-account-anonymous", PRINCIPAL, "For anonymous users, the following elements are equivalent",
     policy(statement(Principal={"AWS": ACCOUNT})), request(caller=ANONYMOUS), IMPLICIT_DENY)
case("principal-service", PRINCIPAL, "A service principal is an identifier for a service",
     policy(statement(Principal={"Service": "ec2.amazonaws.com"})),
     request(caller=Caller(service="ec2.amazonaws.com")), ALLOW, cross_check=False,
     note="a service principal needs iam-simulate's service-request inputs")
case("principal-service-other", PRINCIPAL, "The identifier for a service principal includes the service name",
     policy(statement(Principal={"Service": "ec2.amazonaws.com"})), request(), IMPLICIT_DENY)
case("principal-deny-account", PRINCIPAL, "This delegates authority to the account",
     policy(statement(), statement("Deny", Principal={"AWS": ACCOUNT})), request(caller=SESSION), EXPLICIT_DENY)
case("principal-deny-other-account", PRINCIPAL, "This delegates authority to the account",
     policy(statement(), statement("Deny", Principal={"AWS": OTHER})), request(), ALLOW)
case("vpce-principal-account-cross", VPCE, "to control which AWS principals can use the endpoint",
     policy(statement(Principal={"AWS": ACCOUNT})), request(caller=BOB_OTHER), IMPLICIT_DENY)

# --- NotPrincipal ----------------------------------------------------------------------------------
case("notprincipal-deny-others", NOTPRINCIPAL, "explicitly denied to all principals except for the ones specified",
     policy(statement(), statement("Deny", NotPrincipal={"AWS": [BOB_OTHER.arn, f"arn:aws:iam::{OTHER}:root"]})),
     request(), EXPLICIT_DENY)
case("notprincipal-deny-excepted", NOTPRINCIPAL, "it only omits Bob from the list of principals that are explicitly denied",
     policy(statement(), statement("Deny", NotPrincipal={"AWS": [BOB_OTHER.arn, f"arn:aws:iam::{OTHER}:root"]})),
     request(caller=BOB_OTHER), ALLOW)
case("notprincipal-deny-excepted-no-allow", NOTPRINCIPAL, "This example by itself does not grant access to Bob",
     policy(statement("Deny", NotPrincipal={"AWS": [BOB_OTHER.arn, f"arn:aws:iam::{OTHER}:root"]})),
     request(caller=BOB_OTHER), IMPLICIT_DENY)
case("notprincipal-deny-session-excepted", NOTPRINCIPAL, "contains the ARN of the assumed-role user ..., the role ..., and the AWS account",
     policy(statement(), statement("Deny", NotPrincipal={"AWS": [SESSION.arn, ROLE_ARN, f"arn:aws:iam::{ACCOUNT}:root"]})),
     request(caller=SESSION), ALLOW)
case("notprincipal-allow-others", NOTPRINCIPAL, "Doing so allows all principals except the one named",
     policy(statement(NotPrincipal={"AWS": BOB_OTHER.arn})), request(), ALLOW)
case("notprincipal-allow-named", NOTPRINCIPAL, "allows all principals except the one named in the NotPrincipal element",
     policy(statement(NotPrincipal={"AWS": BOB_OTHER.arn})), request(caller=BOB_OTHER), IMPLICIT_DENY)

# --- String operators ------------------------------------------------------------------------------
ORDERS = {"aws:PrincipalTag/job-category": "iamuser-admin"}
condition_case("string-equals", OPS, "StringEquals: Exact matching, case sensitive",
               {"StringEquals": ORDERS}, {"aws:PrincipalTag/job-category": "iamuser-admin"}, True)
condition_case("string-equals-case", COND, "Users named JohnDoe are denied access",
               {"StringEquals": {"aws:username": "johndoe"}}, {"aws:username": "JohnDoe"}, False)
condition_case("string-equals-other", OPS, "Exact matching, case sensitive",
               {"StringEquals": ORDERS}, {"aws:PrincipalTag/job-category": "other"}, False)
condition_case("string-equals-missing", OPS, "If a user without the tag attempts ... the condition returns false",
               {"StringEquals": ORDERS}, {}, False)
condition_case("string-equals-no-wildcard", OPS, "You must specify wildcards to achieve partial string matches",
               {"StringEquals": {"aws:username": "john*"}}, {"aws:username": "johndoe"}, False)
condition_case("string-equals-values-or", MULTI, "multiple values for one key ... evaluated using a logical OR",
               {"StringEquals": {"aws:PrincipalAccount": [OTHER, ACCOUNT]}}, {"aws:PrincipalAccount": ACCOUNT}, True)
condition_case("string-equals-ignorecase", COND, "to match users named johndoe or JohnDoe",
               {"StringEqualsIgnoreCase": {"aws:username": "johndoe"}}, {"aws:username": "JohnDoe"}, True)
condition_case("string-equals-ignorecase-other", OPS, "Exact matching, ignoring case",
               {"StringEqualsIgnoreCase": {"aws:username": "johndoe"}}, {"aws:username": "janedoe"}, False)
condition_case("string-not-equals", OPS, "StringNotEquals: Negated matching",
               {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, {"aws:SourceVpce": "vpce-9f8e7d6c"}, True)
condition_case("string-not-equals-same", OPS, "Negated matching",
               {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, {"aws:SourceVpce": "vpce-1a2b3c4d"}, False)
condition_case("string-not-equals-missing", OPS, "requires that the key is not matched ... the condition is true",
               {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, {}, True)
condition_case("string-not-equals-nor", MULTI, "the string cannot match any of the aws:PrincipalAccount values",
               {"StringNotEquals": {"aws:PrincipalAccount": [OTHER, ACCOUNT]}}, {"aws:PrincipalAccount": ACCOUNT},
               False)
condition_case("string-not-equals-nor-none", MULTI, "the effective permissions work like a logical AND",
               {"StringNotEquals": {"aws:PrincipalAccount": [OTHER, "999988887777"]}},
               {"aws:PrincipalAccount": ACCOUNT}, True)
condition_case("string-not-equals-case", OPS, "StringNotEquals | Negated matching",
               {"StringNotEquals": {"aws:username": "johndoe"}}, {"aws:username": "JohnDoe"}, True)
condition_case("string-not-equals-ignorecase", OPS, "Negated matching, ignoring case",
               {"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}}, {"aws:username": "JohnDoe"}, False)
condition_case("string-not-equals-ignorecase-other", OPS, "Negated matching, ignoring case",
               {"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}}, {"aws:username": "jane"}, True)
condition_case("string-like-prefix", OPS, "multi-character match wildcards (*) ... anywhere in the string",
               {"StringLike": {"aws:PrincipalTag/team": "data-*"}}, {"aws:PrincipalTag/team": "data-eng"}, True)
condition_case("string-like-miss", OPS, "Case-sensitive matching",
               {"StringLike": {"aws:PrincipalTag/team": "data-*"}}, {"aws:PrincipalTag/team": "Data-eng"}, False)
condition_case("string-like-question", OPS, "single-character match wildcards (?)",
               {"StringLike": {"aws:PrincipalTag/team": "team-?"}}, {"aws:PrincipalTag/team": "team-a"}, True)
condition_case("string-like-question-two", OPS, "single-character match wildcards (?)",
               {"StringLike": {"aws:PrincipalTag/team": "team-?"}}, {"aws:PrincipalTag/team": "team-ab"}, False)
condition_case("string-like-empty", OPS, "as long as the s3:prefix matches any one of the specified patterns",
               {"StringLike": {"s3:prefix": ["", "home/"]}}, {"s3:prefix": ""}, True,
               req=request("s3:ListBucket", BUCKET))
condition_case("string-like-prefix-s3", OPS, "as long as the s3:prefix matches any one of the specified patterns",
               {"StringLike": {"s3:prefix": ["", "home/", "home/alice/*"]}}, {"s3:prefix": "home/alice/docs"},
               True, req=request("s3:ListBucket", BUCKET))
condition_case("string-like-prefix-s3-miss", OPS, "as long as the s3:prefix matches any one of the specified patterns",
               {"StringLike": {"s3:prefix": ["", "home/", "home/alice/*"]}}, {"s3:prefix": "home/bob/"},
               False, req=request("s3:ListBucket", BUCKET))
condition_case("string-like-missing", OPS, "the values do not match and the condition is false",
               {"StringLike": {"aws:PrincipalTag/team": "*"}}, {}, False)
condition_case("string-not-like", OPS, "StringNotLike: Negated case-sensitive matching",
               {"StringNotLike": {"aws:PrincipalTag/team": "data-*"}}, {"aws:PrincipalTag/team": "web"}, True)
condition_case("string-not-like-match", OPS, "Negated case-sensitive matching",
               {"StringNotLike": {"aws:PrincipalTag/team": "data-*"}}, {"aws:PrincipalTag/team": "data-x"}, False)
condition_case("string-not-like-missing", OPS, "such as StringNotLike or ArnNotLike, and the right key is not present",
               {"StringNotLike": {"aws:PrincipalTag/team": "data-*"}}, {}, True)
condition_case("string-key-case-insensitive", COND, "Condition key names are not case-sensitive",
               {"StringEquals": {"AWS:SourceVpce": "vpce-1a2b3c4d"}}, {"aws:sourcevpce": "vpce-1a2b3c4d"}, True)
condition_case("string-tag-key-case-insensitive", COND, "Key names are not case-sensitive ... TagKey1 or tagkey1",
               {"StringEquals": {"aws:PrincipalTag/TagKey1": "Value1"}}, {"aws:PrincipalTag/tagkey1": "Value1"}, True)

# --- Numeric operators -----------------------------------------------------------------------------
LIST = request("s3:ListBucket", BUCKET)
condition_case("numeric-le", OPS, "the requester can list up to 10 objects",
               {"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, True, req=LIST)
condition_case("numeric-le-over", OPS, '"Less than or equals" matching',
               {"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, False, req=LIST)
condition_case("numeric-lt", OPS, '"Less than" matching',
               {"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False, req=LIST)
condition_case("numeric-lt-under", OPS, '"Less than" matching',
               {"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "9"}, True, req=LIST)
condition_case("numeric-gt", OPS, '"Greater than" matching',
               {"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "100"}, True, req=LIST)
condition_case("numeric-ge", OPS, '"Greater than or equals" matching',
               {"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, True, req=LIST)
condition_case("numeric-equals-decimal", OPS, "comparing a key to an integer or decimal value",
               {"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10.0"}, True, req=LIST)
condition_case("numeric-not-equals", OPS, "NumericNotEquals: Negated matching",
               {"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"}, True, req=LIST)
condition_case("numeric-not-equals-same", OPS, "Negated matching",
               {"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False, req=LIST)
condition_case("numeric-missing", OPS, "If the key that you specify in a policy condition is not present ... do not match",
               {"NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}}, {}, False)
condition_case("numeric-mfa-age", COND, '"NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}',
               {"NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}}, {"aws:MultiFactorAuthAge": "1200"}, True)
condition_case("numeric-values-or", MULTI, "that condition operator is evaluated using a logical OR",
               {"NumericEquals": {"s3:max-keys": ["10", "20"]}}, {"s3:max-keys": "20"}, True, req=LIST)
condition_case("numeric-not-a-number", OPS, "comparing a key to an integer or decimal value",
               {"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}, False, req=LIST,
               cross_check=False, note="iam-simulate rejects a non-numeric context value of a numeric key")

# --- Date operators --------------------------------------------------------------------------------
condition_case("date-gt", OPS, '"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}',
               {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
               {"aws:TokenIssueTime": "2020-06-30T12:00:00Z"}, True)
condition_case("date-gt-before", OPS, "Matching after a specific a date and time",
               {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
               {"aws:TokenIssueTime": "2019-12-31T23:59:59Z"}, False)
condition_case("date-missing", OPS, "The key is not present in AWS CLI, AWS API, or AWS SDK requests that are made using access keys",
               {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}, {}, False)
condition_case("date-lt-current", OPS, "restrict access based on comparing a key to a date/time value",
               {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2026-12-01T02:00:00Z"},
               True)
condition_case("date-lt-current-after", OPS, "Matching before a specific date and time",
               {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2026-12-01T02:00:00Z"},
               False)
condition_case("date-le-equal", OPS, "Matching at or before a specific date and time",
               {"DateLessThanEquals": {"aws:CurrentTime": "2026-12-01T02:00:00Z"}},
               {"aws:CurrentTime": "2026-12-01T02:00:00Z"}, True)
condition_case("date-ge-equal", OPS, "Matching at or after a specific date and time",
               {"DateGreaterThanEquals": {"aws:CurrentTime": "2026-12-01T02:00:00Z"}},
               {"aws:CurrentTime": "2026-12-01T02:00:00Z"}, True)
condition_case("date-equals-timezones", OPS, "W3C implementations of the ISO 8601 date formats",
               {"DateEquals": {"aws:CurrentTime": "2026-12-01T04:00:00+02:00"}},
               {"aws:CurrentTime": "2026-12-01T02:00:00Z"}, True)
condition_case("date-not-equals", OPS, "DateNotEquals: Negated matching",
               {"DateNotEquals": {"aws:CurrentTime": "2026-12-01T02:00:00Z"}},
               {"aws:CurrentTime": "2026-12-01T02:00:01Z"}, True)
condition_case("date-epoch", OPS, "or in epoch (UNIX) time",
               {"DateGreaterThan": {"aws:EpochTime": "1577836800"}}, {"aws:EpochTime": "1796090400"}, True)
condition_case("date-epoch-vs-iso", OPS, "W3C implementations of the ISO 8601 date formats ... or in epoch (UNIX) time",
               {"DateLessThan": {"aws:CurrentTime": "1577836800"}}, {"aws:CurrentTime": "2019-12-31T00:00:00Z"}, True,
               cross_check=False, note="iam-simulate compares epoch seconds with ISO dates in milliseconds")
condition_case("date-day-only", OPS, "W3C implementations of the ISO 8601 date formats",
               {"DateGreaterThanEquals": {"aws:CurrentTime": "2026-12-01"}}, {"aws:CurrentTime": "2026-12-01T00:00:00Z"},
               True)

# --- Bool --------------------------------------------------------------------------------------------
condition_case("bool-false-matches", OPS, '"Bool": {"aws:SecureTransport": "false"}',
               {"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": False}, True)
condition_case("bool-true-vs-false", OPS, "Boolean matching",
               {"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": True}, False)
condition_case("bool-case", OPS, 'comparing a key to "true" or "false."',
               {"Bool": {"aws:SecureTransport": "TRUE"}}, {"aws:SecureTransport": "true"}, True)
condition_case("bool-json-boolean", OPS, "Boolean matching",
               {"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": True}, True)
condition_case("bool-missing", OPS, "the values do not match and the condition is false",
               {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {}, False)
case("bool-deny-insecure", OPS, "deny all S3 actions on a bucket and its contents if the request is not over SSL",
     policy(statement(), statement("Deny", Action="s3:*", Resource=[BUCKET, BUCKET + "/*"],
                                   Condition={"Bool": {"aws:SecureTransport": "false"}})),
     request("s3:GetObject", BUCKET + "/k", aws_SecureTransport=False), EXPLICIT_DENY)
case("bool-deny-secure", OPS, "deny ... if the request is not over SSL",
     policy(statement(), statement("Deny", Action="s3:*", Resource=[BUCKET, BUCKET + "/*"],
                                   Condition={"Bool": {"aws:SecureTransport": "false"}})),
     request("s3:GetObject", BUCKET + "/k", aws_SecureTransport=True), ALLOW)

# --- Binary ------------------------------------------------------------------------------------------
condition_case("binary-equals", OPS, "compares the value of the specified key byte for byte",
               {"BinaryEquals": {"aws:PrincipalTag/blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
               {"aws:PrincipalTag/blob": b"BinaryValueInBase64"}, True, cross_check=False,
               note="iam-simulate's context has no bytes")
condition_case("binary-differs", OPS, "byte for byte",
               {"BinaryEquals": {"aws:PrincipalTag/blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
               {"aws:PrincipalTag/blob": b"other"}, False, cross_check=False, note="iam-simulate's context has no bytes")
condition_case("binary-missing", OPS, "If the key that you specify in a policy condition is not present",
               {"BinaryEquals": {"aws:PrincipalTag/blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}, {}, False)

# --- IP address ------------------------------------------------------------------------------------
condition_case("ip-in-range", OPS, "the request must come from the IP range 203.0.113.0 to 203.0.113.255",
               {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.77"}, True)
condition_case("ip-out-of-range", OPS, "The specified IP address or range",
               {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.7"}, False)
condition_case("ip-default-32", OPS, "IAM uses the default prefix value of /32",
               {"IpAddress": {"aws:SourceIp": "203.0.113.5"}}, {"aws:SourceIp": "203.0.113.5"}, True)
condition_case("ip-default-32-miss", OPS, "the default prefix value of /32",
               {"IpAddress": {"aws:SourceIp": "203.0.113.5"}}, {"aws:SourceIp": "203.0.113.6"}, False)
condition_case("ip-ipv6", OPS, '"2001:DB8:1234:5678::/64"',
               {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}},
               {"aws:SourceIp": "2001:db8:1234:5678::10"}, True)
condition_case("ip-missing-through-endpoint", OPS, "except when the requester uses a VPC endpoint ... the condition returns false",
               {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:VpcSourceIp": "10.0.1.5"}, False)
condition_case("ip-not-in", OPS, "NotIpAddress: All IP addresses except the specified IP address or range",
               {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.7"}, True)
condition_case("ip-not-in-inside", OPS, "All IP addresses except the specified",
               {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.9"}, False)
condition_case("ip-not-in-bare-v4-v6-request", OPS, "IAM uses the default prefix value of /32",
               {"NotIpAddress": {"aws:VpcSourceIp": "10.0.1.5"}}, {"aws:VpcSourceIp": "fd00::7"}, True,
               cross_check=False, note="iam-simulate's bare IPv4 value never matches an IPv6 request, even negated")
condition_case("ip-not-in-missing", OPS, "If the policy condition requires that the key is not matched ... true",
               {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {}, True)
condition_case("ip-vpc-source", KEYS, "the request originates from the specified IP address and it goes through a VPC endpoint",
               {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}}, {"aws:VpcSourceIp": "10.0.1.5"}, True)
condition_case("ip-vpc-source-other", KEYS, "aws:VpcSourceIp",
               {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}}, {"aws:VpcSourceIp": "10.1.1.5"}, False)

# --- ARN operators ---------------------------------------------------------------------------------
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:TOPIC-ID"
condition_case("arn-equals", OPS, '"ArnEquals": {"aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID"}',
               {"ArnEquals": {"aws:SourceArn": TOPIC}}, {"aws:SourceArn": TOPIC}, True,
               req=request("sqs:SendMessage", QUEUE))
condition_case("arn-equals-other", OPS, "Case-sensitive matching of the ARN",
               {"ArnEquals": {"aws:SourceArn": TOPIC}}, {"aws:SourceArn": TOPIC.lower()}, False,
               req=request("sqs:SendMessage", QUEUE))
condition_case("arn-missing", OPS, "If an IAM user attempts to perform this operation directly, the condition returns false",
               {"ArnEquals": {"aws:SourceArn": TOPIC}}, {}, False, req=request("sqs:SendMessage", QUEUE))
condition_case("arn-like-wildcard", OPS, "each can include multi-character match wildcards (*)",
               {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, {"aws:PrincipalArn": ROLE_ARN}, True)
condition_case("arn-equals-is-like", OPS, "The ArnEquals and ArnLike condition operators behave identically",
               {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, {"aws:PrincipalArn": ROLE_ARN}, True)
condition_case("arn-like-segments", OPS, "With an ArnLike condition, which matches elements between colons, the match fails",
               {"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}},
               {"aws:SourceArn": "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"},
               False)
condition_case("string-like-spans-segments", OPS, "With a StringLike condition, the match succeeds",
               {"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}},
               {"aws:SourceArn": "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"},
               True)
condition_case("arn-like-question", OPS, "single-character match wildcards (?)",
               {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ap?"}}, {"aws:PrincipalArn": ROLE_ARN}, True)
condition_case("arn-not-like", OPS, "ArnNotEquals, ArnNotLike: Negated matching for ARN",
               {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/admin-*"}}, {"aws:PrincipalArn": ROLE_ARN},
               True)
condition_case("arn-not-equals-same", OPS, "The ArnNotEquals and ArnNotLike condition operators behave identically",
               {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, {"aws:PrincipalArn": ROLE_ARN}, False)
condition_case("arn-not-like-missing", OPS, "such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true",
               {"ArnNotLike": {"aws:SourceArn": TOPIC}}, {}, True, req=request("sqs:SendMessage", QUEUE))

# --- ...IfExists -----------------------------------------------------------------------------------
condition_case("ifexists-missing", OPS, "If the key is not present, evaluate the condition element as true",
               {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}, {}, True)
condition_case("ifexists-present-match", OPS, "allow the action only if the key value begins with t1., t2., or m3.",
               {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}, {"ec2:InstanceType": "t2.micro"},
               True, req=request("ec2:RunInstances", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc"))
condition_case("ifexists-present-miss", OPS, "process the key as specified in the policy",
               {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}, {"ec2:InstanceType": "c5.large"},
               False, req=request("ec2:RunInstances", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc"))
condition_case("ifexists-without-fails", OPS, "These additional resources do not have the ec2:InstanceType condition key, so the StringLike check fails",
               {"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}, {}, False)
condition_case("ifexists-numeric", OPS, "You can add IfExists to the end of any condition operator name except the Null",
               {"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}, {}, True)
condition_case("ifexists-bool-present", OPS, "Other condition elements in the statement can still result in a nonmatch",
               {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}, {"aws:MultiFactorAuthPresent": False}, False)
condition_case("ifexists-ip-missing", OPS, "If the key is not present, evaluate the condition element as true",
               {"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}, {}, True)
case("ifexists-deny-negated-missing", OPS, "with a negated condition operator like StringNotEqualsIfExists, the request is still denied",
     policy(statement(), statement("Deny", Condition={"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "blue"}})),
     request(), EXPLICIT_DENY)
case("ifexists-deny-negated-match", OPS, "If the policy key is present in the context of the request, process the key",
     policy(statement(), statement("Deny", Condition={"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "blue"}})),
     request(**{"aws_PrincipalTag__team": "blue"}), ALLOW)

# --- Null --------------------------------------------------------------------------------------------
condition_case("null-true-absent", OPS, "true (the key doesn't exist — it is null)",
               {"Null": {"aws:TokenIssueTime": "true"}}, {}, True)
condition_case("null-true-present", OPS, "the user must not be using temporary credentials (the key must not exist)",
               {"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2026-12-01T00:00:00Z"}, False)
condition_case("null-false-present", OPS, "false (the key exists and its value is not null)",
               {"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2026-12-01T00:00:00Z"}, True)
condition_case("null-false-absent", OPS, "Use a Null condition operator to check if a condition key is absent",
               {"Null": {"aws:TokenIssueTime": "false"}}, {}, False)
condition_case("null-json-boolean", OPS, "use either true ... or false",
               {"Null": {"aws:SourceVpce": True}}, {}, True)

# --- Several conditions ------------------------------------------------------------------------------
CONDITION_BLOCK = {
    "StringEqualsIgnoreCase": {"aws:PrincipalTag/department": ["finance", "hr", "legal"],
                               "aws:PrincipalTag/role": ["audit", "security"]},
    "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
}
FINANCE_AUDIT = {"aws:PrincipalTag/department": "Finance", "aws:PrincipalTag/role": "audit", "aws:PrincipalAccount": ACCOUNT}
condition_case("multi-all-true", MULTI, "All conditions must resolve to true to invoke the desired Allow or Deny effect",
               CONDITION_BLOCK, FINANCE_AUDIT, True)
condition_case("multi-key-and", MULTI, "multiple keys attached to a single condition operator ... logical AND",
               CONDITION_BLOCK, {**FINANCE_AUDIT, "aws:PrincipalTag/role": "dev"}, False)
condition_case("multi-key-missing", MULTI, "must have both principal tag keys, department and role",
               CONDITION_BLOCK, {k: v for k, v in FINANCE_AUDIT.items() if not k.endswith("/role")}, False)
condition_case("multi-operator-and", MULTI, "the conditions are evaluated using a logical AND",
               CONDITION_BLOCK, {**FINANCE_AUDIT, "aws:PrincipalAccount": OTHER}, False)
condition_case("multi-value-or", MULTI, "a single condition operator includes multiple values for one key ... OR",
               CONDITION_BLOCK, {**FINANCE_AUDIT, "aws:PrincipalTag/department": "legal"}, True)

# --- Set operators -----------------------------------------------------------------------------------
ATTRS = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["ID", "Message", "Tags"]}}
GET_ITEM = request("dynamodb:GetItem", TABLE)
condition_case("forall-subset", MULTI, "the request is allowed because the user's requested attributes all match",
               ATTRS, {"dynamodb:Attributes": ["ID", "Message", "Tags"]}, True, req=GET_ITEM)
condition_case("forall-extra", MULTI, "if the user's request includes the UserName attribute, the request fails",
               ATTRS, {"dynamodb:Attributes": ["ID", "UserName"]}, False, req=GET_ITEM)
condition_case("forall-eval-table", MULTI, "There's no match for UserName, so the condition operator returns false",
               {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["PostDateTime", "Message", "Tags"]}},
               {"dynamodb:Attributes": ["PostDateTime", "UserName"]}, False, req=GET_ITEM)
condition_case("forall-missing", MULTI, "It also returns true if there are no keys in the request",
               ATTRS, {}, True, req=GET_ITEM)
condition_case("forall-empty", MULTI, "If the key values in the request resolve to an empty data set ... ForAllValues returns true",
               ATTRS, {"dynamodb:Attributes": []}, True, req=GET_ITEM)
condition_case("forall-single-value", MULTI, "Tests whether the value of every member of the request set is a subset",
               ATTRS, {"dynamodb:Attributes": "Message"}, True, req=GET_ITEM)
condition_case("forall-like", MULTI, "you must also use the StringLike",
               {"ForAllValues:StringLike": {"aws:TagKeys": ["Created*"]}}, {"aws:TagKeys": ["CreatedBy", "CreatedAt"]},
               True)
condition_case("forall-like-miss", MULTI, "every key value in the request matches at least one value in the policy",
               {"ForAllValues:StringLike": {"aws:TagKeys": ["Created*"]}}, {"aws:TagKeys": ["CreatedBy", "Owner"]},
               False)
PUT_ITEM = request("dynamodb:PutItem", TABLE)
DENY_ATTRS = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}}
case("foranyvalue-deny-hit", MULTI, "The last test returns true, so the condition is true; ... the request is denied",
     policy(statement(), statement("Deny", Action="dynamodb:PutItem", Resource=TABLE, Condition=DENY_ATTRS)),
     Request(PUT_ITEM.action, PUT_ITEM.resources, ALICE, {"dynamodb:Attributes": ["UserName", "Message", "PostDateTime"]}),
     EXPLICIT_DENY)
case("foranyvalue-deny-miss", MULTI, "None of the attributes in the request (just UserName) match",
     policy(statement(), statement("Deny", Action="dynamodb:PutItem", Resource=TABLE, Condition=DENY_ATTRS)),
     Request(PUT_ITEM.action, PUT_ITEM.resources, ALICE, {"dynamodb:Attributes": ["UserName"]}), ALLOW)
condition_case("foranyvalue-missing", MULTI, "For no matching key or a null dataset, the condition returns false",
               DENY_ATTRS, {}, False, req=PUT_ITEM)
condition_case("foranyvalue-empty", MULTI, "A condition operator modified by ForAnyValue returns false",
               DENY_ATTRS, {"dynamodb:Attributes": []}, False, req=PUT_ITEM)
condition_case("foranyvalue-single", MULTI, "at least one member of the set of request values matches",
               DENY_ATTRS, {"dynamodb:Attributes": "ID"}, True, req=PUT_ITEM)
condition_case("foranyvalue-negated", MULTI, "Tests whether at least one member of the set of request values matches",
               {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["Owner"]}}, {"aws:TagKeys": ["Owner", "Team"]}, True)
condition_case("foranyvalue-negated-all-listed", MULTI, "negated matching ... work like a logical AND",
               {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["Owner", "Team"]}}, {"aws:TagKeys": ["Owner", "Team"]},
               False)
condition_case("forallvalues-negated", MULTI, "ForAllValues ... Tests whether the value of every member of the request set",
               {"ForAllValues:StringNotLike": {"aws:TagKeys": ["aws:*"]}}, {"aws:TagKeys": ["Owner", "Team"]}, True)
condition_case("forallvalues-negated-hit", MULTI, "every key value in the request matches",
               {"ForAllValues:StringNotLike": {"aws:TagKeys": ["aws:*"]}}, {"aws:TagKeys": ["Owner", "aws:x"]}, False)
condition_case("single-operator-on-multivalued", SINGLE, "Multivalued context keys require a condition set operator",
               {"StringEquals": {"aws:TagKeys": "Owner"}}, {"aws:TagKeys": ["Owner", "Team"]}, False)
condition_case("single-operator-on-one-value-list", SINGLE, "depends on the number of values in the request context",
               {"StringLike": {"aws:TagKeys": "*"}}, {"aws:TagKeys": ["Owner"]}, False)
condition_case("foranyvalue-ifexists-missing", OPS, "You can add IfExists to the end of any condition operator name",
               {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["Owner"]}}, {}, True, cross_check=False,
               note="iam-simulate's ForAnyValue is false for a missing key even with IfExists")

# --- Endpoint policy condition keys -----------------------------------------------------------------
case("vpce-source-vpce", KEYS, "compare the VPC endpoint identifier of the request with the endpoint ID",
     policy(statement(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
     request(aws_SourceVpce="vpce-1a2b3c4d"), ALLOW)
case("vpce-source-vpce-other", KEYS, "aws:SourceVpce", policy(statement(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
     request(aws_SourceVpce="vpce-9999"), IMPLICIT_DENY)
case("vpce-source-vpc", KEYS, "check whether the request comes from the VPC that you specify in the policy",
     policy(statement(Condition={"StringEquals": {"aws:SourceVpc": "vpc-111bbb22"}})),
     request(aws_SourceVpc="vpc-111bbb22"), ALLOW)
case("vpce-source-vpc-deny-other", KEYS, "aws:SourceVpc",
     policy(statement(), statement("Deny", Condition={"StringNotEquals": {"aws:SourceVpc": "vpc-111bbb22"}})),
     request(aws_SourceVpc="vpc-999"), EXPLICIT_DENY)
case("vpce-principal-account", KEYS, "compare the account to which the requesting principal belongs",
     policy(statement(Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})), request(), ALLOW)
case("vpce-principal-account-other", KEYS, "aws:PrincipalAccount",
     policy(statement(Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})), request(caller=BOB_OTHER),
     IMPLICIT_DENY)
case("vpce-principal-arn-role", VPCE, 'To specify principals, use the aws:PrincipalArn condition key',
     policy(statement(Condition={"StringEquals": {"aws:PrincipalArn": ROLE_ARN}})), request(caller=SESSION), ALLOW)
case("vpce-principal-arn-user", VPCE, '"aws:PrincipalArn": "arn:aws:iam::123456789012:user/endpointuser"',
     policy(statement(Condition={"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/endpointuser"}})),
     request(caller=Caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/endpointuser")), ALLOW)
case("vpce-principal-arn-other", VPCE, "use the aws:PrincipalArn condition key",
     policy(statement(Condition={"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/endpointuser"}})),
     request(), IMPLICIT_DENY)
case("vpce-anonymous-principal-account-present", KEYS, "This key is included in the request context for all requests, including anonymous requests",
     policy(statement(Condition={"Null": {"aws:PrincipalAccount": "false"}})), request(caller=ANONYMOUS), ALLOW)
case("vpce-anonymous-principal-account", KEYS, "For anonymous requests, the request context returns anonymous",
     policy(statement(Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})), request(caller=ANONYMOUS),
     IMPLICIT_DENY)

# --- Policy variables --------------------------------------------------------------------------------
HOME = "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"
case("vars-username-resource", VARS, "When this policy is evaluated, IAM replaces the variable",
     policy(statement(Action="s3:GetObject", Resource=HOME)), request("s3:GetObject", BUCKET + "/home/alice/a.txt"),
     ALLOW)
case("vars-username-resource-other", VARS, "a single policy applied to a group of users can control access",
     policy(statement(Action="s3:GetObject", Resource=HOME)), request("s3:GetObject", BUCKET + "/home/bob/a.txt"),
     IMPLICIT_DENY)
case("vars-2008-literal", VERSION, "variables such as ${aws:username} aren't recognized as variables",
     policy(statement(Action="s3:GetObject", Resource=HOME), version="2008-10-17"),
     request("s3:GetObject", BUCKET + "/home/alice/a.txt"), IMPLICIT_DENY, cross_check=False,
     note="iam-simulate expands variables whatever the Version")
case("vars-no-version-literal", VARS, "If you don't include the Version element ... treated as literal strings",
     policy(statement(Action="s3:GetObject", Resource=HOME), version=None),
     request("s3:GetObject", BUCKET + "/home/alice/a.txt"), IMPLICIT_DENY, cross_check=False,
     note="iam-simulate expands variables whatever the Version")
case("vars-missing-resource", VARS, "the resource that includes a policy variable with no value will not match any resource",
     policy(statement(Action="s3:GetObject", Resource=HOME)),
     request("s3:GetObject", BUCKET + "/home/alice/a.txt", caller=SESSION), IMPLICIT_DENY)
case("vars-default", VARS, "surround the default value with single quotes",
     policy(statement(Action="s3:GetObject",
                      Resource="arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}/*")),
     request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-company-wide/readme"), ALLOW)
case("vars-default-tagged", VARS, "they can access ExampleCorp's Amazon S3 bucket named DOC-EXAMPLE-BUCKET-yellow",
     policy(statement(Action="s3:GetObject",
                      Resource="arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}/*")),
     request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-yellow/readme", aws_PrincipalTag__team="yellow"), ALLOW)
condition_case("vars-condition-like", VARS, '"Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}',
               {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}, {"s3:prefix": "alice/x", "aws:username": "alice"},
               True, req=LIST)
condition_case("vars-condition-like-other", VARS, "IAM substitutes the user name from the current request",
               {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}, {"s3:prefix": "bob/x", "aws:username": "alice"},
               False, req=LIST)
condition_case("vars-condition-missing-equals", VARS, "StringEquals or StringLike do not match, and the policy statement does not take effect",
               {"StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}, {"aws:PrincipalTag/team": "blue"},
               False)
condition_case("vars-condition-missing-not-equals", VARS, "Inverted condition operators like StringNotEquals ... do match against a null value",
               {"StringNotEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}, {"aws:PrincipalTag/team": "blue"},
               True, cross_check=False, note="iam-simulate makes a value with an unresolved variable fail, negated or not")
condition_case("vars-condition-principal-account", VARS, "Global condition context keys can be used as variables",
               {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
               {"aws:ResourceAccount": ACCOUNT, "aws:PrincipalAccount": ACCOUNT}, True)
condition_case("vars-special-star", VARS, "${*} - use where you need an * (asterisk) character",
               {"StringLike": {"aws:PrincipalTag/name": "a${*}b"}}, {"aws:PrincipalTag/name": "a*b"}, True)
condition_case("vars-special-star-literal", VARS, "inserting an * asterisk in the string would be interpreted as a wildcard",
               {"StringLike": {"aws:PrincipalTag/name": "a${*}b"}}, {"aws:PrincipalTag/name": "axxb"}, False)
condition_case("vars-special-question", VARS, "${?} - use where you need a ? (question mark) character",
               {"StringLike": {"aws:PrincipalTag/name": "a${?}"}}, {"aws:PrincipalTag/name": "ax"}, False)
condition_case("vars-special-dollar", VARS, "${$} - use where you need a $ (dollar sign) character",
               {"StringEquals": {"aws:PrincipalTag/name": "cost${$}"}}, {"aws:PrincipalTag/name": "cost$"}, True,
               cross_check=False, note="iam-simulate keeps ${$} as literal text under StringEquals (it expands it under StringLike)")
condition_case("vars-multivalued-not-variable", VARS, "You can't use a multivalued condition key as a variable",
               {"StringEquals": {"aws:PrincipalTag/name": "${aws:TagKeys}"}},
               {"aws:PrincipalTag/name": "Owner", "aws:TagKeys": ["Owner"]}, False, cross_check=False,
               note="iam-simulate substitutes a list variable's first value")
condition_case("vars-arn-condition", VARS, "ARN operators include ArnEquals and ArnLike",
               {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:user/*"}},
               {"aws:PrincipalArn": ALICE.arn, "aws:PrincipalAccount": ACCOUNT}, True, cross_check=False,
               note="iam-simulate splits an ARN at its colons before expanding ${aws:PrincipalAccount}")
