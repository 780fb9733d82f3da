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
from gateway.security.binding import (
    CertificateRefused,
    crl_signed_by,
    load_certificate,
    party_from_certificate,
)

# certificates whose binding is remembered (one per client certificate in use; more clears the memory)
BOUND_MAX = 4096


def _utcnow() -> datetime:
    return datetime.now(UTC)


def peer_certificate(credentials: Credentials) -> bytes | None:
    """The DER bytes of the client certificate the request came with, if any."""
    der = getattr(credentials, "peer_certificate", None)
    return der if isinstance(der, bytes) and der else None


NO_CRL = (
    "this node has no certificate revocation list (crl.pem missing or unreadable since it started): "
    "client certificates are refused until one is published"
)


class CertificateIdentity:
    """The party bound to the client certificate, checked against the node's CAs and current CRL.

    Fails closed: without a CRL every certificate is refused (``revocation-unknown``), and a list that
    disappears or breaks later never replaces the last good one (see :meth:`update_crl`).
    """

    def __init__(
        self,
        cas: Sequence[x509.Certificate],
        crl: x509.CertificateRevocationList | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not cas:
            raise ValueError("a certificate identity needs at least one trusted CA certificate")
        self.cas = tuple(cas)
        self.crl: x509.CertificateRevocationList | None = None
        self.clock = clock
        # DER -> (party, valid from, valid until): a certificate checked once is not verified again (two
        # ECDSA signature checks, ~0.6 ms) while the checked facts hold: its and its CA's validity, the CRL
        self._bound: dict[bytes, tuple[str, datetime, datetime]] = {}
        if crl is not None:
            self.update_crl(crl)

    def update_crl(self, crl: x509.CertificateRevocationList) -> None:
        """Use a newly published revocation list from now on (every certificate is checked anew).

        Raises ValueError, keeping the list in use, when no trusted CA signed the new one."""
        if not crl_signed_by(crl, self.cas):
            raise ValueError("the revocation list is not signed by a trusted CA")
        self.crl = crl
        self._bound.clear()

    def party_from_der(self, der: bytes) -> str:
        """The party code of a DER (or PEM) client certificate; raises CertificateRefused."""
        if self.crl is None:
            raise CertificateRefused("revocation-unknown", NO_CRL)
        now = self.clock()
        known = self._bound.get(der)
        if known is not None and known[1] <= now <= known[2]:
            return known[0]
        cert = load_certificate(der)
        party = party_from_certificate(cert, self.cas, self.crl, now=now)
        self._remember(der, cert, party)
        return party

    def _remember(self, der: bytes, cert: x509.Certificate, party: str) -> None:
        start = max(cert.not_valid_before_utc, *(ca.not_valid_before_utc for ca in self.cas))
        end = min(cert.not_valid_after_utc, *(ca.not_valid_after_utc for ca in self.cas))
        next_update = self.crl.next_update_utc if self.crl is not None else None
        if next_update is not None:
            end = min(end, next_update)
        if len(self._bound) >= BOUND_MAX:
            self._bound.clear()
        self._bound[der] = (party, start, end)

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
