"""The dashboard's certificate panel shows the certificates of the directory the nodes serve TLS from."""

from __future__ import annotations

from pathlib import Path

from gateway.security.pkidir import PkiDir
from tests.harness import OPERATOR_TOKEN
from tests.privacy.conftest import fake_gateway, security

BEARER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def test_certificate_panel_reads_the_tls_directory(tmp_path: Path, demo_pki: PkiDir) -> None:
    """With ``GATEWAY_TLS_DIR`` set, the summary lists that directory's node certificates (no other setting)."""
    async with fake_gateway(tmp_path, security(tmp_path, tls_dir=demo_pki.root)) as gw:
        summary = (await gw.clients["ggk"].get("/dashboard/api/summary", headers=BEARER)).json()
    names = {c["certificate"] for c in summary["certificates"]}
    assert {"ca.pem", "nodes/ggk.pem", "nodes/vecozo.pem"} <= names, names


async def test_plain_http_shows_no_certificates(tmp_path: Path) -> None:
    """Without a TLS directory there is nothing served over TLS, so the panel lists nothing."""
    async with fake_gateway(tmp_path, security(tmp_path)) as gw:
        summary = (await gw.clients["ggk"].get("/dashboard/api/summary", headers=BEARER)).json()
    assert [] == summary["certificates"]
