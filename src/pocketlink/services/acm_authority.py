"""ACM's certificate authority: what issues the certificates tenants request for their own
domains, so that a TLS listener can serve them and instances verify them.

pocketlink's first CA (ca.py) is name-constrained to AWS's domains, so it cannot sign
``app.example.com``. ACM's certificates come from a second hierarchy, kept in the same
state dir (``acm/``, 0700), shaped as Amazon's (Amazon Root CA 1 -> Amazon RSA 2048 M0x ->
leaf): a root that instances trust beside the first CA (the daemon adds it to the bundle),
excluded from the domains AWS owns (amazonaws.com, compute.internal, ec2.internal, aws:
RFC 5280 name constraints, which OpenSSL enforces) so it can never stand in for the first
CA or name an instance; an issuing CA under it; and the leaves, issued only once ACM
has seen a name's validation record on the public DNS (reconcile/certificates.py). Every
private key is a 0600 file: the CAs' in ``acm/``, each certificate's as
``acm/<certificate id>.key`` beside ``<certificate id>.pem`` (the leaf then the issuing CA:
what a TLS listener sends), which the data plane's workers load.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pocketlink.dns.aws_names import AWS_DOMAINS
from pocketlink.private_files import write_private

ROOT_DAYS = 7300
ISSUING_DAYS = 3650
LEAF_DAYS = 395  # ACM's certificates last 13 months
_CLOCK_SLACK = datetime.timedelta(days=1)
# RequestCertificate's key algorithms and the keys they stand for.
KEY_ALGORITHMS = {"RSA_2048": lambda: rsa.generate_private_key(65537, 2048),
                  "EC_prime256v1": lambda: ec.generate_private_key(ec.SECP256R1()),
                  "EC_secp384r1": lambda: ec.generate_private_key(ec.SECP384R1())}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """What an issued certificate's description shows, and its PEMs."""

    serial: str  # colon-separated hex, as ACM shows it
    subject: str
    issuer: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    certificate_pem: str
    chain_pem: str


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _private_bytes(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pocketlink"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_encipherment=False,
                         content_commitment=False, data_encipherment=False,
                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


class AcmAuthority:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root_key, self.root = self._load_or_make("root", None)
        self.issuing_key, self.issuing = self._load_or_make("issuing", (self.root_key, self.root))

    @property
    def root_pem(self) -> bytes:
        return _pem(self.root)

    def files(self, certificate_id: str) -> tuple[Path, Path]:
        """The chain (leaf, issuing CA) and key files of an issued certificate."""
        stem = certificate_id.rsplit("/", 1)[-1]
        return self.folder / f"{stem}.pem", self.folder / f"{stem}.key"

    def issue(self, certificate_id: str, names: list[str], key_algorithm: str) -> Issued:
        """A leaf for ``names`` (the first its subject), its key and chain written to their
        files (the key 0600) before the certificate is returned."""
        key = KEY_ALGORITHMS[key_algorithm]()
        now = datetime.datetime.now(datetime.UTC)
        rsa_key = isinstance(key, rsa.RSAPrivateKey)
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.issuing.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SLACK)
            .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=rsa_key, content_commitment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.issuing_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(self.issuing_key, hashes.SHA256())
        )
        chain_path, key_path = self.files(certificate_id)
        write_private(key_path, _private_bytes(key))
        partial = chain_path.with_suffix(".tmp")
        partial.write_bytes(_pem(leaf) + _pem(self.issuing))
        partial.replace(chain_path)
        serial = f"{leaf.serial_number:x}"
        serial = ":".join((("0" if len(serial) % 2 else "") + serial)[i:i + 2]
                          for i in range(0, len(serial) + len(serial) % 2, 2))
        return Issued(serial=serial, subject=leaf.subject.rfc4514_string(),
                      issuer=self.issuing.subject.get_attributes_for_oid(
                          NameOID.COMMON_NAME)[0].value,  # type: ignore[arg-type]
                      not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc,
                      certificate_pem=_pem(leaf).decode(),
                      chain_pem=(_pem(self.issuing) + _pem(self.root)).decode())

    def forget_all_but(self, kept: set[str]) -> None:
        """Removes the files of certificates no longer in the store (deleted ones)."""
        keep = {part for cid in kept for part in map(str, self.files(cid))}
        for path in self.folder.iterdir():
            if path.suffix in (".pem", ".key") and path.stem not in ("root", "issuing") \
                    and str(path) not in keep:
                path.unlink(missing_ok=True)

    def _load_or_make(self, role: str, parent: tuple[PrivateKey, x509.Certificate] | None
                      ) -> tuple[PrivateKey, x509.Certificate]:
        key_path, cert_path = self.folder / f"{role}.key", self.folder / f"{role}.pem"
        if key_path.exists() and cert_path.exists():
            # The daemon's own key, in its 0600 folder: not checked again at every start
            # (the check costs some 70 ms of CPU a key, on a restart's path).
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None,
                                                     unsafe_skip_rsa_key_validation=True)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = rsa.generate_private_key(65537, 2048)
        now = datetime.datetime.now(datetime.UTC)
        subject = _name(f"pocketlink ACM Root CA ({self.folder.parent})"[:64]
                        if parent is None else "pocketlink ACM RSA 2048 M01")
        signer_key, issuer = (key, subject) if parent is None else (parent[0],
                                                                    parent[1].subject)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SLACK)
            .not_valid_after(now + datetime.timedelta(
                days=ROOT_DAYS if parent is None else ISSUING_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None
                                                 else 0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
        )
        if parent is None:  # never a name of AWS's: amazonaws.com is the first CA's alone
            builder = builder.add_extension(x509.NameConstraints(
                permitted_subtrees=None, excluded_subtrees=[
                    x509.DNSName(d.to_text(omit_final_dot=True)) for d in AWS_DOMAINS]),
                critical=True)
        else:
            builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                signer_key.public_key()), critical=False)
        certificate = builder.sign(signer_key, hashes.SHA256())
        write_private(key_path, _private_bytes(key))
        cert_path.write_bytes(_pem(certificate))
        return key, certificate
