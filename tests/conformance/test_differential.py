"""Differential conformance: the engine's verdict equals the official XSDs' verdict on every mutation.

The mutations (``mutations.generate``: 1,500 of about 40,000 candidates, seeded) start from the official
examples plus the two official invalid ones repaired (``oracle.REPAIRS``), so JW315 and JW318 are covered.

The official side is plain lxml ``XMLSchema`` of the iStandaarden files in ``../shared`` (root namespace ->
schema, invalid when none); the project side is ``Engine.check`` with the repository's own schemas (valid
when it returns, invalid when it raises a Rejection). The official XSDs pin BerichtCode, BerichtVersie and
BerichtSubversie by pattern, so the engine's header agreement check adds nothing the oracle lacks. Where
the engine refuses on purpose what the XSD accepts (BOM, another encoding, a DTD, a remote schemaLocation,
a header date it cannot represent), the mutation is named in ``mutations.DELIBERATE`` /
``mutations.engine_rule`` and checked for exactly that refusal.
"""

from __future__ import annotations

from collections import Counter

import pytest

from gateway import errors
from gateway.errors import Rejection
from gateway.standard.engine import Engine

from .mutations import ALWAYS, Mutation, deliberate, engine_rule, generate, load_examples
from .oracle import SHARED, OfficialSchemas, base_examples, official_namespaces
from .project import project_verdict

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"official reference files not found at {SHARED}"),
]

EXAMPLES = base_examples() if SHARED.is_dir() else {}
INVALID = load_examples(SHARED / "ijw-3.2" / "invalid") if SHARED.is_dir() else {}
JUDGED = official_namespaces() if SHARED.is_dir() else frozenset()
MUTATIONS = generate(EXAMPLES, judged=JUDGED)
DELIBERATE = deliberate(EXAMPLES)

# What the issue asks the set to contain, as mutation families (the part of the kind before "=").
REQUIRED_FAMILIES = {
    "drop", "duplicate", "reorder", "date", "digits", "length", "code", "unknown-child", "unknown-attr",
    "foreign-child", "foreign-attr", "foreign-ns", "berichtcode", "release", "message-ns", "ws", "empty",
}  # fmt: skip


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_verdict_matches_official(
    mutation: Mutation, official: OfficialSchemas, engine: Engine
) -> None:
    """The engine accepts the mutated message exactly when the official XSDs do."""
    rule = engine_rule(mutation)
    expected = official.verdict(mutation.data) and rule is None
    actual, said = project_verdict(engine, mutation.data)
    assert expected == actual, f"official={'valid' if expected else 'invalid'} rule={rule} engine: {said}"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_official_example_accepted_by_both(name: str, official: OfficialSchemas, engine: Engine) -> None:
    """Every unmutated base example (official, or official invalid repaired) is valid for both."""
    assert (official.verdict(EXAMPLES[name]), project_verdict(engine, EXAMPLES[name])[0]) == (True, True)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_official_invalid_example_refused_by_both(
    name: str, official: OfficialSchemas, engine: Engine
) -> None:
    """The official invalid examples are refused by the official XSDs and by the engine."""
    assert (official.verdict(INVALID[name]), project_verdict(engine, INVALID[name])[0]) == (False, False)


@pytest.mark.parametrize(("mutation", "refusal"), DELIBERATE, ids=[m.id for m, _ in DELIBERATE])
def test_deliberate_refusal(
    mutation: Mutation, refusal: str, official: OfficialSchemas, engine: Engine
) -> None:
    """A change the XSD accepts but a documented engine rule refuses is refused with that rule's class."""
    with pytest.raises(Rejection) as caught:
        engine.check(mutation.data)
    assert (True, getattr(errors, refusal)) == (official.verdict(mutation.data), type(caught.value))


def test_mutation_set_has_at_least_500() -> None:
    """The differential set holds at least 500 mutations."""
    assert len(MUTATIONS) >= 500


def test_mutation_set_has_both_verdicts(official: OfficialSchemas) -> None:
    """Between 10 % and 90 % of the mutations are valid: the set is not trivially all-invalid."""
    valid = sum(official.verdict(m.data) for m in MUTATIONS)
    assert 0.1 <= valid / len(MUTATIONS) <= 0.9


def test_mutation_set_covers_every_required_kind() -> None:
    """Every kind of change the issue names occurs in the set."""
    families = Counter(m.kind.split("=")[0] for m in MUTATIONS)
    assert set() == REQUIRED_FAMILIES - set(families)


def test_mutation_set_holds_the_cases_the_issue_names() -> None:
    """The named cases (3-digit gemeentecode, 7-digit AGB-code, ' 0384 ', 2027-02-30 ...) are in the set."""
    assert set() == ALWAYS - {m.id for m in MUTATIONS}


def test_mutation_ids_are_unique() -> None:
    """No two mutations share an id, so a failure names exactly one."""
    assert len(MUTATIONS) == len({m.id for m in MUTATIONS})


def test_generation_is_deterministic() -> None:
    """The same examples and seed give the same mutations, byte for byte."""
    small = {name: EXAMPLES[name] for name in ("JW302", "WMO319")}
    first = generate(small, target=60, seed=7)
    second = generate(small, target=60, seed=7)
    assert [(m.id, m.data) for m in first] == [(m.id, m.data) for m in second]
