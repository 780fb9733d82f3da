"""The differential check over every candidate mutation, not only the sampled set (slow: tens of thousands)."""

from __future__ import annotations

import pytest

from gateway.standard.engine import Engine

from .mutations import engine_rule, every_mutation
from .oracle import SHARED, OfficialSchemas, base_examples, official_namespaces
from .project import project_verdict

pytestmark = [
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"official reference files not found at {SHARED}"),
]


def test_every_candidate_mutation_verdict_matches_official(official: OfficialSchemas, engine: Engine) -> None:
    """Over every candidate mutation (about 40,000), the engine's verdict equals the official XSDs'."""
    differing = [
        m.id
        for m in every_mutation(base_examples(), official_namespaces())
        if (official.verdict(m.data) and engine_rule(m) is None) != project_verdict(engine, m.data)[0]
    ]
    assert differing == []
