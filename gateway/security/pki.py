"""A small X.509 PKI for development: a CA, node (server) certificates and participant (client) certificates.

Pure: keys and certificates are made in memory and returned; :mod:`gateway.security.pkidir` writes them.
Every key is ECDSA P-256, which Python's ``ssl`` (OpenSSL) accepts everywhere for TLS.

A client certificate binds its party code twice in the subject: as ``serialNumber`` (OID 2.5.4.5, the
attribute PKIoverheid certificates use for an organisation number) and as an OIN-style
``organizationIdentifier`` (OID 2.5.4.97): 20 digits, a dev-only prefix per kind of party, the code
zero-padded to 8 digits, then ``0000``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PARTY_CODE = re.compile(r"\d{4}|\d{8}")
# OIN-style prefixes for the dev PKI only (real OINs are issued by Logius); one per kind keeps 4-digit
# gemeentecodes and 8-digit AGB-codes apart after zero-padding
OIN_PREFIX_GEMEENTE = "00000098"
OIN_PREFIX_AANBIEDER = "00000099"
OIN = re.compile(rf"({OIN_PREFIX_GEMEENTE}|{OIN_PREFIX_AANBIEDER})(\d{{8}})0000")

CA_DAYS = 3650
SERVER_DAYS = 825
CLIENT_DAYS = 365
CRL_DAYS = 30
_BACKDATE = timedelta(minutes=5)  # tolerate clocks that are slightly behind


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate with its private key. The repr shows subject, serial and end of validity only."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def __repr__(self) -> str:
        cert = self.certificate
        return (
            f"Issued(subject={cert.subject.rfc4514_string()!r}, serial={cert.serial_number:x}, "
            f"not_after={cert.not_valid_after_utc.isoformat()!r})"
        )


def is_party_code(code: str) -> bool:
    """A gemeentecode (4 digits) or an AGB-code (8 digits)."""
    return PARTY_CODE.fullmatch(code) is not None


def oin_for(code: str) -> str:
    """The dev OIN-style organisation identifier of a party code (20 digits)."""
    if not is_party_code(code):
        raise ValueError("a party code is 4 digits (gemeente) or 8 digits (aanbieder)")
    prefix = OIN_PREFIX_GEMEENTE if len(code) == 4 else OIN_PREFIX_AANBIEDER
    return f"{prefix}{code:0>8}0000"


def code_from_oin(oin: str) -> str | None:
    """The party code inside a dev OIN-style identifier, or None when it is not one."""
    match = OIN.fullmatch(oin)
    if match is None:
        return None
    prefix, padded = match.groups()
    return padded[4:] if prefix == OIN_PREFIX_GEMEENTE else padded


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


_KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _key_usage(*allowed: str) -> x509.KeyUsage:
    """The key usage of a certificate: only the ``allowed`` usages (x509.KeyUsage's names), every other off."""
    return x509.KeyUsage(**{usage: usage in allowed for usage in _KEY_USAGES})


def client_subject(code: str, name: str | None = None) -> x509.Name:
    """The subject of a participant's client certificate: its party code as serialNumber and OIN."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name or f"Participant {code}"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, oin_for(code)),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, code),
            x509.NameAttribute(NameOID.COMMON_NAME, code),
        ]
    )


def new_ca(
    common_name: str = "Gegevensknooppunt dev CA", *, now: datetime | None = None, days: int = CA_DAYS
) -> Issued:
    """A self-signed CA that may sign end-entity certificates and CRLs (no intermediates)."""
    now = now or _utcnow()
    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gegevensknooppunt development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("key_cert_sign", "crl_sign"), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue(
    ca: Issued,
    subject: x509.Name,
    *,
    usage: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.CLIENT_AUTH,),
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = CLIENT_DAYS,
) -> Issued:
    """An end-entity certificate signed by ``ca`` for ``subject`` with a fresh key.

    The building block of :func:`issue_server` and :func:`issue_client`; tests use it to make odd certificates
    (expired, not yet valid, without a party code).
    """
    start = not_before or (_utcnow() - _BACKDATE)
    end = not_after or (start + timedelta(days=days))
    key = _new_key()
    public = key.public_key()
    ca_public = ca.key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage("digital_signature"), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(usage)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False)
    )
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def issue_server(
    ca: Issued,
    node: str,
    *,
    dns_names: Sequence[str] = ("localhost",),
    ip_addresses: Sequence[str] = ("127.0.0.1",),
    days: int = SERVER_DAYS,
) -> Issued:
    """A node's TLS server certificate (SAN localhost and 127.0.0.1 by default)."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gegevensknooppunt development"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{node} node"),
        ]
    )
    return issue(
        ca,
        subject,
        usage=(ExtendedKeyUsageOID.SERVER_AUTH,),
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        days=days,
    )


def issue_client(
    ca: Issued,
    code: str,
    *,
    name: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = CLIENT_DAYS,
) -> Issued:
    """A participant's TLS client certificate, its party code bound in the subject."""
    return issue(ca, client_subject(code, name), not_before=not_before, not_after=not_after, days=days)


@dataclass(frozen=True, slots=True)
class Revoked:
    """One revoked certificate: its serial number and when it was revoked."""

    serial: int
    at: datetime


def revoked_in(crl: x509.CertificateRevocationList) -> list[Revoked]:
    """The entries of a CRL, oldest first."""
    entries = [Revoked(r.serial_number, r.revocation_date_utc) for r in crl]
    return sorted(entries, key=lambda r: (r.at, r.serial))


def build_crl(
    ca: Issued, revoked: Iterable[Revoked], *, now: datetime | None = None, days: int = CRL_DAYS
) -> x509.CertificateRevocationList:
    """A CRL signed by ``ca`` listing ``revoked`` (each serial once), valid for ``days``."""
    now = now or _utcnow()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now - _BACKDATE)
        .next_update(now + timedelta(days=days))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    seen: set[int] = set()
    for entry in revoked:
        if entry.serial in seen:
            continue
        seen.add(entry.serial)
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.at).build()
        )
    return builder.sign(ca.key, hashes.SHA256())


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


def load_issued(cert_pem: bytes, key_pem: bytes) -> Issued:
    """An :class:`Issued` from PEM bytes; the key must be an unencrypted EC key matching the certificate."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the private key is not an EC key")
    if key.public_key() != cert.public_key():
        raise ValueError("the private key does not belong to the certificate")
    return Issued(cert, key)
