"""The official examples (../shared/istandaarden) against the project's schemas and the official ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import SchemaInvalid
from gateway.standard.engine import Engine

from .conftest import SHARED

pytestmark = pytest.mark.shared

EXAMPLES = sorted(SHARED.glob("i*-3.2/examples/*.xml"))
INVALID = {
    "JW315-impossible-date.xml": "/Bericht/Client/AangevraagdeProducten/AangevraagdProduct[1]/ToewijzingEinddatum",
    "JW318-retourcode-outside-wrapper.xml": "/Bericht/Client/Verzoek/RetourCode",
}


def _need_shared() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"official reference files not found at {SHARED}")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid_against_project_schemas(engine: Engine, path: Path) -> None:
    """Every official example passes the project's schemas and is classified as its own message (three
    break content rules of their standard: tests/rules/test_examples.py)."""
    _need_shared()
    assert path.stem == engine.with_mode("off").check(path.read_bytes()).message


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid_against_official_schemas(official_engine: Engine, path: Path) -> None:
    """Every official example passes the official schemas too."""
    assert path.stem == official_engine.check(path.read_bytes()).message


@pytest.mark.parametrize("name", sorted(INVALID))
@pytest.mark.parametrize("which", ["engine", "official_engine"])
def test_invalid_example_is_refused_naming_the_element(
    request: pytest.FixtureRequest, which: str, name: str
) -> None:
    """The two invalid official examples are refused as schema errors naming the offending element."""
    _need_shared()
    engine: Engine = request.getfixturevalue(which)
    with pytest.raises(SchemaInvalid) as caught:
        engine.check((SHARED / "ijw-3.2" / "invalid" / name).read_bytes())
    assert INVALID[name] == caught.value.errors[0].path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ijw-3.2/examples/JW316.xml", ("42420001",)),
        ("iwmo-3.2/examples/WMO315.xml", ("42420001", "42420002")),
    ],
)
def test_referenties_aanbieder_in_document_order_once(
    engine: Engine, name: str, expected: tuple[str, ...]
) -> None:
    """Every ReferentieAanbieder of the body is in the header value, once each, in document order."""
    _need_shared()
    assert engine.check((SHARED / name).read_bytes()).referenties_aanbieder == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_header_by_fixed_indexes_is_the_header_by_name(engine: Engine, path: Path) -> None:
    """Reading the header by the schema's fixed indexes gives what reading it by name gives, field for
    field (client Bsns included)."""
    from gateway.standard.headerread import fixed_plan, read_header
    from gateway.standard.safexml import parse

    _need_shared()
    root = parse(path.read_bytes())
    known = engine.classifier.classify(root)
    plan = fixed_plan(dict(known.schema.layout), known.schema.declared)
    assert plan is not None
    by_plan, by_name = read_header(root, known, plan=plan), read_header(root, known)
    assert [getattr(by_plan, n) for n in by_plan.__slots__] == [
        getattr(by_name, n) for n in by_name.__slots__
    ]


def test_no_plan_without_fixed_indexes() -> None:
    """A schema that leaves one field read without a fixed index gets no plan (the header is read by name)."""
    from gateway.standard.headerread import fixed_plan

    layout = {"Header": 0, "Header/Afzender": 3, "Header/Ontvanger": 4, "Header/BerichtIdentificatie": 5}
    ident = {"Header/BerichtIdentificatie/Identificatie": 0, "Header/BerichtIdentificatie/Dagtekening": 1}
    assert fixed_plan(layout, frozenset()) is None
    assert fixed_plan(layout | ident, frozenset()) == (0, 3, 4, 5, 0, 1, None, None, None)
    assert fixed_plan(layout | ident, frozenset({"IdentificatieRetour"})) is None
    assert fixed_plan(layout | ident, frozenset({"DeclaratieIdentificatie"})) is None
