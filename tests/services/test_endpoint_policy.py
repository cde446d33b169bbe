"""Endpoint policies, enforced: requests that came through an interface endpoint (a
``NetworkPath`` naming it, as the service front hands it over) against the endpoint's
PolicyDocument, in the gateway itself.

boto3 clients talk to an in-process ``Gateway`` (their requests are handed to
``Gateway.forwarding``/``handle`` with the path, and its answers parsed back by botocore,
so an error is checked as an SDK reads it); the backend is a real moto child process; the
endpoint is made and changed through the EC2 API of the same gateway. Through a real endpoint
(front, hyperplane, TLS) see the end-to-end tests of the service front.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from pocketlink.daemon import KINDS
from pocketlink.gateway.dispatch import Gateway, loopback_only
from pocketlink.gateway.endpoint_policy import caller_of, network_context, policy_requests
from pocketlink.gateway.paths import NetworkPath
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.policy import Caller
from pocketlink.services.backend import Backend
from pocketlink.services.operations import Call
from pocketlink.store import Store
from tests.services.conftest import http_request

ACCOUNT, OTHER, REGION = "111122223333", "444455556666", "us-west-2"
# The endpoint service of a botocore service, where its name differs.
ENDPOINT_SERVICES = {"ecr": "ecr.api", "elbv2": "elasticloadbalancing"}
CALLER_IP = "10.0.1.25"


class _Body(io.BytesIO):
    """A whole answer, as botocore reads a response's raw body (streamed or not)."""

    def stream(self, **_) -> Iterator[bytes]:
        yield self.getvalue()


class World:
    """One gateway, its backend, a VPC with an endpoint per service the tests use."""

    def __init__(self, folder) -> None:
        self.loop = asyncio.new_event_loop()
        self.store = Store(folder / "state.db", KINDS)
        self.backend = Backend(folder / "backend")
        self.gateway = Gateway(self.store, backend=self.backend)
        self.endpoints: dict[str, str] = {}
        self.seen: list[tuple[str, int]] = []  # (service, status) of each answer

    def client(self, service: str, path: NetworkPath | None = None, account: str = ACCOUNT):
        client = boto3.client(service, region_name=REGION, aws_access_key_id=account,
                              aws_secret_access_key="secret",
                              config=Config(retries={"max_attempts": 1},
                                            s3={"addressing_style": "path"}))
        client.meta.events.register("before-send", lambda request, **_: self._send(request, path))
        return client

    def _send(self, request, path: NetworkPath | None) -> AWSResponse:
        http = http_request(request)
        answer = self.gateway.forwarding(http, CALLER_IP, path)
        response = (self.loop.run_until_complete(answer) if answer is not None
                    else self.gateway.handle(http, CALLER_IP, path))
        return AWSResponse(request.url, response.status, response.headers, _Body(response.body))

    def vpc(self) -> tuple[str, str]:
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                                   AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
        return vpc, subnet

    def endpoint(self, vpc: str, subnet: str, service: str, policy: dict | None = None) -> str:
        extra = {"PolicyDocument": json.dumps(policy)} if policy else {}
        made = self.client("ec2").create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.{ENDPOINT_SERVICES.get(service, service)}",
            VpcEndpointType="Interface", SubnetIds=[subnet], PrivateDnsEnabled=False, **extra)
        endpoint = made["VpcEndpoint"]["VpcEndpointId"]
        with self.store.transaction() as tx:  # what the reconciler does once its ENIs are up
            tx.edit(VpcEndpoint, endpoint).state = "available"
        return endpoint

    def set_policy(self, endpoint: str, policy: dict | None) -> None:
        change = {"PolicyDocument": json.dumps(policy)} if policy else {"ResetPolicy": True}
        assert self.client("ec2").modify_vpc_endpoint(VpcEndpointId=endpoint, **change)["Return"]

    def close(self) -> None:
        self.loop.run_until_complete(self.backend.stop())
        self.loop.close()
        self.store.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("endpoint-policy"))
    yield world
    world.close()


@pytest.fixture(scope="module")
def vpc(world) -> tuple[str, str]:
    return world.vpc()


def through(vpc: str, endpoint: str) -> NetworkPath:
    return NetworkPath(CALLER_IP, endpoint, vpc)


def deny(action: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Sid": "NoReading", "Effect": "Deny", "Principal": "*", "Action": action,
         "Resource": "*"}]}


def denied(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def test_default_policy_allows_everything(world, vpc) -> None:
    endpoint = world.endpoint(*vpc, "ssm")
    world.client("ssm").put_parameter(Name="/app/db-host", Value="db.internal", Type="String")
    ssm = world.client("ssm", through(vpc[0], endpoint))
    assert ssm.get_parameter(Name="/app/db-host")["Parameter"]["Value"] == "db.internal"
    ssm.put_parameter(Name="/app/through", Value="x", Type="String")


def test_explicit_deny_of_get_parameter(world, vpc) -> None:
    endpoint = world.endpoint(*vpc, "ssm", deny("ssm:GetParameter"))
    world.client("ssm").put_parameter(Name="/app/port", Value="5432", Type="String")
    ssm = world.client("ssm", through(vpc[0], endpoint))
    error = denied(lambda: ssm.get_parameter(Name="/app/port"))
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: ssm:GetParameter "
        f"on resource: arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/port "
        "with an explicit deny in a VPC endpoint policy")
    # Other actions pass; the same call from the host (no endpoint) too.
    assert ssm.get_parameters(Names=["/app/port"])["Parameters"][0]["Value"] == "5432"
    assert world.client("ssm").get_parameter(Name="/app/port")["Parameter"]["Value"] == "5432"
    # A path that names no endpoint (the internet, a NAT) meets no endpoint policy.
    outside = world.client("ssm", NetworkPath("198.51.100.7"))
    assert outside.get_parameter(Name="/app/port")["Parameter"]["Value"] == "5432"


def test_only_get_object_on_one_bucket(world, vpc) -> None:
    host = world.client("s3")
    for bucket in ("allowed-bucket", "other-bucket"):
        host.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        host.put_object(Bucket=bucket, Key="data/report.csv", Body=b"a,b\n")
    endpoint = world.endpoint(*vpc, "s3", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::allowed-bucket/*"}]})
    s3 = world.client("s3", through(vpc[0], endpoint))
    assert s3.get_object(Bucket="allowed-bucket", Key="data/report.csv")["Body"].read() == b"a,b\n"
    assert s3.head_object(Bucket="allowed-bucket", Key="data/report.csv")["ContentLength"] == 4
    for call in (lambda: s3.get_object(Bucket="other-bucket", Key="data/report.csv"),
                 lambda: s3.list_objects_v2(Bucket="allowed-bucket"),
                 lambda: s3.put_object(Bucket="allowed-bucket", Key="new", Body=b"x")):
        error = denied(call)
        assert error.response["Error"] == {"Code": "AccessDenied", "Message": "Access Denied"}
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "new" not in [o["Key"] for o in host.list_objects_v2(Bucket="allowed-bucket")["Contents"]]


def test_implicit_deny_wording(world, vpc) -> None:
    endpoint = world.endpoint(*vpc, "secretsmanager", {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:ListSecrets",
         "Resource": "*"}]})
    secrets = world.client("secretsmanager", through(vpc[0], endpoint))
    error = denied(lambda: secrets.get_secret_value(SecretId="app/db"))
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert error.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: "
        f"secretsmanager:GetSecretValue on resource: "
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db because no VPC endpoint "
        "policy allows the secretsmanager:GetSecretValue action")
    secrets.list_secrets()


def test_condition_on_source_vpc(world, vpc) -> None:
    world.client("ssm").put_parameter(Name="/vpc/only", Value="v", Type="String")
    endpoint = world.endpoint(*vpc, "ssm", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "ssm:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceVpc": vpc[0]}}}]})
    assert world.client("ssm", through(vpc[0], endpoint)).get_parameter(Name="/vpc/only")
    elsewhere = world.client("ssm", NetworkPath(CALLER_IP, endpoint, "vpc-0123456789abcdef0"))
    assert denied(lambda: elsewhere.get_parameter(Name="/vpc/only")).response["Error"][
        "Code"] == "AccessDeniedException"


def test_condition_on_principal_account(world, vpc) -> None:
    world.client("ssm").put_parameter(Name="/mine", Value="m", Type="String")
    world.client("ssm", account=OTHER).put_parameter(Name="/mine", Value="o", Type="String")
    endpoint = world.endpoint(*vpc, "ssm", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}]})
    path = through(vpc[0], endpoint)
    assert world.client("ssm", path).get_parameter(Name="/mine")["Parameter"]["Value"] == "m"
    error = denied(lambda: world.client("ssm", path, OTHER).get_parameter(Name="/mine"))
    assert error.response["Error"]["Message"].startswith(
        f"User: arn:aws:iam::{OTHER}:root is not authorized to perform: ssm:GetParameter "
        f"on resource: arn:aws:ssm:{REGION}:{OTHER}:parameter/mine because no VPC endpoint")


def test_a_policy_change_applies_to_the_next_request(world, vpc) -> None:
    world.client("ssm").put_parameter(Name="/changing", Value="c", Type="String")
    endpoint = world.endpoint(*vpc, "ssm")
    ssm = world.client("ssm", through(vpc[0], endpoint))
    assert ssm.get_parameter(Name="/changing")
    world.set_policy(endpoint, deny("ssm:GetParameter"))
    denied(lambda: ssm.get_parameter(Name="/changing"))
    world.set_policy(endpoint, None)  # ResetPolicy: the default, full access
    assert ssm.get_parameter(Name="/changing")["Parameter"]["Value"] == "c"


def test_a_document_the_grammar_refuses_is_refused_and_a_gone_endpoint_allows_nothing(
        world, vpc) -> None:
    """An endpoint policy must name a Principal: the API refuses one that does not, as AWS
    answers InvalidPolicyDocument, rather than store what would deny everything. A request
    through an endpoint that is gone fails closed."""
    with pytest.raises(ClientError) as refused:
        world.endpoint(*vpc, "ssm", {"Statement": [{"Effect": "Allow", "Action": "*",
                                                    "Resource": "*"}]})
    assert refused.value.response["Error"]["Code"] == "InvalidPolicyDocument"
    assert "Principal" in refused.value.response["Error"]["Message"]
    world.client("ssm").put_parameter(Name="/closed", Value="c", Type="String")
    gone = world.client("ssm", through(vpc[0], "vpce-0123456789abcdef0"))
    error = denied(lambda: gone.get_parameter(Name="/closed"))
    assert "because no VPC endpoint policy allows the ssm:GetParameter action" in \
        error.response["Error"]["Message"]


def test_a_service_without_endpoint_policies_allows_everything(world) -> None:
    """A custom endpoint service takes no policy (PolicyDocument absent): full access."""
    endpoint = VpcEndpoint(id="vpce-0fedcba9876543210", account=ACCOUNT, region=REGION,
                           vpc_id="vpc-1", service_name="com.amazonaws.vpce.us-west-2.vpce-svc-1",
                           service_id="vpce-svc-1", service_owner=OTHER,
                           endpoint_type="Interface", state="available")
    assert world.gateway.endpoint_policies.policy_of(endpoint) is None


def test_pocketlinks_own_services_too(world, vpc) -> None:
    """EC2 and STS through their endpoints."""
    ec2_endpoint = world.endpoint(*vpc, "ec2", deny("ec2:Describe*"))
    ec2 = world.client("ec2", through(vpc[0], ec2_endpoint))
    error = denied(ec2.describe_vpcs)
    assert error.response["Error"]["Code"] == "UnauthorizedOperation"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Message"] == (
        "You are not authorized to perform this operation. User: "
        f"arn:aws:iam::{ACCOUNT}:root is not authorized to perform: ec2:DescribeVpcs with an "
        "explicit deny in a VPC endpoint policy")
    # The policy is asked before a dry run answers, as AWS checks permissions for one.
    error = denied(lambda: ec2.describe_vpcs(DryRun=True))
    assert error.response["Error"]["Code"] == "UnauthorizedOperation"
    error = denied(lambda: ec2.create_vpc(CidrBlock="10.9.0.0/16", DryRun=True))
    assert error.response["Error"]["Code"] == "DryRunOperation"
    # GetCallerIdentity needs no permission at AWS, whatever a policy says.
    sts_endpoint = world.endpoint(*vpc, "sts", deny("sts:GetCallerIdentity"))
    sts = world.client("sts", through(vpc[0], sts_endpoint))
    assert sts.get_caller_identity()["Account"] == ACCOUNT


# The service's own AccessDenied, per protocol, as botocore reads it. The requests are
# denied before the backend sees them, so they need no data there.
DENIALS = [
    ("ssm", lambda c: c.get_parameter(Name="/x"), "AccessDeniedException", 400),
    ("secretsmanager", lambda c: c.get_secret_value(SecretId="x"), "AccessDeniedException", 400),
    ("logs", lambda c: c.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": 1, "message": "m"}]), "AccessDeniedException", 400),
    ("kms", lambda c: c.decrypt(CiphertextBlob=b"x"), "AccessDeniedException", 400),
    ("dynamodb", lambda c: c.get_item(TableName="t", Key={"k": {"S": "v"}}),
     "AccessDeniedException", 400),
    ("ecr", lambda c: c.describe_repositories(), "AccessDeniedException", 400),
    ("sqs", lambda c: c.list_queues(), "AccessDenied", 403),
    ("sns", lambda c: c.list_topics(), "AuthorizationError", 403),
    ("s3", lambda c: c.list_buckets(), "AccessDenied", 403),
    ("ec2", lambda c: c.describe_instances(), "UnauthorizedOperation", 403),
    ("elbv2", lambda c: c.describe_load_balancers(), "AccessDenied", 403),
]


@pytest.mark.parametrize(("service", "call", "code", "status"), DENIALS,
                         ids=[d[0] for d in DENIALS])
def test_each_service_denies_in_its_own_format(world, vpc, service, call, code, status) -> None:
    endpoint = world.endpoint(*vpc, service, {"Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})
    error = denied(lambda: call(world.client(service, through(vpc[0], endpoint))))
    assert error.response["Error"]["Code"] == code
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    message = error.response["Error"]["Message"]
    assert message == "Access Denied" if service == "s3" else \
        "with an explicit deny in a VPC endpoint policy" in message


# The builder alone: request -> (action, resources) and the context, per service and operation.
PATH = NetworkPath(CALLER_IP, "vpce-0a1b2c3d4e5f60718", "vpc-0f1e2d3c4b5a69788")
ROOT = Caller(account=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:root")
BUILT = [
    (Call("ssm", "GetParameter", {"Name": "/app/db-host"}),
     [("ssm:GetParameter", (f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db-host",))]),
    (Call("ssm", "DescribeParameters", {}), [("ssm:DescribeParameters", ("*",))]),
    (Call("secretsmanager", "GetSecretValue", {"SecretId": "app/db"}),
     [("secretsmanager:GetSecretValue",
       (f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db",))]),
    (Call("logs", "PutLogEvents", {"logGroupName": "/ecs/app", "logStreamName": "web/1"}),
     [("logs:PutLogEvents",
       (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/app:log-stream:web/1",))]),
    (Call("kms", "Decrypt", {"KeyId": "alias/app"}),
     [("kms:Decrypt", (f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/app",))]),
    (Call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "logs/"}),
     [("s3:ListBucket", ("arn:aws:s3:::b",))]),
    (Call("s3", "HeadObject", {"Bucket": "b", "Key": "k"}), [("s3:GetObject", ("arn:aws:s3:::b/k",))]),
    (Call("s3", "CopyObject", {"Bucket": "b", "Key": "to", "CopySource": "src/from"}),
     [("s3:PutObject", ("arn:aws:s3:::b/to",)), ("s3:GetObject", ("arn:aws:s3:::src/from",))]),
    (Call("s3", "UploadPart", {"Bucket": "b", "Key": "k", "UploadId": "u"}),
     [("s3:PutObject", ("arn:aws:s3:::b/k",))]),
    (Call("sqs", "SendMessageBatch", {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q"}),
     [("sqs:SendMessage", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",))]),
    (Call("sns", "Publish", {"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:t"}),
     [("sns:Publish", (f"arn:aws:sns:{REGION}:{ACCOUNT}:t",))]),
    (Call("dynamodb", "Query", {"TableName": "orders"}),
     [("dynamodb:Query", (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders",))]),
    (Call("ecr", "GetDownloadUrlForLayer", {"repositoryName": "app"}),
     [("ecr:GetDownloadUrlForLayer", (f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app",))]),
    (Call("ec2", "DescribeInstances", {}), [("ec2:DescribeInstances", ("*",))]),
    (Call("sts", "GetCallerIdentity", {}), [("sts:GetCallerIdentity", ("*",))]),
    (Call("s3", "", {}), [("*", ("*",))]),  # a route S3 has no operation for
]


@pytest.mark.parametrize(("call", "expected"), BUILT, ids=[f"{c.service}-{c.operation}" for c, _ in BUILT])
def test_policy_requests(call, expected) -> None:
    asked = policy_requests(call, ROOT, PATH, REGION)
    assert [(r.action, r.resources) for r in asked] == expected
    assert all(r.caller == ROOT for r in asked)


def test_the_context_a_path_gives() -> None:
    now = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    (asked,) = policy_requests(Call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "p/"}),
                               ROOT, PATH, REGION, now)
    assert asked.context == {
        "aws:SourceVpce": "vpce-0a1b2c3d4e5f60718", "aws:SourceVpc": "vpc-0f1e2d3c4b5a69788",
        "aws:VpcSourceIp": CALLER_IP, "aws:SecureTransport": True, "aws:RequestedRegion": REGION,
        "aws:CurrentTime": "2026-12-01T04:30:00Z", "aws:EpochTime": int(now.timestamp()),
        "aws:PrincipalType": "Account", "aws:userid": ACCOUNT, "aws:ViaAWSService": False,
        "aws:PrincipalIsAWSService": False, "s3:prefix": "p/"}
    # Through an endpoint AWS sets no aws:SourceIp; without a VPC it is the caller's address.
    assert "aws:SourceIp" not in asked.context
    assert network_context(NetworkPath("198.51.100.7"))["aws:SourceIp"] == "198.51.100.7"


def test_the_hosts_port_is_secure_transport_only_on_loopback() -> None:
    """A request on the daemon's own port came over plain HTTP: a TLS-only bucket policy
    (cdk bootstrap's) refuses it, unless the port listens on loopback only, where nothing
    crossed a network."""
    assert network_context(None) == {"aws:SecureTransport": False}
    assert network_context(None, loopback=True) == {"aws:SecureTransport": True}
    assert [loopback_only(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0",
                                       "192.0.2.1", "host.example")] == \
        [True, True, True, True, False, False, False]


def test_an_unsigned_request_is_anonymous() -> None:
    from pocketlink.gateway.identity import Credentials

    caller = caller_of(Credentials(), "")
    assert caller == Caller()
    (asked,) = policy_requests(Call("s3", "GetObject", {"Bucket": "b", "Key": "k"}), caller,
                               PATH, REGION)
    assert asked.context["aws:PrincipalType"] == "Anonymous"


def test_an_instance_roles_key_is_its_session_and_its_role() -> None:
    """A policy may name the session's role ARN ("IAM role principals"); an account's own key
    is the account's root."""
    from pocketlink.gateway.identity import Credential, Credentials

    credentials = Credentials()
    session = Credential("ASIAEXAMPLE", "s", ACCOUNT, session_token="t",
                         principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/app/i-0123",
                         role_arn=f"arn:aws:iam::{ACCOUNT}:role/app")
    credentials.sessions = {"ASIAEXAMPLE": session}.get
    caller = caller_of(credentials, "ASIAEXAMPLE")
    assert caller == Caller(account=ACCOUNT, arn=session.principal, role_arn=session.role_arn)
    assert caller.principal_arn == f"arn:aws:iam::{ACCOUNT}:role/app"
    assert caller_of(credentials, OTHER) == Caller(account=OTHER, arn=f"arn:aws:iam::{OTHER}:root")
