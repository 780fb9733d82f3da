"""Test messages: the official examples (from ../shared, tests skip without them) with header fields set."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "istandaarden"
FIXTURES = ROOT / "tests" / "fixtures"


def example_path(name: str) -> Path:
    """The file of one example message by name (JW301, WMO302, ...)."""
    standard = "ijw-3.2" if name.startswith("JW") else "iwmo-3.2"
    candidates = [
        SHARED / standard / "examples" / f"{name}.xml",
        FIXTURES / "iwmo-retours" / f"{name}.xml",
    ]
    if name == "JW315":
        candidates.append(SHARED / "ijw-3.2" / "invalid" / "JW315-impossible-date.xml")
    if name == "JW318":
        candidates.append(SHARED / "ijw-3.2" / "invalid" / "JW318-retourcode-outside-wrapper.xml")
    for path in candidates:
        if path.exists():
            return path
    pytest.skip(f"example {name} not available (../shared/istandaarden absent?)")


# Official examples that are XSD-valid but break a content rule of their own standard, mended the least
# possible way (the rule, and why the example breaks it, in the comment); see docs/rules.md.
CONTENT_MENDS: dict[str, tuple[bytes, bytes]] = {
    # CS003: the NieuwProduct's Einddatum 2024-02-28 lies before its GewensteIngangsdatum 2026-11-01
    "JW317": (b"<jw317:Einddatum>2024-02-28<", b"<jw317:Einddatum>2027-02-28<"),
    # TR101: the second client's third Prestatie repeats ReferentieNummer RN004 of the one before it
    "JW323": (b"RN004</ijw:ReferentieNummer>", b"RN005</ijw:ReferentieNummer>"),
    # TR380: the NieuwProduct's GewensteIngangsdatum equals the Dagtekening (it must lie after it)
    "WMO317": (b"<wmo317:GewensteIngangsdatum>2023-04-02<", b"<wmo317:GewensteIngangsdatum>2023-04-03<"),
}


def example(name: str) -> bytes:
    """An example message that is valid: the two XSD-invalid official examples are mended, and so are the
    three that break a content rule of their standard (CONTENT_MENDS)."""
    data = example_path(name).read_bytes()
    if name == "JW315":
        data = data.replace(b"2027-06-31", b"2027-06-30")
    if name == "JW318":
        data = _mend_jw318(data)
    if name in CONTENT_MENDS:
        old, new = CONTENT_MENDS[name]
        head, found, tail = data.rpartition(old)  # the last occurrence: the one the rule is about
        data = head + new + tail if found else data
    return data


def _mend_jw318(data: bytes) -> bytes:
    """Drop any RetourCode that stands outside a RetourCodes wrapper (the official example's fault)."""
    root = etree.fromstring(data)
    stray = [c for c in root.iter("{*}RetourCode") if etree.QName(c.getparent()).localname != "RetourCodes"]
    if not stray:
        return data
    for code in stray:
        parent = code.getparent()
        assert parent is not None
        parent.remove(code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def new_id() -> str:
    """A fresh Identificatie (at most 12 characters as LDT_IdentificatieBericht allows)."""
    return uuid.uuid4().hex[:12]


def set_header(data: bytes, **fields: str) -> bytes:
    """Set header fields by local name: Afzender, Ontvanger, Identificatie, IdentificatieRetour."""
    for name, value in fields.items():
        pattern = re.compile(rb"(<(?:\w+:)?" + name.encode() + rb">)[^<]*(</)")
        data, count = pattern.subn(rb"\g<1>" + value.encode() + rb"\g<2>", data, count=1)
        assert count == 1, f"no {name} in message"
    return data


def set_all(data: bytes, element: str, value: str, numbered: bool = False) -> bytes:
    """Set every element with this local name (e.g. ReferentieAanbieder) to ``value``; ``numbered`` makes
    the second and later ones ``value-2``, ``value-3``, ... (a key the content rules want unique, TR101)."""
    pattern = re.compile(rb"(<(?:\w+:)?" + element.encode() + rb">)[^<]*(</)")
    seen = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal seen
        seen += 1
        text = value if seen == 1 or not numbered else f"{value}-{seen}"
        return match.group(1) + text.encode() + match.group(2)

    return pattern.sub(replace, data)


def first(data: bytes, element: str) -> str:
    """The text of the first element with this local name."""
    match = re.search(rb"<(?:\w+:)?" + element.encode() + rb">([^<]*)</", data)
    assert match is not None, f"no {element}"
    return match.group(1).decode()


def heen(name: str, afzender: str, ontvanger: str) -> bytes:
    """An example heen-message with a fresh Identificatie between the two parties."""
    return set_header(example(name), Afzender=afzender, Ontvanger=ontvanger, Identificatie=new_id())


def retour(name: str, original: bytes) -> bytes:
    """A retour to ``original``: same Afzender, Ontvanger and Identificatie, its own IdentificatieRetour."""
    return set_header(
        example(name),
        Afzender=first(original, "Afzender"),
        Ontvanger=first(original, "Ontvanger"),
        Identificatie=first(original, "Identificatie"),
        IdentificatieRetour=new_id(),
    )
