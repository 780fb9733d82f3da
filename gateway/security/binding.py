"""Bind a client certificate to a party code, refusing it with a clear reason when it cannot be trusted.

Pure: takes certificate bytes or objects, the trusted CA certificates, an optional CRL and the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import NotAuthenticated
from gateway.security.pki import code_from_oin, is_party_code

Cause = Literal[
    "unreadable",
    "unknown-issuer",
    "issuer-expired",
    "not-yet-valid",
    "expired",
    "revocation-unknown",
    "revoked",
    "not-a-client-certificate",
    "no-party",
    "party-mismatch",
]


class CertificateRefused(NotAuthenticated):
    """A client certificate that does not identify a party; ``cause`` says why (a stable slug)."""

    def __init__(self, cause: Cause, detail: str) -> None:
        super().__init__(f"client certificate refused: {detail}")
        self.cause: Cause = cause

    def __repr__(self) -> str:
        return f"CertificateRefused(cause={self.cause!r})"


def load_certificate(data: bytes | x509.Certificate) -> x509.Certificate:
    """A certificate from PEM or DER bytes (or the object itself); CertificateRefused when unreadable."""
    if isinstance(data, x509.Certificate):
        return data
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateRefused("unreadable", "not a readable X.509 certificate") from exc


def _issuer(cert: x509.Certificate, cas: Sequence[x509.Certificate]) -> x509.Certificate:
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return ca
    raise CertificateRefused("unknown-issuer", "not issued by a trusted CA of this node")


def crl_signed_by(crl: x509.CertificateRevocationList, cas: Sequence[x509.Certificate]) -> bool:
    """Whether one of ``cas`` issued and signed ``crl``."""
    return any(
        crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
        for ca in cas
    )


def _check_revocation(
    cert: x509.Certificate, ca: x509.Certificate, crl: x509.CertificateRevocationList, now: datetime
) -> None:
    if crl.issuer != ca.subject:
        return  # a list of another CA says nothing about this certificate
    if not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
        raise CertificateRefused("revocation-unknown", "the revocation list is not signed by its CA")
    next_update = crl.next_update_utc
    if next_update is not None and next_update < now:
        raise CertificateRefused("revocation-unknown", "the revocation list is out of date")
    if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
        raise CertificateRefused("revoked", f"certificate serial {cert.serial_number:x} is revoked")


def _party(cert: x509.Certificate) -> str:
    serials = {a.value for a in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)}
    oins = {a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)}
    codes = {str(s) for s in serials if is_party_code(str(s))}
    codes |= {c for c in (code_from_oin(str(o)) for o in oins) if c is not None}
    if not codes:
        raise CertificateRefused(
            "no-party", "no party code in the subject (serialNumber or organizationIdentifier)"
        )
    if len(codes) > 1:
        raise CertificateRefused("party-mismatch", "the subject names more than one party code")
    return codes.pop()


def party_from_certificate(
    certificate: bytes | x509.Certificate,
    cas: Sequence[x509.Certificate],
    crl: x509.CertificateRevocationList | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """The party code a client certificate is bound to.

    Checks, in this order: issued by one of ``cas`` (signature), the issuing CA and the certificate are
    valid at ``now``, not revoked in ``crl`` (when it is the issuing CA's, correctly signed and current),
    usable for client authentication, exactly one party code in the subject. Raises
    :class:`CertificateRefused` (a :class:`gateway.errors.NotAuthenticated`) naming the first failure.
    """
    now = now or datetime.now(UTC)
    cert = load_certificate(certificate)
    ca = _issuer(cert, cas)
    if not ca.not_valid_before_utc <= now <= ca.not_valid_after_utc:
        raise CertificateRefused("issuer-expired", "the issuing CA certificate is not valid now")
    if now < cert.not_valid_before_utc:
        raise CertificateRefused("not-yet-valid", f"not valid before {cert.not_valid_before_utc.isoformat()}")
    if now > cert.not_valid_after_utc:
        raise CertificateRefused("expired", f"expired on {cert.not_valid_after_utc.isoformat()}")
    if crl is not None:
        _check_revocation(cert, ca, crl, now)
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        pass
    else:
        if ExtendedKeyUsageOID.CLIENT_AUTH not in usage:
            raise CertificateRefused("not-a-client-certificate", "not usable for client authentication")
    return _party(cert)


def days_until_expiry(certificate: bytes | x509.Certificate, *, now: datetime | None = None) -> float:
    """Days (with fraction) until the certificate expires; negative once it has expired."""
    cert = load_certificate(certificate)
    now = now or datetime.now(UTC)
    return (cert.not_valid_after_utc - now).total_seconds() / 86400
