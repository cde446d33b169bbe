"""The IAM actions an AWS operation is authorized as: S3's ListObjectsV2 is ``s3:ListBucket``.

Most operations are ``prefix:OperationName``, the prefix being the service model's
``signingName`` (else its ``endpointPrefix``: ECR's API is signed as ``ecr``). The others are
data, in operations.json, checked against AWS's Service Authorization Reference by
tests/policy/test_actions.py; nothing here guesses by pattern.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from botocore.loaders import Loader

# The registry API's routes (the OCI distribution spec): /v2/<name>/manifests/<reference>,
# /v2/<name>/blobs/<digest>, /v2/<name>/blobs/uploads/[<id>], /v2/<name>/tags/list.
_REGISTRY_ROUTE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs/uploads|blobs|tags)(/.*)?$")

# The services the service front puts behind interface endpoints (issue 8), by botocore name.
SERVICES = ("dynamodb", "ec2", "ecr", "kms", "logs", "s3", "secretsmanager", "sns", "sqs", "ssm", "sts")


@cache
def _exceptions() -> dict:
    return json.loads(resources.files("pocketlink.policy").joinpath("operations.json").read_text())


@cache
def _metadata(service: str) -> dict:
    return Loader().load_service_model(service, "service-2")["metadata"]


def iam_prefix(service: str) -> str:
    metadata = _metadata(service)
    return metadata.get("signingName") or metadata["endpointPrefix"]


def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    """Every IAM action ``operation`` of ``service`` (botocore names) needs; most need one.

    An operation that needs two (S3's CopyObject: s3:PutObject on the target, s3:GetObject on
    the source) lists them in that order: the first concerns the request's own resource.
    """
    mapped = _exceptions().get(service, {}).get("actions", {}).get(operation)
    if mapped is None:
        return (f"{iam_prefix(service)}:{operation}",)
    return (mapped,) if isinstance(mapped, str) else tuple(mapped)


def registry_action(method: str, path: str) -> tuple[str, str] | None:
    """The IAM action of a request to ECR's registry API (``docker pull``), with its repository.

    None for the routes that name no repository (``/v2/``, the version check), which the
    authorization token alone admits.
    """
    route = _REGISTRY_ROUTE.match(path.split("?", 1)[0])
    if route is None:
        return None
    action = _exceptions()["ecr"]["registry"].get(f"{method.upper()} {route['kind']}")
    return (action, route["name"]) if action else None
