"""Reading the header: the IB240 agreement check and the frozen :class:`Header` value.

``code_errors`` runs *before* XSD validation and tolerates any structure: the official XSDs pin the
BerichtCode, BerichtVersie and BerichtSubversie by pattern, so a wrong code is also a schema error, but the
chain answers a code that does not match the message with IB240, so the sender gets IB240 (plus the schema
errors). ``read_header`` runs after validation succeeded and may rely on the structure.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Final

from lxml import etree

from gateway.errors import ErrorItem, SchemaInvalid
from gateway.standard.classify import Known
from gateway.standard.errortext import HEADER_RULES
from gateway.standard.header import Header
from gateway.standard.registry import MessageSchema

CODE_MISMATCH = "IB240"
_AGREEMENT = ("BerichtCode", "BerichtVersie", "BerichtSubversie")
# Where the iStandaarden 3.x header puts each field (all earlier siblings are required): looked up there
# first and checked by tag, searched for among the Header's children otherwise.
_POSITION: Final = {
    "BerichtCode": 0,
    "BerichtVersie": 1,
    "BerichtSubversie": 2,
    "Afzender": 3,
    "Ontvanger": 4,
    "BerichtIdentificatie": 5,
    "IdentificatieRetour": 7,
    "DagtekeningRetour": 8,
    "DeclaratieIdentificatie": 7,
}


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _line(element: etree._Element) -> int | None:
    line = getattr(element, "sourceline", None)
    return line if isinstance(line, int) else None


def expected_header(known: Known) -> dict[str, str]:
    """What BerichtCode, BerichtVersie and BerichtSubversie must say for this message."""
    return {
        "BerichtCode": known.type.code,
        "BerichtVersie": known.schema.versie or known.type.versie,
        "BerichtSubversie": known.schema.subversie or known.type.subversie,
    }


@functools.lru_cache(maxsize=256)
def _tags(namespace: str) -> dict[str, str]:
    return {name: f"{{{namespace}}}{name}" for name in ("Header", *_POSITION)}


class HeaderView:
    """The Header's fields of one message, found by position and tag (cheap), any structure tolerated.

    With a ``layout`` (fixed indexes proven by the schema, :func:`xsdshape.header_layout`) and a tree that
    passed that schema and holds elements only (:func:`safexml.parse` drops comments and processing
    instructions), fields at a fixed index are read without comparing tags.
    """

    __slots__ = ("_count", "_header", "_layout", "_tags")

    def __init__(self, root: etree._Element, namespace: str, layout: Mapping[str, int] | None = None) -> None:
        self._tags = _tags(namespace)
        self._layout = layout or {}
        index = self._layout.get("Header")
        if index is not None:
            header: etree._Element | None = root[index]
        else:
            header = root[0] if len(root) else None
            if header is not None and header.tag != self._tags["Header"]:
                header = next(root.iterchildren(self._tags["Header"]), None)
        self._header = header
        self._count = len(header) if header is not None and index is None else 0

    def get(self, name: str) -> etree._Element | None:
        """The first Header child of that name, or None."""
        header = self._header
        if header is None:
            return None
        index = self._layout.get("Header/" + name)
        if index is not None:
            return header[index]
        tag = self._tags[name]
        pos = _POSITION[name]
        if pos < self._count:
            element = header[pos]
            if element.tag == tag:
                return element
        return next(header.iterchildren(tag), None)

    def pair(self, name: str, first: str, second: str) -> dict[str, etree._Element]:
        """The children ``first`` and ``second`` of the Header child ``name`` (a CDT_BerichtIdentificatie)."""
        element = self.get(name)
        if element is None:
            return {}
        i, j = self._layout.get(f"Header/{name}/{first}"), self._layout.get(f"Header/{name}/{second}")
        if i is not None and j is not None:
            return {first: element[i], second: element[j]}
        return _pair(element, first, second)


def header_elements(
    root: etree._Element, namespace: str, layout: Mapping[str, int] | None = None
) -> HeaderView:
    """The Header of a parsed message, for :func:`code_errors` and :func:`read_header`."""
    return HeaderView(root, namespace, layout)


def code_errors(head: HeaderView, known: Known, expected: dict[str, str]) -> list[ErrorItem]:
    """IB240 items for each of BerichtCode/Versie/Subversie present and not agreeing with the namespace.
    Values are compared with surrounding whitespace stripped (whitespace alone is a schema matter)."""
    items: list[ErrorItem] = []
    for name in _AGREEMENT:
        element = head.get(name)
        if element is None:
            continue
        if (element.text or "").strip() != expected[name]:
            items.append(
                ErrorItem(
                    code=CODE_MISMATCH,
                    text=f"{name} does not match the message {known.type.name} "
                    f"of {known.type.standard} {known.type.release} (expected {expected[name]})",
                    line=_line(element),
                    path=f"/Bericht/Header/{name}",
                    rule=HEADER_RULES.get(name),
                )
            )
    return items


def _date(element: etree._Element | None, path: str) -> date | None:
    if element is None:
        return None
    try:
        return date.fromisoformat((element.text or "").strip())
    except ValueError:
        # xs:date allows years beyond 9999 or before 1; valid for the XSD, not representable here.
        raise SchemaInvalid(
            errors=[ErrorItem("StUF055", "Date outside the supported range", _line(element), path)]
        ) from None


def _pair(element: etree._Element | None, first: str, second: str) -> dict[str, etree._Element]:
    """The children ``first`` and ``second`` of a CDT_BerichtIdentificatie (usually at 0 and 1)."""
    if element is None:
        return {}
    if len(element) == 2:
        a, b = element[0], element[1]
        if str(a.tag).endswith("}" + first) and str(b.tag).endswith("}" + second):
            return {first: a, second: b}
    found: dict[str, etree._Element] = {}
    for child in element:
        found.setdefault(_local(child.tag), child)
    return found


def _missing(name: str, path: str) -> SchemaInvalid:
    # only for an installed release whose schema does not require a header element we route on
    return SchemaInvalid(errors=[ErrorItem("StUF055", f"Header element {name} is missing", None, path)])


def _text(element: etree._Element | None, name: str, path: str) -> str:
    if element is None:
        raise _missing(name, path)
    return element.text or ""


# Where read_header finds what it reads in a valid message whose schema fixes them all (xsdshape's layout):
# Header, its Afzender, Ontvanger, BerichtIdentificatie with its Identificatie and Dagtekening, the
# IdentificatieRetour and DagtekeningRetour (None: not in the schema), the DeclaratieIdentificatie and its
# Identificatie (None: not in the schema)
Plan = tuple[int, int, int, int, int, int, int | None, int | None, tuple[int, int] | None]
_DAGTEKENING = "/Bericht/Header/BerichtIdentificatie/Dagtekening"
_DAGTEKENING_RETOUR = "/Bericht/Header/DagtekeningRetour"


def fixed_plan(layout: Mapping[str, int], declared: frozenset[str]) -> Plan | None:
    """The indexes :func:`read_header` may read a valid message by (our own parse: elements only), or
    None when one of the fields it reads has no fixed index in the schema."""
    at = layout.get
    header = (at("Header"), at("Header/Afzender"), at("Header/Ontvanger"), at("Header/BerichtIdentificatie"))
    ident = (at("Header/BerichtIdentificatie/Identificatie"), at("Header/BerichtIdentificatie/Dagtekening"))
    retour = dagtekening_retour = None
    if "IdentificatieRetour" in declared:
        retour, dagtekening_retour = at("Header/IdentificatieRetour"), at("Header/DagtekeningRetour")
    declaratie = None
    if "DeclaratieIdentificatie" in declared:
        declaratie = (
            at("Header/DeclaratieIdentificatie"),
            at("Header/DeclaratieIdentificatie/Identificatie"),
        )
    h, afzender, ontvanger, bericht = header
    i, d = ident
    if None in (h, afzender, ontvanger, bericht, i, d):
        return None
    assert h is not None and afzender is not None and ontvanger is not None and bericht is not None
    assert i is not None and d is not None
    if "IdentificatieRetour" in declared and (retour is None or dagtekening_retour is None):
        return None
    if declaratie is not None:
        first, second = declaratie
        if first is None or second is None:
            return None
        return (h, afzender, ontvanger, bericht, i, d, retour, dagtekening_retour, (first, second))
    return (h, afzender, ontvanger, bericht, i, d, retour, dagtekening_retour, None)


def first_dagtekening(layout: Mapping[str, int]) -> bool:
    """Whether the Dagtekening a plan reads (``Header/BerichtIdentificatie/Dagtekening``) is, in every valid
    message, the first grandchild named Dagtekening of the root's first child under its first child named
    BerichtIdentificatie (names in any namespace): the schema fixes the Header at child 0, and every child
    before BerichtIdentificatie and before Dagtekening at a fixed index of its own, named otherwise."""

    def first(parent: str, name: str) -> bool:
        index = layout.get(f"{parent}/{name}")
        others = {
            i for key, i in layout.items() if key.rpartition("/")[0] == parent and key != f"{parent}/{name}"
        }
        return index is not None and others >= set(range(index))

    return (
        layout.get("Header") == 0
        and first("Header", "BerichtIdentificatie")
        and first("Header/BerichtIdentificatie", "Dagtekening")
    )


@functools.lru_cache(maxsize=256)
def _key_tags(namespace: str, declared: frozenset[str]) -> tuple[str | None, str | None]:
    """The tags of the ReferentieAanbieder and Bsn elements of a message type (None: not in its schema)."""
    return (
        f"{{{namespace}}}ReferentieAanbieder" if "ReferentieAanbieder" in declared else None,
        f"{{{namespace}}}Bsn" if "Bsn" in declared else None,
    )


def _keys(
    root: etree._Element, schema: MessageSchema, raw_bsns: list[str] | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The message's ReferentieAanbieder values and its client Bsns, each once, in document order; the
    text of every Bsn element as it is appended to ``raw_bsns`` (for the content rules' 11-proof)."""
    referentie, bsn = _key_tags(schema.namespace, schema.declared)
    referenties: dict[str, None] = {}
    if referentie is not None:  # (loops: a generator is one more frame per element)
        for element in root.iter(referentie):
            referenties[element.text or ""] = None
    bsns: dict[str, None] = {}
    if bsn is not None:  # Client/Bsn, the only Bsn element of iJw/iWmo 3.2 (one per client of a 323/325)
        for element in root.iter(bsn):
            text = element.text or ""
            bsns[text.strip()] = None
            if raw_bsns is not None:
                raw_bsns.append(text)
    return tuple(referenties), tuple(bsns)


def read_header(
    root: etree._Element,
    known: Known,
    head: HeaderView | None = None,
    plan: Plan | None = None,
    raw_bsns: list[str] | None = None,
) -> Header:
    """The frozen header of a message that passed its XSD (``head`` from :func:`header_elements`; with a
    ``plan`` from :func:`fixed_plan`, for our own parse of a message valid by that schema, by index); the
    text of every Bsn element of the message's namespace, as it is, appended to ``raw_bsns``."""
    if plan is not None:
        return _read_by_plan(root, known, plan, raw_bsns)
    schema = known.schema
    if head is None:
        head = HeaderView(root, schema.namespace)
    declared = schema.declared
    ident = head.pair("BerichtIdentificatie", "Identificatie", "Dagtekening")
    dagtekening = _date(ident.get("Dagtekening"), _DAGTEKENING)
    if dagtekening is None:
        raise _missing("Dagtekening", _DAGTEKENING)
    retour = head.get("IdentificatieRetour") if "IdentificatieRetour" in declared else None
    declaratie = (
        head.pair("DeclaratieIdentificatie", "Identificatie", "Dagtekening")
        if "DeclaratieIdentificatie" in declared
        else {}
    )
    referenties, bsns = _keys(root, schema, raw_bsns)
    return Header.of(
        known.type.standard,
        known.type.release,
        known.type.name,
        known.type.code,
        _text(head.get("Afzender"), "Afzender", "/Bericht/Header/Afzender"),
        _text(head.get("Ontvanger"), "Ontvanger", "/Bericht/Header/Ontvanger"),
        _text(
            ident.get("Identificatie"), "Identificatie", "/Bericht/Header/BerichtIdentificatie/Identificatie"
        ),
        dagtekening,
        (retour.text or "") if retour is not None else None,
        _date(head.get("DagtekeningRetour"), _DAGTEKENING_RETOUR) if retour is not None else None,
        referenties,
        (declaratie["Identificatie"].text or "") if "Identificatie" in declaratie else None,
        bsns,
    )


def _read_by_plan(
    root: etree._Element, known: Known, plan: Plan, raw_bsns: list[str] | None = None
) -> Header:
    """:func:`read_header` by the fixed indexes of a plan: the same value, without a lookup per field."""
    h, afzender, ontvanger, bericht, i, d, retour_at, dagtekening_retour, declaratie = plan
    header = root[h]
    ident = header[bericht]
    dagtekening = _date(ident[d], _DAGTEKENING)
    retour = header[retour_at] if retour_at is not None else None
    referenties, bsns = _keys(root, known.schema, raw_bsns)
    message = known.type
    return Header.of(
        message.standard,
        message.release,
        message.name,
        message.code,
        header[afzender].text or "",
        header[ontvanger].text or "",
        ident[i].text or "",
        dagtekening,
        (retour.text or "") if retour is not None else None,
        _date(header[dagtekening_retour], _DAGTEKENING_RETOUR)
        if retour is not None and dagtekening_retour is not None
        else None,
        referenties,
        (header[declaratie[0]][declaratie[1]].text or "") if declaratie is not None else None,
        bsns,
    )
