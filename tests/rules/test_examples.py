"""The official examples against the content rules: all keep them, except three the standard itself ships
broken (docs/rules.md says why), which are refused naming that rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.standard.engine import Engine

from .oracle import SHARED

pytestmark = pytest.mark.shared

EXAMPLES = sorted(SHARED.glob("i*-3.2/examples/*.xml"))
BROKEN = {
    "JW317": [("CS003", "/Bericht/Client/Verzoek/NieuweProducten/NieuwProduct/Einddatum")],
    "JW323": [("TR101", "/Bericht/Declaratie/Clienten/Client[2]/Prestaties/Prestatie[3]")],
    "WMO317": [("TR380", "/Bericht/Client/Verzoek/NieuweProducten/NieuwProduct/GewensteIngangsdatum")],
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_keeps_the_rules_unless_the_standard_ships_it_broken(engine: Engine, path: Path) -> None:
    """Every official example keeps every content rule, except JW317, JW323 and WMO317."""
    verdict = engine.verdict(path.read_bytes())
    assert BROKEN.get(path.stem, []) == [(e.rule, e.path) for e in verdict.errors]
