"""Identities over mutual TLS: the party comes from the client certificate the TLS layer received.

Both classes implement :class:`gateway.identity.Identity`. They read the peer certificate (DER bytes) from
``credentials.peer_certificate``; the HTTP edge fills it from the TLS connection (see
:func:`gateway.security.tls.peer_certificate_der`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from cryptography import x509

from gateway.errors import NotAuthenticated
from gateway.identity import Credentials, Identity
from gateway.security.binding import party_from_certificate


def _utcnow() -> datetime:
    return datetime.now(UTC)


def peer_certificate(credentials: Credentials) -> bytes | None:
    """The DER bytes of the client certificate the request came with, if any."""
    der = getattr(credentials, "peer_certificate", None)
    return der if isinstance(der, bytes) and der else None


class CertificateIdentity:
    """The party bound to the client certificate, checked against the node's CAs and current CRL."""

    def __init__(
        self,
        cas: Sequence[x509.Certificate],
        crl: x509.CertificateRevocationList | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not cas:
            raise ValueError("a certificate identity needs at least one trusted CA certificate")
        self.cas = tuple(cas)
        self.crl = crl
        self.clock = clock

    def update_crl(self, crl: x509.CertificateRevocationList | None) -> None:
        """Use a newly published revocation list from now on."""
        self.crl = crl

    def party_from_der(self, der: bytes) -> str:
        """The party code of a DER (or PEM) client certificate; raises CertificateRefused."""
        return party_from_certificate(der, self.cas, self.crl, now=self.clock())

    async def party(self, credentials: Credentials) -> str:
        der = peer_certificate(credentials)
        if der is None:
            raise NotAuthenticated("present a client certificate issued by this node's CA (mutual TLS)")
        return self.party_from_der(der)

    def __repr__(self) -> str:
        return f"CertificateIdentity(cas={len(self.cas)}, crl={self.crl is not None})"


class CertificateOrApiKey:
    """Mutual TLS when the request carries a client certificate, else the development API credential."""

    def __init__(self, certificate: CertificateIdentity, api_key: Identity) -> None:
        self.certificate = certificate
        self.api_key = api_key

    async def party(self, credentials: Credentials) -> str:
        if peer_certificate(credentials) is not None:
            return await self.certificate.party(credentials)
        return await self.api_key.party(credentials)

    def __repr__(self) -> str:
        return f"CertificateOrApiKey({self.certificate!r})"
