"""Mutual TLS over real connections on 127.0.0.1: uvicorn with a node certificate asking for client ones."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.errors import NotAuthenticated
from gateway.security import pki
from gateway.security.identity import CertificateIdentity
from gateway.security.pkidir import PkiDir, write_file
from gateway.security.tls import (
    ClientCerts,
    PeerCertH11Protocol,
    PeerCertHttpToolsProtocol,
    client_context,
    node_server_context,
    peer_certificate_der,
)

PARTIES = {"0384": "Diemen", "42420001": "Jeugdzorg De Linde"}


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> PkiDir:
    directory = PkiDir(tmp_path_factory.mktemp("pki"))
    directory.init(PARTIES)
    return directory


@pytest.fixture
def identity(pki_dir: PkiDir) -> CertificateIdentity:
    """The node's certificate identity: the PKI directory's CA and CRL."""
    return CertificateIdentity(pki_dir.trusted_cas(), pki_dir.load_crl())


@pytest.fixture
def reached() -> list[str]:
    """The paths of the requests that reached the app."""
    return []


def whoami(identity: CertificateIdentity, reached: list[str]) -> Any:
    """A tiny ASGI app answering with the party of the client certificate, or 401 with the reason."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        reached.append(scope["path"])
        der = peer_certificate_der(scope)
        try:
            status, body = 200, identity.party_from_der(der) if der else "no certificate"
        except NotAuthenticated as exc:
            status, body = 401, exc.detail
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": body.encode()})

    return app


async def serve(
    directory: PkiDir,
    identity: CertificateIdentity,
    reached: list[str],
    protocol: type[asyncio.Protocol],
    client_certs: ClientCerts,
) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    context = node_server_context(directory, "ggk", client_certs=client_certs)
    config = uvicorn.Config(
        whoami(identity, reached),
        http=protocol,
        ssl_context_factory=lambda _config, _default: context,
        lifespan="off",
        log_level="critical",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn's Server has no start event to wait on
        await asyncio.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(params=[PeerCertH11Protocol, PeerCertHttpToolsProtocol], ids=["h11", "httptools"])
async def node_url(
    request: pytest.FixtureRequest, pki_dir: PkiDir, identity: CertificateIdentity, reached: list[str]
) -> AsyncIterator[str]:
    """A node serving HTTPS with its certificate and requiring client certificates from the CA."""
    async for url in serve(pki_dir, identity, reached, request.param, "required"):
        yield url


@pytest.fixture
async def optional_url(
    pki_dir: PkiDir, identity: CertificateIdentity, reached: list[str]
) -> AsyncIterator[str]:
    """A node that asks for client certificates but also lets clients without one in."""
    async for url in serve(pki_dir, identity, reached, PeerCertH11Protocol, "optional"):
        yield url


def odd_client(
    directory: PkiDir, tmp: Path, issued: pki.Issued, tls: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED
) -> httpx.AsyncClient:
    cert, key = tmp / "odd.pem", tmp / "odd-key.pem"
    write_file(cert, issued.cert_pem(), private=False)
    write_file(key, issued.key_pem(), private=True)
    context = client_context(directory.ca_cert, cert, key)
    context.maximum_version = tls
    return httpx.AsyncClient(verify=context)


def participant(directory: PkiDir, code: str) -> httpx.AsyncClient:
    context = client_context(directory.ca_cert, directory.client_cert(code), directory.client_key(code))
    return httpx.AsyncClient(verify=context)


async def test_participant_certificate_is_accepted(pki_dir: PkiDir, node_url: str) -> None:
    """A participant's client certificate passes the handshake and the app reads its party from it."""
    async with participant(pki_dir, "42420001") as client:
        response = await client.get(node_url)
    assert (response.status_code, response.text) == (200, "42420001")


async def test_each_connection_carries_its_own_certificate(pki_dir: PkiDir, node_url: str) -> None:
    """Two participants on their own connections are each seen as themselves."""
    async with participant(pki_dir, "0384") as a, participant(pki_dir, "42420001") as b:
        answers = await asyncio.gather(a.get(node_url), b.get(node_url), a.get(node_url))
    assert [r.text for r in answers] == ["0384", "42420001", "0384"]


@pytest.mark.parametrize("tls", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
async def test_foreign_ca_certificate_is_refused_in_the_handshake(
    pki_dir: PkiDir,
    node_url: str,
    foreign_ca: pki.Issued,
    tmp_path: Path,
    reached: list[str],
    tls: ssl.TLSVersion,
) -> None:
    """A client certificate from another CA fails the TLS handshake and never reaches the app."""
    async with odd_client(pki_dir, tmp_path, pki.issue_client(foreign_ca, "42420001"), tls) as client:
        with pytest.raises(httpx.TransportError):
            await client.get(node_url)
    assert reached == []


async def test_missing_certificate_is_refused_in_the_handshake(pki_dir: PkiDir, node_url: str) -> None:
    """Without a client certificate a node that requires one refuses the connection."""
    async with httpx.AsyncClient(verify=client_context(pki_dir.ca_cert)) as client:
        with pytest.raises(httpx.TransportError):
            await client.get(node_url)


async def test_expired_certificate_is_refused_in_the_handshake(
    pki_dir: PkiDir, node_url: str, tmp_path: Path
) -> None:
    """An expired client certificate from the node's own CA fails the handshake."""
    now = datetime.now(UTC)
    expired = pki.issue_client(
        pki_dir.load_ca(), "0384", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
    )
    async with odd_client(pki_dir, tmp_path, expired) as client:
        with pytest.raises(httpx.TransportError):
            await client.get(node_url)


async def test_revoked_certificate_is_refused_with_a_reason(
    pki_dir: PkiDir, node_url: str, identity: CertificateIdentity, tmp_path: Path
) -> None:
    """A certificate revoked while the node runs passes the handshake, then the app refuses it as revoked."""
    ca = pki_dir.load_ca()
    cert = pki.issue_client(ca, "0384")
    async with odd_client(pki_dir, tmp_path, cert) as client:
        before = await client.get(node_url)
        revoked = [pki.Revoked(cert.certificate.serial_number, datetime.now(UTC))]
        identity.update_crl(pki.build_crl(ca, revoked))
        after = await client.get(node_url)
    assert (before.status_code, after.status_code, "revoked" in after.text) == (200, 401, True)


async def test_optional_mode_lets_clients_without_certificate_in(pki_dir: PkiDir, optional_url: str) -> None:
    """With optional client certificates a client without one connects and the app sees none."""
    async with httpx.AsyncClient(verify=client_context(pki_dir.ca_cert)) as client:
        response = await client.get(optional_url)
    assert (response.status_code, response.text) == (200, "no certificate")


async def test_optional_mode_still_refuses_a_foreign_certificate(
    pki_dir: PkiDir, optional_url: str, foreign_ca: pki.Issued, tmp_path: Path
) -> None:
    """With optional client certificates a presented foreign-CA certificate still fails the handshake."""
    async with odd_client(pki_dir, tmp_path, pki.issue_client(foreign_ca, "0384")) as client:
        with pytest.raises(httpx.TransportError):
            await client.get(optional_url)
