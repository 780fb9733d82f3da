"""Mutual TLS on the whole node, served as ``gateway serve`` serves it, over real connections on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from gateway.security import pki
from gateway.security.pkidir import PkiDir, write_file
from gateway.security.tls import client_context
from gateway.wiring import protection as protection_module
from tests.harness import GatewayUnderTest
from tests.messages import example, new_id, set_header

from .conftest import fake_gateway, security, served

pytestmark = [pytest.mark.shared]

AANBIEDER, GEMEENTE, HOOFDAANNEMER = "42420001", "0384", "42420099"


def wmo315(afzender: str = AANBIEDER) -> bytes:
    return set_header(example("WMO315"), Afzender=afzender, Ontvanger=GEMEENTE, Identificatie=new_id())


@pytest.fixture
def pki_copy(demo_pki: PkiDir, tmp_path: Path) -> PkiDir:
    """The test's own copy of the demo PKI (so it can revoke without touching other tests)."""
    shutil.copytree(demo_pki.root, tmp_path / "tls")
    return PkiDir(tmp_path / "tls")


@pytest.fixture
async def tls_gw(tmp_path: Path, pki_copy: PkiDir) -> AsyncIterator[GatewayUnderTest]:
    async with fake_gateway(tmp_path, security(tmp_path, tls_dir=pki_copy.root)) as gut:
        yield gut


@pytest.fixture
async def vecozo_url(tls_gw: GatewayUnderTest) -> AsyncIterator[str]:
    """The provider node over HTTPS, client certificates optional (API credentials still work)."""
    runtime = tls_gw.runtime
    async with served(runtime.apps["vecozo"], runtime.settings, "vecozo") as url:
        yield url


def client(directory: PkiDir, code: str | None = None) -> httpx.AsyncClient:
    """A client trusting the dev CA, presenting ``code``'s certificate when given."""
    if code is None:
        return httpx.AsyncClient(verify=client_context(directory.ca_cert))
    return httpx.AsyncClient(
        verify=client_context(directory.ca_cert, directory.client_cert(code), directory.client_key(code))
    )


def client_with(directory: PkiDir, issued: pki.Issued, tmp: Path) -> httpx.AsyncClient:
    cert, key = tmp / "odd.pem", tmp / "odd-key.pem"
    write_file(cert, issued.cert_pem(), private=False)
    write_file(key, issued.key_pem(), private=True)
    return httpx.AsyncClient(verify=client_context(directory.ca_cert, cert, key))


async def post(c: httpx.AsyncClient, url: str, data: bytes, **headers: str) -> httpx.Response:
    return await c.post(
        f"{url}/v1/berichten", content=data, headers={"Content-Type": "application/xml", **headers}
    )


async def test_certificate_alone_identifies_the_sender(pki_copy: PkiDir, vecozo_url: str) -> None:
    """A participant's client certificate, without any API credential, is enough to send as that party."""
    async with client(pki_copy, AANBIEDER) as c:
        response = await post(c, vecozo_url, wmo315())
    assert (202, AANBIEDER) == (response.status_code, response.json()["sender"])


async def test_header_sender_must_be_the_certificate_party(pki_copy: PkiDir, vecozo_url: str) -> None:
    """A message whose Afzender is not the certificate's party (nor represented by it) is refused IB002."""
    async with client(pki_copy, "42420002") as c:
        response = await post(c, vecozo_url, wmo315(AANBIEDER))
    assert (403, "IB002") == (response.status_code, response.json()["code"])


async def test_registered_submitter_may_send_for_its_party(pki_copy: PkiDir, vecozo_url: str) -> None:
    """The certificate of a registered submitter may send messages whose Afzender is the party it serves."""
    async with client(pki_copy, HOOFDAANNEMER) as c:
        response = await post(c, vecozo_url, wmo315(AANBIEDER))
    assert (202, AANBIEDER) == (response.status_code, response.json()["sender"])


async def test_certificate_wins_over_a_bearer_credential(
    pki_copy: PkiDir, vecozo_url: str, tls_gw: GatewayUnderTest
) -> None:
    """With a certificate on the connection, another party's API credential does not change who sends."""
    async with client(pki_copy, "42420002") as c:
        response = await post(c, vecozo_url, wmo315(AANBIEDER), **tls_gw.auth(AANBIEDER))
    assert (403, "IB002") == (response.status_code, response.json()["code"])


async def test_api_credential_still_works_without_certificate(
    pki_copy: PkiDir, vecozo_url: str, tls_gw: GatewayUnderTest
) -> None:
    """With client certificates optional, an API credential over HTTPS is still accepted (development)."""
    async with client(pki_copy) as c:
        response = await post(c, vecozo_url, wmo315(), **tls_gw.auth(AANBIEDER))
    assert 202 == response.status_code


@pytest.mark.parametrize(
    ("window", "says"),
    [
        ((-30, -1), "expired on"),
        ((1, 30), "not valid before"),
    ],
    ids=["expired", "not-yet-valid"],
)
async def test_certificate_outside_its_validity_is_refused_with_the_reason(
    pki_copy: PkiDir, vecozo_url: str, tmp_path: Path, window: tuple[int, int], says: str
) -> None:
    """An expired or not yet valid certificate of the node's own CA gets 401 IB002 saying why."""
    now = datetime.now(UTC)
    issued = pki.issue_client(
        pki_copy.load_ca(),
        AANBIEDER,
        not_before=now + timedelta(days=window[0]),
        not_after=now + timedelta(days=window[1]),
    )
    async with client_with(pki_copy, issued, tmp_path) as c:
        response = await post(c, vecozo_url, wmo315())
    problem = response.json()
    assert (401, "IB002", True) == (response.status_code, problem["code"], says in problem["detail"])


async def test_revoked_certificate_is_refused_with_the_reason(tmp_path: Path, pki_copy: PkiDir) -> None:
    """A certificate on the CRL the node started with gets 401 IB002 naming the revocation."""
    revoked_cert, revoked_key = tmp_path / "revoked.pem", tmp_path / "revoked-key.pem"
    shutil.copy(pki_copy.client_cert(AANBIEDER), revoked_cert)
    shutil.copy(pki_copy.client_key(AANBIEDER), revoked_key)
    pki_copy.revoke(AANBIEDER)
    async with (
        fake_gateway(tmp_path, security(tmp_path, tls_dir=pki_copy.root)) as gut,
        served(gut.runtime.apps["vecozo"], gut.runtime.settings, "vecozo") as url,
        httpx.AsyncClient(verify=client_context(pki_copy.ca_cert, revoked_cert, revoked_key)) as c,
    ):
        response = await post(c, url, wmo315())
    problem = response.json()
    assert (401, "IB002", True) == (response.status_code, problem["code"], "revoked" in problem["detail"])


async def test_revocation_applies_without_restart(
    pki_copy: PkiDir, tls_gw: GatewayUnderTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gateway pki revoke` while the node runs: the node reads the new CRL and refuses the certificate."""
    monkeypatch.setattr(protection_module, "CRL_RELOAD_SECONDS", 0.05)
    runtime = tls_gw.runtime
    assert runtime.protection is not None
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    shutil.copy(pki_copy.client_cert(AANBIEDER), cert)
    shutil.copy(pki_copy.client_key(AANBIEDER), key)
    await runtime.protection.close()  # restart the background work with the short reload interval
    await runtime.protection._start_background(runtime.db, None, None)
    async with (
        served(runtime.apps["vecozo"], runtime.settings, "vecozo") as url,
        httpx.AsyncClient(verify=client_context(pki_copy.ca_cert, cert, key)) as c,
    ):
        before = await post(c, url, wmo315())
        pki_copy.revoke(AANBIEDER)
        for _ in range(100):
            after = await post(c, url, wmo315())
            if after.status_code != 202:
                break
    assert (202, 401) == (before.status_code, after.status_code)


async def test_foreign_ca_certificate_fails_the_handshake(
    pki_copy: PkiDir, vecozo_url: str, tmp_path: Path, tls_gw: GatewayUnderTest
) -> None:
    """A certificate of another CA, even naming a registered party, never gets a connection."""
    issued = pki.issue_client(pki.new_ca(), AANBIEDER)
    async with client_with(pki_copy, issued, tmp_path) as c:
        with pytest.raises(httpx.TransportError):
            await post(c, vecozo_url, wmo315())


async def test_required_mode_refuses_a_connection_without_certificate(
    tmp_path: Path, pki_copy: PkiDir
) -> None:
    """With GATEWAY_CLIENT_CERTS=required, a client without a certificate gets no connection at all."""
    sec = security(tmp_path, tls_dir=pki_copy.root, client_certs="required")
    async with (
        fake_gateway(tmp_path, sec) as gut,
        served(gut.runtime.apps["vecozo"], gut.runtime.settings, "vecozo") as url,
        client(pki_copy) as c,
    ):
        with pytest.raises(httpx.TransportError):
            await post(c, url, wmo315(), **gut.auth(AANBIEDER))


async def test_node_certificate_is_the_nodes_own(pki_copy: PkiDir, vecozo_url: str) -> None:
    """A client that trusts only the dev CA reaches the node: its certificate is issued for 127.0.0.1."""
    async with client(pki_copy) as c:
        response = await c.get(f"{vecozo_url}/healthz")
    assert (200, "vecozo") == (response.status_code, response.json()["node"])


def test_security_settings_are_frozen() -> None:
    """Security settings are a frozen value (changed only by making new ones)."""
    sec = security(Path("/tmp"))
    with pytest.raises(ValidationError, match="frozen"):
        sec.rate_limit = 1  # type: ignore[misc]


def test_remembered_binding_still_ends_with_the_certificate(pki_copy: PkiDir) -> None:
    """A certificate accepted once is refused as expired once its time is over (the memory honours it)."""
    from gateway.security.binding import CertificateRefused
    from gateway.security.identity import CertificateIdentity

    der = pki_copy.client_cert(AANBIEDER).read_bytes()
    now = [datetime.now(UTC)]
    identity = CertificateIdentity(pki_copy.trusted_cas(), pki_copy.load_crl(), clock=lambda: now[0])
    first = identity.party_from_der(der)
    now[0] += timedelta(days=400)
    with pytest.raises(CertificateRefused) as refused:
        identity.party_from_der(der)
    assert (AANBIEDER, "expired") == (first, refused.value.cause)


def test_new_crl_applies_to_remembered_bindings(pki_copy: PkiDir) -> None:
    """After a new CRL every certificate is checked again: a revoked one is refused."""
    from gateway.security.binding import CertificateRefused
    from gateway.security.identity import CertificateIdentity

    der = pki_copy.client_cert(AANBIEDER).read_bytes()
    identity = CertificateIdentity(pki_copy.trusted_cas(), pki_copy.load_crl())
    first = identity.party_from_der(der)
    pki_copy.revoke(AANBIEDER)
    identity.update_crl(pki_copy.load_crl())
    with pytest.raises(CertificateRefused) as refused:
        identity.party_from_der(der)
    assert (AANBIEDER, "revoked") == (first, refused.value.cause)


async def test_a_node_started_without_a_crl_refuses_client_certificates(
    tmp_path: Path, pki_copy: PkiDir
) -> None:
    """TLS on and no crl.pem: a valid client certificate gets 401 IB002 saying the revocation list is missing."""
    pki_copy.crl.unlink()
    async with (
        fake_gateway(tmp_path, security(tmp_path, tls_dir=pki_copy.root)) as gut,
        served(gut.runtime.apps["vecozo"], gut.runtime.settings, "vecozo") as url,
        client(pki_copy, AANBIEDER) as c,
    ):
        response = await post(c, url, wmo315())
    problem = response.json()
    assert (401, "IB002", True) == (
        response.status_code,
        problem["code"],
        "no certificate revocation list" in problem["detail"],
    )


@pytest.mark.parametrize("damage", ["moved-away", "broken"])
async def test_revocation_holds_when_the_crl_goes_missing_or_breaks(
    pki_copy: PkiDir, tls_gw: GatewayUnderTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """A revoked certificate stays refused after crl.pem is moved away or overwritten with garbage: the
    node keeps the last good list (the reload runs many times meanwhile)."""
    monkeypatch.setattr(protection_module, "CRL_RELOAD_SECONDS", 0.02)
    runtime = tls_gw.runtime
    assert runtime.protection is not None
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    shutil.copy(pki_copy.client_cert(AANBIEDER), cert)
    shutil.copy(pki_copy.client_key(AANBIEDER), key)
    pki_copy.revoke(AANBIEDER)
    certificates = runtime.protection.certificates
    assert certificates is not None
    certificates.update_crl(pki_copy.load_crl())  # the node has read the list with the revocation
    await runtime.protection.close()  # restart the background work with the short reload interval
    await runtime.protection._start_background(runtime.db, None, None)
    if damage == "moved-away":
        pki_copy.crl.rename(tmp_path / "crl.pem.moved")
    else:
        pki_copy.crl.write_bytes(b"-----BEGIN X509 CRL-----\nbroken\n-----END X509 CRL-----\n")
    await asyncio.sleep(0.3)  # about fifteen reload rounds
    async with (
        served(runtime.apps["vecozo"], runtime.settings, "vecozo") as url,
        httpx.AsyncClient(verify=client_context(pki_copy.ca_cert, cert, key)) as c,
    ):
        response = await post(c, url, wmo315())
    assert (401, True) == (response.status_code, "revoked" in response.json()["detail"])
