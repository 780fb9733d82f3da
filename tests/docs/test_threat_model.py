"""docs/security.md's threat model names, for every row, tests that exist, and covers every item of the
security review (1-16)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def _rows() -> list[str]:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "::" in line]


def test_every_row_names_tests_that_exist() -> None:
    """Each row's last cell names at least one test, and each named test is defined in its file."""
    missing = []
    for row in _rows():
        named = TEST.findall(row.rsplit("|", 2)[-2])
        if not named:
            missing.append(row[:60])
        for path, name in named:
            source = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).is_file() else ""
            if not re.search(rf"^(async )?def {name}\(", source, re.MULTILINE):
                missing.append(f"{path}::{name}")
    assert [] == missing


def test_every_item_of_the_review_has_a_row() -> None:
    """Items 1 to 16 of the security review each appear in a row."""
    items = {int(n) for row in _rows() for n in re.findall(r"\[(\d+)\]", row)}
    assert set(range(1, 17)) == items
