"""Reading the header: the IB240 agreement check and the frozen :class:`Header` value.

``code_errors`` runs *before* XSD validation and tolerates any structure: the official XSDs pin the
BerichtCode, BerichtVersie and BerichtSubversie by pattern, so a wrong code is also a schema error, but the
chain answers a code that does not match the message with IB240, so the sender gets IB240 (plus the schema
errors). ``read_header`` runs after validation succeeded and may rely on the structure.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.errors import ErrorItem, SchemaInvalid
from gateway.standard.classify import Known
from gateway.standard.header import Header

CODE_MISMATCH = "IB240"
_AGREEMENT = ("BerichtCode", "BerichtVersie", "BerichtSubversie")


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


def code_errors(root: etree._Element, known: Known, expected: dict[str, str]) -> list[ErrorItem]:
    """IB240 items for each of BerichtCode/Versie/Subversie present and not agreeing with the namespace.
    Values are compared with surrounding whitespace stripped (whitespace alone is a schema matter)."""
    ns = known.schema.namespace
    header = root.find(f"{{{ns}}}Header")
    if header is None:
        return []
    items: list[ErrorItem] = []
    for name in _AGREEMENT:
        element = header.find(f"{{{ns}}}{name}")
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


def _children(element: etree._Element | None) -> dict[str, etree._Element]:
    if element is None:
        return {}
    found: dict[str, etree._Element] = {}
    for child in element:
        found.setdefault(_local(child.tag), child)
    return found


def _missing(name: str, path: str) -> SchemaInvalid:
    # only for an installed release whose schema does not require a header element we route on
    return SchemaInvalid(errors=[ErrorItem("StUF055", f"Header element {name} is missing", None, path)])


def _text(found: dict[str, etree._Element], name: str, path: str) -> str:
    element = found.get(name)
    if element is None:
        raise _missing(name, path)
    return element.text or ""


def read_header(root: etree._Element, known: Known) -> Header:
    """The frozen header of a message that passed its XSD."""
    ns = known.schema.namespace
    head = _children(root.find(f"{{{ns}}}Header"))
    ident = _children(head.get("BerichtIdentificatie"))
    declaratie = _children(head.get("DeclaratieIdentificatie"))
    retour = head.get("IdentificatieRetour")
    referenties = dict.fromkeys(e.text or "" for e in root.iter(f"{{{ns}}}ReferentieAanbieder"))
    dagtekening = _date(ident.get("Dagtekening"), "/Bericht/Header/BerichtIdentificatie/Dagtekening")
    if dagtekening is None:
        raise _missing("Dagtekening", "/Bericht/Header/BerichtIdentificatie/Dagtekening")
    return Header(
        standard=known.type.standard,
        release=known.type.release,
        message=known.type.name,
        code=known.type.code,
        afzender=_text(head, "Afzender", "/Bericht/Header/Afzender"),
        ontvanger=_text(head, "Ontvanger", "/Bericht/Header/Ontvanger"),
        identificatie=_text(ident, "Identificatie", "/Bericht/Header/BerichtIdentificatie/Identificatie"),
        dagtekening=dagtekening,
        identificatie_retour=(retour.text or "") if retour is not None else None,
        dagtekening_retour=_date(head.get("DagtekeningRetour"), "/Bericht/Header/DagtekeningRetour"),
        referenties_aanbieder=tuple(referenties),
        declaratie_identificatie=(declaratie["Identificatie"].text or "")
        if "Identificatie" in declaratie
        else None,
    )
