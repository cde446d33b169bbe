"""ECR for real: GetAuthorizationToken's token, the registry behind
``ACCOUNT.dkr.ecr.REGION.amazonaws.com``, a real image pushed with skopeo on the host and
pulled inside an instance of an isolated subnet.

The pull takes what seed 004's Fargate task needs at AWS: ecr.api (the token), ecr.dkr
(the manifest) and an S3 path (ECR redirects each layer download to its S3 bucket); with
any of them missing it times out. The S3 path here is an S3 interface endpoint with private
DNS; the seed's S3 gateway endpoint carries the same request once gateway endpoints carry
traffic (the layer URL's host is S3's regional name, whichever way it is reached).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from pocketlink.seeds import images
from pocketlink.seeds.seed004 import APP, IMAGE, IMAGE_FILES, IMAGE_TAG, REGION, REPOSITORY, Seed004
from pocketlink.services.ecr_access import RegistryAccess
from pocketlink.services.ecr_tokens import AuthorizationTokens
from tests.conftest import CONSUMER, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")


@pytest.fixture(scope="module")
def seed(make_daemon, tmp_path_factory):
    daemon = make_daemon()
    seed = Seed004(daemon.endpoint, say=lambda _: None)
    seed.build()
    pushed = seed.push_image(tmp_path_factory.mktemp("image"))
    assert pushed.returncode == 0, pushed.stderr
    seed.daemon = daemon  # type: ignore[attr-defined]
    return seed


def _password(ecr) -> str:
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert user == "AWS"
    return password


def _curl(seed, path: str, password: str | None, host: str | None = None,
          accept: str | None = None, binary: bool = False) -> tuple[int, dict[str, str], Any]:
    command = ["curl", "-s", "-i", f"{seed.daemon.endpoint}{path}"]
    if password is not None:
        command += ["-u", f"AWS:{password}"]
    if host is not None:
        command += ["-H", f"Host: {host}"]
    if accept is not None:
        command += ["-H", f"Accept: {accept}"]
    answer = subprocess.run(command, capture_output=True, timeout=30).stdout
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body if binary else body.decode()


# --- the host's side --------------------------------------------------------------------
def test_the_token_holds_12_hours_and_the_cli_logs_in(seed):
    data = seed.client("ecr").get_authorization_token()["authorizationData"][0]
    left = data["expiresAt"] - datetime.now(UTC)
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)
    assert data["proxyEndpoint"] == f"https://{APP}.dkr.ecr.{REGION}.amazonaws.com"
    login = subprocess.run(
        ["aws", "--endpoint-url", seed.endpoint, "--region", REGION, "ecr",
         "get-login-password"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "AWS_ACCESS_KEY_ID": APP, "AWS_SECRET_ACCESS_KEY": "x"})
    assert login.returncode == 0, login.stderr
    status, _, body = _curl(seed, "/v2/", login.stdout.strip())
    assert (status, json.loads(body)) == (200, {})


def test_the_image_pushed_on_the_host_pulls_back_there(seed, tmp_path):
    address = seed.endpoint.removeprefix("http://")
    pulled = subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", "--src-creds",
         f"AWS:{_password(seed.client('ecr'))}", f"docker://{address}/{REPOSITORY}:{IMAGE_TAG}",
         f"dir:{tmp_path / 'image'}"], capture_output=True, text=True, timeout=120)
    assert pulled.returncode == 0, pulled.stderr
    read = subprocess.run(["sh", "-c", images.read_command(str(tmp_path / "image"),
                                                           "index.html")],
                          capture_output=True, timeout=30)
    assert read.stdout == IMAGE_FILES["index.html"]
    status, _, body = _curl(seed, f"/v2/{REPOSITORY}/tags/list", _password(seed.client("ecr")))
    assert (status, json.loads(body)) == (200, {"name": REPOSITORY, "tags": [IMAGE_TAG]})
    # ECR's API knows the image, by the registry's digest of its manifest.
    manifest = (tmp_path / "image" / "manifest.json").read_bytes()
    [image] = seed.client("ecr").describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert image["imageTags"] == [IMAGE_TAG]
    assert image["imageDigest"] == f"sha256:{hashlib.sha256(manifest).hexdigest()}"


@pytest.mark.parametrize("password", [None, "not-a-token", base64.b64encode(
    json.dumps({"payload": "e30=", "signature": "0" * 64}).encode()).decode()])
def test_no_token_or_a_bad_one_is_401_as_ecr_answers(seed, password):
    registry = f"{APP}.dkr.ecr.{REGION}.amazonaws.com"
    status, headers, body = _curl(seed, f"/v2/{REPOSITORY}/manifests/{IMAGE_TAG}", password,
                                  host=registry)
    assert (status, body) == (401, "Not Authorized\n")
    assert headers["www-authenticate"] == \
        f'Basic realm="https://{registry}/",service="ecr.amazonaws.com"'
    assert headers["docker-distribution-api-version"] == "registry/2.0"


def test_an_expired_token_is_denied(seed):
    tokens = AuthorizationTokens(seed.daemon.state.parent / "ecr")  # the daemon's own key
    password, _ = tokens.issue(APP, REGION, f"arn:aws:iam::{APP}:root",
                               now=datetime.now(UTC) - timedelta(hours=12, seconds=1))
    status, _, body = _curl(seed, f"/v2/{REPOSITORY}/manifests/{IMAGE_TAG}", password)
    assert status == 403
    assert json.loads(body) == {"errors": [{"code": "DENIED", "message": (
        "Your authorization token has expired. Reauthenticate and try again.")}]}


def test_a_missing_repository_is_name_unknown(seed):
    status, _, body = _curl(seed, "/v2/nothing/manifests/latest", _password(seed.client("ecr")))
    assert status == 404
    assert json.loads(body)["errors"] == [{"code": "NAME_UNKNOWN", "message": (
        f"The repository with name 'nothing' does not exist in the registry with id '{APP}'")}]


def test_another_accounts_repository_is_not_visible(seed):
    other = seed.daemon.client("ecr", account=CONSUMER, region=REGION)
    password = _password(other)
    path = f"/v2/{REPOSITORY}/manifests/{IMAGE_TAG}"
    # Its own registry has no such repository; with one of the same name, no such image.
    status, _, body = _curl(seed, path, password)
    assert (status, json.loads(body)["errors"][0]["code"]) == (404, "NAME_UNKNOWN")
    other.create_repository(repositoryName=REPOSITORY)
    status, _, body = _curl(seed, path, password)
    assert (status, json.loads(body)["errors"][0]["code"]) == (404, "MANIFEST_UNKNOWN")
    # The first account's registry, by its name: refused, as no repository policy admits it.
    status, _, body = _curl(seed, path, password, host=f"{APP}.dkr.ecr.{REGION}.amazonaws.com")
    assert status == 403
    [error] = json.loads(body)["errors"]
    assert error["code"] == "DENIED"
    assert error["message"].startswith(f"User: arn:aws:iam::{CONSUMER}:root is not authorized "
                                       f"to perform: ecr:BatchGetImage on resource: "
                                       f"arn:aws:ecr:{REGION}:{APP}:repository/{REPOSITORY}")


def test_a_layer_of_another_account_cannot_be_mounted(seed):
    """Knowing a digest of the first account's layer, the other account asks the registry
    to mount it from there: it gets an upload to make instead (202), as for any blob its
    own repositories do not hold."""
    manifest = json.loads(_curl(seed, f"/v2/{REPOSITORY}/manifests/{IMAGE_TAG}", _password(
        seed.client("ecr")), accept=images.OCI_MANIFEST)[2])
    digest = manifest["layers"][0]["digest"]
    other = seed.daemon.client("ecr", account=CONSUMER, region=REGION)
    other.create_repository(repositoryName="thief")
    for source in (REPOSITORY, f"{APP}/{REGION}/{REPOSITORY}"):
        mounted = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-u",
             f"AWS:{_password(other)}",
             f"{seed.daemon.endpoint}/v2/thief/blobs/uploads/?mount={digest}&from={source}"],
            capture_output=True, text=True, timeout=30).stdout
        assert mounted == "202", source
    status, _, _ = _curl(seed, f"/v2/thief/blobs/{digest}", _password(other))
    assert status == 404
    # Within an account, a mount from its own repository is made (201): ECR's blob mounting
    # (an opt-in of the registry's settings there) is always on here.
    seed.client("ecr").create_repository(repositoryName="app/copy")
    mounted = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-u",
         f"AWS:{_password(seed.client('ecr'))}",
         f"{seed.daemon.endpoint}/v2/app/copy/blobs/uploads/?mount={digest}&from={REPOSITORY}"],
        capture_output=True, text=True, timeout=30).stdout
    assert mounted == "201"


# --- inside the isolated subnet: each endpoint the pull needs --------------------------------
def test_with_no_endpoint_the_pull_times_out_at_the_token(seed):
    pulled = seed.pull_image()
    assert pulled.returncode != 0
    assert f"Connect timeout on endpoint URL: \"https://api.ecr.{REGION}.amazonaws.com/\"" \
        in pulled.stderr


def test_with_ecr_api_alone_the_registry_times_out(seed):
    seed.create_endpoints(("ecr.api",), s3_gateway=False)
    pulled = seed.pull_image()
    assert pulled.returncode != 0
    assert f"{APP}.dkr.ecr.{REGION}.amazonaws.com" in pulled.stderr
    assert "no such host" not in pulled.stderr
    assert "deadline exceeded" in pulled.stderr or "timeout" in pulled.stderr, pulled.stderr


def test_with_ecr_dkr_too_the_layer_times_out_at_s3(seed):
    seed.create_endpoints(("ecr.dkr",), s3_gateway=False)
    pulled = seed.pull_image()
    assert pulled.returncode != 0
    assert f"prod-{REGION}-starport-layer-bucket.s3.{REGION}.amazonaws.com" in pulled.stderr, \
        pulled.stderr
    # S3's public name resolves (AWS's public range): it is the connection that times out.
    assert "no such host" not in pulled.stderr
    assert "deadline exceeded" in pulled.stderr or "timeout" in pulled.stderr, pulled.stderr
    seen = seed.daemon.log.read_text()
    assert f"ecr.registry GET /v2/{REPOSITORY}/manifests/{IMAGE_TAG} 200" in seen
    assert " 307 " in seen and f"via {seed.endpoints['ecr.dkr']}" in seen


def _layers_via(seed, endpoint: str) -> None:
    pulled = seed.pull_image()
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.encode() == IMAGE_FILES["index.html"]
    layers = [line for line in seed.daemon.log.read_text().splitlines()
              if "s3.layer GET /sha256/" in line]
    assert layers and " 200 " in layers[-1] and f"via {endpoint}" in layers[-1], layers


def test_with_the_s3_gateway_endpoint_the_image_is_pulled(seed):
    """The seed's own S3 path: the gateway endpoint's route carries the layers."""
    seed.create_endpoints((), s3_gateway=True)
    _layers_via(seed, seed.endpoints["s3-gateway"])
    assert IMAGE.startswith(f"{APP}.dkr.ecr.{REGION}.amazonaws.com/")


def test_with_an_s3_interface_endpoint_the_layers_take_it(seed):
    """S3's private DNS on an interface endpoint wins over the gateway's route, as at AWS."""
    seed.create_endpoints(("s3",), s3_gateway=False)
    _layers_via(seed, seed.endpoints["s3"])


def test_an_ecr_dkr_endpoint_policy_refuses_the_pull(seed):
    ec2 = seed.client("ec2")
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage", "Resource": "*"}]}
    ec2.modify_vpc_endpoint(VpcEndpointId=seed.endpoints["ecr.dkr"],
                            PolicyDocument=json.dumps(deny))
    try:
        pulled = seed.pull_image()
        assert pulled.returncode != 0
        assert "denied" in pulled.stderr and "ecr:BatchGetImage" in pulled.stderr, pulled.stderr
        assert "explicit deny in a VPC endpoint policy" in pulled.stderr
    finally:
        ec2.modify_vpc_endpoint(VpcEndpointId=seed.endpoints["ecr.dkr"], ResetPolicy=True)


def test_a_layer_url_holds_only_as_signed(seed):
    """The S3 URL a layer download is redirected to, asked on the daemon's port with its
    host name (the host cannot resolve AWS's names): served while its signature holds."""
    access = RegistryAccess(None, AuthorizationTokens(seed.daemon.state.parent / "ecr"), None,
                            None)  # type: ignore[arg-type]  # only its layer URLs
    manifest = json.loads(_curl(seed, f"/v2/{REPOSITORY}/manifests/{IMAGE_TAG}", _password(
        seed.client("ecr")), accept=images.OCI_MANIFEST)[2])
    digest = manifest["layers"][0]["digest"]
    url = urlsplit(access.layer_url(APP, REGION, digest))
    status, _, body = _curl(seed, f"{url.path}?{url.query}", None, host=url.netloc,
                            binary=True)
    assert status == 200
    assert hashlib.sha256(body).hexdigest() == digest.partition(":")[2]
    bent = url.query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3599")
    status, _, body = _curl(seed, f"{url.path}?{bent}", None, host=url.netloc)
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body


def test_a_registry_that_dies_is_started_again(seed):
    password = _password(seed.client("ecr"))
    _curl(seed, "/v2/", password)  # started, if no test before did
    pid = seed.daemon.status()["registry"]["pid"]
    os.kill(pid, signal.SIGKILL)  # the daemon's child: ours
    wait_for(lambda: seed.daemon.status()["registry"]["restarts"] == 1,
             "the registry started again")
    assert seed.daemon.status()["registry"]["pid"] not in (None, pid)
    status, _, body = _curl(seed, f"/v2/{REPOSITORY}/tags/list", password)
    assert (status, json.loads(body)) == (200, {"name": REPOSITORY, "tags": [IMAGE_TAG]})


def test_images_and_tokens_outlive_a_restart(seed):
    """The registry's data is in the state dir and the token key with it: a token issued
    before the restart still pulls the image pushed before it."""
    password = _password(seed.client("ecr"))
    seed.daemon.restart()
    status, _, body = _curl(seed, f"/v2/{REPOSITORY}/tags/list", password)
    assert (status, json.loads(body)) == (200, {"name": REPOSITORY, "tags": [IMAGE_TAG]})
    registry = seed.daemon.status()["registry"]
    assert registry["pid"] is not None and registry["restarts"] == 0
    assert registry["data"] == str(seed.daemon.state.parent / "registry")
    seed.daemon.stop()
    try:
        assert not os.path.exists(registry["socket"])  # the stop leaves nothing behind
    finally:
        seed.daemon.start()
