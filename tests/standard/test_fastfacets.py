"""The shared schema's cheaper facets accept exactly the values the written ones accept (libxml2 judges)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from lxml import etree

from gateway.standard import fastfacets
from gateway.standard.engine import Engine
from gateway.standard.registry import REPO_SCHEMA_DIR

from .conftest import shared_or_skip

XS = fastfacets.XS


def _schema(restriction: str) -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.fromstring(
            f'<xs:schema xmlns:xs="{XS}"><xs:element name="v"><xs:simpleType>'
            f'<xs:restriction base="xs:string">{restriction}</xs:restriction>'
            "</xs:simpleType></xs:element></xs:schema>"
        )
    )


def _valid(schema: etree.XMLSchema, value: str) -> bool:
    element = etree.Element("v")
    element.text = value
    return schema(element)


def _strings(alphabet: str, longest: int) -> list[str]:
    return ["".join(p) for n in range(longest + 1) for p in itertools.product(alphabet, repeat=n)]


@pytest.mark.parametrize("written", sorted(fastfacets.EQUIVALENT))
def test_equivalent_pattern_accepts_the_same_strings(written: str) -> None:
    """Each rewritten pattern and its original agree on every string of up to five characters of letters,
    dots, spaces, tabs, line ends and a non-ASCII letter."""
    original = _schema(f'<xs:pattern value="{written}"/>')
    faster = _schema(f'<xs:pattern value="{fastfacets.EQUIVALENT[written]}"/>')
    for value in _strings("a. \t\n\ré", 5):
        assert _valid(original, value) == _valid(faster, value), repr(value)


def _enumerations() -> list[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for path in sorted(Path(REPO_SCHEMA_DIR).rglob("*.xsd")):
        for restriction in etree.parse(str(path)).iter(f"{{{XS}}}restriction"):
            values = tuple(e.get("value", "") for e in restriction.iterfind(f"{{{XS}}}enumeration"))
            if len(values) > 1:
                found.add(values)
    return sorted(found)


@pytest.mark.parametrize("values", _enumerations(), ids=lambda v: f"{len(v)}-values-{v[0]}")
def test_trie_pattern_accepts_exactly_the_listed_values(values: tuple[str, ...]) -> None:
    """The trie pattern of every code list in the schemas accepts its values and nothing else of up to one
    character longer than the longest over the characters they use and one they do not."""
    listed = "".join(f'<xs:enumeration value="{v}"/>' for v in values)
    original = _schema(listed)
    faster = _schema(f'<xs:pattern value="{fastfacets.trie_pattern(values)}"/>')
    alphabet = "".join(sorted(set("".join(values)))) + "_"
    longest = max(map(len, values)) + 1
    candidates = _strings(alphabet, longest) if len(alphabet) ** longest <= 30_000 else []
    for value in [*values, *candidates, " " + values[0], values[0] + " ", values[0] + "\n"]:
        assert _valid(original, value) == _valid(faster, value), repr(value)


def test_trie_pattern_shares_first_characters() -> None:
    """Values sharing a first character share its branch; a value that is also a prefix is optional."""
    assert fastfacets.trie_pattern(["01", "02", "11"]) == "(0[12]|11)"
    assert fastfacets.trie_pattern(["1", "12", "13"]) == "1([23])?"
    assert fastfacets.trie_pattern(["C", "D"]) == "[CD]"


def test_rewrite_leaves_restrictions_it_cannot_prove() -> None:
    """A restriction with its own pattern, a whiteSpace facet or a non-string base keeps its enumerations."""
    document = etree.fromstring(
        f'<xs:schema xmlns:xs="{XS}">'
        '<xs:simpleType name="a"><xs:restriction base="xs:string"><xs:enumeration value="1"/>'
        '<xs:enumeration value="2"/><xs:pattern value="[0-9]"/></xs:restriction></xs:simpleType>'
        '<xs:simpleType name="b"><xs:restriction base="xs:token"><xs:enumeration value="1"/>'
        '<xs:enumeration value="2"/></xs:restriction></xs:simpleType>'
        '<xs:simpleType name="c"><xs:restriction base="xs:string"><xs:enumeration value="a b"/>'
        '<xs:enumeration value="2"/></xs:restriction></xs:simpleType>'
        "</xs:schema>"
    )
    before = etree.tostring(document)
    assert fastfacets.rewrite(document) == 0
    assert etree.tostring(document) == before


def test_shared_schema_says_valid_for_every_example(engine: Engine) -> None:
    """The release schemas, compiled from the rewritten files, still say valid for every official example."""
    files = sorted(shared_or_skip().glob("i*-3.2/examples/*.xml"))
    assert files
    for file in files:
        root = etree.fromstring(file.read_bytes())
        shared = engine.registry.release_validator(etree.QName(root).namespace or "")
        assert shared is not None and shared(root), file.name


def _string_restrictions() -> list[tuple[str, str]]:
    """(name, the restriction's XML) of every simple type restricting ``xs:string`` in the schemas."""
    found = []
    for path in sorted(Path(REPO_SCHEMA_DIR).rglob("*.xsd")):
        for simple in etree.parse(str(path)).iter(f"{{{XS}}}simpleType"):
            restriction = simple.find(f"{{{XS}}}restriction")
            if restriction is not None and restriction.get("base") == "xs:string":
                found.append((f"{path.parent.parent.name}-{simple.get('name')}", restriction))
    return [(name, etree.tostring(r, encoding="unicode")) for name, r in found]


@pytest.mark.parametrize(("name", "written"), _string_restrictions(), ids=lambda v: v if len(v) < 60 else "")
def test_rewritten_restriction_accepts_the_same_values(name: str, written: str) -> None:
    """Every string type of the schemas, as written and rewritten (code list, pattern, the lengths its one
    pattern implies dropped), agrees on values of every length from none to two past its limits."""
    restriction = etree.fromstring(f'<xs:schema xmlns:xs="{XS}">{written}</xs:schema>')[0]
    fastfacets.rewrite(restriction)
    body = "".join(etree.tostring(child, encoding="unicode") for child in restriction)
    inner = "".join(etree.tostring(c, encoding="unicode") for c in etree.fromstring(written))
    original, faster = _schema(inner), _schema(body)
    values = [e.get("value", "") for e in etree.fromstring(written).iterfind(f"{{{XS}}}enumeration")]
    longest = max([12, *map(len, values)]) + 2
    candidates = {c * n for c in "09aA .-" for n in range(longest + 1)}
    candidates |= set(values) | {v + "0" for v in values} | {v[:-1] for v in values}
    candidates |= {"1234AB", "123456782", "2026-01-01", "Jan de Vries", "\tx", "x\n", "é" * 3}
    for value in sorted(candidates):
        assert _valid(original, value) == _valid(faster, value), (name, repr(value))


def test_lengths_implied_by_the_one_pattern_are_dropped() -> None:
    """``[0-9]{9}`` keeps neither minLength 1 nor maxLength 9; a code list's trie drops a maxLength its
    longest value meets; a looser maxLength beside a pattern of unbounded length stays."""
    document = etree.fromstring(
        f'<xs:schema xmlns:xs="{XS}">'
        '<xs:simpleType name="a"><xs:restriction base="xs:string"><xs:minLength value="1"/>'
        '<xs:maxLength value="9"/><xs:pattern value="[0-9]{9}"/></xs:restriction></xs:simpleType>'
        '<xs:simpleType name="b"><xs:restriction base="xs:string"><xs:maxLength value="2"/>'
        '<xs:enumeration value="01"/><xs:enumeration value="2"/></xs:restriction></xs:simpleType>'
        '<xs:simpleType name="c"><xs:restriction base="xs:string"><xs:minLength value="1"/>'
        '<xs:maxLength value="20"/><xs:pattern value=".*[^\\s].*"/></xs:restriction></xs:simpleType>'
        "</xs:schema>"
    )
    fastfacets.rewrite(document)
    kept = [[child.tag.split("}")[1] for child in r] for r in document.iter(f"{{{XS}}}restriction")]
    assert kept == [["pattern"], ["pattern"], ["maxLength", "pattern"]]
