"""``gateway participants``: the registry from the command line (on a SQLite file)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from adapters.db import Database
from gateway.cli import participants

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "participants.toml"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose database is a SQLite file in the test's directory (via GATEWAY_DATABASE_URL)."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'g.db'}")
    return CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    participants.register(app)
    return app


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(_app(), ["participants", *args])
    return result.exit_code, result.stdout, result.stderr


def _authenticate(url: str, token: str) -> str | None:
    async def check() -> str | None:
        db = await Database.connect(url)
        try:
            return await db.registry.authenticate(token)
        finally:
            await db.close()

    return asyncio.run(check())


def test_seed_then_list_shows_the_demo_parties(cli: CliRunner) -> None:
    """After seeding, the list shows the parties of the official examples."""
    run(cli, "seed", str(DEMO))
    code, out, _ = run(cli, "list")
    assert (code, all(c in out for c in ("0363", "0384", "42420001", "65656055"))) == (0, True)


def test_seed_writes_demo_tokens_that_authenticate(cli: CliRunner, tmp_path: Path) -> None:
    """``seed --demo-tokens`` writes a token per party that the registry accepts."""
    tokens_file = tmp_path / "var" / "demo-tokens.json"
    code, out, _ = run(cli, "seed", str(DEMO), "--demo-tokens", str(tokens_file))
    tokens = json.loads(tokens_file.read_text())
    owner = _authenticate(f"sqlite:///{tmp_path / 'g.db'}", tokens["42420001"])
    assert (code, owner, tokens["42420001"] in out) == (0, "42420001", False)


def test_seed_run_twice_keeps_the_demo_tokens(cli: CliRunner, tmp_path: Path) -> None:
    """Seeding again leaves the existing demo tokens in place."""
    tokens_file = tmp_path / "demo-tokens.json"
    run(cli, "seed", str(DEMO), "--demo-tokens", str(tokens_file))
    before = tokens_file.read_text()
    run(cli, "seed", str(DEMO), "--demo-tokens", str(tokens_file))
    assert before == tokens_file.read_text()


def test_issued_token_is_printed_once_and_authenticates(cli: CliRunner, tmp_path: Path) -> None:
    """credential-issue prints the token; credential-list shows the key id but not the token."""
    run(cli, "add", "0384", "--name", "Diemen", "--from", "2015-01-01")
    _, token, _ = run(cli, "credential-issue", "0384")
    _, listing, _ = run(cli, "credential-list")
    token = token.strip()
    owner = _authenticate(f"sqlite:///{tmp_path / 'g.db'}", token)
    assert (owner, token.split(".")[0] in listing, token.split(".")[1] in listing) == ("0384", True, False)


def test_revoked_token_no_longer_authenticates(cli: CliRunner, tmp_path: Path) -> None:
    """credential-revoke by key id makes the token useless."""
    run(cli, "add", "0384", "--name", "Diemen")
    _, token, _ = run(cli, "credential-issue", "0384")
    code, _, _ = run(cli, "credential-revoke", token.split(".")[0])
    assert (code, _authenticate(f"sqlite:///{tmp_path / 'g.db'}", token.strip())) == (0, None)


def test_retire_makes_the_party_inactive_from_today(cli: CliRunner) -> None:
    """retire without a date ends the registration yesterday: the party is inactive today."""
    run(cli, "add", "0384", "--name", "Diemen", "--from", "2015-01-01")
    run(cli, "retire", "0384")
    _, out, _ = run(cli, "list")
    row = next(line for line in out.splitlines() if line.startswith("0384"))
    assert " no " in row


def test_update_reactivates_a_retired_party(cli: CliRunner) -> None:
    """update --reactivate removes the end of registration."""
    run(cli, "add", "0384", "--name", "Diemen", "--from", "2015-01-01")
    run(cli, "retire", "0384")
    _, out, _ = run(cli, "update", "0384", "--reactivate")
    assert " yes " in next(line for line in out.splitlines() if line.startswith("0384"))


def test_submitter_add_and_remove(cli: CliRunner) -> None:
    """A submitter relation is listed after submitter-add and gone after submitter-remove."""
    run(cli, "add", "42420001", "--name", "A")
    run(cli, "add", "42420099", "--name", "B")
    run(cli, "submitter-add", "42420099", "42420001")
    _, listed, _ = run(cli, "list")
    code, _, _ = run(cli, "submitter-remove", "42420099", "42420001")
    _, after, _ = run(cli, "list")
    assert ("42420099   42420001" in listed, code, "42420099   42420001" in after) == (True, 0, False)


@pytest.mark.parametrize(
    "args",
    [
        ("add", "123", "--name", "X"),
        ("retire", "0000"),
        ("credential-issue", "0000"),
        ("credential-revoke", "0123456789abcdef"),
        ("submitter-remove", "1", "2"),
        ("add", "0384", "--name", "X", "--from", "yesterday"),
    ],
    ids=["bad-code", "retire-unknown", "issue-unknown", "revoke-unknown", "remove-unknown", "bad-date"],
)
def test_refused_commands_exit_non_zero(cli: CliRunner, args: tuple[str, ...]) -> None:
    """Commands the registry refuses exit with a non-zero status."""
    assert run(cli, *args)[0] != 0


def test_bad_seed_file_exits_non_zero_with_the_reason(cli: CliRunner, tmp_path: Path) -> None:
    """A broken seed file is reported with its entry and the command fails."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[[participant]]\ncode = "0363"\n', encoding="utf-8")
    code, _, err = run(cli, "seed", str(bad))
    assert (code, "participant[0]: missing" in err) == (1, True)
