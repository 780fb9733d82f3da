"""VECOZO-style submission on the provider node: SOAP 1.1 ``IndienenBericht`` with a base64 ZIP.

The SOAP header block ``vsp:Routering`` carries the routing (the sender's role and AGB-code, the
addressees, Berichttype ``JW``/``WMO``, one ``Berichtsubtype`` per message type in the archive, version and
subversion, a conversation id and a trace id, both UUID v4); the body ``vsp:IndienenBericht`` carries
``vsp:Bestand``, the base64 ZIP holding one or more messages. The routing must say exactly what the
messages say (:func:`check_routing`). The answer is ``vsp:IndienenBerichtResponse`` or a SOAP fault whose
detail ``vsp:Fout`` carries the chain code. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from lxml import etree

from gateway.errors import ErrorItem, GatewayError, NodeRole, ReferenceNotUuid, WrongDirection
from gateway.interfaces.encoding import decode_base64
from gateway.interfaces.errors import EnvelopeMismatch, NotAnEnvelope
from gateway.interfaces.foutcodes import details, omschrijving
from gateway.interfaces.ids import is_uuid4
from gateway.interfaces.qnames import in_namespace
from gateway.standard.header import Header

VSP_NS: Final = "urn:gegevensknooppunt:vsp:1"
SENDER_ROLE: Final = "Zorgaanbieder"
STANDARDS: Final = {"JW": "ijw", "WMO": "iwmo"}
_NSMAP: Final = {"vsp": VSP_NS}


_v: Final = in_namespace(VSP_NS)


@dataclass(frozen=True, slots=True)
class Routering:
    """The routing a provider's software states in the SOAP header (codes and ids only)."""

    rol: str
    agb_code: str
    geadresseerden: tuple[str, ...]
    berichttype: str
    berichtsubtypes: tuple[str, ...]
    versie: str
    subversie: str
    conversatie_id: str
    traceer_id: str


@dataclass(frozen=True, slots=True)
class Submitted:
    """One message of the archive once accepted: what the response lists for it."""

    volgnummer: int
    message: str
    recipient: str
    tracking_id: str
    conversation_id: str
    duplicate: bool = False


def _missing(name: str) -> NotAnEnvelope:
    path = f"/Envelope/Header/Routering/{name}"
    return NotAnEnvelope(
        f"The routing header lacks {name}", errors=[ErrorItem(NotAnEnvelope.code, "missing", path=path)]
    )


def _one(block: etree._Element, name: str) -> str:
    value = (block.findtext(_v(name)) or "").strip()
    if not value:
        raise _missing(name)
    return value


def _all(block: etree._Element, path: str, name: str) -> tuple[str, ...]:
    values = tuple(dict.fromkeys((e.text or "").strip() for e in block.iterfind(path)))
    if not values or "" in values:
        raise _missing(name)
    return values


def read_routering(headers: Sequence[etree._Element]) -> Routering:
    """The ``vsp:Routering`` header block, checked for presence, form and UUID v4 ids (CC02, CC04)."""
    block = next((h for h in headers if h.tag == _v("Routering")), None)
    if block is None:
        raise NotAnEnvelope("The SOAP header has no vsp:Routering block")
    afzender = block.find(_v("Afzender"))
    if afzender is None:
        raise _missing("Afzender")
    routering = Routering(
        rol=_one(afzender, "Rol"),
        agb_code=_one(afzender, "AgbCode"),
        geadresseerden=_all(block, f"{_v('Geadresseerden')}/{_v('Geadresseerde')}", "Geadresseerden"),
        berichttype=_one(block, "Berichttype"),
        berichtsubtypes=_all(block, _v("Berichtsubtype"), "Berichtsubtype"),
        versie=_one(block, "Versie"),
        subversie=_one(block, "Subversie"),
        conversatie_id=_one(block, "ConversatieId"),
        traceer_id=_one(block, "TraceerId"),
    )
    wrong = [
        n
        for n, v in (("ConversatieId", routering.conversatie_id), ("TraceerId", routering.traceer_id))
        if not is_uuid4(v)
    ]
    if wrong:
        items = [
            ErrorItem(ReferenceNotUuid.code, f"{n} is not a UUID v4", path=f"/Envelope/Header/Routering/{n}")
            for n in wrong
        ]
        raise ReferenceNotUuid("The routing ids must be UUID v4", errors=items)
    if routering.berichttype not in STANDARDS:
        raise NotAnEnvelope("Berichttype must be JW or WMO")
    if routering.rol != SENDER_ROLE:
        raise WrongDirection(f"only a {SENDER_ROLE} submits messages on the provider node")
    return routering


def read_bestand(body: etree._Element) -> bytes:
    """The ZIP archive in ``vsp:IndienenBericht/vsp:Bestand``, base64-decoded strictly."""
    if body.tag != _v("IndienenBericht"):
        raise NotAnEnvelope("The SOAP body is not a vsp:IndienenBericht")
    archive = decode_base64(body.findtext(_v("Bestand")))
    if archive is None:
        path = "/Envelope/Body/IndienenBericht/Bestand"
        raise NotAnEnvelope(
            "Bestand is missing or not valid base64",
            errors=[ErrorItem(NotAnEnvelope.code, "not valid base64", path=path)],
        )
    return archive


def check_routing(routering: Routering, messages: Sequence[tuple[Header, str, str]]) -> None:
    """The routing header must state what the messages say: (header, sender, recipient) per message."""
    standard = STANDARDS[routering.berichttype]
    if any(h.standard != standard for h, _, _ in messages):
        raise EnvelopeMismatch(f"Berichttype {routering.berichttype} does not match every message")
    if set(routering.berichtsubtypes) != {h.message for h, _, _ in messages}:
        raise EnvelopeMismatch("Berichtsubtype does not name exactly the message types in the archive")
    if any(h.release != f"{routering.versie}.{routering.subversie}" for h, _, _ in messages):
        raise EnvelopeMismatch("Versie and Subversie do not match the release of every message")
    if any(sender != routering.agb_code for _, sender, _ in messages):
        raise EnvelopeMismatch("The AGB-code in the routing header is not the sender of every message")
    if set(routering.geadresseerden) != {recipient for _, _, recipient in messages}:
        raise EnvelopeMismatch("Geadresseerden do not name exactly the receivers of the messages")


def response(routering: Routering, submitted: Sequence[Submitted]) -> etree._Element:
    """``vsp:IndienenBerichtResponse``: the ids of the submission and a tracking id per message."""
    root = etree.Element(_v("IndienenBerichtResponse"), nsmap=_NSMAP)
    etree.SubElement(root, _v("ConversatieId")).text = routering.conversatie_id
    etree.SubElement(root, _v("TraceerId")).text = routering.traceer_id
    berichten = etree.SubElement(root, _v("Berichten"))
    for item in submitted:
        bericht = etree.SubElement(berichten, _v("Bericht"), volgnummer=str(item.volgnummer))
        etree.SubElement(bericht, _v("Berichtsubtype")).text = item.message
        etree.SubElement(bericht, _v("Geadresseerde")).text = item.recipient
        etree.SubElement(bericht, _v("TrackingId")).text = item.tracking_id
        etree.SubElement(bericht, _v("ConversationId")).text = item.conversation_id
        etree.SubElement(bericht, _v("Duplicaat")).text = "true" if item.duplicate else "false"
    return root


def fout(
    exc: GatewayError, node: NodeRole, traceer_id: str | None = None, volgnummer: int | None = None
) -> etree._Element:
    """``vsp:Fout``, the detail of a SOAP fault: chain code, description, every error item."""
    root = etree.Element(_v("Fout"), nsmap=_NSMAP)
    etree.SubElement(root, _v("Code")).text = exc.code_for(node)
    etree.SubElement(root, _v("Omschrijving")).text = omschrijving(exc, node)
    etree.SubElement(root, _v("Details")).text = details(exc, node)
    if volgnummer is not None:
        etree.SubElement(root, _v("Volgnummer")).text = str(volgnummer)
    if traceer_id is not None:
        etree.SubElement(root, _v("TraceerId")).text = traceer_id
    if exc.tracking_id is not None:
        etree.SubElement(root, _v("TrackingId")).text = exc.tracking_id
    fouten = etree.SubElement(root, _v("Fouten"))
    for item in exc.errors:
        code = exc.code_for(node) if item.code == exc.code else item.code
        element = etree.SubElement(fouten, _v("Fout"), code=code)
        if item.line is not None:
            element.set("regel", str(item.line))
        if item.path is not None:
            element.set("pad", item.path)
        if item.rule is not None:
            element.set("regelcode", item.rule)
        if item.retourcode is not None:
            element.set("retourcode", item.retourcode)
        element.text = item.text
    return root
