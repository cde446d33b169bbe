"""The service front: an instance in an isolated subnet reaches AWS services through
interface endpoints, over TLS that verifies against pocketlink's CA, over IPv4 and IPv6,
and the gateway knows which endpoint and which address each request came from.

The VPC's resolver does not name AWS's services here (that is the DNS's work): clients
inside the instance are pointed at the endpoint's ENI addresses by curl's ``--resolve``,
or, for boto3, by a ``getaddrinfo`` that answers the AWS names with them; the names they
ask for (SNI, Host, the signature) stay AWS's own.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from pocketlink.dataplane import ppv2
from pocketlink.harness import boto3_in_instance
from tests.conftest import Daemon, wait_for
from tests.network.conftest import dual_stack_vpc, launch, web_group

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")

REGION = "us-west-2"
ACCOUNT = "333333333333"
SSM = f"ssm.{REGION}.amazonaws.com"
BUCKET = "front-bucket"

# boto3 inside the instance (after harness's boto3 prelude): job is the call; prints the
# call's answer as JSON.
CLIENT = r"""
import hashlib

config = Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60,
                s3={"addressing_style": job.get("style", "auto")})
client = session.client(job["service"], verify=ca.name, config=config,
                        endpoint_url=job.get("endpoint_url"))
if job["call"] == "get_parameter":
    answer = client.get_parameter(Name=job["name"])["Parameter"]["Value"]
elif job["call"] == "put_and_get":
    body = hashlib.sha256(b"seed").digest() * (job["size"] // 32)
    client.put_object(Bucket=job["bucket"], Key=job["key"], Body=body)
    got = client.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read()
    answer = [hashlib.sha256(body).hexdigest(), hashlib.sha256(got).hexdigest()]
elif job["call"] == "get_object":
    answer = client.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read().decode()
print(json.dumps(answer))
"""


@dataclass
class World:
    daemon: Daemon
    instance: str
    instance_v4: str
    instance_v6: str
    subnet: str
    group: str
    vpc: str
    ssm_endpoint: str
    ssm_v4: str
    ssm_v6: str
    s3_endpoint: str
    s3_v4: str
    s3_dns: str  # the S3 endpoint's regional name, vpce-...s3.us-west-2.vpce.amazonaws.com

    @property
    def ca(self) -> bytes:
        return (self.daemon.state.parent / "ca" / "ca.pem").read_bytes()

    def log(self) -> str:
        return self.daemon.log.read_text()


def create_endpoint(ec2, world_vpc: str, subnet: str, group: str, short: str) -> dict:
    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=world_vpc, ServiceName=f"com.amazonaws.{REGION}.{short}",
        SubnetIds=[subnet], SecurityGroupIds=[group], IpAddressType="dualstack",
        PrivateDnsEnabled=False)["VpcEndpoint"]
    endpoint_id = endpoint["VpcEndpointId"]
    wait_for(lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])[
        "VpcEndpoints"][0]["State"] == "available", timeout=60)
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]


def addresses(ec2, endpoint: dict) -> tuple[str, str]:
    [eni] = ec2.describe_network_interfaces(
        NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"]
    return eni["PrivateIpAddress"], eni["Ipv6Addresses"][0]["Ipv6Address"]


@pytest.fixture(scope="module")
def world(make_daemon) -> World:
    daemon = make_daemon()
    ec2 = daemon.client("ec2", ACCOUNT, REGION)
    vpc, subnet = dual_stack_vpc(ec2)
    group = web_group(ec2, vpc["VpcId"], port=443, ipv6=True)  # the seeds' HTTPS rule
    [instance] = launch(ec2, subnet, Ipv6AddressCount=1)
    ssm = create_endpoint(ec2, vpc["VpcId"], subnet, group, "ssm")
    s3 = create_endpoint(ec2, vpc["VpcId"], subnet, group, "s3")
    ssm_v4, ssm_v6 = addresses(ec2, ssm)
    s3_v4, _ = addresses(ec2, s3)
    [described] = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
        "Reservations"][0]["Instances"]
    return World(daemon, instance["InstanceId"], described["PrivateIpAddress"],
                 described["Ipv6Address"], subnet, group, vpc["VpcId"],
                 ssm["VpcEndpointId"], ssm_v4, ssm_v6, s3["VpcEndpointId"], s3_v4,
                 s3["DnsEntries"][0]["DnsName"].removeprefix("*."))  # AWS's wildcard form


def host_cli(world: World, *args: str) -> str:
    """The real AWS CLI on the host, through the daemon's own port."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    done = subprocess.run(["aws", "--endpoint-url", world.daemon.endpoint, *args],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def inside(world: World, *command: str, stdin: bytes = b"", timeout: float = 120
           ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "pocketlink", "exec", world.instance, "--",
                           *command], input=stdin, capture_output=True, timeout=timeout)


def boto3_inside(world: World, **job) -> object:
    job = {"account": ACCOUNT, "region": REGION, "addresses": {job["service"]: job["address"]},
           **job}
    done = inside(world, *boto3_in_instance(CLIENT, job), stdin=world.ca)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout)


def curl_ssm(world: World, address: str, name: str, *options: str
             ) -> subprocess.CompletedProcess[bytes]:
    """A SigV4-signed GetParameter by curl, its CA on stdin, ``address`` standing for the
    service's name."""
    resolve = f"{SSM}:443:{f'[{address}]' if ':' in address else address}"
    script = ('cat > /tmp/ca.pem && exec curl -sS --fail-with-body --cacert /tmp/ca.pem '
              '"$@"')
    return inside(world, "sh", "-c", script, "curl", "-m", "60", "--resolve", resolve,
                  "--aws-sigv4", f"aws:amz:{REGION}:ssm", "--user", f"{ACCOUNT}:secret",
                  "-H", "X-Amz-Target: AmazonSSM.GetParameter",
                  "-H", "Content-Type: application/x-amz-json-1.1",
                  "--data", json.dumps({"Name": name}), *options, f"https://{SSM}/",
                  stdin=world.ca)


def test_a_parameter_put_on_the_host_is_read_inside_over_ipv4(world):
    host_cli(world, "ssm", "put-parameter", "--name", "/app/db-host", "--value", "db.internal",
             "--type", "String")
    done = curl_ssm(world, world.ssm_v4, "/app/db-host")
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    assert json.loads(done.stdout)["Parameter"]["Value"] == "db.internal"


def test_over_ipv6_with_boto3(world):
    host_cli(world, "ssm", "put-parameter", "--name", "/app/v6", "--value", "six",
             "--type", "String", "--overwrite")
    value = boto3_inside(world, address=world.ssm_v6, service="ssm", call="get_parameter",
                         name="/app/v6")
    assert value == "six"


def test_the_aws_cli_inside_with_no_endpoint_url(world):
    """The instance's own AWS CLI, as a person would run it: its default endpoint, the
    service's name answered by /etc/hosts with the endpoint's IPv6 address, pocketlink's
    CA through AWS_CA_BUNDLE."""
    host_cli(world, "ssm", "put-parameter", "--name", "/app/cli", "--value", "from the cli",
             "--type", "String", "--overwrite")
    script = f"""cat > /tmp/ca.pem && cp /etc/hosts /tmp/hosts.kept
echo "{world.ssm_v6} {SSM}" >> /etc/hosts
AWS_CA_BUNDLE=/tmp/ca.pem AWS_ACCESS_KEY_ID={ACCOUNT} AWS_SECRET_ACCESS_KEY=secret \\
AWS_DEFAULT_REGION={REGION} AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \\
AWS_PAGER= aws ssm get-parameter --name /app/cli --query Parameter.Value --output text
status=$?
cp /tmp/hosts.kept /etc/hosts
exit $status"""
    done = inside(world, "sh", "-c", script, stdin=world.ca)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "from the cli"


def test_tls_verifies_only_against_pocketlinks_ca(world):
    """Trusting a real public root instead of pocketlink's CA, curl refuses the certificate;
    with the instance's own store (which holds the CA) it accepts it."""
    resolve = f"{SSM}:443:{world.ssm_v4}"
    public_root = "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"
    # --capath too: Debian's curl also reads the default hashed store, which holds the CA
    done = inside(world, "curl", "-sS", "-m", "30", "--cacert", public_root, "--capath",
                  "/usr/share/ca-certificates/mozilla", "--resolve", resolve, f"https://{SSM}/")
    assert done.returncode == 60, done.stderr  # CURLE_PEER_FAILED_VERIFICATION
    trusted = inside(world, "curl", "-sS", "-m", "30", "--resolve", resolve, f"https://{SSM}/")
    assert trusted.returncode == 0, trusted.stderr


def test_the_gateway_sees_the_endpoint_and_the_callers_address(world):
    host_cli(world, "ssm", "put-parameter", "--name", "/app/path", "--value", "p",
             "--type", "String", "--overwrite")
    assert curl_ssm(world, world.ssm_v4, "/app/path").returncode == 0
    assert boto3_inside(world, address=world.ssm_v6, service="ssm", call="get_parameter",
                        name="/app/path") == "p"
    log = world.log()
    assert f"ssm.GetParameter {ACCOUNT} 200" in log
    assert f"via {world.ssm_endpoint} from {world.instance_v4}" in log
    assert f"via {world.ssm_endpoint} from {world.instance_v6}" in log


def test_an_s3_object_of_20_mb_goes_up_aws_chunked_and_comes_back(world):
    host_cli(world, "s3api", "create-bucket", "--bucket", BUCKET,
             "--create-bucket-configuration", f"LocationConstraint={REGION}")
    sent, got = boto3_inside(world, address=world.s3_v4, service="s3", call="put_and_get",
                             bucket=BUCKET, key="big", size=20 * 1024 * 1024)
    assert sent == got
    # What arrived is the object itself, not its aws-chunked encoding.
    head = json.loads(host_cli(world, "s3api", "head-object", "--bucket", BUCKET,
                               "--key", "big"))
    assert head["ContentLength"] == 20 * 1024 * 1024


@pytest.mark.parametrize("style", ["virtual", "path"])
def test_s3_endpoint_specific_names(world, style, tmp_path):
    """``--endpoint-url https://bucket.vpce-...s3.REGION.vpce.amazonaws.com``: boto3 then
    asks for ``BUCKET.bucket.vpce-...`` (virtual) or ``bucket.vpce-.../BUCKET`` (path)."""
    source = tmp_path / "hello.txt"
    source.write_text(f"hello {style}")
    host_cli(world, "s3api", "create-bucket", "--bucket", f"{BUCKET}-{style}",
             "--create-bucket-configuration", f"LocationConstraint={REGION}")
    host_cli(world, "s3", "cp", str(source), f"s3://{BUCKET}-{style}/hello.txt")
    body = boto3_inside(world, address=world.s3_v4, service="s3", call="get_object",
                        bucket=f"{BUCKET}-{style}", key="hello.txt", style=style,
                        endpoint_url=f"https://bucket.{world.s3_dns}")
    assert body == f"hello {style}"


def front_pid(world: World) -> int:
    return world.daemon.status()["front"]["pid"]


def test_the_front_is_restarted_after_a_kill_with_one_log_line(world):
    assert curl_ssm(world, world.ssm_v4, "/app/db-host").returncode == 0
    pid = front_pid(world)
    os.kill(pid, 9)
    wait_for(lambda: front_pid(world) not in (None, pid), timeout=60)
    done = curl_ssm(world, world.ssm_v4, "/app/db-host")
    assert done.returncode == 0, done.stderr
    lines = [line for line in world.log().splitlines() if "service front exited" in line]
    assert len(lines) == 1 and "signal SIGKILL; restarted" in lines[0], lines
    assert world.daemon.status()["front"]["restarts"] == 1


def test_removing_the_endpoint_stops_the_flow(world):
    ec2 = world.daemon.client("ec2", ACCOUNT, REGION)
    endpoint = create_endpoint(ec2, world.vpc, world.subnet, world.group, "ssm")
    v4, _ = addresses(ec2, endpoint)
    assert curl_ssm(world, v4, "/app/db-host").returncode == 0
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    wait_for(lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])[
        "VpcEndpoints"][0]["State"] == "deleted", timeout=60)
    done = curl_ssm(world, v4, "/app/db-host", "--connect-timeout", "3")
    assert done.returncode in (7, 28), done  # refused or timed out: nothing answers
    assert b"Parameter" not in done.stdout


def test_the_endpoints_security_group_applies(world):
    """An endpoint whose group lets in 8080 but not 443 hangs HTTPS, as at AWS."""
    ec2 = world.daemon.client("ec2", ACCOUNT, REGION)
    closed = ec2.create_security_group(GroupName="no-https", Description="8080 only",
                                       VpcId=world.vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=closed, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    endpoint = create_endpoint(ec2, world.vpc, world.subnet, closed, "ssm")
    v4, _ = addresses(ec2, endpoint)
    done = curl_ssm(world, v4, "/app/db-host", "--connect-timeout", "3")
    assert done.returncode == 28, done  # dropped: the connection times out
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                            AddSecurityGroupIds=[world.group])
    wait_for(lambda: curl_ssm(world, v4, "/app/db-host").returncode == 0, timeout=60)
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])


# --- the front on its own: the host speaks to its loopback port -------------------------

def front_address(world: World) -> tuple[str, int]:
    host, _, port = world.daemon.status()["front"]["address"].rpartition(":")
    return host, int(port)


def test_a_connection_without_a_proxy_header_is_closed_unanswered(world):
    with socket.create_connection(front_address(world), timeout=30) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(100)
        except ConnectionResetError:  # closed with the request unread
            answer = b""
        assert answer == b""


def test_the_front_answers_a_proxied_tls_request_with_the_path_it_was_given(world):
    """What the hyperplane sends, by hand: a PROXY v2 header naming a client and an
    endpoint, then TLS for the service's name. The gateway logs the path."""
    context = ssl.create_default_context(cafile=str(world.daemon.state.parent / "ca" / "ca.pem"))
    with socket.create_connection(front_address(world), timeout=30) as raw:
        raw.sendall(ppv2.encode(("10.99.0.7", 40000), ("10.99.0.1", 443), "vpce-0f00000000000000d"))
        with context.wrap_socket(raw, server_hostname=f"sts.{REGION}.amazonaws.com") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            body = "Action=GetCallerIdentity&Version=2011-06-15"
            tls.sendall((f"POST / HTTP/1.1\r\nHost: sts.{REGION}.amazonaws.com\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\n"
                         f"Authorization: AWS4-HMAC-SHA256 Credential={ACCOUNT}/20250101/"
                         f"{REGION}/sts/aws4_request, SignedHeaders=host, Signature=00\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
            answer = b""
            while b"</GetCallerIdentityResponse>" not in answer:
                more = tls.recv(65536)
                assert more, answer
                answer += more
    assert answer.startswith(b"HTTP/1.1 200")
    assert f"<Account>{ACCOUNT}</Account>".encode() in answer
    wait_for(lambda: "via vpce-0f00000000000000d from 10.99.0.7" in world.log())


def test_the_daemons_own_port_takes_no_path_from_a_client(world):
    """A PROXY header sent to :4566 is no path: it is a malformed request."""
    host, port = world.daemon.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(ppv2.encode(("10.99.0.8", 1), ("10.99.0.1", 443), "vpce-0f00000000000000e")
                    + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = raw.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400")
    time.sleep(0.2)
    assert "vpce-0f00000000000000e" not in world.log()


def test_certificates_are_issued_per_name_and_wildcard_for_buckets():
    from pocketlink.services.front_main import certificate_name, service_of

    assert certificate_name("SSM.us-west-2.amazonaws.com.") == "ssm.us-west-2.amazonaws.com"
    assert certificate_name("b.s3.us-west-2.amazonaws.com") == "*.s3.us-west-2.amazonaws.com"
    assert certificate_name("a.b.s3.us-west-2.amazonaws.com") == "a.b.s3.us-west-2.amazonaws.com"
    assert certificate_name("b.bucket.vpce-1-2.s3.us-west-2.vpce.amazonaws.com") == \
        "*.bucket.vpce-1-2.s3.us-west-2.vpce.amazonaws.com"
    assert service_of("vpce-1-2.ssm.us-west-2.vpce.amazonaws.com") == "ssm"
    assert service_of("b.s3.us-west-2.amazonaws.com") == "s3"
    assert service_of("api.ecr.us-west-2.amazonaws.com") == "ecr"


def test_the_gateways_front_socket_closes_a_connection_without_a_header(world):
    """The gateway's side: 0600, and nothing served on it without the front's header."""
    from pocketlink.services.front import gateway_socket_path

    path = gateway_socket_path(world.daemon.state)
    assert path.stat().st_mode & 0o777 == 0o600
    with socket.socket(socket.AF_UNIX) as raw:
        raw.settimeout(30)
        raw.connect(str(path))
        raw.sendall(b"GET /_pocketlink/health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(100)
        except ConnectionResetError:
            answer = b""
    assert answer == b""


def test_a_service_pocketlink_does_not_serve_is_answered_unknown_service(world):
    """An endpoint can be made to any of AWS's services (issue 13), Athena among them, but
    pocketlink serves few: a signed call through it reaches the front, whose gateway answers
    400 UnknownService (in Athena's own json error form, from botocore's model of it)."""
    ec2 = world.daemon.client("ec2", ACCOUNT, REGION)
    endpoint = create_endpoint(ec2, world.vpc, world.subnet, world.group, "athena")
    try:
        address, _ = addresses(ec2, endpoint)
        name = f"athena.{REGION}.amazonaws.com"
        script = 'cat > /tmp/ca.pem && exec curl -sS --cacert /tmp/ca.pem -w "%{http_code}" "$@"'
        done = inside(world, "sh", "-c", script, "curl", "-m", "60", "--resolve",
                      f"{name}:443:{address}", "--aws-sigv4", f"aws:amz:{REGION}:athena",
                      "--user", f"{ACCOUNT}:secret", "-H", "X-Amz-Target: AmazonAthena.ListWorkGroups",
                      "-H", "Content-Type: application/x-amz-json-1.1", "--data", "{}",
                      f"https://{name}/", stdin=world.ca)
        assert done.returncode == 0, done.stderr.decode()
        body, status = done.stdout[:-3].decode(), done.stdout[-3:].decode()
        assert status == "400", body
        assert "UnknownService" in body and "athena" in body
    finally:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
