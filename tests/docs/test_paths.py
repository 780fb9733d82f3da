"""Every file the README and docs name under ../shared or in the repository exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _named(prefix: str) -> set[tuple[str, str]]:
    pattern = re.compile(re.escape(prefix) + r"[\w./-]+\.(?:xml|xsd|toml|json|md)")
    return {(doc.name, m[0]) for doc in DOCS for m in pattern.finditer(doc.read_text(encoding="utf-8"))}


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not present")
def test_reference_files_named_in_the_docs_exist() -> None:
    """Each ``../shared/...`` file the README or docs name (e.g. the JW315 example under invalid/) exists."""
    named = _named("../shared/")
    missing = sorted((doc, path) for doc, path in named if not (ROOT / path).is_file())
    assert (True, []) == (any("JW315" in path for _, path in named), missing)
