"""The backend: services pocketlink does not implement itself (SSM, Secrets Manager, S3, Logs,
KMS ...) answer on the same :4566, by the SigV4 scope, each account its own, and nothing is
lost when the backend or the daemon is killed."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pocketlink.harness import children
from tests.conftest import CONSUMER, PROVIDER, Daemon, wait_for

BODY = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture(scope="module")
def daemon(make_daemon, tmp_path_factory) -> Daemon:
    """This module's own daemon: its backend is killed and its accounts are its own."""
    credentials = tmp_path_factory.mktemp("credentials") / "credentials.toml"
    credentials.write_text('[[credentials]]\naccess_key = "AKIAPROVIDER"\n'
                           f'secret_key = "provider-secret"\naccount = "{PROVIDER}"\n')
    return make_daemon("--no-network", "--credentials", str(credentials))


def s3_client(daemon: Daemon, account: str = PROVIDER):
    return boto3.client("s3", endpoint_url=daemon.endpoint, region_name="us-east-1",
                        aws_access_key_id=account, aws_secret_access_key="secret",
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def backend_pid(daemon: Daemon) -> int:
    """The daemon's moto child, found by its parent (not by name)."""
    assert daemon.process is not None
    found = children(daemon.process.pid, "pocketlink.services.backend_main")
    assert found, "the daemon has no backend process"
    return found[0]


def gone(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]) == "Z"
    except OSError:
        return True


def test_ssm_parameter(daemon) -> None:
    ssm = daemon.client("ssm")
    put = ssm.put_parameter(Name="/app/db-host", Value="db.internal", Type="String")
    assert put["Version"] == 1
    parameter = ssm.get_parameter(Name="/app/db-host")["Parameter"]
    assert parameter["Value"] == "db.internal"
    assert parameter["ARN"] == f"arn:aws:ssm:us-east-1:{PROVIDER}:parameter/app/db-host"


def test_secrets_manager_secret(daemon) -> None:
    secrets = daemon.client("secretsmanager")
    made = secrets.create_secret(Name="app/db", SecretString='{"password": "hunter2"}')
    assert made["ARN"].startswith(f"arn:aws:secretsmanager:us-east-1:{PROVIDER}:secret:app/db-")
    value = secrets.get_secret_value(SecretId="app/db")
    assert (value["ARN"], value["VersionId"]) == (made["ARN"], made["VersionId"])
    assert value["SecretString"] == '{"password": "hunter2"}'


def test_s3_object_path_style(daemon) -> None:
    s3 = s3_client(daemon)
    s3.create_bucket(Bucket="pocketlink-objects")
    put = s3.put_object(Bucket="pocketlink-objects", Key="dir/blob.bin", Body=BODY)
    got = s3.get_object(Bucket="pocketlink-objects", Key="dir/blob.bin")
    assert got["Body"].read() == BODY
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket="pocketlink-objects", Key="dir/blob.bin")
    assert head["ContentLength"] == len(BODY)
    listed = s3.list_objects_v2(Bucket="pocketlink-objects")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("dir/blob.bin", len(BODY))]


def test_s3_presigned_urls(daemon) -> None:
    """Presigned URLs carry their signature in the query, SigV4's with its scope, SigV2's
    (boto3's default for S3) with the access key: plain HTTP clients reach the backend."""
    s3 = s3_client(daemon)
    s3.create_bucket(Bucket="pocketlink-presigned")
    s3.put_object(Bucket="pocketlink-presigned", Key="k", Body=b"presigned")
    v4 = boto3.client("s3", endpoint_url=daemon.endpoint, region_name="us-east-1",
                      aws_access_key_id=PROVIDER, aws_secret_access_key="secret",
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    for signer in (s3, v4):
        url = signer.generate_presigned_url(
            "get_object", Params={"Bucket": "pocketlink-presigned", "Key": "k"})
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == b"presigned"


def test_s3_virtual_host_style(daemon, monkeypatch) -> None:
    """``bucket.localhost``: the Host names the bucket. Nothing here resolves
    ``*.localhost``, so the test's own lookups send those names to 127.0.0.1."""
    lookup = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: lookup(
        "127.0.0.1" if host.endswith(".localhost") else host, *args, **kwargs))
    s3 = boto3.client("s3", endpoint_url=f"http://localhost:{daemon.port}",
                      region_name="us-east-1", aws_access_key_id=PROVIDER,
                      aws_secret_access_key="secret",
                      config=Config(s3={"addressing_style": "virtual"}))
    s3.create_bucket(Bucket="pocketlink-vhost")
    s3.put_object(Bucket="pocketlink-vhost", Key="k", Body=b"by host")
    assert s3.get_object(Bucket="pocketlink-vhost", Key="k")["Body"].read() == b"by host"


def test_s3_bodies_on_disk_follow_the_objects(daemon) -> None:
    """Each body is a file of its own in the state dir, kept while an object holds it."""
    s3 = s3_client(daemon, CONSUMER)
    s3.create_bucket(Bucket="pocketlink-bodies")
    s3.put_object(Bucket="pocketlink-bodies", Key="kept", Body=b"first")
    s3.put_object(Bucket="pocketlink-bodies", Key="kept", Body=b"second")  # overwritten
    s3.put_object(Bucket="pocketlink-bodies", Key="gone", Body=b"deleted")
    s3.delete_object(Bucket="pocketlink-bodies", Key="gone")
    bodies = daemon.state.parent / "backend" / "objects" / CONSUMER
    assert sorted(p.read_bytes() for p in bodies.iterdir()) == [b"second"]


def test_logs_events(daemon) -> None:
    logs = daemon.client("logs")
    logs.create_log_group(logGroupName="/app/web")
    logs.create_log_stream(logGroupName="/app/web", logStreamName="i-0abc")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/app/web", logStreamName="i-0abc",
                        logEvents=[{"timestamp": now, "message": "hello"},
                                   {"timestamp": now + 1, "message": "world"}])
    events = logs.get_log_events(logGroupName="/app/web", logStreamName="i-0abc",
                                 startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["hello", "world"]


def test_kms_encrypt_decrypt(daemon) -> None:
    kms = daemon.client("kms")
    key = kms.create_key(Description="app")["KeyMetadata"]
    assert key["Arn"].startswith(f"arn:aws:kms:us-east-1:{PROVIDER}:key/")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"top secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"top secret"


def test_sts_stays_pocketlinks(daemon) -> None:
    identity = daemon.client("sts").get_caller_identity()
    assert identity["Account"] == PROVIDER
    assert identity["Arn"] == f"arn:aws:iam::{PROVIDER}:root"  # pocketlink's (moto's: user/moto)


def test_accounts_see_their_own_data(daemon) -> None:
    daemon.client("ssm", PROVIDER).put_parameter(Name="/iso/name", Value="provider's",
                                                 Type="String")
    consumer = daemon.client("ssm", CONSUMER)
    with pytest.raises(ClientError) as refused:
        consumer.get_parameter(Name="/iso/name")
    assert refused.value.response["Error"]["Code"] == "ParameterNotFound"
    consumer.put_parameter(Name="/iso/name", Value="consumer's", Type="String")
    assert consumer.get_parameter(Name="/iso/name")["Parameter"]["Value"] == "consumer's"
    # the credentials file's key acts for its account in the backend too
    mapped = daemon.client("ssm", access_key="AKIAPROVIDER", secret="provider-secret")
    parameter = mapped.get_parameter(Name="/iso/name")["Parameter"]
    assert parameter["Value"] == "provider's"
    assert f":{PROVIDER}:" in parameter["ARN"]


def aws(daemon: Daemon, *args: str) -> None:
    """The AWS CLI on the host, as the provider, against the daemon."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": PROVIDER, "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    done = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", daemon.endpoint,
                           *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_aws_cli_on_the_host(daemon) -> None:
    aws(daemon, "ssm", "put-parameter", "--name", "/cli/seeded", "--value", "from-cli",
        "--type", "String")
    parameter = daemon.client("ssm").get_parameter(Name="/cli/seeded")["Parameter"]
    assert parameter["Value"] == "from-cli"


def test_aws_cli_copies_20_mb_to_s3_and_back(daemon, tmp_path) -> None:
    """``aws s3 cp`` uploads in 8 MB parts (multipart), and downloads in ranges."""
    source, back = tmp_path / "big.bin", tmp_path / "back.bin"
    source.write_bytes(os.urandom(20 * 1024 * 1024 + 1))
    aws(daemon, "s3", "mb", "s3://pocketlink-cli")
    aws(daemon, "s3", "cp", str(source), "s3://pocketlink-cli/big.bin")
    aws(daemon, "s3", "cp", "s3://pocketlink-cli/big.bin", str(back))
    assert back.read_bytes() == source.read_bytes()


def test_errors_pass_through_in_aws_format(daemon) -> None:
    with pytest.raises(ClientError) as missing:
        daemon.client("ssm").get_parameter(Name="/no/such")
    assert missing.value.response["Error"]["Code"] == "ParameterNotFound"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as no_secret:
        daemon.client("secretsmanager").get_secret_value(SecretId="no/such")
    assert no_secret.value.response["Error"]["Code"] == "ResourceNotFoundException"
    s3 = s3_client(daemon)
    s3.create_bucket(Bucket="pocketlink-errors")
    with pytest.raises(ClientError) as no_key:
        s3.get_object(Bucket="pocketlink-errors", Key="nope")
    assert no_key.value.response["Error"]["Code"] == "NoSuchKey"
    assert no_key.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def make_items(daemon: Daemon, tag: str) -> dict:
    """One of each: a parameter (two versions), a secret, a 3 MB object, log events, a key."""
    ssm = daemon.client("ssm")
    ssm.put_parameter(Name=f"/{tag}/db-host", Value="db1", Type="String")
    ssm.put_parameter(Name=f"/{tag}/db-host", Value="db2", Type="String", Overwrite=True)
    secret = daemon.client("secretsmanager").create_secret(Name=f"{tag}/db", SecretString="pw")
    s3 = s3_client(daemon)
    s3.create_bucket(Bucket=f"{tag}-bucket")
    s3.put_bucket_versioning(Bucket=f"{tag}-bucket",
                             VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=f"{tag}-bucket", Key="blob", Body=BODY)
    logs = daemon.client("logs")
    logs.create_log_group(logGroupName=f"/{tag}")
    logs.create_log_stream(logGroupName=f"/{tag}", logStreamName="s")
    logs.put_log_events(logGroupName=f"/{tag}", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": tag}])
    kms = daemon.client("kms")
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=tag.encode())["CiphertextBlob"]
    return {"secret": (secret["ARN"], secret["VersionId"]), "etag": put["ETag"],
            "version": put["VersionId"], "key": key["Arn"], "blob": blob}


def check_items(daemon: Daemon, tag: str, items: dict) -> None:
    parameter = daemon.client("ssm").get_parameter(Name=f"/{tag}/db-host")["Parameter"]
    assert (parameter["Value"], parameter["Version"]) == ("db2", 2)
    secret = daemon.client("secretsmanager").get_secret_value(SecretId=f"{tag}/db")
    assert (secret["ARN"], secret["VersionId"]) == items["secret"]
    assert secret["SecretString"] == "pw"
    got = s3_client(daemon).get_object(Bucket=f"{tag}-bucket", Key="blob")
    assert (got["ETag"], got["VersionId"]) == (items["etag"], items["version"])
    assert got["Body"].read() == BODY
    events = daemon.client("logs").get_log_events(logGroupName=f"/{tag}", logStreamName="s",
                                                  startFromHead=True)["events"]
    assert [e["message"] for e in events] == [tag]
    kms = daemon.client("kms")
    assert kms.describe_key(KeyId=items["key"])["KeyMetadata"]["Arn"] == items["key"]
    decrypted = kms.decrypt(CiphertextBlob=items["blob"])  # the same key material
    assert (decrypted["Plaintext"], decrypted["KeyId"]) == (tag.encode(), items["key"])


def test_killed_backend_is_restarted_with_its_data(daemon) -> None:
    items = make_items(daemon, "killed")
    pid = backend_pid(daemon)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: "backend (moto) exited with signal SIGKILL; restarted"
             in daemon.log.read_text())
    check_items(daemon, "killed", items)
    assert backend_pid(daemon) != pid
    lines = [line for line in daemon.log.read_text().splitlines() if "exited with" in line]
    assert len(lines) == 1, lines  # one line says it all
    assert "restored" in lines[0] and "ssm" in lines[0] and "s3" in lines[0]


def test_every_backend_service_comes_back(daemon) -> None:
    """The other services' states pickle and load too (each has had its own unpicklable
    part: locks, local lambdas, private keys)."""
    sqs = daemon.client("sqs")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sns = daemon.client("sns")
    topic = sns.create_topic(Name="events")["TopicArn"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs",
                  Endpoint=queue_arn["Attributes"]["QueueArn"])
    sns.publish(TopicArn=topic, Message="published")
    dynamodb = daemon.client("dynamodb")
    dynamodb.create_table(TableName="items", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    dynamodb.put_item(TableName="items", Item={"id": {"S": "1"}, "v": {"S": "one"}})
    role = daemon.client("iam").create_role(RoleName="app", AssumeRolePolicyDocument="{}")
    function = daemon.client("lambda").create_function(
        FunctionName="handler", Runtime="python3.12", Role=role["Role"]["Arn"],
        Handler="index.handler", Code={"ZipFile": zipped("index.py", "def handler(*a): 0")})
    repository = daemon.client("ecr").create_repository(repositoryName="app")["repository"]
    os.kill(backend_pid(daemon), signal.SIGKILL)
    wait_for(lambda: daemon.log.read_text().count("backend (moto) exited with") == 2)
    message = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert "published" in message["Body"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    item = dynamodb.get_item(TableName="items", Key={"id": {"S": "1"}})["Item"]
    assert item["v"] == {"S": "one"}
    got = daemon.client("iam").get_role(RoleName="app")["Role"]
    assert (got["Arn"], got["RoleId"]) == (role["Role"]["Arn"], role["Role"]["RoleId"])
    stored = daemon.client("lambda").get_function(FunctionName="handler")["Configuration"]
    assert stored["FunctionArn"] == function["FunctionArn"]
    described = daemon.client("ecr").describe_repositories()["repositories"]
    assert [r["repositoryArn"] for r in described] == [repository["repositoryArn"]]
    assert "cannot save" not in daemon.log.read_text()
    assert "cannot restore" not in daemon.log.read_text()


def zipped(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def test_aws_managed_policies_exist_in_every_account(daemon) -> None:
    """What ``cdk bootstrap``'s roles attach; moto keeps them out of accounts unless told."""
    iam = daemon.client("iam", CONSUMER)
    iam.create_role(RoleName="admin", AssumeRolePolicyDocument="{}")
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    iam.attach_role_policy(RoleName="admin", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="admin")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AdministratorAccess", "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"][
        "PolicyName"] == "ReadOnlyAccess"
    with pytest.raises(ClientError) as raised:
        iam.attach_role_policy(RoleName="admin",
                               PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAtAll")
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"


def test_daemon_sigkill_and_restart_keeps_the_backends_data(daemon) -> None:
    items = make_items(daemon, "daemon-killed")
    old = backend_pid(daemon)
    daemon.restart(kill=True)
    wait_for(lambda: gone(old))  # the backend does not outlive its daemon
    check_items(daemon, "daemon-killed", items)
    parameter = daemon.client("ssm", CONSUMER).get_parameter(Name="/iso/name")["Parameter"]
    assert parameter["Value"] == "consumer's"


@pytest.mark.skipif(os.geteuid() != 0, reason="pocketlink down needs root")
def test_down_purge_removes_the_backends_data_and_the_ca(make_daemon) -> None:
    daemon = make_daemon("--no-network")
    daemon.client("ssm").put_parameter(Name="/purged", Value="x", Type="String")
    folder = daemon.state.parent / "backend"
    assert any(folder.rglob("*.pickle"))
    ca = daemon.state.parent / "ca"
    assert (ca / "ca.key").exists()
    pid = backend_pid(daemon)
    done = subprocess.run([sys.executable, "-m", "pocketlink", "down", "--purge", "--port",
                           str(daemon.port), "--state", str(daemon.state)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not folder.exists()
    assert not ca.exists()
    wait_for(lambda: gone(pid))  # the daemon stops it on its way out


def test_strict_auth_guards_the_backend_too(make_daemon, tmp_path) -> None:
    credentials = tmp_path / "credentials.toml"
    credentials.write_text('[[credentials]]\naccess_key = "AKIAPROVIDER"\n'
                           f'secret_key = "provider-secret"\naccount = "{PROVIDER}"\n')
    daemon = make_daemon("--no-network", "--strict-auth", "--credentials", str(credentials))
    forged = daemon.client("ssm", access_key="AKIAPROVIDER", secret="wrong")
    with pytest.raises(ClientError) as refused:
        forged.put_parameter(Name="/forged", Value="x", Type="String")
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    signed = daemon.client("ssm", access_key="AKIAPROVIDER", secret="provider-secret")
    signed.put_parameter(Name="/signed", Value="x", Type="String")
    assert signed.get_parameter(Name="/signed")["Parameter"]["Value"] == "x"
