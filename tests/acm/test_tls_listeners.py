"""ELBv2's TLS listeners through the API: ACM certificates (issued ones only), security
policies from AWS's table, ALPN, SNI certificates, and the errors AWS gives; ACM's side:
a certificate a listener serves is in use and cannot be deleted."""

from __future__ import annotations

import pytest

from tests.acm.conftest import issued
from tests.privatelink.conftest import aws_error, unique

SEED_002_POLICY = "ELBSecurityPolicy-FS-1-2-Res-2019-08"


@pytest.fixture
def balancer(client) -> dict:
    """An internal NLB and a TCP target group in a fresh VPC: the group's ARN beside it."""
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    zones = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()[
        "AvailabilityZones"])
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                               AvailabilityZone=zones[0])["Subnet"]
    [made] = elbv2.create_load_balancer(Name=unique("nlb"), Type="network", Scheme="internal",
                                        Subnets=[subnet["SubnetId"]])["LoadBalancers"]
    [group] = elbv2.create_target_group(Name=unique("tg"), Protocol="TCP", Port=80,
                                        VpcId=vpc["VpcId"])["TargetGroups"]
    return {**made, "group": group["TargetGroupArn"]}


@pytest.fixture
def certificate(acm, client, zone, domain) -> str:
    return issued(acm, client("route53"), zone, f"app.{domain}")


def _tls(elbv2, balancer: dict, port: int = 443, **params) -> dict:
    [listener] = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TLS", Port=port,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": balancer["group"]}],
        **params)["Listeners"]
    return listener


def test_a_tls_listener_takes_an_issued_certificate_and_a_policy(client, acm, balancer,
                                                                 certificate, domain):
    elbv2 = client("elbv2")
    with aws_error("CertificateNotFound", "A certificate must be specified for TLS listeners"):
        _tls(elbv2, balancer)
    pending = acm.request_certificate(DomainName=f"p.{domain}",
                                      ValidationMethod="DNS")["CertificateArn"]
    with aws_error("CertificateNotFound", f"Certificate '{pending}' not found"):
        _tls(elbv2, balancer, Certificates=[{"CertificateArn": pending}])
    with aws_error("SSLPolicyNotFound"):
        _tls(elbv2, balancer, Certificates=[{"CertificateArn": certificate}],
             SslPolicy="ELBSecurityPolicy-Nope")
    with aws_error("ALPNPolicyNotFound"):
        _tls(elbv2, balancer, Certificates=[{"CertificateArn": certificate}],
             AlpnPolicy=["HTTP3"])
    with aws_error("UnsupportedProtocol"):
        elbv2.create_listener(
            LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTPS", Port=443,
            Certificates=[{"CertificateArn": certificate}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": balancer["group"]}])
    listener = _tls(elbv2, balancer, Certificates=[{"CertificateArn": certificate}],
                    AlpnPolicy=["HTTP2Preferred"])
    assert listener["SslPolicy"] == "ELBSecurityPolicy-2016-08"  # the API's default
    assert listener["Certificates"] == [{"CertificateArn": certificate}]
    assert listener["AlpnPolicy"] == ["HTTP2Preferred"]
    [changed] = elbv2.modify_listener(ListenerArn=listener["ListenerArn"],
                                      SslPolicy=SEED_002_POLICY)["Listeners"]
    assert changed["SslPolicy"] == SEED_002_POLICY
    # In use: ACM says by which load balancer, and will not delete it.
    assert acm.describe_certificate(CertificateArn=certificate)["Certificate"]["InUseBy"] == [
        balancer["LoadBalancerArn"]]
    with aws_error("ResourceInUseException"):
        acm.delete_certificate(CertificateArn=certificate)
    # A listener turned TCP drops its TLS settings; the certificate is free again.
    [tcp] = elbv2.modify_listener(ListenerArn=listener["ListenerArn"], Protocol="TCP")[
        "Listeners"]
    assert "Certificates" not in tcp and "SslPolicy" not in tcp
    acm.delete_certificate(CertificateArn=certificate)


def test_tls_settings_on_a_tcp_listener_are_refused(client, balancer, certificate):
    elbv2 = client("elbv2")
    with aws_error("InvalidConfigurationRequest"):
        elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP",
                              Port=80, SslPolicy=SEED_002_POLICY,
                              DefaultActions=[{"Type": "forward",
                                               "TargetGroupArn": balancer["group"]}])


def test_sni_certificates(client, acm, balancer, certificate, zone, domain):
    elbv2 = client("elbv2")
    other = issued(acm, client("route53"), zone, f"other.{domain}")
    listener = _tls(elbv2, balancer, Certificates=[{"CertificateArn": certificate}])
    arn = listener["ListenerArn"]
    added = elbv2.add_listener_certificates(ListenerArn=arn,
                                            Certificates=[{"CertificateArn": other}])
    assert added["Certificates"] == [{"CertificateArn": other, "IsDefault": False}]
    assert elbv2.describe_listener_certificates(ListenerArn=arn)["Certificates"] == [
        {"CertificateArn": certificate, "IsDefault": True},
        {"CertificateArn": other, "IsDefault": False}]
    # DescribeListeners shows the default certificate only, as AWS does.
    [described] = elbv2.describe_listeners(ListenerArns=[arn])["Listeners"]
    assert described["Certificates"] == [{"CertificateArn": certificate}]
    with aws_error("OperationNotPermitted"):
        elbv2.remove_listener_certificates(ListenerArn=arn,
                                           Certificates=[{"CertificateArn": certificate}])
    elbv2.remove_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": other}])
    assert len(elbv2.describe_listener_certificates(ListenerArn=arn)["Certificates"]) == 1
    # ModifyListener's certificate replaces the default.
    elbv2.modify_listener(ListenerArn=arn, Certificates=[{"CertificateArn": other}])
    assert elbv2.describe_listener_certificates(ListenerArn=arn)["Certificates"] == [
        {"CertificateArn": other, "IsDefault": True}]


def test_describe_ssl_policies_from_awss_table(client):
    elbv2 = client("elbv2")
    names = [p["Name"] for p in elbv2.describe_ssl_policies()["SslPolicies"]]
    assert {"ELBSecurityPolicy-2016-08", SEED_002_POLICY,
            "ELBSecurityPolicy-TLS13-1-2-2021-06"} <= set(names)
    [seed] = elbv2.describe_ssl_policies(Names=[SEED_002_POLICY])["SslPolicies"]
    assert seed["SslProtocols"] == ["TLSv1.2"]
    assert seed["Ciphers"][0] == {"Name": "ECDHE-ECDSA-AES128-GCM-SHA256", "Priority": 1}
    [tls13] = elbv2.describe_ssl_policies(
        Names=["ELBSecurityPolicy-TLS13-1-2-2021-06"])["SslPolicies"]
    assert tls13["SslProtocols"] == ["TLSv1.3", "TLSv1.2"]
    assert [c["Name"] for c in tls13["Ciphers"][:3]] == [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
    with aws_error("SSLPolicyNotFound"):
        elbv2.describe_ssl_policies(Names=["ELBSecurityPolicy-Nope"])
