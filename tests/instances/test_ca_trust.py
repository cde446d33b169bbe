"""Instances trust pocketlink's CA: the variables every process sees (exec and UserData),
and the sandbox's own system CA store, so that openssl, python's default context and curl
verify a certificate the CA issued with the variables and without them."""

from __future__ import annotations

import os
import subprocess

import pytest

from pocketlink.instances import sandbox
from pocketlink.instances.userdata import Instances
from pocketlink.services.ca import CertificateAuthority
from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import dual_stack_vpc, launch, run_in

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")

NAME = "ssm.us-west-2.amazonaws.com"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
WITHOUT = ["env", *(f"-u{name}" for name in sandbox.CA_VARIABLES)]
SERVER = """
import socket, ssl
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/tmp/chain.pem", "/tmp/key.pem")
server = socket.create_server(("127.0.0.1", 8443))
while True:
    connection, _ = server.accept()
    try:
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(4096)
            tls.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
    except (OSError, ssl.SSLError):
        pass
"""
CLIENT = f"""
import socket, ssl, time
for _ in range(100):
    try:
        raw = socket.create_connection(("127.0.0.1", 8443))
        break
    except OSError:
        time.sleep(0.1)
with ssl.create_default_context().wrap_socket(raw, server_hostname="{NAME}") as tls:
    print("verified", tls.version())
"""


@pytest.fixture(scope="module")
def world(make_daemon):
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    _, subnet = dual_stack_vpc(ec2)
    [instance] = launch(ec2, subnet, UserData="#!/bin/sh\nenv > /tmp/user-data-env\n")
    instance_id = instance["InstanceId"]
    chain, key = CertificateAuthority(daemon.state.parent / "ca").issue(NAME)
    instances = Instances(daemon.state.parent / "instances")
    for name, data in (("chain.pem", chain), ("key.pem", key),
                       ("server.py", SERVER.encode()), ("client.py", CLIENT.encode())):
        path = instances.path(instance_id, f"/tmp/{name}")
        path.write_bytes(data)
        path.chmod(0o644)
    run_in(instance_id, "sh", "-c", "python3 /tmp/server.py >/dev/null 2>&1 &")
    return {"instance": instance_id, "instances": instances, "chain": chain}


def test_every_process_sees_the_bundle(world):
    shown = run_in(world["instance"], "env").stdout.splitlines()
    for name in sandbox.CA_VARIABLES:
        assert f"{name}={BUNDLE}" in shown
    user_data_env = world["instances"].path(world["instance"], "/tmp/user-data-env")
    wait_for(user_data_env.exists)
    wait_for(lambda: f"AWS_CA_BUNDLE={BUNDLE}" in user_data_env.read_text())
    for name in sandbox.CA_VARIABLES:
        assert f"{name}={BUNDLE}" in user_data_env.read_text().splitlines()


def test_the_host_does_not_trust_the_ca(world, tmp_path):
    """The control: outside the instance the same certificate does not verify."""
    chain = tmp_path / "chain.pem"
    chain.write_bytes(world["chain"])
    result = subprocess.run(["openssl", "verify", "-purpose", "sslserver", str(chain)],
                            capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert result.returncode != 0


@pytest.mark.parametrize("variables", [True, False], ids=["with-variables", "system-store"])
def test_openssl_python_and_curl_verify(world, variables):
    prefix = [] if variables else WITHOUT
    instance = world["instance"]
    verified = run_in(instance, *prefix, "openssl", "verify", "-purpose", "sslserver",
                      "/tmp/chain.pem")
    assert verified.stdout.strip() == "/tmp/chain.pem: OK", verified.stdout + verified.stderr
    # The hashed folder alone (as tools that read -CApath do).
    hashed = run_in(instance, *WITHOUT, "openssl", "verify", "-no-CAfile", "-CApath",
                    "/etc/ssl/certs", "/tmp/chain.pem")
    assert hashed.stdout.strip() == "/tmp/chain.pem: OK", hashed.stdout + hashed.stderr
    python = run_in(instance, *prefix, "python3", "/tmp/client.py")
    assert python.stdout.startswith("verified"), python.stderr
    curl = run_in(instance, *prefix, "curl", "-s", "-m", "5", "--resolve",
                  f"{NAME}:8443:127.0.0.1", f"https://{NAME}:8443/")
    assert curl.stdout == "ok", curl.stderr
    # And still the public roots: the store is the host's plus ours, not ours alone.
    count = run_in(instance, *prefix, "grep", "-c", "BEGIN CERTIFICATE", BUNDLE)
    assert int(count.stdout) > 1
