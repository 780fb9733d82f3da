"""The restrictions (RS) the register marks as enforced by the XSD really are: for every RS row of the
release's table whose element the official example of that message holds, a value breaking the restriction
makes the message schema-invalid, and the refusal names the restriction's code."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.errors import CodeMismatch, SchemaInvalid
from gateway.standard.engine import Engine
from gateway.standard.errortext import HEADER_RULES
from tests.messages import example

from .oracle import SHARED, STANDARDS, element_rules

pytestmark = pytest.mark.shared

LENGTH = {
    "RS008": 1,
    "RS009": 2,
    "RS010": 3,
    "RS011": 4,
    "RS012": 5,
    "RS013": 6,
    "RS014": 8,
    "RS015": 9,
    "RS016": 10,
    "RS017": 12,
    "RS018": 15,
    "RS019": 20,
    "RS020": 24,
    "RS021": 25,
    "RS023": 35,
    "RS024": 36,
    "RS025": 64,
    "RS026": 80,
    "RS028": 200,
}
MAXIMUM = {"RS002": 99, "RS004": 99999, "RS005": 99999999, "RS006": 999999999, "RS040": 999999999999}
RETOURS = ("302", "306", "308", "316", "318", "320")


def breaking(code: str, value: str) -> str | None:
    """A value that breaks restriction ``code`` (None: no general way to break it)."""
    if code in LENGTH:
        return (value * 300)[: LENGTH[code] + 1] if value else "X" * (LENGTH[code] + 1)
    if code in MAXIMUM:
        return str(MAXIMUM[code] + 1)
    return {
        "RS001": "-1",
        "RS031": "   ",
        "RS032": value + "+01:00",
        "RS033": "",
        "RS034": value + "Z",
        "RS035": "123",
        "RS036": "1234567",
        "RS037": "12345678",
        "RS045": "A.B",
        "RS046": "06-1234",
        "RS047": "999",
        "RS048": "1.0",
    }.get(code)


def rows(standard: str) -> list[pytest.ParameterSet]:
    if not SHARED.is_dir():
        return []
    out = []
    prefix = STANDARDS[standard]
    for number, element, code in element_rules(standard):
        if not code.startswith("RS"):
            continue
        numbers = RETOURS if number == "retour" else (number,)
        for n in numbers:
            out.append(pytest.param(f"{prefix}{n}", element, code, id=f"{code}-{prefix}{n}-{element}"))
    return out


def targets(root: etree._Element, element: str) -> list[etree._Element]:
    """The elements a table row names: ``Klasse.Element_Type.Sub_Type`` -> local names Klasse/.../Sub."""
    klasse, _, rest = element.partition(".")
    names = [part.split("_")[0] for part in rest.split(".") if part]
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname != names[-1]:
            continue
        chain, up = [], el
        while up is not None and len(chain) < len(names):
            chain.append(etree.QName(up).localname)
            up = up.getparent()
        ancestors = {etree.QName(a).localname for a in el.iterancestors()}
        if chain[::-1] == names and (klasse in ancestors or klasse == etree.QName(el.getparent()).localname):
            found.append(el)
    return found


@pytest.mark.parametrize(("name", "element", "code"), rows("ijw") + rows("iwmo"))
def test_restriction_is_enforced_by_the_xsd(engine: Engine, name: str, element: str, code: str) -> None:
    """The example with that element broken by the restriction is refused by the XSD."""
    root = etree.fromstring(example(name))
    found = targets(root, element)
    if not found:
        pytest.skip(f"the example {name} has no {element}")
    # a row that names a composite (Naam.Geslachtsnaam) means its parts: the value goes into each of them
    leaves = [e for e in found[0].iter() if isinstance(e.tag, str) and len(e) == 0]
    value = breaking(code, leaves[0].text or "")
    if value is None:
        pytest.skip(f"no general way to break {code}")
    for leaf in leaves:
        leaf.text = breaking(code, leaf.text or "")
    verdict = engine.with_mode("off").verdict(etree.tostring(root))
    assert isinstance(verdict.rejection, SchemaInvalid | CodeMismatch), (code, element)
    named = {e.rule for e in verdict.errors}
    # the refusal names the restriction; BerichtCode/Versie/Subversie, which the XSD pins to one value, are
    # named by the rule that pins them (RS047, CS025, CS015)
    assert code in named or bool(named & set(HEADER_RULES.values())), named
