"""Session fixtures for the conformance tests: the official schemas and the engine, each built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.standard.engine import Engine

from .oracle import SHARED, OfficialSchemas

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture(scope="session")
def official() -> OfficialSchemas:
    if not SHARED.is_dir():
        pytest.skip(f"official reference files not found at {SHARED}")
    return OfficialSchemas()


@pytest.fixture(scope="session")
def engine() -> Engine:
    # the XSD differential: the content rules (TR/CD/CS) are judged elsewhere (tests/rules)
    return Engine.load(schema_dirs=[REPO_SCHEMAS], mode="off")
