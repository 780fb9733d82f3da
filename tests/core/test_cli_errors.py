"""What a user can mend ends in one line on stderr and exit code 2, never a traceback; the files of var/ are
the checkout's, whatever the current directory, and a command that finds no database says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from gateway import paths
from gateway.cli.failures import explain
from gateway.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]


def gateway(*args: str, cwd: Path = ROOT, **env: str) -> tuple[int, str, str]:
    """``gateway ARGS`` as a user runs it, with only the given GATEWAY_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(("key", "value"), [("GATEWAY_GGK_PORT", "abc"), ("GATEWAY_RATE_LIMIT", "-1")])
def test_a_bad_setting_is_one_line_naming_it(key: str, value: str) -> None:
    """`GATEWAY_GGK_PORT=abc gateway serve`: exit code 2 and one line that names the setting."""
    code, out, err = gateway("serve", **{key: value})
    assert (2, "", 1, True) == (code, out, len(err.splitlines()), err.startswith(f"gateway: {key}: ")), err


def test_an_unreachable_database_is_one_line_without_the_url(tmp_path: Path) -> None:
    """A PostgreSQL URL nobody answers: one line, exit 2, and the password in the URL is not repeated."""
    url = "postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:1/gateway"
    code, _, err = gateway("participants", "list", GATEWAY_DATABASE_URL=url)
    assert (2, 1, False) == (code, len(err.splitlines()), "s3cret-pw" in err), err


@pytest.mark.parametrize("url", ["not a url", "mysql://root:s3cret-pw@localhost/db"])
def test_a_wrong_database_url_is_one_line_without_the_url(url: str) -> None:
    """A URL that is not one or of a driver the gateway does not use: one line, exit 2, no password."""
    code, _, err = gateway("participants", "list", GATEWAY_DATABASE_URL=url)
    assert (2, 1, False) == (code, len(err.splitlines()), "s3cret-pw" in err), err


def test_a_missing_tls_directory_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """`GATEWAY_TLS_DIR` naming a directory without a PKI: the missing file in one line, exit 2."""
    missing = tmp_path / "nowhere"
    code, _, err = gateway(
        "serve", GATEWAY_TLS_DIR=str(missing), GATEWAY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    )
    assert (2, 1, True) == (code, len(err.splitlines()), str(missing / "nodes" / "ggk.pem") in err), err


def test_defaults_under_var_are_the_checkout_s() -> None:
    """Without settings the database, privacy key and PKI are under the checkout's var/, not the current one."""
    settings = Settings.from_env({})
    assert (
        f"sqlite+aiosqlite:///{ROOT / 'var' / 'gateway.db'}",
        ROOT / "var" / "privacy.key",
        ROOT / "var" / "pki",
    ) == (settings.database_url, settings.security.privacy_key_file, settings.security.receipt_key_dir)


def test_a_command_elsewhere_creates_no_var_directory_there(tmp_path: Path) -> None:
    """`cd /tmp && gateway participants list` leaves /tmp alone: it reads the checkout's database or says
    there is none (naming the checkout's file), and never shows an empty registry of a new one."""
    code, out, err = gateway("participants", "list", cwd=tmp_path)
    expected_error = f"gateway: no database file {paths.DATABASE_FILE}:"
    assert (False, True) == (
        (tmp_path / "var").exists(),
        (code == 0 and out.startswith("code")) or (code == 2 and err.startswith(expected_error)),
    ), err


@pytest.mark.parametrize(
    "args",
    [("participants", "credential-list", "0384"), ("audit", "verify"), ("privacy", "purge")],
)
def test_a_reading_command_does_not_create_a_missing_database(tmp_path: Path, args: tuple[str, ...]) -> None:
    """A SQLite file that does not exist is reported in one line (exit 2), not created."""
    database = tmp_path / "absent.db"
    code, _, err = gateway(*args, GATEWAY_DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    assert (2, f"gateway: no database file {database}:", False) == (
        code,
        err.split(" `scripts/run`")[0],
        database.exists(),
    ), err


def test_db_status_on_a_postgresql_url_looks_for_no_file() -> None:
    """`gateway db status` with a PostgreSQL URL asks the server (here: nobody answers), never a file."""
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/gateway"
    code, _, err = gateway("db", "status", "--db", url)
    assert (2, 1, False) == (code, len(err.splitlines()), "no database file" in err), err


def test_explain_knows_configuration_errors_of_either_kind() -> None:
    """A ConfigError and pydantic's ValidationError (a settings model) each give one line; a bug gives none."""

    class Port(BaseModel):
        port: int

    with pytest.raises(ValidationError) as caught:
        Port.model_validate({"port": "abc"})
    group = ExceptionGroup("two", [ConfigError("GATEWAY_X: bad"), FileNotFoundError(2, "No such file", "/x")])
    assert (
        "GATEWAY_X: bad",
        "port: Input should be a valid integer, unable to parse string as an integer",
        "GATEWAY_X: bad; No such file: /x",
        None,
    ) == (
        explain(ConfigError("GATEWAY_X: bad")),
        explain(caught.value),
        explain(group),
        explain(KeyError("bug")),
    )
