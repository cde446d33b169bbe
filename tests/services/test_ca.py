"""pocketlink's CA: its leaves verify with OpenSSL, it keeps its key across restarts, and its
name constraints make a verifier refuse what it should never vouch for."""

import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from pocketlink.services.ca import CertificateAuthority


def _verify(tmp_path: Path, ca: CertificateAuthority, chain: bytes, name: str) -> subprocess.CompletedProcess:
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(chain.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n")
    return subprocess.run(["openssl", "verify", "-CAfile", str(ca.certificate_path),
                           "-verify_hostname", name, str(leaf)], capture_output=True, text=True)


def test_a_leaf_verifies_for_its_name_and_not_another(tmp_path):
    ca = CertificateAuthority(tmp_path / "ca")
    chain, _ = ca.issue("ssm.us-west-2.amazonaws.com")
    assert _verify(tmp_path, ca, chain, "ssm.us-west-2.amazonaws.com").returncode == 0
    assert _verify(tmp_path, ca, chain, "kms.us-west-2.amazonaws.com").returncode != 0


def test_a_wildcard_leaf_covers_one_label(tmp_path):
    ca = CertificateAuthority(tmp_path / "ca")
    chain, _ = ca.issue("*.s3.us-west-2.amazonaws.com")
    assert _verify(tmp_path, ca, chain, "bucket.s3.us-west-2.amazonaws.com").returncode == 0
    assert _verify(tmp_path, ca, chain, "a.bucket.s3.us-west-2.amazonaws.com").returncode != 0


def test_the_ca_is_kept_across_restarts_and_bundled_with_the_system_roots(tmp_path):
    first = CertificateAuthority(tmp_path / "ca")
    second = CertificateAuthority(tmp_path / "ca")
    assert first.certificate_pem == second.certificate_pem
    assert (tmp_path / "ca" / "ca.key").stat().st_mode & 0o077 == 0
    bundle = second.bundle.read_bytes()
    assert bundle.endswith(first.certificate_pem)
    assert bundle.count(b"BEGIN CERTIFICATE") > 1  # the host's roots come first


def test_a_name_longer_than_a_common_name_may_be_is_in_the_san_alone(tmp_path):
    """S3's endpoint-specific names pass the 64 characters a common name may have."""
    ca = CertificateAuthority(tmp_path / "ca")
    name = "*.bucket.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com"
    chain, _ = ca.issue(name)
    verified = _verify(tmp_path, ca, chain, "my-bucket" + name[1:])
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_it_refuses_to_issue_outside_aws_domains(tmp_path):
    with pytest.raises(ValueError):
        CertificateAuthority(tmp_path / "ca").issue("example.com")


def test_the_name_constraint_makes_openssl_refuse_a_foreign_leaf(tmp_path):
    """Even a leaf signed by the CA's own key for another name fails verification: the
    constraint is in the CA certificate, enforced by the verifier, not by ``issue``."""
    ca = CertificateAuthority(tmp_path / "ca")
    leaf_chain = ca._leaf("www.example.com")[0]  # bypassing issue's own check on purpose
    result = _verify(tmp_path, ca, leaf_chain, "www.example.com")
    assert result.returncode != 0
    assert "permitted subtree violation" in result.stdout + result.stderr
    constraints = x509.load_pem_x509_certificate(ca.certificate_pem).extensions.get_extension_for_class(
        x509.NameConstraints)
    assert constraints.critical
