"""``gateway validate`` and ``gateway schemas``: exit codes, JSON lines, installing a release."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import schemas, validate

from .conftest import REJECTIONS, ROOT
from .releases import fake_release

ACCEPTED = REJECTIONS / "accepted"
BAD = REJECTIONS / "schema" / "gemeentecode-three-digits.xml"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("GATEWAY_SCHEMA_DIRS", raising=False)
    return CliRunner()


def app() -> typer.Typer:
    cli = typer.Typer()
    validate.register(cli)
    schemas.register(cli)
    return cli


def test_valid_files_exit_zero(run: CliRunner) -> None:
    """A directory of valid messages exits 0 and says how many were valid."""
    result = run.invoke(app(), ["validate", str(ACCEPTED)])
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (0, "6 valid, 0 invalid")


def test_any_invalid_file_exits_one(run: CliRunner) -> None:
    """One invalid file among valid ones exits 1."""
    result = run.invoke(app(), ["validate", str(ACCEPTED), str(BAD)])
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (1, "6 valid, 1 invalid")


def test_json_line_per_file(run: CliRunner) -> None:
    """--json prints one object per file with the verdict, the message and every error."""
    result = run.invoke(app(), ["validate", "--json", str(BAD)])
    line = json.loads(result.stdout)
    assert (result.exit_code, line) == (
        1,
        {
            "file": str(BAD),
            "valid": False,
            "standard": "ijw",
            "release": "3.2",
            "message": "JW319",
            "reason": "schema",
            "errors": [
                {
                    "code": "StUF055",
                    "line": 9,
                    "path": "/Bericht/Header/Afzender",
                    "rule": "RS035",
                    "retourcode": None,
                    "text": "Element 'Afzender': [facet 'pattern'] The value is not accepted by the pattern "
                    "'[0-9]{4}'.",
                }
            ],
            "findings": [],
        },
    )


def test_json_lines_for_a_tree(run: CliRunner) -> None:
    """A directory is searched recursively: one JSON line for every *.xml below it."""
    result = run.invoke(app(), ["validate", "--json", str(REJECTIONS)])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert (result.exit_code, len(lines)) == (1, len(list(REJECTIONS.rglob("*.xml"))))


def test_unclassified_file_has_no_message(run: CliRunner) -> None:
    """A file refused before classification reports null standard, release and message."""
    path = REJECTIONS / "not-standard-message" / "unknown-namespace.xml"
    line = json.loads(run.invoke(app(), ["validate", "--json", str(path)]).stdout)
    assert (line["standard"], line["release"], line["message"], line["reason"]) == (
        None,
        None,
        None,
        "not-standard-message",
    )


def test_missing_path_is_a_usage_error(run: CliRunner, tmp_path: Path) -> None:
    """A path that does not exist exits 2."""
    assert run.invoke(app(), ["validate", str(tmp_path / "absent.xml")]).exit_code == 2


def test_no_paths_is_a_usage_error(run: CliRunner) -> None:
    """No path at all exits 2."""
    assert run.invoke(app(), ["validate"]).exit_code == 2


def test_directory_without_xml_is_a_usage_error(run: CliRunner, tmp_path: Path) -> None:
    """A directory without *.xml files exits 2."""
    assert run.invoke(app(), ["validate", str(tmp_path)]).exit_code == 2


def test_bad_schema_dir_setting_is_a_usage_error(run: CliRunner, tmp_path: Path) -> None:
    """A schema directory that does not index exits 2."""
    result = run.invoke(app(), ["validate", "--schema-dir", str(tmp_path / "none"), str(BAD)])
    assert result.exit_code == 2


def test_schemas_list_shows_installed_releases(run: CliRunner) -> None:
    """``schemas list`` ends with the count and the releases."""
    result = run.invoke(app(), ["schemas", "list"])
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (
        0,
        "28 message schemas, releases: ijw 3.2, iwmo 3.2",
    )


def test_schemas_add_installs_a_new_release(run: CliRunner, tmp_path: Path) -> None:
    """``schemas add`` copies a checked release directory to <schema dir>/<standard>/<release>."""
    source = fake_release(tmp_path / "download", "1")
    target = tmp_path / "installed"
    target.mkdir()
    result = run.invoke(app(), ["schemas", "add", "--schema-dir", str(target), str(source)])
    assert (result.exit_code, sorted(p.name for p in (target / "ijw" / "3_1").iterdir())[:2]) == (
        0,
        ["basisschema.xsd", "jw301.xsd"],
    )


def test_schemas_add_refuses_an_installed_release(run: CliRunner, tmp_path: Path) -> None:
    """Adding a release whose namespaces are installed already exits 1 and copies nothing."""
    source = fake_release(tmp_path / "download", "2")
    result = run.invoke(app(), ["schemas", "add", "--schema-dir", str(ROOT / "schemas"), str(source)])
    assert (result.exit_code, (ROOT / "schemas" / "ijw" / "3_2" / "JW301.xsd").exists()) == (1, False)


def test_schemas_add_refuses_a_broken_directory(run: CliRunner, tmp_path: Path) -> None:
    """A directory whose schemas do not compile is refused before anything is copied."""
    source = fake_release(tmp_path / "download", "1")
    (source / "basisschema.xsd").unlink()
    target = tmp_path / "installed"
    target.mkdir()
    result = run.invoke(app(), ["schemas", "add", "--schema-dir", str(target), str(source)])
    assert (result.exit_code, list(target.iterdir())) == (1, [])


@pytest.mark.parametrize(
    ("element", "value"),
    [("standaard", "../../escaped"), ("standaard", "ijw/../.."), ("release", "3.1/../../../x")],
)
def test_schemas_add_refuses_a_standard_or_release_that_is_a_path(
    run: CliRunner, tmp_path: Path, element: str, value: str
) -> None:
    """An XSD naming its standard or release as a path (``../../escaped``) is refused; nothing is written
    inside or outside the schema directory."""
    source = fake_release(tmp_path / "download", "1")
    for path in source.glob("*.xsd"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(rf"(<ijw:{element}>)[^<]*(</ijw:{element}>)", rf"\g<1>{value}\g<2>", text)
        path.write_text(text, encoding="utf-8")
    target = tmp_path / "a" / "b" / "installed"
    target.mkdir(parents=True)
    result = run.invoke(app(), ["schemas", "add", "--schema-dir", str(target), str(source)])
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if "download" not in p.parts)
    assert (1, ["a", "a/b", "a/b/installed"]) == (result.exit_code, written)


def test_schemas_dir_from_environment(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GATEWAY_SCHEMA_DIRS chooses where ``schemas add`` installs (the first directory)."""
    source = fake_release(tmp_path / "download", "1")
    target = tmp_path / "from-env"
    target.mkdir()
    monkeypatch.setenv("GATEWAY_SCHEMA_DIRS", str(target))
    result = run.invoke(app(), ["schemas", "add", str(source)])
    assert (result.exit_code, (target / "ijw" / "3_1" / "jw319.xsd").is_file()) == (0, True)


def test_console_command_is_registered() -> None:
    """``python -m gateway validate`` runs the registered command (exit 1 for an invalid file)."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "validate", "--json", str(BAD)], capture_output=True, check=False
    )
    assert (done.returncode, json.loads(done.stdout)["reason"]) == (1, "schema")
