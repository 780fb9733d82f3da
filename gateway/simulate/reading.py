"""What a simulated party reads in a message it received: which message, its header, and the few values
it needs to answer (ReferentieAanbieder, the declaration's number and total, the BSNs it checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from gateway.simulate.templates import Head
from gateway.standard.catalog import split_namespace
from gateway.standard.safexml import parse


@dataclass(frozen=True, slots=True)
class Read:
    """One received message as the simulated software understands it (safe to print: no BSNs shown)."""

    standard: str  # ijw, iwmo
    number: str  # 301, 316, ...
    head: Head
    identificatie_retour: str | None = None
    retour_codes: tuple[str, ...] = ()
    referenties: tuple[str, ...] = ()
    declaratie_nummer: str | None = None
    declaratie_identificatie: str | None = None  # a 325: the Identificatie of the 323 it answers
    totaal: int = 0
    debet_credit: str = "D"
    bsns: tuple[str, ...] = field(default=(), repr=False)

    @property
    def name(self) -> str:
        return ("JW" if self.standard == "ijw" else "WMO") + self.number

    @property
    def is_retour(self) -> bool:
        return self.identificatie_retour is not None


class Unreadable(ValueError):
    """Not a message the simulated software knows."""


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _first(root: etree._Element, name: str) -> str | None:
    for element in root.iter(f"{{*}}{name}"):
        return (element.text or "").strip()
    return None


def read(data: bytes) -> Read:
    """Read a standard message (parsed with the gateway's own safe parser)."""
    root = parse(data)
    found = split_namespace(etree.QName(root).namespace or "")
    if found is None or _local(root) != "Bericht":
        raise Unreadable("not an iStandaarden message")
    standard, _, name = found
    number = name[-3:]
    header = root[0]
    ident = header.find("{*}BerichtIdentificatie")
    if ident is None:
        raise Unreadable("no BerichtIdentificatie")
    head = Head(
        afzender=_first(header, "Afzender") or "",
        ontvanger=_first(header, "Ontvanger") or "",
        identificatie=_first(ident, "Identificatie") or "",
        dagtekening=date.fromisoformat(_first(ident, "Dagtekening") or "1970-01-01"),
    )
    header_codes = header.find("{*}RetourCodes")
    codes = () if header_codes is None else tuple((c.text or "").strip() for c in header_codes)
    totaal = root.find(".//{*}TotaalIngediendBedrag")
    declared = header.find("{*}DeclaratieIdentificatie")
    return Read(
        standard=standard,
        number=number,
        head=head,
        identificatie_retour=_first(header, "IdentificatieRetour"),
        retour_codes=codes,
        referenties=tuple(dict.fromkeys((e.text or "").strip() for e in root.iter("{*}ReferentieAanbieder"))),
        declaratie_nummer=_first(root, "DeclaratieNummer"),
        declaratie_identificatie=_first(declared, "Identificatie") if declared is not None else None,
        totaal=int(_first(totaal, "TotaalBedrag") or 0) if totaal is not None else 0,
        debet_credit=(_first(totaal, "DebetCredit") or "D") if totaal is not None else "D",
        bsns=tuple((e.text or "").strip() for e in root.iter("{*}Bsn")),
    )
