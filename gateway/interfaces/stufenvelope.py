"""Reading a StUF-GGk ggk0210 envelope: ``Di01`` (heenbericht) or ``Du01`` (retourbericht).

:func:`read_envelope` takes a parsed element (the document root, or the child of a SOAP Body) and returns
an :class:`Envelope` or raises the chain's refusal: IB009 for a referentienummer or crossRefnummer that is
not a UUID v4 (checked before the schema, which pins the same pattern, so the specific code comes out),
StUF055 for anything else not conform the schema, a ``tijdstipBericht`` that is no real moment, or an
``xmlBestand`` that is not strict base64. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, cast

from lxml import etree

from gateway.errors import ErrorItem, ReferenceNotUuid, SchemaInvalid
from gateway.interfaces.encoding import decode_base64
from gateway.interfaces.errors import NotAnEnvelope
from gateway.interfaces.ids import is_uuid4
from gateway.interfaces.qnames import in_namespace
from gateway.standard.errortext import MAX_ERRORS, schema_errors

GGK_NS: Final = "http://www.stufstandaarden.nl/koppelvlak/ggk0210"
STUF_NS: Final = "http://www.egem.nl/StUF/StUF0301"
DI01: Final = f"{{{GGK_NS}}}envelopHeenbericht-ggk_Di01"
DU01: Final = f"{{{GGK_NS}}}envelopRetourbericht-ggk_Du01"
EnvelopeKind = Literal["Di01", "Du01"]
ROOTS: Final[dict[str, EnvelopeKind]] = {DI01: "Di01", DU01: "Du01"}

_TIJDSTIP_FORMATS: Final = {8: "%Y%m%d", 10: "%Y%m%d%H", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


stuf_name: Final = in_namespace(STUF_NS)  # an element name of StUF 3.01
ggk_name: Final = in_namespace(GGK_NS)  # an element name of the GGK envelope
_s, _g = stuf_name, ggk_name


@dataclass(frozen=True, slots=True)
class Systeem:
    """A sending or receiving system: organisation code (gemeentecode, AGB-code) and application name."""

    organisatie: str
    applicatie: str
    administratie: str | None = None
    gebruiker: str | None = None


@dataclass(frozen=True, slots=True)
class Stuurgegevens:
    """The stuurgegevens as far as they could be read, even from an envelope that is not schema-conform:
    enough to address a Fo01 to its sender. Every field may be missing."""

    berichtcode: str | None = None
    zender: Systeem | None = None
    ontvanger: Systeem | None = None
    referentienummer: str | None = None
    cross_refnummer: str | None = None
    tijdstip: str | None = None
    functie: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A schema-conform Di01 or Du01 with its decoded payload. The repr shows codes and ids, never the payload."""

    kind: EnvelopeKind
    zender: Systeem
    ontvanger: Systeem
    referentienummer: str
    tijdstip: datetime
    functie: str
    cross_refnummer: str | None
    functie_versie: str
    functie_subversie: str
    content: Literal["xml", "tekst"]
    payload: bytes = field(repr=False)
    bestandsnaam: str | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.payload)


def _text(parent: etree._Element | None, tag: str) -> str | None:
    if parent is None:
        return None
    found = parent.find(tag)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _systeem(element: etree._Element | None) -> Systeem | None:
    if element is None:
        return None
    organisatie = _text(element, _s("organisatie"))
    applicatie = _text(element, _s("applicatie"))
    if organisatie is None or applicatie is None:
        return None
    return Systeem(
        organisatie,
        applicatie,
        _text(element, _s("administratie")),
        _text(element, _s("gebruiker")),
    )


def stuurgegevens_of(element: etree._Element) -> Stuurgegevens:
    """Read the stuurgegevens of any StUF message tolerantly (any structure, nothing validated)."""
    block = element.find(_g("stuurgegevens"))
    if block is None:
        block = element.find(_s("stuurgegevens"))
    if block is None:
        return Stuurgegevens()
    return Stuurgegevens(
        berichtcode=_text(block, _s("berichtcode")),
        zender=_systeem(block.find(_s("zender"))),
        ontvanger=_systeem(block.find(_s("ontvanger"))),
        referentienummer=_text(block, _s("referentienummer")),
        cross_refnummer=_text(block, _s("crossRefnummer")),
        tijdstip=_text(block, _s("tijdstipBericht")),
        functie=_text(block, _s("functie")),
    )


def parse_tijdstip(value: str) -> datetime | None:
    """``yyyymmdd[hh[mm[ss[mmm]]]]`` as a (naive, local) moment, or None when it is no real moment."""
    if not value.isdigit():
        return None
    millis = 0
    if len(value) == 17:
        value, millis = value[:14], int(value[14:])
    fmt = _TIJDSTIP_FORMATS.get(len(value))
    if fmt is None:
        return None
    try:
        moment = datetime.strptime(value, fmt)
    except ValueError:
        return None
    return moment.replace(microsecond=millis * 1000)


def _block_path(kind: str, name: str) -> str:
    root = "envelopHeenbericht-ggk_Di01" if kind == "Di01" else "envelopRetourbericht-ggk_Du01"
    return f"/{root}/stuurgegevens/{name}"


def _reference_errors(kind: str, sg: Stuurgegevens) -> list[ErrorItem]:
    errors: list[ErrorItem] = []
    for name, value in (("referentienummer", sg.referentienummer), ("crossRefnummer", sg.cross_refnummer)):
        if value is not None and not is_uuid4(value):
            errors.append(
                ErrorItem(ReferenceNotUuid.code, f"{name} is not a UUID v4", path=_block_path(kind, name))
            )
    return errors


def read_envelope(element: etree._Element, schema: etree.XMLSchema) -> Envelope:
    """Check one Di01/Du01 element against the envelope rules and return it with its decoded payload."""
    kind = ROOTS.get(element.tag) if isinstance(element.tag, str) else None
    if kind is None:
        raise NotAnEnvelope("Not a StUF-GGk ggk0210 Di01 or Du01 envelope")
    sg = stuurgegevens_of(element)
    wrong_ids = _reference_errors(kind, sg)
    if wrong_ids:
        raise ReferenceNotUuid("The envelope's references must be UUID v4", errors=wrong_ids)
    if not schema(element):
        log = list(cast("Iterable[etree._LogEntry]", schema.error_log))
        found = schema_errors(log, SchemaInvalid.code, element, cap=MAX_ERRORS)
        raise SchemaInvalid(f"{kind} envelope does not conform to ggk0210: {len(log)} errors", errors=found)
    # a valid envelope has every mandatory field
    assert sg.zender and sg.ontvanger and sg.referentienummer and sg.tijdstip and sg.functie
    moment = parse_tijdstip(sg.tijdstip)
    if moment is None:
        raise SchemaInvalid(
            "tijdstipBericht is no real moment",
            errors=[
                ErrorItem(
                    SchemaInvalid.code, "not a real date and time", path=_block_path(kind, "tijdstipBericht")
                )
            ],
        )
    parameters = element.find(_g("parameters"))
    assert parameters is not None
    bericht = parameters.find(_g("bericht"))
    assert bericht is not None
    content_element = bericht[0]
    content: Literal["xml", "tekst"] = "xml" if content_element.tag == _g("xmlBestand") else "tekst"
    payload = decode_base64(content_element.text or "")
    if payload is None:
        path = (
            f"/{etree.QName(element).localname}/parameters/bericht/{etree.QName(content_element).localname}"
        )
        raise SchemaInvalid(
            "The payload is not valid base64",
            errors=[ErrorItem(SchemaInvalid.code, "not valid base64", path=path)],
        )
    return Envelope(
        kind=kind,
        zender=sg.zender,
        ontvanger=sg.ontvanger,
        referentienummer=sg.referentienummer,
        tijdstip=moment,
        functie=sg.functie,
        cross_refnummer=sg.cross_refnummer,
        functie_versie=_text(parameters, _g("functieVersie")) or "",
        functie_subversie=_text(parameters, _g("functieSubversie")) or "",
        content=content,
        payload=payload,
        bestandsnaam=content_element.get("bestandsnaam"),
    )
