"""TLS listeners carrying real traffic: seed 000's world (an NLB behind an endpoint service,
httpd targets, a consumer instance, the private DNS name verified), then seed 002's TLS:443
listener with an ACM certificate for the private DNS name. From the consumer instance,
``curl https://demoprivatelink.shiun.me`` verifies against pocketlink's ACM root (no -k),
openssl s_client shows the chain and the protocol the security policy allows, SNI picks
the second certificate for its name, and the target reads the PROXY v2 header.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from pocketlink.seeds.seed000 import PLAIN_PORT, PRIVATE_NAME, Seed000
from tests.conftest import PROVIDER, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="TLS traffic needs namespaces (root)")

PAGE = re.compile(r"^<h1>Hello World from ip-10-0-\d+-\d+\.us-west-2\.compute\.internal</h1>$")
OTHER_NAME = "other.shiun.me"
TLS_PORT = 443


@pytest.fixture(scope="module")
def world(make_daemon) -> Seed000:
    daemon = make_daemon()
    seed = Seed000(daemon.endpoint, say=lambda line: None)
    seed.daemon = daemon  # type: ignore[attr-defined]
    seed.build_provider()
    seed.build_consumer()
    seed.section1_create_and_accept()
    seed.section3_private_dns()
    seed.consumer.authorize_security_group_ingress(
        GroupId=seed.ids["endpoint_group"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": TLS_PORT, "ToPort": TLS_PORT,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    return seed


def _zone_id(world: Seed000) -> str:
    route53 = world.client("route53", PROVIDER)
    [zone] = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "shiun.me."]
    return zone["Id"]


def _certificate(world: Seed000, name: str, publish: bool = True) -> str:
    """An ACM certificate for ``name``, its CNAME published in shiun.me (when asked)."""
    acm = world.client("acm", PROVIDER)
    arn = acm.request_certificate(DomainName=name, ValidationMethod="DNS")["CertificateArn"]
    if publish:
        _publish(world, arn)
    return arn


def _publish(world: Seed000, arn: str) -> None:
    acm = world.client("acm", PROVIDER)
    record = wait_for(lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"][
        "DomainValidationOptions"][0].get("ResourceRecord"), "the validation record")
    world.client("route53", PROVIDER).change_resource_record_sets(
        HostedZoneId=_zone_id(world), ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {
                "Name": record["Name"], "Type": "CNAME", "TTL": 300,
                "ResourceRecords": [{"Value": record["Value"]}]}}]})


def _status(world: Seed000, arn: str) -> str:
    return world.client("acm", PROVIDER).describe_certificate(
        CertificateArn=arn)["Certificate"]["Status"]


@pytest.fixture(scope="module")
def listener(world) -> dict:
    """Seed 002's listener: TLS:443, the certificate of the private DNS name, the seed's
    policy, forwarding to the target group that reads PROXY v2."""
    arn = _certificate(world, PRIVATE_NAME, publish=False)
    assert _status(world, arn) == "PENDING_VALIDATION"
    _publish(world, arn)
    wait_for(lambda: _status(world, arn) == "ISSUED", "the certificate issued")
    elb = world.client("elbv2", PROVIDER)
    [group] = elb.describe_target_groups(Names=["seed-proxy"])["TargetGroups"]
    [made] = elb.create_listener(
        LoadBalancerArn=world.ids["balancer"], Protocol="TLS", Port=TLS_PORT,
        Certificates=[{"CertificateArn": arn}], SslPolicy="ELBSecurityPolicy-FS-1-2-Res-2019-08",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]
    )["Listeners"]
    wait_for(lambda: world.curl(f"https://{PRIVATE_NAME}/").returncode == 0,
             "the TLS listener answering")
    return {**made, "certificate": arn}


def _s_client(world: Seed000, host: str, *options: str) -> subprocess.CompletedProcess:
    return world.run("sh", "-c", f"openssl s_client -connect {host}:{TLS_PORT} "
                     f"{' '.join(options)} </dev/null")


def test_curl_https_through_the_endpoint_verifies_against_the_ca(world, listener):
    answer = world.curl(f"https://{PRIVATE_NAME}/")
    assert answer.returncode == 0, answer.stderr
    assert PAGE.match(answer.stdout.strip())
    # The regional name is not on the certificate: curl refuses it, as it would at AWS.
    assert world.curl(f"https://{world.ids['regional_name']}/").returncode == 60


def test_the_target_reads_the_proxy_header(world, listener):
    world.curl(f"https://{PRIVATE_NAME}/")
    clients = [line.split()[0] for line in world.access_log("proxy")]
    assert world.ids["instance_ipv4"] in clients


def test_s_client_shows_the_chain_and_the_policy_protocol(world, listener):
    shown = _s_client(world, PRIVATE_NAME, f"-servername {PRIVATE_NAME}", "-showcerts")
    out = shown.stdout
    assert "Verify return code: 0 (ok)" in out, out
    assert f"CN = {PRIVATE_NAME}" in out and "pocketlink ACM RSA 2048 M01" in out
    assert out.count("-----BEGIN CERTIFICATE-----") == 2  # the leaf and the issuing CA
    # The policy's protocol, and its first cipher for an RSA key (the server's order).
    assert "New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256" in out, out


def test_a_tls13_policy_negotiates_tls13_and_refuses_tls11(world, listener):
    elb = world.client("elbv2", PROVIDER)
    elb.modify_listener(ListenerArn=listener["ListenerArn"],
                        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")
    wait_for(lambda: "New, TLSv1.3, Cipher is TLS_AES_" in _s_client(
        world, PRIVATE_NAME, f"-servername {PRIVATE_NAME}").stdout, "TLS 1.3 negotiated")
    refused = _s_client(world, PRIVATE_NAME, f"-servername {PRIVATE_NAME}", "-tls1_1")
    assert refused.returncode != 0
    assert "Cipher is (NONE)" in refused.stdout or "alert" in refused.stderr
    # and back to TLS 1.2 only: a 1.3 client is refused
    elb.modify_listener(ListenerArn=listener["ListenerArn"],
                        SslPolicy="ELBSecurityPolicy-TLS-1-2-2017-01")
    wait_for(lambda: _s_client(world, PRIVATE_NAME, f"-servername {PRIVATE_NAME}",
                               "-tls1_3").returncode != 0, "TLS 1.3 refused")


def test_sni_picks_the_added_certificate(world, listener):
    other = _certificate(world, OTHER_NAME)
    wait_for(lambda: _status(world, other) == "ISSUED", "the second certificate")
    elb = world.client("elbv2", PROVIDER)
    elb.add_listener_certificates(ListenerArn=listener["ListenerArn"],
                                  Certificates=[{"CertificateArn": other}])
    described = elb.describe_listener_certificates(
        ListenerArn=listener["ListenerArn"])["Certificates"]
    assert described == [{"CertificateArn": listener["certificate"], "IsDefault": True},
                         {"CertificateArn": other, "IsDefault": False}]
    regional = world.ids["regional_name"]
    wait_for(lambda: f"CN = {OTHER_NAME}" in _s_client(
        world, regional, f"-servername {OTHER_NAME}").stdout, "SNI's certificate")
    assert f"CN = {PRIVATE_NAME}" in _s_client(world, regional,
                                               f"-servername {PRIVATE_NAME}").stdout
    assert f"CN = {PRIVATE_NAME}" in _s_client(world, regional, "-noservername").stdout
    # In use: ACM refuses to delete it, and says who uses it.
    acm = world.client("acm", PROVIDER)
    with pytest.raises(acm.exceptions.ResourceInUseException):
        acm.delete_certificate(CertificateArn=other)
    assert acm.describe_certificate(CertificateArn=other)["Certificate"]["InUseBy"] == [
        world.ids["balancer"]]


def test_tcp_listeners_carry_on_beside_the_tls_one(world, listener):
    assert PAGE.match(world.curl(f"http://{PRIVATE_NAME}:{PLAIN_PORT}/").stdout.strip())


def test_the_alpn_policy_is_offered(world, listener):
    elb = world.client("elbv2", PROVIDER)
    elb.modify_listener(ListenerArn=listener["ListenerArn"], AlpnPolicy=["HTTP2Preferred"])
    wait_for(lambda: "ALPN protocol: h2" in _s_client(
        world, PRIVATE_NAME, f"-servername {PRIVATE_NAME}", "-alpn http/1.1,h2").stdout,
        "h2 chosen")
    elb.modify_listener(ListenerArn=listener["ListenerArn"], AlpnPolicy=["HTTP1Only"])
    wait_for(lambda: "ALPN protocol: http/1.1" in _s_client(
        world, PRIVATE_NAME, f"-servername {PRIVATE_NAME}", "-alpn h2,http/1.1").stdout,
        "http/1.1 chosen")


def test_a_tls_target_group_gets_tls_again(world, listener):
    """TLS:8443 to a TLS target group: the target (openssl s_server with a self-signed
    certificate, which the NLB does not check) answers over the second TLS session."""
    port = 8443
    world.run("sh", "-c", "cd /tmp && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
              "-subj /CN=target -keyout t.key -out t.pem 2>/dev/null && "
              f"(setsid openssl s_server -accept {port} -cert t.pem -key t.key -www "
              ">/dev/null 2>&1 &)", on="plain")
    provider = world.client("ec2", PROVIDER)
    [instance] = [i for r in provider.describe_instances(InstanceIds=[world.ids["plain"]])[
        "Reservations"] for i in r["Instances"]]
    provider.authorize_security_group_ingress(
        GroupId=instance["SecurityGroups"][0]["GroupId"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    world.consumer.authorize_security_group_ingress(
        GroupId=world.ids["endpoint_group"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    elb = world.client("elbv2", PROVIDER)
    [group] = elb.create_target_group(Name="seed-tls", Protocol="TLS", Port=port,
                                      VpcId=world.ids["provider_vpc"],
                                      TargetType="instance")["TargetGroups"]
    elb.register_targets(TargetGroupArn=group["TargetGroupArn"],
                         Targets=[{"Id": world.ids["plain"]}])
    elb.create_listener(LoadBalancerArn=world.ids["balancer"], Protocol="TLS", Port=port,
                        Certificates=[{"CertificateArn": listener["certificate"]}],
                        DefaultActions=[{"Type": "forward",
                                         "TargetGroupArn": group["TargetGroupArn"]}])
    answer = wait_for(lambda: (got := world.curl(f"https://{PRIVATE_NAME}:{port}/"))
                      .returncode == 0 and got, "the TLS target answering")
    assert "s_server -accept" in answer.stdout  # s_server's -www page
    assert "Ciphers supported in s_server binary" in answer.stdout


def test_a_tcp_listener_turned_tls_and_back(world, listener):
    """ModifyListener on the same port: the workers switch the listener's way at once."""
    port = 8444
    world.consumer.authorize_security_group_ingress(
        GroupId=world.ids["endpoint_group"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    elb = world.client("elbv2", PROVIDER)
    [group] = elb.describe_target_groups(Names=["seed-plain"])["TargetGroups"]
    [made] = elb.create_listener(LoadBalancerArn=world.ids["balancer"], Protocol="TCP",
                                 Port=port, DefaultActions=[{
                                     "Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]
                                 )["Listeners"]
    wait_for(lambda: world.curl(f"http://{PRIVATE_NAME}:{port}/").returncode == 0, "TCP")
    elb.modify_listener(ListenerArn=made["ListenerArn"], Protocol="TLS",
                        Certificates=[{"CertificateArn": listener["certificate"]}])
    answer = wait_for(lambda: (got := world.curl(f"https://{PRIVATE_NAME}:{port}/"))
                      .returncode == 0 and got, "TLS on the same port")
    assert PAGE.match(answer.stdout.strip())
    elb.modify_listener(ListenerArn=made["ListenerArn"], Protocol="TCP")
    wait_for(lambda: world.curl(f"http://{PRIVATE_NAME}:{port}/").returncode == 0,
             "TCP again")

def test_a_restarted_daemon_serves_the_same_certificate(world, listener):
    """The certificate and its key are kept in the state dir: after a restart the listener
    serves the same certificate (same serial) and curl still verifies."""
    acm = world.client("acm", PROVIDER)
    serial = acm.describe_certificate(CertificateArn=listener["certificate"])["Certificate"][
        "Serial"].replace(":", "").upper().lstrip("0")
    world.daemon.restart()
    answer = wait_for(lambda: (got := world.curl(f"https://{PRIVATE_NAME}/")).returncode == 0
                      and got, "TLS after the restart", timeout=60)
    assert PAGE.match(answer.stdout.strip())
    shown = world.run("sh", "-c", f"openssl s_client -connect {PRIVATE_NAME}:{TLS_PORT} "
                      f"-servername {PRIVATE_NAME} </dev/null 2>/dev/null | "
                      "openssl x509 -noout -serial").stdout
    assert shown.strip().split("=")[1].lstrip("0") == serial
