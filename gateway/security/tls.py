"""The TLS edge: SSL contexts for the nodes and their clients, and the client certificate for the app.

uvicorn does not hand the peer certificate to the ASGI app, so :class:`PeerCertH11Protocol` /
:class:`PeerCertHttpToolsProtocol` (pass one as uvicorn's ``http=``) read it from the TLS connection and add
the ASGI TLS extension to every request scope: ``scope["extensions"]["tls"]["client_cert_chain"]`` holds the
client certificate as PEM. :func:`peer_certificate_der` reads it back as DER for ``Credentials``.

The handshake already refuses a certificate that does not chain to the node's CA (or is out of its validity
period); :class:`gateway.security.identity.CertificateIdentity` then binds the party and checks the CRL, so
a revoked certificate gets a clear 401 instead of a bare TLS alert, and a new CRL needs no restart.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Literal

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.security.pkidir import PkiDir

ClientCerts = Literal["required", "optional", "none"]
_VERIFY = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (x509_vfy.h): the handshake leaves validity times to the app
_NO_CHECK_TIME = 0x200000

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


def server_context(
    cert_file: Path | str,
    key_file: Path | str,
    ca_file: Path | str,
    *,
    client_certs: ClientCerts = "required",
    crl_file: Path | str | None = None,
    check_time: bool = True,
) -> ssl.SSLContext:
    """A TLS 1.2+ server context asking clients for a certificate issued by ``ca_file``.

    ``optional`` lets clients without a certificate in (they then need an API credential); a certificate
    that is presented is always verified. With ``crl_file`` revoked certificates fail the handshake too.
    ``check_time=False`` leaves the validity period to the app (:class:`CertificateIdentity` checks it), so
    an expired or not-yet-valid client certificate gets a 401 that says so instead of a bare TLS alert;
    the signature chain to ``ca_file`` is still checked in the handshake.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    context.verify_mode = _VERIFY[client_certs]
    if client_certs != "none":
        context.load_verify_locations(cafile=str(ca_file))
    if crl_file is not None:
        context.load_verify_locations(cafile=str(crl_file))
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    if not check_time:
        context.verify_flags |= _NO_CHECK_TIME
    return context


def node_server_context(
    pki_dir: PkiDir, node: str, *, client_certs: ClientCerts = "optional", check_time: bool = True
) -> ssl.SSLContext:
    """The server context of ``node`` from the dev PKI directory; refuses (:class:`PkiMismatch`, naming the
    files) a node certificate that does not chain to the directory's CA, which no client would accept."""
    pki_dir.check_chain(pki_dir.node_cert(node))
    return server_context(
        pki_dir.node_cert(node),
        pki_dir.node_key(node),
        pki_dir.ca_cert,
        client_certs=client_certs,
        check_time=check_time,
    )


def client_context(
    ca_file: Path | str, cert_file: Path | str | None = None, key_file: Path | str | None = None
) -> ssl.SSLContext:
    """A client context that trusts ``ca_file`` and, given one, presents a client certificate."""
    context = ssl.create_default_context(cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), None if key_file is None else str(key_file))
    return context


def _tls_extension(chain: list[str]) -> dict[object, object]:
    """The ASGI TLS extension of a request on a connection whose client presented ``chain`` (PEM)."""
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": None,
        "cipher_suite": None,
    }


def _pem_chain(der: bytes | None) -> list[str]:
    return [ssl.DER_cert_to_PEM_cert(der)] if der else []


def with_peer_certificate(app: Asgi, der: bytes | None) -> Asgi:
    """``app`` with the ASGI TLS extension (the client certificate as PEM) added to each scope."""
    chain = _pem_chain(der)

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") in ("http", "websocket"):
            extensions = dict(scope.get("extensions") or {})
            extensions["tls"] = _tls_extension(chain)
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return wrapped


def _peer_der(transport: asyncio.BaseTransport) -> bytes | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return der if isinstance(der, bytes) else None


class PeerCertH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, giving the app the client certificate of each TLS connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.app = with_peer_certificate(self.app, _peer_der(transport))
        super().connection_made(transport)


class PeerCertHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, giving the app the client certificate of each TLS connection: the
    extension goes into each request's scope as the protocol makes it (no wrapper of the app, which copied
    the scope once more per request)."""

    _client_chain: tuple[str, ...] = ()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._client_chain = tuple(_pem_chain(_peer_der(transport)))
        super().connection_made(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {"tls": _tls_extension(list(self._client_chain))}


def peer_certificate_der(scope: Mapping[str, Any]) -> bytes | None:
    """The client certificate (DER) of the request's TLS connection, or None."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    first = chain[0]
    return ssl.PEM_cert_to_DER_cert(first) if isinstance(first, str) else None
