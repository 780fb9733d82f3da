"""The answers of the StUF-GGk interface: ``Bv03`` (acknowledgement) and ``Fo01`` (error), and reading them.

Both address the sender of the envelope they answer: their ``zender`` is the envelope's ``ontvanger``, their
``ontvanger`` the envelope's ``zender``, and their ``crossRefnummer`` the envelope's ``referentienummer``.
When the envelope could not be read that far, the gateway answers as ``GGK``/``GGk`` to the authenticated
party. Pure: no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from gateway.errors import GatewayError, NodeRole
from gateway.interfaces.foutcodes import details, omschrijving, plek
from gateway.interfaces.ids import echoable
from gateway.interfaces.stufenvelope import STUF_NS, Stuurgegevens, Systeem, stuf_name, stuurgegevens_of

GATEWAY_SYSTEM: Final = Systeem("GGK", "GGk")
UNKNOWN_APPLICATION: Final = "onbekend"
_NSMAP: Final = {"StUF": STUF_NS}


_s = stuf_name


def tijdstip(moment: datetime) -> str:
    """``yyyymmddhhmmssmmm``: the 17-digit StUF moment."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _systeem(parent: etree._Element, tag: str, system: Systeem) -> None:
    element = etree.SubElement(parent, _s(tag))
    etree.SubElement(element, _s("organisatie")).text = system.organisatie
    etree.SubElement(element, _s("applicatie")).text = system.applicatie
    if system.administratie:
        etree.SubElement(element, _s("administratie")).text = system.administratie
    if system.gebruiker:
        etree.SubElement(element, _s("gebruiker")).text = system.gebruiker


def _safe_system(system: Systeem | None, fallback: Systeem) -> Systeem:
    """A system from the envelope when its values are plain enough to repeat, else ``fallback``."""
    if system is None:
        return fallback
    organisatie = echoable(system.organisatie)
    applicatie = (
        system.applicatie if 3 <= len(system.applicatie) <= 50 and system.applicatie.isprintable() else None
    )
    if organisatie is None or applicatie is None:
        return fallback
    return Systeem(organisatie, applicatie)


@dataclass(frozen=True, slots=True)
class Addressing:
    """Who an answer goes to and what it answers."""

    zender: Systeem
    ontvanger: Systeem
    cross_refnummer: str

    @classmethod
    def answering(cls, sg: Stuurgegevens, caller: str | None) -> Addressing:
        """Answer the envelope whose stuurgegevens are ``sg`` (as far as readable), sent by ``caller``."""
        to_fallback = Systeem(caller or "onbekend", UNKNOWN_APPLICATION)
        return cls(
            zender=_safe_system(sg.ontvanger, GATEWAY_SYSTEM),
            ontvanger=_safe_system(sg.zender, to_fallback),
            cross_refnummer=echoable(sg.referentienummer) or "",
        )


def _head(root: etree._Element, code: str, to: Addressing, referentienummer: str, now: datetime) -> None:
    block = etree.SubElement(root, _s("stuurgegevens"))
    etree.SubElement(block, _s("berichtcode")).text = code
    _systeem(block, "zender", to.zender)
    _systeem(block, "ontvanger", to.ontvanger)
    etree.SubElement(block, _s("referentienummer")).text = referentienummer
    etree.SubElement(block, _s("tijdstipBericht")).text = tijdstip(now)
    etree.SubElement(block, _s("crossRefnummer")).text = to.cross_refnummer


def bv03_element(to: Addressing, now: datetime, referentienummer: str | None = None) -> etree._Element:
    root = etree.Element(_s("Bv03Bericht"), nsmap=_NSMAP)
    _head(root, "Bv03", to, referentienummer or str(uuid.uuid4()), now)
    return root


def fo01_element(
    exc: GatewayError, node: NodeRole, to: Addressing, now: datetime, referentienummer: str | None = None
) -> etree._Element:
    root = etree.Element(_s("Fo01Bericht"), nsmap=_NSMAP)
    _head(root, "Fo01", to, referentienummer or str(uuid.uuid4()), now)
    body = etree.SubElement(root, _s("body"))
    etree.SubElement(body, _s("code")).text = exc.code_for(node)
    etree.SubElement(body, _s("plek")).text = plek(exc)
    etree.SubElement(body, _s("omschrijving")).text = omschrijving(exc, node)
    etree.SubElement(body, _s("details")).text = details(exc, node)
    return root


def serialise(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True, slots=True)
class Answer:
    """A Bv03 or Fo01 as read back (tests, clients): its stuurgegevens and, for a Fo01, the fault."""

    berichtcode: str
    stuurgegevens: Stuurgegevens
    code: str | None = None
    plek: str | None = None
    omschrijving: str | None = None
    details: str | None = None


def read_answer(element: etree._Element) -> Answer:
    """Read a Bv03Bericht or Fo01Bericht element (not validated here: validate with the ggk0210 schema)."""
    sg = stuurgegevens_of(element)
    body = element.find(_s("body"))

    def text(tag: str) -> str | None:
        found = body.find(_s(tag)) if body is not None else None
        return found.text if found is not None else None

    return Answer(
        berichtcode=sg.berichtcode or etree.QName(element).localname[:4],
        stuurgegevens=sg,
        code=text("code"),
        plek=text("plek"),
        omschrijving=text("omschrijving"),
        details=text("details"),
    )
