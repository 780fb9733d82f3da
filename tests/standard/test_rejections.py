"""Fixture folders drive validation: tests/fixtures/rejections/<reason>/*.xml is refused for <reason>
(``accepted/`` holds messages that pass), against the project's schemas and the official ones alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.standard.engine import Engine

from .conftest import REJECTIONS

CASES = sorted(REJECTIONS.glob("*/*.xml"))
IDS = [f"{p.parent.name}/{p.name}" for p in CASES]


def outcome(engine: Engine, path: Path) -> str:
    verdict = engine.verdict(path.read_bytes())
    return verdict.rejection.reason if verdict.rejection is not None else "accepted"


@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_fixture_gets_the_outcome_its_folder_names(engine: Engine, path: Path) -> None:
    """A fixture gets the outcome its folder names (project schemas)."""
    assert path.parent.name == outcome(engine, path)


@pytest.mark.shared
@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_official_schemas_agree(official_engine: Engine, path: Path) -> None:
    """The official XSDs give every fixture the same outcome."""
    assert path.parent.name == outcome(official_engine, path)


def test_every_reason_folder_has_fixtures() -> None:
    """Each reason the engine gives after parsing has a fixture folder."""
    expected = {"accepted", "schema", "code-mismatch", "not-standard-message", "release-not-supported"}
    assert expected <= {p.parent.name for p in CASES}


@pytest.mark.parametrize("path", sorted((REJECTIONS / "schema").glob("*.xml")), ids=lambda p: p.name)
def test_schema_errors_carry_line_and_path(engine: Engine, path: Path) -> None:
    """Every schema error names a line and an element path from the root Bericht."""
    errors = engine.verdict(path.read_bytes()).errors
    assert [e for e in errors if e.line is None or not (e.path or "").startswith("/Bericht")] == []


@pytest.mark.parametrize("path", sorted((REJECTIONS / "code-mismatch").glob("*.xml")), ids=lambda p: p.name)
def test_code_mismatch_comes_with_ib240_and_the_schema_error(engine: Engine, path: Path) -> None:
    """A header code that does not match gives IB240 first, then the schema's own error (StUF055)."""
    codes = [e.code for e in engine.verdict(path.read_bytes()).errors]
    assert [codes[0], codes[-1]] == ["IB240", "StUF055"]
