"""The rule files are plain ISO Schematron: lxml's isoschematron (XSLT 1.0, SVRL) reaches the same verdict
as the node's own evaluator on every official example and every rule case."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from lxml import etree, isoschematron

from gateway.standard.engine import Engine
from gateway.standard.rules import REPO_RULES
from tests.rules.cases import CASES, Case
from tests.rules.edits import Doc

from .oracle import SHARED

pytestmark = pytest.mark.shared

SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@cache
def schematron(standard: str) -> isoschematron.Schematron:
    path = REPO_RULES / standard / "3_2" / "regels.sch"
    return isoschematron.Schematron(etree.parse(str(path)), store_report=True)


def reference(data: bytes) -> list[str]:
    """The rule codes isoschematron reports as failed, sorted."""
    root = etree.fromstring(data)
    standard = "ijw" if "/ijw/" in (etree.QName(root).namespace or "") else "iwmo"
    checker = schematron(standard)
    checker.validate(root)
    report = checker.validation_report
    assert report is not None
    return sorted(_pattern(f) for f in report.iter(f"{SVRL}failed-assert"))


def _pattern(failed: etree._Element) -> str:
    """The pattern id of a failed assert: the last active-pattern before it in the SVRL report."""
    for earlier in failed.itersiblings(preceding=True):
        if earlier.tag == f"{SVRL}active-pattern":
            return earlier.get("id") or ""
    return ""


def ours(engine: Engine, data: bytes) -> list[str]:
    return sorted(e.rule or "" for e in engine.verdict(data).errors)


@pytest.mark.parametrize("path", sorted(SHARED.glob("i*-3.2/examples/*.xml")), ids=lambda p: p.name)
def test_examples_agree_with_isoschematron(engine: Engine, path: Path) -> None:
    """On each official example both evaluators fail the same rules."""
    data = path.read_bytes()
    assert reference(data) == ours(engine, data)


@pytest.mark.parametrize(
    ("case", "name", "near"),
    [
        pytest.param(c, n, near, id=f"{c.rule}-{n}-{near}")
        for c in CASES
        for n in c.names()
        for near in (False, True)
    ],
)
def test_cases_agree_with_isoschematron(engine: Engine, case: Case, name: str, near: bool) -> None:
    """On each rule case, breaking and near miss, both evaluators fail the same rules."""
    doc = Doc(name)
    (case.keeps if near else case.breaks)(doc)
    data = doc.data()
    assert reference(data) == ours(engine, data)
