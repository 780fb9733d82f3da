"""The one settings model: read once from the environment and ``.env``, one-line errors, a generated table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from gateway.cli import settings as settings_cli
from gateway.config import ConfigError, Settings, environment, keys
from gateway.config.table import DOC_PATH, markdown

ROOT = Path(__file__).resolve().parents[2]


def test_committed_table_is_the_generated_one() -> None:
    """docs/settings.md is what ``gateway settings docs`` makes from the model (run it after a change)."""
    assert markdown() == DOC_PATH.read_text(encoding="utf-8")


def test_every_variable_is_in_the_table() -> None:
    """Each variable the model reads has a row of its own in docs/settings.md."""
    table = DOC_PATH.read_text(encoding="utf-8")
    assert [] == [k.env for k in keys(Settings) if f"| `{k.env}` |" not in table]


def test_names_used_by_docs_scripts_and_deployments_are_read() -> None:
    """Every GATEWAY_* name the README, docs, scripts and deployment files use is a setting of the model
    (or one of the scripts' own, listed in the table)."""
    known = {k.env for k in keys(Settings)} | {
        "GATEWAY_DEMO_TRAFFIC",
        "GATEWAY_DEMO_RATE",
        "GATEWAY_TEST_POSTGRES_URL",
    }
    places = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "scripts").iterdir()]
    places += [
        p
        for p in (ROOT / "deploy").rglob("*")
        if p.is_file() and p.suffix in ("", ".yaml", ".example", ".md")
    ]
    used = {
        name
        for p in places
        for name in re.findall(r"GATEWAY_[A-Z0-9_]*[A-Z0-9]", p.read_text(errors="replace"))
    }
    assert set() == used - known


def test_bad_value_is_one_line_naming_key_and_kind() -> None:
    """A malformed value fails as a ConfigError: the variable, the kind of value expected, the value given."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"GATEWAY_GGK_PORT": "abc"})
    assert "GATEWAY_GGK_PORT: expected an integer, got 'abc'" == str(caught.value)


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("GATEWAY_RATE_LIMIT", "-1", "a number of at least 0"),
        ("GATEWAY_RETENTION_DAYS", "0", "a number greater than 0"),
        ("GATEWAY_NODES", "ggk,gemeente", "one of 'ggk' or 'vecozo'"),
        ("GATEWAY_CLIENT_CERTS", "sometimes", "one of 'optional' or 'required'"),
        ("GATEWAY_LOG_LEVEL", "loud", "one of 'debug', 'info', 'warning' or 'error'"),
        ("GATEWAY_DELIVERY_LIMIT", "five", "an integer"),
        ("GATEWAY_BROKER_STATS_SECONDS", "soon", "a number"),
        ("GATEWAY_VHOST_PREFIX", "a/b", "letters, digits, '_', '.' and '-' only"),
    ],
)
def test_each_kind_of_mistake_is_named(key: str, value: str, kind: str) -> None:
    """Every group's settings fail the same way: ``KEY: expected KIND, got 'VALUE'``."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({key: value})
    assert f"{key}: expected {kind}, got {value!r}" == str(caught.value)


def test_secret_values_stay_out_of_errors_and_reprs() -> None:
    """A bad URL holding a password is named without its value; the repr holds no secret."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"GATEWAY_AMQP_URL": "http://gw:s3cr3t@broker/"})
    good = Settings.from_env(
        {"GATEWAY_OPERATOR_TOKEN": "t0ken-s3cr3t", "GATEWAY_DATABASE_URL": "sqlite:///s3cr3t.db"}
    )
    assert (True, False, False) == (
        str(caught.value).startswith("GATEWAY_AMQP_URL: expected an amqp or amqps URL"),
        "s3cr3t" in str(caught.value),
        "s3cr3t" in repr(good),
    )


def test_empty_value_means_the_default() -> None:
    """``GATEWAY_TLS_DIR=`` (set, empty) is the default: plain HTTP."""
    assert (None, 8081) == (
        Settings.from_env({"GATEWAY_TLS_DIR": "", "GATEWAY_GGK_PORT": " "}).security.tls_dir,
        Settings.from_env({"GATEWAY_GGK_PORT": ""}).ggk_port,
    )


def test_groups_read_flat_names() -> None:
    """Group fields keep the flat names operators set: GATEWAY_TLS_DIR, GATEWAY_AMQP_CONFIRM_TIMEOUT, ..."""
    s = Settings.from_env(
        {
            "GATEWAY_TLS_DIR": "pki",
            "GATEWAY_AMQP_CONFIRM_TIMEOUT": "2.5",
            "GATEWAY_SHOVEL_URI_VECOZO": "amqps://link:pw@vecozo.example:5671/",
            "GATEWAY_BROKER_STATS_SECONDS": "1",
            "GATEWAY_LOG_FORMAT": "JSON",
            "GATEWAY_SCHEMA_DIRS": "a:b",
            "GATEWAY_NODES": "vecozo",
        }
    )
    assert (
        Path("pki"),
        2.5,
        "amqps://link:pw@vecozo.example:5671/vecozo",
        1.0,
        "json",
        (Path("a"), Path("b")),
        ("vecozo",),
    ) == (
        s.security.tls_dir,
        s.broker.confirm_timeout,
        s.broker.shovel_uri("vecozo"),
        s.ops.broker_stats_seconds,
        s.log.log_format,
        s.schema_dirs,
        s.nodes,
    )


def test_the_model_reads_nothing_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Settings()`` is the defaults (tests inject values); only ``from_env`` reads the environment."""
    monkeypatch.setenv("GATEWAY_GGK_PORT", "18081")
    assert (8081, 18081, 9) == (
        Settings().ggk_port,
        Settings.from_env().ggk_port,
        Settings(ggk_port=9).ggk_port,
    )


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``.env`` in the working directory holds settings for operators; the process environment wins over it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "GATEWAY_GGK_PORT=18081\nGATEWAY_VECOZO_PORT=18082\nOTHER=1\n", encoding="utf-8"
    )
    monkeypatch.setenv("GATEWAY_VECOZO_PORT", "28082")
    s = Settings.from_env()
    assert (18081, 28082, False) == (s.ggk_port, s.vecozo_port, "OTHER" in environment())


def test_settings_are_frozen() -> None:
    """The settings are a frozen value: changed only by making new ones."""
    s = Settings()
    with pytest.raises(ValidationError, match="frozen"):
        s.ggk_port = 1  # type: ignore[misc]


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    settings_cli.register(app)
    return app


def test_check_command_prints_one_line_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gateway settings check`` with a bad value: one line on stderr, exit code 2."""
    monkeypatch.setenv("GATEWAY_GGK_PORT", "abc")
    result = CliRunner().invoke(_app(), ["settings", "check"])
    assert (2, "GATEWAY_GGK_PORT: expected an integer, got 'abc'\n") == (result.exit_code, result.stderr)


def test_docs_command_prints_the_table() -> None:
    """``gateway settings docs`` prints docs/settings.md."""
    result = CliRunner().invoke(_app(), ["settings", "docs"])
    assert (0, DOC_PATH.read_text(encoding="utf-8")) == (result.exit_code, result.stdout)
