"""The message catalogue: codes, direction and conversation facts as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.standard.catalog import Catalog, CatalogError, namespace_for, split_namespace

from .conftest import ROOT


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(ROOT / "schemas" / "catalog.toml")


def test_both_standards_complete(catalog: Catalog) -> None:
    """The catalogue lists 14 messages for each of iJw 3.2 and iWmo 3.2."""
    assert sorted((s, sum(m.standard == s for m in catalog)) for s in catalog.standards) == [
        ("ijw", 14),
        ("iwmo", 14),
    ]


def test_lookup_by_name(catalog: Catalog) -> None:
    """A message is found by (standard, release, name) with its code and sender."""
    message = catalog.get("iwmo", "3.2", "WMO315")
    assert (message and message.code, message and message.sender) == ("444", "aanbieder")


def test_lookup_by_namespace(catalog: Catalog) -> None:
    """A message is found by its namespace."""
    message = catalog.by_namespace("http://www.istandaarden.nl/ijw/3_2/jw325/schema")
    assert (message and message.name, message and message.follows) == ("JW325", ("JW323",))


def test_namespace_round_trip() -> None:
    """namespace_for and split_namespace are each other's inverse."""
    namespace = namespace_for("ijw", "3.2", "JW301")
    assert (namespace, split_namespace(namespace)) == (
        "http://www.istandaarden.nl/ijw/3_2/jw301/schema",
        ("ijw", "3.2", "jw301"),
    )


def test_retour_codes_and_answers(catalog: Catalog) -> None:
    """Exactly the 302, 306, 308, 316, 318 and 320 are retours, each answering its heenbericht."""
    retours = sorted((m.name, m.answers) for m in catalog if m.retour and m.standard == "ijw")
    assert retours == [
        ("JW302", "JW301"),
        ("JW306", "JW305"),
        ("JW308", "JW307"),
        ("JW316", "JW315"),
        ("JW318", "JW317"),
        ("JW320", "JW319"),
    ]


def test_fallback_for_uncatalogued_release(catalog: Catalog) -> None:
    """An uncatalogued release borrows the entry of the same message, with its own release and code."""
    message = catalog.resolve("ijw", "3.1", "JW301", "999")
    assert (message and message.release, message and message.code, message and message.sender) == (
        "3.1",
        "999",
        "gemeente",
    )


def test_unknown_message_has_no_entry(catalog: Catalog) -> None:
    """A message name no release knows resolves to None."""
    assert catalog.resolve("ijw", "3.3", "JW399") is None


def test_malformed_entry_is_named(tmp_path: Path) -> None:
    """A catalogue entry without a code fails naming the entry and the key."""
    path = tmp_path / "c.toml"
    path.write_text(
        '[[release]]\nstandard="ijw"\nrelease="3.2"\nprefix="JW"\ntitle="t"\n'
        '[[release.message]]\nname="JW301"\ntitle="x"\nsender="gemeente"\n'
    )
    with pytest.raises(CatalogError, match=r"JW301.*'code'"):
        Catalog.load(path)
