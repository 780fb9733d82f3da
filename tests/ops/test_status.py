"""``gateway status``: the dashboard's figures as terminal lines, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import status as status_cli
from gateway.cli.status import render
from gateway.config import Settings
from gateway.http import serving
from gateway.http.serving import base_url, client_settings
from tests.e2e.conftest import ServedGateway, gateway_command
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.messages import AANBIEDER, request

BEARER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def summary_after_traffic(gw: GatewayUnderTest) -> dict[str, object]:
    await gw.submit(AANBIEDER, request("iwmo"))
    await gw.submit(AANBIEDER, b"<x/>")
    result: dict[str, object] = (
        await gw.clients["ggk"].get("/dashboard/api/summary?scope=gateway", headers=BEARER)
    ).json()
    return result


async def test_status_lines_hold_the_dashboard_figures(fake_gw: GatewayUnderTest) -> None:
    """The status shows the last 15 minutes, the types, the refusals and the mailbox that holds a message."""
    lines, attention = render(await summary_after_traffic(fake_gw), {"ggk": True, "vecozo": True})
    text = "\n".join(lines)
    assert (False, True, True, True, True) == (
        attention,
        "accepted 1 (last minute 1), refused 1 (50.0 %)" in text,
        "WMO315 1" in text,
        "CC02 schema" in text or "CC02" in text,
        "0384 1" in text,
    )


async def test_a_node_not_ready_needs_attention(fake_gw: GatewayUnderTest) -> None:
    """A node that does not answer /readyz makes the status say so and exit 1."""
    lines, attention = render(await summary_after_traffic(fake_gw), {"ggk": True, "vecozo": False})
    assert (True, True) == (attention, any("vecozo NOT READY" in line for line in lines))


def test_without_credential_status_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an operator credential the command says how to give one and exits 2."""
    monkeypatch.setattr(status_cli, "TOKEN_FILE", tmp_path / "var" / "operator-token")
    monkeypatch.delenv("GATEWAY_OPERATOR_TOKEN", raising=False)
    cli = typer.Typer()
    cli.callback()(lambda: None)
    status_cli.register(cli)
    result = CliRunner().invoke(cli, ["status"])
    assert 2 == result.exit_code


@pytest.mark.broker
async def test_status_asks_the_nodes_over_mutual_tls(https_gw: ServedGateway) -> None:
    """With GATEWAY_TLS_DIR the status asks nodes that only serve HTTPS: both ready, the message counted."""
    assert 202 == (await https_gw.gw.submit(AANBIEDER, request())).status_code
    code, out, err = await gateway_command(https_gw, "status", "--json")
    summary = json.loads(out) if out else {}
    assert (0, {"ggk": True, "vecozo": True}, 1) == (
        code,
        summary.get("ready"),
        summary.get("window", {}).get("accepted"),
    ), err


@pytest.mark.broker
async def test_status_overrides_over_mutual_tls(https_gw: ServedGateway) -> None:
    """``--url`` still picks the node to ask; ``GATEWAY_TLS_DIR=`` (empty) asks plain HTTP, which nodes
    serving HTTPS do not answer: exit 2 with a hint."""
    code, out, err = await gateway_command(https_gw, "status", "--url", https_gw.urls["vecozo"])
    plain_code, _, plain_err = await gateway_command(https_gw, "status", GATEWAY_TLS_DIR="")
    assert (0, True, 2, True) == (
        code,
        "Health     ggk ready, vecozo ready" in out,
        plain_code,
        "http://127.0.0.1:" in plain_err and "GATEWAY_TLS_DIR if they serve HTTPS" in plain_err,
    ), err + plain_err


def test_clients_default_to_the_dev_pki_of_scripts_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without GATEWAY_TLS_DIR the command-line clients use the checkout's var/pki when it exists (as
    ``scripts/run``); set but empty it means plain HTTP; a node listening on every address is asked on the
    loopback address."""
    monkeypatch.setattr(serving, "DEV_PKI", tmp_path / "var" / "pki")
    before = client_settings({}).security.tls_dir
    (tmp_path / "var" / "pki").mkdir(parents=True)
    (tmp_path / "var" / "pki" / "ca.pem").write_text("")
    after = client_settings({}).security.tls_dir
    plain = client_settings({"GATEWAY_TLS_DIR": ""}).security.tls_dir
    other = client_settings({"GATEWAY_TLS_DIR": "elsewhere"}).security.tls_dir
    wildcard = client_settings({"GATEWAY_HOST": "0.0.0.0"}).model_copy(update={"ggk_port": 18081})
    assert (None, tmp_path / "var" / "pki", None, Path("elsewhere"), "https://127.0.0.1:18081") == (
        before,
        after,
        plain,
        other,
        base_url(wildcard, "ggk"),
    )
    assert "http://127.0.0.1:8082" == base_url(Settings(), "vecozo")
