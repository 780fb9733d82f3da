"""``gateway status``: the dashboard's figures as terminal lines, and its exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import status as status_cli
from gateway.cli.status import render
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.messages import AANBIEDER, request

BEARER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def summary_after_traffic(gw: GatewayUnderTest) -> dict[str, object]:
    await gw.submit(AANBIEDER, request("iwmo"))
    await gw.submit(AANBIEDER, b"<x/>")
    result: dict[str, object] = (await gw.clients["ggk"].get("/dashboard/api/summary", headers=BEARER)).json()
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
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GATEWAY_OPERATOR_TOKEN", raising=False)
    cli = typer.Typer()
    cli.callback()(lambda: None)
    status_cli.register(cli)
    result = CliRunner().invoke(cli, ["status"])
    assert 2 == result.exit_code
