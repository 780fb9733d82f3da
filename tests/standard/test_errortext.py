"""Error texts keep what the schema says and where, never a value from the message."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.standard.engine import Engine
from gateway.standard.errortext import element_path, mask_values

from .conftest import REJECTIONS

JW319 = (REJECTIONS / "accepted" / "jw319-antwoord.xml").read_bytes()
NS = "{http://www.istandaarden.nl/ijw/3_2/jw319/schema}"

LXML_MESSAGES = [
    (
        f"Element '{NS}Afzender': [facet 'pattern'] The value 'O'Br\nGEHEIM' is not accepted by the pattern "
        "'[0-9]{4}'.",
        "Element 'Afzender': [facet 'pattern'] The value is not accepted by the pattern '[0-9]{4}'.",
    ),
    (
        f"Element '{NS}Datum': 'GEHEIM-31' is not a valid value of the atomic type '{{urn:example:basis}}LDT_Datum'.",
        "Element 'Datum': the value is not a valid value of the atomic type 'LDT_Datum'.",
    ),
    (
        f"Element '{NS}Soort': [facet 'enumeration'] The value 'GEHEIM' is not an element of the set {{'1', '2'}}.",
        "Element 'Soort': [facet 'enumeration'] The value is not an element of the set {'1', '2'}.",
    ),
    (
        f"Element '{NS}Bedrag': [facet 'totalDigits'] The value 'GEHEIM' has more digits than are allowed ('8').",
        "Element 'Bedrag': [facet 'totalDigits'] The value has more digits than are allowed ('8').",
    ),
    (
        f"Element '{NS}Volume': [facet 'maxInclusive'] The value 'GEHEIM' is greater than the maximum value "
        "allowed ('99').",
        "Element 'Volume': [facet 'maxInclusive'] The value is greater than the maximum value allowed ('99').",
    ),
    (
        f"Element '{NS}X', attribute 'a': 'GEHEIM' is not a valid value of the atomic type 'xs:integer'.",
        "Element 'X', attribute 'a': the value is not a valid value of the atomic type 'xs:integer'.",
    ),
    (
        f"Element '{NS}X': Duplicate key-sequence ['GEHEIM', 'GEHEIM'] in unique identity-constraint 'u'.",
        "Element 'X': Duplicate key-sequence […] in unique identity-constraint 'u'.",
    ),
    (
        f"Element '{NS}Y': This element is not expected. Expected is ( {NS}Z ).",
        "Element 'Y': This element is not expected. Expected is ( Z ).",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), LXML_MESSAGES, ids=range(len(LXML_MESSAGES)))
def test_mask_values(raw: str, expected: str) -> None:
    """A libxml2 message loses the quoted value and the namespaces, keeps the schema's own facts."""
    assert mask_values(raw) == expected


SENTINEL_FAULTS = {
    "pattern": (b"<jw319:Afzender>0599<", b"<jw319:Afzender>GEHEIM'0599<"),
    "enumeration": (b"<jw319:VerzoekAntwoord>2<", b"<jw319:VerzoekAntwoord>GEHEIM<"),
    "date": (b"2025-03-14", b"GEHEIM-03-14"),
    "length": (b"REF-77", b"GEHEIM" * 10),
    "integer": (b"<jw319:BerichtVersie>3<", b"<jw319:BerichtVersie>GEHEIM<"),
    "code": (b"<jw319:BerichtCode>488<", b"<jw319:BerichtCode>GEHEIM<"),
    "child in simple element": (b"<jw319:Afzender>0599<", b"<jw319:Afzender><b>GEHEIM</b>0599<"),
}


@pytest.mark.parametrize("fault", sorted(SENTINEL_FAULTS))
def test_no_value_in_error_texts(engine: Engine, fault: str) -> None:
    """Whatever the fault, the value the sender wrote never appears in an error text or detail."""
    old, new = SENTINEL_FAULTS[fault]
    verdict = engine.verdict(JW319.replace(old, new))
    assert verdict.rejection is not None
    texts = [verdict.rejection.detail, *(e.text for e in verdict.errors)]
    assert [t for t in texts if "GEHEIM" in t] == []


def test_prefixed_path_is_made_local() -> None:
    """libxml2's prefixed node path becomes a path of local names."""
    raw = "/jw301:Bericht/jw301:Client/jw301:Geboortedatum/ijw:Datum"
    assert element_path(raw) == "/Bericht/Client/Geboortedatum/Datum"


def test_default_namespace_path_is_looked_up() -> None:
    """A path of wildcards (default namespace) is resolved in the tree, with positions where needed."""
    root = etree.fromstring(b'<Bericht xmlns="urn:x"><Header/><Client><Naam/><Naam/></Client></Bericht>')
    assert element_path("/*/*[2]/*[2]", root) == "/Bericht/Client/Naam[2]"


def test_default_namespace_message_error_path(engine: Engine) -> None:
    """Schema errors in a default-namespace message name the element by local names."""
    data = (REJECTIONS / "schema" / "default-namespace-bad-code.xml").read_bytes()
    assert [e.path for e in engine.verdict(data).errors] == ["/Bericht/Header/Afzender"]
