"""pocketlink's certificate authority: what makes ``https://ssm.us-west-2.amazonaws.com``
verify inside an instance without ``--no-verify-ssl``.

One CA per state directory (``ca/`` beside the state file), made on first use and kept, so
that instances started before a restart still trust the certificates served after it. It
is name-constrained to AWS's domains (RFC 5280 §4.2.1.10, which OpenSSL enforces): a copy
of its key, trusted by an instance, could not vouch for any other site. Its leaf
certificates are issued per server name, on demand, and held in memory.

``bundle`` is the file instances are pointed at: the host's trusted roots plus this CA (and
ACM's root, ``trust_also``: acm_authority.py).
"""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pocketlink.private_files import write_private

# The only names the CA may vouch for: AWS's service domains (commercial and dual-stack).
PERMITTED = ("amazonaws.com", "api.aws")
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_DAYS = 3650
LEAF_DAYS = 397  # the longest life browsers accept for a leaf
MAX_COMMON_NAME = 64
_CLOCK_SLACK = datetime.timedelta(days=1)  # a certificate made now is valid on a clock a little behind


class CertificateAuthority:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.certificate_path = folder / "ca.pem"
        self.bundle = folder / "bundle.pem"
        self._lock = threading.Lock()
        self._issued: dict[str, tuple[bytes, bytes]] = {}
        self._key, self._certificate = self._load_or_create()

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, name: str) -> tuple[bytes, bytes]:
        """The (certificate chain, key) PEM pair for server ``name``: a wildcard one when
        ``name`` is ``*.something``. Refuses a name outside AWS's domains (the CA's
        constraints would make a client refuse it anyway)."""
        name = name.lower().rstrip(".")
        if not any(name == d or name.endswith("." + d) for d in PERMITTED):
            raise ValueError(f"{name} is not an AWS name: pocketlink's CA does not vouch for it")
        with self._lock:
            issued = self._issued.get(name)
            if issued is None:
                issued = self._issued[name] = self._leaf(name)
            return issued

    def _leaf(self, name: str) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        # A common name holds at most 64 characters (RFC 5280's ub-common-name); an S3
        # endpoint's names are longer. Verifiers read the SAN; without a subject it is
        # critical, as RFC 5280 section 4.2.1.6 asks.
        short = len(name) <= MAX_COMMON_NAME
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)] if short
                                    else []))
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SLACK)
            .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                           critical=not short)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=False, content_commitment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        chain = certificate.public_bytes(serialization.Encoding.PEM) + self.certificate_pem
        return chain, key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())

    def _load_or_create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key_path = self.folder / "ca.key"
        if key_path.exists() and self.certificate_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            certificate = x509.load_pem_x509_certificate(self.certificate_path.read_bytes())
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            if not self.bundle.exists():
                self._write_bundle(certificate)
            return key, certificate
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pocketlink"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"pocketlink local AWS CA ({self.folder})"[:64]),
        ])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SLACK)
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=False, content_commitment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.NameConstraints(
                permitted_subtrees=[x509.DNSName(d) for d in PERMITTED],
                excluded_subtrees=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256())
        )
        write_private(key_path, key.private_bytes(serialization.Encoding.PEM,
                                                   serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        self.certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self._write_bundle(certificate)
        return key, certificate

    def trust_also(self, root_pem: bytes) -> None:
        """Another root of pocketlink's that instances trust (ACM's, acm_authority.py),
        put in the bundle before this CA's own certificate if it is not there yet."""
        if root_pem not in self.bundle.read_bytes():
            self._write_bundle(self._certificate, root_pem)

    def _write_bundle(self, certificate: x509.Certificate, also: bytes = b"") -> None:
        system = SYSTEM_BUNDLE.read_bytes() if SYSTEM_BUNDLE.exists() else b""
        if system and not system.endswith(b"\n"):
            system += b"\n"
        partial = self.bundle.with_suffix(".tmp")
        partial.write_bytes(system + also + certificate.public_bytes(serialization.Encoding.PEM))
        partial.chmod(0o644)
        partial.replace(self.bundle)

