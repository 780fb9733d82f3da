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


def example(name: str) -> bytes:
    """An example message that is valid: the two invalid official examples are mended."""
    data = example_path(name).read_bytes()
    if name == "JW315":
        data = data.replace(b"2027-06-31", b"2027-06-30")
    if name == "JW318":
        data = _mend_jw318(data)
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


def set_all(data: bytes, element: str, value: str) -> bytes:
    """Set every element with this local name (e.g. ReferentieAanbieder) to ``value``."""
    pattern = re.compile(rb"(<(?:\w+:)?" + element.encode() + rb">)[^<]*(</)")
    return pattern.sub(rb"\g<1>" + value.encode() + rb"\g<2>", data)


def first(data: bytes, element: str) -> str:
    """The text of the first element with this local name."""
    match = re.search(rb"<(?:\w+:)?" + element.encode() + rb">([^<]*)</", data)
    assert match is not None, f"no {element}"
    return match.group(1).decode()
