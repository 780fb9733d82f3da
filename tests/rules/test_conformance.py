"""Every rule of iJw 3.2 and iWmo 3.2 as ../shared documents it is implemented by the release's Schematron
for each message it concerns, or listed in the release's register with the reason it is not the node's job."""

from __future__ import annotations

import pytest

from gateway.standard.engine import Engine
from gateway.standard.rules import REPO_RULES, RuleInfo, read_register

from .oracle import SHARED, STANDARDS, TR_FOLDERS, element_rules, technical_rules

pytestmark = pytest.mark.shared


@pytest.fixture(autouse=True)
def _need_shared() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"official reference files not found at {SHARED}")


def register(standard: str) -> dict[str, RuleInfo]:
    return {r.code: r for r in read_register(REPO_RULES / standard / "3_2" / "regels.toml")}


def codes_of(engine: Engine, standard: str, number: str) -> frozenset[str]:
    namespace = f"http://www.istandaarden.nl/{standard}/3_2/{STANDARDS[standard].lower()}{number}/schema"
    rules = engine.rules.for_namespace(namespace)
    return rules.codes if rules is not None else frozenset()


@pytest.mark.parametrize("standard", sorted(STANDARDS))
def test_every_technical_rule_is_implemented_or_listed_by_its_folder(standard: str) -> None:
    """A TR rule of the xslt folder is implemented; one that needs other messages or an outside source is
    listed as such, with its reason and its own retourcode."""
    listed = register(standard)
    wrong = {
        rule.code: (TR_FOLDERS[rule.folder], listed[rule.code].status if rule.code in listed else None)
        for rule in technical_rules(standard)
        if rule.code not in listed
        or listed[rule.code].status != TR_FOLDERS[rule.folder]
        or listed[rule.code].retourcode != rule.retourcode
    }
    assert {} == wrong


@pytest.mark.parametrize("standard", sorted(STANDARDS))
def test_xslt_rules_apply_to_every_message_they_are_used_in(engine: Engine, standard: str) -> None:
    """Each TR rule of the xslt folder is checked in every message its text names."""
    missing = {
        rule.code: sorted(n for n in rule.messages if rule.code not in codes_of(engine, standard, n))
        for rule in technical_rules(standard)
        if rule.folder == "xslt"
    }
    assert {} == {code: numbers for code, numbers in missing.items() if numbers}


@pytest.mark.parametrize("standard", sorted(STANDARDS))
def test_every_element_rule_is_implemented_or_enforced_by_the_xsd(engine: Engine, standard: str) -> None:
    """Every CD, CS and RS row is either in the Schematron for its message, or registered as enforced by the
    XSD with the facet that does it; no code of the table is missing from the register."""
    listed = register(standard)
    wrong: dict[str, list[str]] = {}
    for number, element, code in element_rules(standard):
        info = listed.get(code)
        if info is None:
            wrong.setdefault("not registered", []).append(code)
        elif info.status == "schematron" and code not in codes_of(engine, standard, number):
            wrong.setdefault(f"{code} not checked in {number}", []).append(element)
        elif info.status not in ("schematron", "xsd"):
            wrong.setdefault(f"{code} {info.status}", []).append(element)
    assert {} == wrong


@pytest.mark.parametrize("standard", sorted(STANDARDS))
def test_register_lists_nothing_the_release_does_not_know(standard: str) -> None:
    """The register holds exactly the codes the release documents (the count adds up)."""
    documented = {r.code for r in technical_rules(standard)} | {c for _, _, c in element_rules(standard)}
    assert documented == set(register(standard))


@pytest.mark.parametrize("standard", sorted(STANDARDS))
def test_single_message_rules_carry_retourcode_0001(standard: str) -> None:
    """Every implemented rule answers with retourcode 0001, as WJ001 and the rule texts attach it."""
    assert {"0001"} == {r.retourcode for r in register(standard).values() if r.status == "schematron"}
