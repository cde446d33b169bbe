"""IAM policy evaluation for endpoint and bucket policies: pure functions over plain data, no I/O.

Nouns, one job each:

- ``Policy`` (document.py): a policy document parsed and validated; ``MalformedPolicy`` says why not.
- ``Condition`` (conditions.py): one key under one condition operator, and whether it holds.
- ``patterns`` (patterns.py): wildcards, ARN matching and policy variables.
- ``Request`` / ``Decision`` (evaluate.py): a request (action, resources, caller, context) and
  the verdict, Allow, ExplicitDeny or ImplicitDeny, with the statement that decided.
- ``iam_actions`` (actions.py): the IAM actions an AWS operation needs (S3's ListObjectsV2 is
  s3:ListBucket), from botocore's models and operations.json; ``registry_action`` for ECR's
  registry API.
- ``resource_arns`` (resources.py): the ARNs a request acts on, from resources.json (the
  Service Authorization Reference's ARN formats and the request members that fill them).

The IAM User Guide is the specification; tests/policy cites it case by case. See docs/policy.md.
"""

from pocketlink.policy.document import MalformedPolicy, Policy, parse_endpoint_policy, parse_policy
from pocketlink.policy.evaluate import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Caller,
    Decision,
    Request,
    evaluate,
)

__all__ = [
    "ALLOW", "EXPLICIT_DENY", "IMPLICIT_DENY", "Caller", "Decision", "MalformedPolicy", "Policy", "Request",
    "evaluate", "parse_endpoint_policy", "parse_policy",
]
