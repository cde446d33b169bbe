"""ACM's API on the real daemon: a DNS-validated certificate stays PENDING_VALIDATION until
its CNAME resolves on the public DNS, then is ISSUED as real X.509 from pocketlink's ACM
authority; EMAIL validation, listing filters, tags, deletion, and ACM's errors."""

from __future__ import annotations

import re
import stat

from cryptography import x509

from pocketlink.polling import wait_for
from tests.acm.conftest import issued, publish
from tests.privatelink.conftest import aws_error, dig

RECORD_NAME = r"_[0-9a-f]{32}\.{domain}\."
RECORD_VALUE = re.compile(r"^_[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.$")
ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")


def _describe(acm, arn: str) -> dict:
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]


def test_dns_validation_records_as_acm_shows_them(acm, domain, account):
    name = f"app.{domain}"
    arn = acm.request_certificate(DomainName=name, ValidationMethod="DNS",
                                  SubjectAlternativeNames=[f"*.{name}"])["CertificateArn"]
    assert ARN.match(arn) and f":{account}:" in arn
    certificate = _describe(acm, arn)
    assert certificate["Status"] == "PENDING_VALIDATION"
    assert certificate["SubjectAlternativeNames"] == [name, f"*.{name}"]
    assert (certificate["Type"], certificate["KeyAlgorithm"], certificate["InUseBy"]) == (
        "AMAZON_ISSUED", "RSA-2048", [])
    plain, wildcard = certificate["DomainValidationOptions"]
    for option in (plain, wildcard):
        record = option["ResourceRecord"]
        assert re.fullmatch(RECORD_NAME.replace("{domain}", re.escape(name)), record["Name"])
        assert RECORD_VALUE.match(record["Value"]) and record["Type"] == "CNAME"
        assert (option["ValidationMethod"], option["ValidationStatus"]) == (
            "DNS", "PENDING_VALIDATION")
    # *.name is proven where name is: one record for both, as ACM does.
    assert plain["ResourceRecord"] == wildcard["ResourceRecord"]
    # The same name in the same account gets the same record again.
    again = acm.request_certificate(DomainName=name, ValidationMethod="DNS")["CertificateArn"]
    assert _describe(acm, again)["DomainValidationOptions"][0]["ResourceRecord"] == \
        plain["ResourceRecord"]


def test_pending_until_the_cname_resolves_then_issued(daemon, acm, client, zone, domain):
    route53 = client("route53")
    name = f"api.{domain}"
    arn = acm.request_certificate(DomainName=name, ValidationMethod="DNS")["CertificateArn"]
    record = _describe(acm, arn)["DomainValidationOptions"][0]["ResourceRecord"]
    with aws_error("RequestInProgressException"):
        acm.get_certificate(CertificateArn=arn)
    # A wrong value proves nothing: once the public DNS serves it, still pending.
    publish(route53, zone, {**record, "Value": "_0.wrong.acm-validations.aws."})
    wait_for(lambda: "wrong" in dig(daemon, "CNAME", record["Name"], "+short"), "served")
    assert _describe(acm, arn)["Status"] == "PENDING_VALIDATION"
    publish(route53, zone, record)
    wait_for(lambda: _describe(acm, arn)["Status"] == "ISSUED", "issued")
    certificate = _describe(acm, arn)
    assert certificate["DomainValidationOptions"][0]["ValidationStatus"] == "SUCCESS"
    assert certificate["Issuer"] == "pocketlink ACM RSA 2048 M01"
    assert certificate["Subject"] == f"CN={name}"
    assert re.fullmatch(r"([0-9a-f]{2}:)+[0-9a-f]{2}", certificate["Serial"])
    assert certificate["NotBefore"] < certificate["IssuedAt"] < certificate["NotAfter"]
    assert {u["Name"] for u in certificate["ExtendedKeyUsages"]} == {
        "TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION"}

    # Real X.509: the leaf names the domain and is signed by the chain's issuing CA, which
    # the root signed; the root is what instances trust (the bundle).
    got = acm.get_certificate(CertificateArn=arn)
    leaf = x509.load_pem_x509_certificate(got["Certificate"].encode())
    issuing, root = x509.load_pem_x509_certificates(got["CertificateChain"].encode())
    assert leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [name]
    leaf.verify_directly_issued_by(issuing)
    issuing.verify_directly_issued_by(root)
    bundle = (daemon.state.parent / "ca" / "bundle.pem").read_text()
    assert got["CertificateChain"].split("-----END CERTIFICATE-----\n")[1].strip() in bundle
    # Its key is a file only the daemon's user reads.
    key = daemon.state.parent / "acm" / f"{arn.rsplit('/', 1)[1]}.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_an_ec_key_and_the_list_filters(acm, client, zone, domain):
    route53 = client("route53")
    rsa = issued(acm, route53, zone, f"rsa.{domain}")
    ec = issued(acm, route53, zone, f"ec.{domain}", KeyAlgorithm="EC_prime256v1")
    pending = acm.request_certificate(DomainName=f"p.{domain}",
                                      ValidationMethod="DNS")["CertificateArn"]
    assert _describe(acm, ec)["KeyAlgorithm"] == "EC-prime256v1"
    listed = {s["CertificateArn"]: s for s in acm.list_certificates()["CertificateSummaryList"]}
    assert rsa in listed and pending in listed
    assert ec not in listed  # without keyTypes, ACM lists RSA certificates only
    assert listed[rsa]["Status"] == "ISSUED" and listed[rsa]["KeyAlgorithm"] == "RSA-2048"
    assert listed[rsa]["InUse"] is False
    ecs = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})
    assert [s["CertificateArn"] for s in ecs["CertificateSummaryList"]] == [ec]
    waiting = acm.list_certificates(CertificateStatuses=["PENDING_VALIDATION"])
    assert [s["CertificateArn"] for s in waiting["CertificateSummaryList"]] == [pending]
    first = acm.list_certificates(MaxItems=1)
    assert len(first["CertificateSummaryList"]) == 1 and first["NextToken"]
    rest = acm.list_certificates(MaxItems=1, NextToken=first["NextToken"])
    assert rest["CertificateSummaryList"] != first["CertificateSummaryList"]


def test_email_validation_as_acm_shows_it(acm, domain):
    name = f"*.shop.{domain}"
    arn = acm.request_certificate(DomainName=name, ValidationMethod="EMAIL",
                                  DomainValidationOptions=[{"DomainName": name,
                                                            "ValidationDomain": domain}]
                                  )["CertificateArn"]
    [option] = _describe(acm, arn)["DomainValidationOptions"]
    assert option["ValidationDomain"] == domain and "ResourceRecord" not in option
    assert option["ValidationEmails"] == [f"{box}@{domain}" for box in (
        "admin", "administrator", "hostmaster", "postmaster", "webmaster")]
    with aws_error("InvalidDomainValidationOptionsException"):
        acm.request_certificate(DomainName=f"a.{domain}", ValidationMethod="EMAIL",
                                DomainValidationOptions=[{"DomainName": f"a.{domain}",
                                                          "ValidationDomain": "other.org"}])


def test_tags_idempotency_and_deletion(acm, domain):
    token = "once"
    arn = acm.request_certificate(DomainName=f"t.{domain}", ValidationMethod="DNS",
                                  IdempotencyToken=token,
                                  Tags=[{"Key": "team", "Value": "a"}])["CertificateArn"]
    assert acm.request_certificate(DomainName=f"t.{domain}", ValidationMethod="DNS",
                                   IdempotencyToken=token)["CertificateArn"] == arn
    acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "env", "Value": "dev"},
                                                          {"Key": "flag"}])
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "team", "Value": "b"},
                                                               {"Key": "env"}])
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [
        {"Key": "team", "Value": "a"}, {"Key": "flag"}]  # a value that differs keeps the tag
    with aws_error("InvalidTagException"):
        acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "aws:x", "Value": "y"}])
    acm.delete_certificate(CertificateArn=arn)
    with aws_error("ResourceNotFoundException"):
        acm.describe_certificate(CertificateArn=arn)
    with aws_error("ResourceNotFoundException"):
        acm.delete_certificate(CertificateArn=arn)


def test_errors_in_acms_words(acm, client, account):
    with aws_error("ValidationException"):
        acm.request_certificate(DomainName="-bad-.example.com", ValidationMethod="DNS")
    with aws_error("InvalidArnException"):
        acm.describe_certificate(CertificateArn="arn:aws:acm:us-east-1:1:certificate/nope-nope")
    other_region = client("acm", "us-west-2")
    arn = acm.request_certificate(DomainName="r.example.org",
                                  ValidationMethod="DNS")["CertificateArn"]
    with aws_error("ResourceNotFoundException",
                   f"Certificate with arn {arn} not found in account {account}"):
        other_region.describe_certificate(CertificateArn=arn)
    with aws_error("ValidationException"):
        acm.request_certificate(DomainName="k.example.org", KeyAlgorithm="RSA_4096")
