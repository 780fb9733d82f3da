"""The tests docs/security.md's threat model names as the proof of each control, read from the table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def rows() -> list[str]:
    """The table's rows that name a test."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "::" in line]


def named(row: str) -> list[tuple[str, str]]:
    """(file, test function) of each test named in the row's last cell."""
    return TEST.findall(row.rsplit("|", 2)[-2])


def node_ids() -> set[str]:
    """``file::test`` of every named test (pytest's node id without parameters)."""
    return {f"{path}::{name}" for row in rows() for path, name in named(row)}
