"""What a request to the backend calls, read from botocore's models: S3's routes (the
requests boto3 itself makes, so the table is the SDK's, not ours), json's target and body,
query's Action."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from pocketlink.services.operations import call_of, rest_call
from pocketlink.wire.message import HttpRequest
from tests.services.conftest import http_request


def sent(service: str, operation: str, params: dict, addressing: str = "path",
         endpoint: str | None = None) -> HttpRequest:
    """The request boto3 makes for ``operation``, caught before it leaves."""
    client = boto3.client(service, region_name="us-west-2", aws_access_key_id="111122223333",
                          aws_secret_access_key="secret", endpoint_url=endpoint,
                          config=Config(s3={"addressing_style": addressing}))
    caught: list[HttpRequest] = []

    def catch(request, **_) -> None:
        caught.append(http_request(request))
        raise _Caught

    client.meta.events.register("before-send", catch)
    with pytest.raises(_Caught):
        getattr(client, _snake(client, operation))(**params)
    return caught[0]


class _Caught(Exception):
    pass


def _snake(client, operation: str) -> str:
    return next(k for k, v in client.meta.method_to_api_mapping.items() if v == operation)


B, K = "app-bucket", "dir/report 1.csv"
S3_CASES = [
    ("ListBuckets", {}, {}),
    ("CreateBucket", {"Bucket": B}, {"Bucket": B}),
    ("HeadBucket", {"Bucket": B}, {"Bucket": B}),
    ("ListObjects", {"Bucket": B}, {"Bucket": B}),
    ("ListObjectsV2", {"Bucket": B, "Prefix": "dir/"}, {"Bucket": B, "Prefix": "dir/"}),
    ("GetBucketLocation", {"Bucket": B}, {"Bucket": B}),
    ("GetBucketPolicy", {"Bucket": B}, {"Bucket": B}),
    ("PutBucketPolicy", {"Bucket": B, "Policy": "{}"}, {"Bucket": B}),
    ("GetBucketTagging", {"Bucket": B}, {"Bucket": B}),
    ("ListMultipartUploads", {"Bucket": B}, {"Bucket": B}),
    ("ListObjectVersions", {"Bucket": B}, {"Bucket": B}),
    ("DeleteBucket", {"Bucket": B}, {"Bucket": B}),
    ("GetObject", {"Bucket": B, "Key": K}, {"Bucket": B, "Key": K}),
    ("HeadObject", {"Bucket": B, "Key": K}, {"Bucket": B, "Key": K}),
    ("PutObject", {"Bucket": B, "Key": K, "Body": b"x"}, {"Bucket": B, "Key": K}),
    ("DeleteObject", {"Bucket": B, "Key": K}, {"Bucket": B, "Key": K}),
    ("GetObjectTagging", {"Bucket": B, "Key": K}, {"Bucket": B, "Key": K}),
    ("CopyObject", {"Bucket": B, "Key": K, "CopySource": {"Bucket": "src", "Key": "a/b"}},
     {"Bucket": B, "Key": K, "CopySource": "src/a/b"}),
    ("CreateMultipartUpload", {"Bucket": B, "Key": K}, {"Bucket": B, "Key": K}),
    ("UploadPart", {"Bucket": B, "Key": K, "UploadId": "u1", "PartNumber": 2, "Body": b"x"},
     {"Bucket": B, "Key": K, "UploadId": "u1", "PartNumber": "2"}),
    ("UploadPartCopy", {"Bucket": B, "Key": K, "UploadId": "u1", "PartNumber": 1,
                        "CopySource": "src/a"},
     {"Bucket": B, "Key": K, "UploadId": "u1", "PartNumber": "1", "CopySource": "src/a"}),
    ("CompleteMultipartUpload", {"Bucket": B, "Key": K, "UploadId": "u1"},
     {"Bucket": B, "Key": K, "UploadId": "u1"}),
    ("AbortMultipartUpload", {"Bucket": B, "Key": K, "UploadId": "u1"},
     {"Bucket": B, "Key": K, "UploadId": "u1"}),
    ("ListParts", {"Bucket": B, "Key": K, "UploadId": "u1"}, {"Bucket": B, "Key": K, "UploadId": "u1"}),
    ("DeleteObjects", {"Bucket": B, "Delete": {"Objects": [{"Key": "a"}]}}, {"Bucket": B}),
]


@pytest.mark.parametrize(("operation", "params", "members"), S3_CASES,
                         ids=[c[0] for c in S3_CASES])
@pytest.mark.parametrize(("addressing", "endpoint"), [
    ("path", None),  # https://s3.us-west-2.amazonaws.com/bucket/key
    ("virtual", None),  # https://bucket.s3.us-west-2.amazonaws.com/key
    ("virtual", "https://bucket.vpce-0a1b2c3d4e5f60718-abcdefgh.s3.us-west-2.vpce.amazonaws.com"),
    ("path", "https://bucket.vpce-0a1b2c3d4e5f60718-abcdefgh.s3.us-west-2.vpce.amazonaws.com"),
])
def test_s3_routes(operation, params, members, addressing, endpoint) -> None:
    call = call_of("s3", sent("s3", operation, params, addressing, endpoint))
    assert call.operation == operation
    for name, value in members.items():
        assert call.params.get(name, "").split("?")[0] == value, name


def test_a_route_no_operation_has_is_no_operation() -> None:
    assert rest_call("s3", "PATCH", "/bucket/key", "", {}).operation == ""


def test_a_deprecated_twin_gives_way() -> None:
    """GetBucketLifecycle and GetBucketLifecycleConfiguration share GET /{Bucket}?lifecycle;
    the model marks the first deprecated."""
    call = rest_call("s3", "GET", "/b", "lifecycle", {})
    assert call.operation == "GetBucketLifecycleConfiguration"


@pytest.mark.parametrize(("service", "operation", "params", "expected"), [
    ("ssm", "GetParameter", {"Name": "/app/db-host"}, {"Name": "/app/db-host"}),
    ("secretsmanager", "GetSecretValue", {"SecretId": "app/db"}, {"SecretId": "app/db"}),
    ("logs", "PutLogEvents", {"logGroupName": "g", "logStreamName": "s",
                                   "logEvents": [{"timestamp": 1, "message": "m"}]},
     {"logGroupName": "g", "logStreamName": "s"}),
    ("kms", "Decrypt", {"CiphertextBlob": b"x", "KeyId": "alias/app"}, {"KeyId": "alias/app"}),
    ("dynamodb", "GetItem", {"TableName": "t", "Key": {"k": {"S": "v"}}}, {"TableName": "t"}),
    ("sqs", "SendMessage", {"QueueUrl": "https://sqs.us-west-2.amazonaws.com/111122223333/q",
                            "MessageBody": "m"},
     {"QueueUrl": "https://sqs.us-west-2.amazonaws.com/111122223333/q"}),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-west-2:111122223333:t", "Message": "m"},
     {"TopicArn": "arn:aws:sns:us-west-2:111122223333:t"}),
    ("ecr", "BatchGetImage", {"repositoryName": "app", "imageIds": [{"imageTag": "v1"}]},
     {"repositoryName": "app"}),
    ("ec2", "DescribeVpcs", {"VpcIds": ["vpc-1"]}, {"VpcId.1": "vpc-1"}),
    ("sts", "GetCallerIdentity", {}, {}),
])
def test_json_and_query_calls(service, operation, params, expected) -> None:
    call = call_of(service, sent(service, operation, params))
    assert call.operation == operation
    assert {k: call.params.get(k) for k in expected} == expected
