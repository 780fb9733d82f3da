"""Delivering a mailbox message in a StUF-GGk envelope: ``Di01`` for a heenbericht, ``Du01`` for a retour.

The submitted bytes travel through the broker unchanged; a municipality whose ``delivery_format`` is
``stuf`` gets them wrapped when it reads its mailbox over HTTP. The payload inside ``xmlBestand`` is the
exact submitted bytes (base64), so its sha256 header still holds.

- ``referentienummer`` is the message's tracking id (a UUID v4), so the same message keeps its
  referentienummer however often it is leased, and a municipality's answering Du01 can name it;
- a retour's ``crossRefnummer`` is the ``referentienummer`` of the message it answers: the one its sender
  chose when that message came in through this interface, else that message's tracking id.

Pure: no I/O.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from gateway.interfaces.stufanswer import serialise, tijdstip
from gateway.interfaces.stufenvelope import (
    DI01,
    DU01,
    GGK_NS,
    STUF_NS,
    EnvelopeKind,
    Systeem,
    ggk_name,
    stuf_name,
)

_NSMAP: Final = {"StUF": STUF_NS, "GGK": GGK_NS}
GATEWAY_VERSIE: Final = ("0001", "0000")
APPLICATIONS: Final = {"ijw": "Jw Applicatie", "iwmo": "Wmo Applicatie"}


_s, _g = stuf_name, ggk_name


def versienr(part: str) -> str:
    """A release part (``3``) as a StUF Versienr (``0003``)."""
    return part.zfill(4)[-4:] if part.isdigit() else "0000"


@dataclass(frozen=True, slots=True)
class Wrapping:
    """How one mailbox message is to be enveloped, read from its headers (no payload)."""

    kind: EnvelopeKind
    functie: str
    functie_versie: str
    functie_subversie: str
    zender: Systeem
    ontvanger: Systeem
    referentienummer: str
    tijdstip: datetime
    cross_refnummer: str | None = None


def is_retour(headers: Mapping[str, str]) -> bool:
    """A retour travels to its header's Afzender: its actual sender is not the header's Afzender."""
    return headers.get("sender", "") != headers.get("afzender", "")


def wrapping_for(
    headers: Mapping[str, str], tracking_id: str, cross_refnummer: str | None = None
) -> Wrapping:
    """The wrapping of a mailbox message with these AMQP headers (``Delivery.amqp_headers``)."""
    retour = is_retour(headers)
    standard = headers.get("standard", "")
    major, _, minor = headers.get("release", "").partition(".")
    received = headers.get("received-at", "")
    try:
        moment = datetime.fromisoformat(received)
    except ValueError:
        moment = datetime(1970, 1, 1)
    return Wrapping(
        kind="Du01" if retour else "Di01",
        zender=Systeem(headers.get("sender", ""), "GGk"),
        ontvanger=Systeem(headers.get("recipient", ""), APPLICATIONS.get(standard, "GGk")),
        referentienummer=tracking_id,
        tijdstip=moment,
        functie=headers.get("message", ""),
        functie_versie=versienr(major),
        functie_subversie=versienr(minor),
        cross_refnummer=(cross_refnummer or tracking_id) if retour else None,
    )


def _systeem(parent: etree._Element, tag: str, system: Systeem) -> None:
    element = etree.SubElement(parent, _s(tag))
    etree.SubElement(element, _s("organisatie")).text = system.organisatie
    etree.SubElement(element, _s("applicatie")).text = system.applicatie


def envelop(wrapping: Wrapping, payload: bytes) -> bytes:
    """The Di01/Du01 document carrying ``payload`` byte-identical (base64) in ``xmlBestand``."""
    root = etree.Element(DU01 if wrapping.kind == "Du01" else DI01, nsmap=_NSMAP)
    block = etree.SubElement(root, _g("stuurgegevens"))
    etree.SubElement(block, _s("berichtcode")).text = wrapping.kind
    _systeem(block, "zender", wrapping.zender)
    _systeem(block, "ontvanger", wrapping.ontvanger)
    etree.SubElement(block, _s("referentienummer")).text = wrapping.referentienummer
    etree.SubElement(block, _s("tijdstipBericht")).text = tijdstip(wrapping.tijdstip)
    if wrapping.kind == "Du01":
        etree.SubElement(block, _s("crossRefnummer")).text = wrapping.cross_refnummer
    etree.SubElement(block, _s("functie")).text = wrapping.functie
    parameters = etree.SubElement(root, _g("parameters"))
    etree.SubElement(parameters, _g("applicatieVersie")).text = GATEWAY_VERSIE[0]
    etree.SubElement(parameters, _g("applicatieSubversie")).text = GATEWAY_VERSIE[1]
    etree.SubElement(parameters, _g("functieVersie")).text = wrapping.functie_versie
    etree.SubElement(parameters, _g("functieSubversie")).text = wrapping.functie_subversie
    bericht = etree.SubElement(parameters, _g("bericht"))
    etree.SubElement(bericht, _g("xmlBestand")).text = base64.b64encode(payload).decode("ascii")
    return serialise(root)
