"""The party on VECOZO's REST interfaces is its client certificate (VECOZO's system certificate over mutual
TLS), served as ``gateway serve`` serves it: push, pull and status over real HTTPS connections."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.security.pkidir import PkiDir
from gateway.security.tls import client_context
from tests.harness import GatewayUnderTest
from tests.koppeling.vendor import Vendor, metadata, new_uuid
from tests.messages import heen
from tests.privacy.conftest import demo_pki, fake_gateway, security, served

pytestmark = [pytest.mark.shared]
__all__ = ["demo_pki"]  # the dev PKI fixture of the privacy suite

AANBIEDER, OTHER, GEMEENTE = "42420001", "42420002", "0384"


@pytest.fixture
def pki(demo_pki: PkiDir, tmp_path: Path) -> PkiDir:
    shutil.copytree(demo_pki.root, tmp_path / "tls")
    return PkiDir(tmp_path / "tls")


@pytest.fixture
async def node(tmp_path: Path, pki: PkiDir) -> AsyncIterator[tuple[GatewayUnderTest, str]]:
    """The gateway (in-memory broker) with the provider node over HTTPS, client certificates optional."""
    async with (
        fake_gateway(tmp_path, security(tmp_path, tls_dir=pki.root)) as gw,
        served(gw.runtime.apps["vecozo"], gw.runtime.settings, "vecozo") as url,
    ):
        yield gw, url


def as_party(pki: PkiDir, url: str, code: str) -> httpx.AsyncClient:
    """A vendor's client presenting ``code``'s system certificate, and no other credential."""
    context = client_context(pki.ca_cert, pki.client_cert(code), pki.client_key(code))
    return httpx.AsyncClient(base_url=url, verify=context)


async def test_the_certificate_alone_is_the_party(pki: PkiDir, node: tuple[GatewayUnderTest, str]) -> None:
    """A push with the provider's certificate and no API credential is taken as that provider's (204), and
    its status is that provider's to read; another provider's certificate reads nothing of it: the same
    empty list as an unknown traceerId (the status spec answers 200 or 400 only)."""
    _, url = node
    meta = metadata(AANBIEDER, GEMEENTE, "WMO315")
    refs = meta["referentiegegevens"]
    async with as_party(pki, url, AANBIEDER) as own, as_party(pki, url, OTHER) as other:
        pushed = await Vendor(own, {}).push(meta, heen("WMO315", AANBIEDER, GEMEENTE))
        mine = await Vendor(own, {}).status(traceerId=refs["traceerId"])
        theirs = [
            (await Vendor(other, {}).status(**query)).json()
            for query in (
                {"traceerId": refs["traceerId"]},
                {"conversatieId": refs["conversatieId"]},
                {"traceerId": new_uuid()},
            )
        ]
    assert (204, [refs["traceerId"]]) == (
        pushed.status_code,
        [s["referentiegegevens"]["traceerId"] for s in mine.json()],
    )
    assert [[], [], []] == theirs


async def test_the_certificate_wins_over_another_partys_credential(
    pki: PkiDir, node: tuple[GatewayUnderTest, str]
) -> None:
    """With a certificate on the connection, another party's API credential does not change who pushes:
    pushing as the credential's party is BRS03 (not authorised for that sender), and nothing is stored."""
    gw, url = node
    meta = metadata(AANBIEDER, GEMEENTE, "WMO315")
    async with as_party(pki, url, OTHER) as other:
        vendor = Vendor(other, gw.auth(AANBIEDER))
        refused = await vendor.push(meta, heen("WMO315", AANBIEDER, GEMEENTE))
    async with as_party(pki, url, AANBIEDER) as own:
        status = await Vendor(own, {}).status(traceerId=meta["referentiegegevens"]["traceerId"])
    assert (422, "BRS03", []) == (refused.status_code, refused.json()["code"], status.json())
