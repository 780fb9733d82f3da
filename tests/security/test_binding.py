"""Binding a client certificate to a party: accepted when trusted, else refused with a distinct reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import NotAuthenticated
from gateway.identity import Credentials
from gateway.security import pki
from gateway.security.binding import CertificateRefused, days_until_expiry, party_from_certificate
from gateway.security.identity import CertificateIdentity, CertificateOrApiKey

from .values import NOW


@dataclass(frozen=True, slots=True)
class PeerCredentials(Credentials):
    """Credentials with the peer certificate field the HTTP edge is to add."""

    peer_certificate: bytes | None = field(default=None, repr=False)


def _der(issued: pki.Issued) -> bytes:
    return issued.certificate.public_bytes(serialization.Encoding.DER)


def _cause(ca: pki.Issued, cert: pki.Issued, crl: x509.CertificateRevocationList | None = None) -> str:
    with pytest.raises(CertificateRefused) as refused:
        party_from_certificate(_der(cert), [ca.certificate], crl, now=NOW)
    return refused.value.cause


def test_valid_certificate_gives_its_party(ca: pki.Issued) -> None:
    """A current client certificate from the CA yields the party code in its subject."""
    cert = pki.issue_client(ca, "42420001", not_before=NOW - timedelta(days=1))
    assert party_from_certificate(_der(cert), [ca.certificate], now=NOW) == "42420001"


def test_pem_and_der_give_the_same_party(ca: pki.Issued) -> None:
    """The certificate may come as PEM bytes, DER bytes or an x509 object."""
    cert = pki.issue_client(ca, "0363", not_before=NOW - timedelta(days=1))
    forms = (cert.cert_pem(), _der(cert), cert.certificate)
    assert [party_from_certificate(f, [ca.certificate], now=NOW) for f in forms] == ["0363"] * 3


def test_expired_certificate_is_refused(ca: pki.Issued) -> None:
    """A certificate past its end of validity is refused as expired."""
    cert = pki.issue_client(
        ca, "0363", not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1)
    )
    assert _cause(ca, cert) == "expired"


def test_not_yet_valid_certificate_is_refused(ca: pki.Issued) -> None:
    """A certificate whose validity starts tomorrow is refused as not yet valid."""
    cert = pki.issue_client(ca, "0363", not_before=NOW + timedelta(days=1))
    assert _cause(ca, cert) == "not-yet-valid"


def test_revoked_certificate_is_refused(ca: pki.Issued) -> None:
    """A certificate listed in the CA's CRL is refused as revoked."""
    cert = pki.issue_client(ca, "0363", not_before=NOW - timedelta(days=1))
    crl = pki.build_crl(ca, [pki.Revoked(cert.certificate.serial_number, NOW)], now=NOW)
    assert _cause(ca, cert, crl) == "revoked"


def test_certificate_not_in_the_crl_is_accepted(ca: pki.Issued) -> None:
    """A CRL that lists other serials does not refuse this certificate."""
    cert = pki.issue_client(ca, "0363", not_before=NOW - timedelta(days=1))
    crl = pki.build_crl(ca, [pki.Revoked(12345, NOW)], now=NOW)
    assert party_from_certificate(_der(cert), [ca.certificate], crl, now=NOW) == "0363"


def test_foreign_ca_certificate_is_refused(ca: pki.Issued, foreign_ca: pki.Issued) -> None:
    """A certificate signed by another CA (even one with the same name) is refused as unknown issuer."""
    cert = pki.issue_client(foreign_ca, "0363", not_before=NOW - timedelta(days=1))
    assert _cause(ca, cert) == "unknown-issuer"


def test_certificate_without_party_is_refused(ca: pki.Issued) -> None:
    """A certificate whose subject holds no party code is refused as having no party."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone")])
    cert = pki.issue(ca, subject, not_before=NOW - timedelta(days=1))
    assert _cause(ca, cert) == "no-party"


def test_certificate_naming_two_parties_is_refused(ca: pki.Issued) -> None:
    """serialNumber and organizationIdentifier that name different parties are refused."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "0363"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, pki.oin_for("0384")),
        ]
    )
    cert = pki.issue(ca, subject, not_before=NOW - timedelta(days=1))
    assert _cause(ca, cert) == "party-mismatch"


def test_server_certificate_is_not_a_client_certificate(ca: pki.Issued) -> None:
    """A certificate only for server authentication cannot identify a participant."""
    cert = pki.issue(
        ca,
        pki.client_subject("0363"),
        usage=(ExtendedKeyUsageOID.SERVER_AUTH,),
        not_before=NOW - timedelta(days=1),
    )
    assert _cause(ca, cert) == "not-a-client-certificate"


def test_crl_signed_by_another_key_is_refused(ca: pki.Issued, foreign_ca: pki.Issued) -> None:
    """A CRL under the CA's name but not signed by it makes the revocation state unknown: refused."""
    cert = pki.issue_client(ca, "0363", not_before=NOW - timedelta(days=1))
    forged = pki.build_crl(pki.Issued(ca.certificate, foreign_ca.key), [], now=NOW)
    assert _cause(ca, cert, forged) == "revocation-unknown"


def test_outdated_crl_is_refused(ca: pki.Issued) -> None:
    """A CRL past its next update makes the revocation state unknown: refused."""
    cert = pki.issue_client(ca, "0363", not_before=NOW - timedelta(days=100))
    old = pki.build_crl(ca, [], now=NOW - timedelta(days=60), days=30)
    assert _cause(ca, cert, old) == "revocation-unknown"


def test_unreadable_bytes_are_refused(ca: pki.Issued) -> None:
    """Bytes that are not a certificate are refused as unreadable."""
    with pytest.raises(CertificateRefused) as refused:
        party_from_certificate(b"not a certificate", [ca.certificate], now=NOW)
    assert refused.value.cause == "unreadable"


def test_refusal_is_a_not_authenticated_error(ca: pki.Issued) -> None:
    """A refusal is NotAuthenticated (IB002, 401) and its text names the reason."""
    cert = pki.issue_client(
        ca, "0363", not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1)
    )
    with pytest.raises(NotAuthenticated) as refused:
        party_from_certificate(_der(cert), [ca.certificate], now=NOW)
    assert (refused.value.code, refused.value.status, "expired" in refused.value.detail) == (
        "IB002",
        401,
        True,
    )


def test_days_until_expiry(ca: pki.Issued) -> None:
    """days_until_expiry counts from the given time to the end of validity."""
    cert = pki.issue_client(
        ca, "0363", not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=10)
    )
    assert days_until_expiry(cert.certificate, now=NOW) == 10.0


async def test_certificate_identity_reads_the_peer_certificate(ca: pki.Issued) -> None:
    """CertificateIdentity gives the party of the certificate in the credentials."""
    cert = pki.issue_client(ca, "0384", not_before=NOW - timedelta(days=1))
    identity = CertificateIdentity([ca.certificate], _empty_crl(ca), clock=lambda: NOW)
    assert await identity.party(PeerCredentials(peer_certificate=_der(cert))) == "0384"


async def test_certificate_identity_without_certificate_is_refused(ca: pki.Issued) -> None:
    """Without a client certificate CertificateIdentity refuses with NotAuthenticated."""
    identity = CertificateIdentity([ca.certificate], clock=lambda: NOW)
    with pytest.raises(NotAuthenticated):
        await identity.party(Credentials(bearer="token"))


async def test_certificate_identity_uses_an_updated_crl(ca: pki.Issued) -> None:
    """After update_crl a certificate revoked in the new list is refused."""
    cert = pki.issue_client(ca, "0384", not_before=NOW - timedelta(days=1))
    identity = CertificateIdentity([ca.certificate], clock=lambda: NOW)
    identity.update_crl(pki.build_crl(ca, [pki.Revoked(cert.certificate.serial_number, NOW)], now=NOW))
    with pytest.raises(CertificateRefused) as refused:
        identity.party_from_der(_der(cert))
    assert refused.value.cause == "revoked"


class _FixedApiKey:
    async def party(self, credentials: Credentials) -> str:
        return "api:" + (credentials.bearer or "")


async def test_certificate_or_api_key_prefers_the_certificate(ca: pki.Issued) -> None:
    """With a client certificate the certificate decides, even when a bearer token is sent too."""
    cert = pki.issue_client(ca, "0384", not_before=NOW - timedelta(days=1))
    identity = CertificateOrApiKey(
        CertificateIdentity([ca.certificate], _empty_crl(ca), clock=lambda: NOW), _FixedApiKey()
    )
    assert await identity.party(PeerCredentials(bearer="t", peer_certificate=_der(cert))) == "0384"


async def test_certificate_or_api_key_falls_back_to_the_api_key(ca: pki.Issued) -> None:
    """Without a client certificate the development API credential decides."""
    identity = CertificateOrApiKey(CertificateIdentity([ca.certificate], clock=lambda: NOW), _FixedApiKey())
    assert await identity.party(Credentials(bearer="t")) == "api:t"


def _empty_crl(ca: pki.Issued) -> x509.CertificateRevocationList:
    """The CA's revocation list with nothing revoked (a node refuses certificates without any list)."""
    return pki.build_crl(ca, [], now=NOW - timedelta(hours=1))


def test_certificate_identity_without_a_crl_refuses_and_says_why(ca: pki.Issued) -> None:
    """Without any revocation list a valid certificate is refused (fail closed), naming the missing list."""
    cert = pki.issue_client(ca, "0384", not_before=NOW - timedelta(days=1))
    identity = CertificateIdentity([ca.certificate], clock=lambda: NOW)
    with pytest.raises(CertificateRefused) as refused:
        identity.party_from_der(_der(cert))
    assert ("revocation-unknown", True) == (
        refused.value.cause,
        "no certificate revocation list" in str(refused.value),
    )


def test_a_crl_of_another_ca_does_not_replace_the_good_one(ca: pki.Issued, foreign_ca: pki.Issued) -> None:
    """update_crl refuses a list no trusted CA signed and keeps revoking with the last good one."""
    cert = pki.issue_client(ca, "0384", not_before=NOW - timedelta(days=1))
    good = pki.build_crl(ca, [pki.Revoked(cert.certificate.serial_number, NOW)], now=NOW)
    identity = CertificateIdentity([ca.certificate], good, clock=lambda: NOW)
    with pytest.raises(ValueError):
        identity.update_crl(pki.build_crl(foreign_ca, [], now=NOW))
    with pytest.raises(CertificateRefused) as refused:
        identity.party_from_der(_der(cert))
    assert (good, "revoked") == (identity.crl, refused.value.cause)
