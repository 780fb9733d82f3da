"""VECOZO-style submission on the provider node: ``POST /soap/vsp``, SOAP 1.1 ``IndienenBericht``.

The routing header and the ZIP are read (:mod:`gateway.interfaces.vsp`, :mod:`gateway.interfaces.ziparchive`);
then the messages of the archive go into the one pipeline with what the routing header states
(:func:`_facts`): every message is judged and routed *before* any is published, so a refused archive
delivers nothing; the ``TraceerId`` is claimed for the sender (reused with another archive: CC08); then
each message is published in turn. The
answer is ``IndienenBerichtResponse`` with a tracking id per message, or a SOAP fault (500) whose detail
``vsp:Fout`` carries the chain code.

What only the publishing can find (the broker down half-way) may leave the first messages of an archive
accepted: the fault then names the message that failed, and sending the same archive again with the same
``TraceerId`` answers the accepted ones as duplicates and submits the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Final

from fastapi import APIRouter, Request, Response

from gateway.errors import GatewayError, NodeRole, TooLarge, Unavailable
from gateway.http.contract import PARTY
from gateway.http.deps import NodeServices, Services, caller, xml_body
from gateway.interfaces import soap
from gateway.interfaces.errors import WrongNode
from gateway.interfaces.soap import MEDIA_TYPE, envelope_limit
from gateway.interfaces.vsp import (
    Routering,
    Submitted,
    check_routing,
    fout,
    read_bestand,
    read_routering,
    response,
)
from gateway.interfaces.xmlparse import parse_envelope
from gateway.interfaces.ziparchive import Entry, ZipLimits, read_zip
from gateway.pipeline import THREAD_THRESHOLD, EnvelopeClaim, Facts, Read

router = APIRouter(tags=["vsp"])

CLAIM_MESSAGE: Final = "vsp"  # the uniqueness key of a TraceerId: (AGB-code, "vsp", TraceerId)

_ENVELOPE = "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>{}</soap:Body></soap:Envelope>"
_BODY = {
    "requestBody": {
        "required": True,
        "description": "SOAP 1.1 envelope: vsp:Routering header, vsp:IndienenBericht body with a base64 ZIP.",
        "content": {
            "text/xml": {
                "schema": {"type": "string"},
                "example": _ENVELOPE.format("<vsp:IndienenBericht>...</vsp:IndienenBericht>"),
            }
        },
    }
}


class _At(Exception):
    """A refusal of one message of the archive, with its position."""

    def __init__(self, exc: GatewayError, volgnummer: int) -> None:
        super().__init__(exc.detail)
        self.exc = exc
        self.volgnummer = volgnummer


def _read(data: bytes) -> tuple[Routering, bytes]:
    request = soap.unwrap(parse_envelope(data))
    return read_routering(request.headers), read_bestand(request.body)


def _facts(routering: Routering, archive: bytes, entries: Sequence[Entry]) -> Facts:
    """What the routing header states, for the pipeline to hold every message of the archive to."""

    def agree(reads: Sequence[Read]) -> None:
        check_routing(routering, [(r.header, r.who.sender, r.who.recipient) for r in reads])

    def trail(position: int) -> dict[str, str]:
        return {
            "interface": "vsp",
            "traceerId": routering.traceer_id,
            "conversatieId": routering.conversatie_id,
            "volgnummer": str(entries[position].index),
        }

    return Facts(
        interface="vsp",
        sender=routering.agb_code,
        agree=agree,
        whole=True,
        claim=EnvelopeClaim(
            standard="vsp",
            release="1",
            message=CLAIM_MESSAGE,
            sender=routering.agb_code,
            recipient=routering.geadresseerden[0],
            reference=routering.traceer_id,
            sha256=hashlib.sha256(archive).hexdigest(),
            size=len(archive),
            reused=f"{routering.agb_code} already used this TraceerId for another archive",
        ),
        trail=trail,
    )


async def _indienen(request: Request, svc: NodeServices) -> tuple[Routering, list[Submitted]]:
    if svc.node != "vecozo":
        raise WrongNode("IndienenBericht is accepted by the provider node")
    party = await caller(request, svc)
    data = await xml_body(request, envelope_limit(svc.max_bytes))
    routering, archive = await asyncio.to_thread(_read, data) if len(data) > THREAD_THRESHOLD else _read(data)
    if len(archive) > svc.max_bytes:
        raise TooLarge(f"the ZIP archive is {len(archive)} bytes; the limit is {svc.max_bytes} bytes")
    limits = ZipLimits(max_entry=svc.max_bytes, max_total=svc.max_bytes)
    entries = (
        await asyncio.to_thread(read_zip, archive, limits)
        if len(archive) > THREAD_THRESHOLD
        else read_zip(archive, limits)
    )
    verdict = await svc.pipeline.run([e.data for e in entries], party, _facts(routering, archive, entries))
    if verdict.refused is not None:
        if verdict.at is None:
            raise verdict.refused
        raise _At(verdict.refused, entries[verdict.at].index)
    submitted = [
        Submitted(
            entry.index,
            accepted.message,
            accepted.recipient,
            accepted.tracking_id,
            accepted.conversation_id,
            accepted.duplicate,
        )
        for entry, accepted in zip(entries, verdict.accepted, strict=True)
    ]
    return routering, submitted


@router.post(
    "/soap/vsp",
    openapi_extra={**_BODY, "security": PARTY},
    response_class=Response,
    responses={
        200: {
            "description": "SOAP Body with vsp:IndienenBerichtResponse",
            "content": {
                "text/xml": {
                    "schema": {"type": "string"},
                    "example": _ENVELOPE.format(
                        "<vsp:IndienenBerichtResponse>...</vsp:IndienenBerichtResponse>"
                    ),
                }
            },
        },
        500: {
            "description": "SOAP 1.1 fault (as SOAP over HTTP answers every fault) whose detail vsp:Fout "
            "carries the chain code",
            "content": {
                "text/xml": {
                    "schema": {"type": "string"},
                    "example": _ENVELOPE.format(
                        "<soap:Fault><detail><vsp:Fout>...</vsp:Fout></detail></soap:Fault>"
                    ),
                }
            },
        },
    },
    summary="IndienenBericht (SOAP 1.1): a base64 ZIP of messages with routing in the SOAP header",
)
async def indienen_bericht(request: Request, svc: Services) -> Response:
    try:
        routering, submitted = await _indienen(request, svc)
    except _At as at:
        return _fault(at.exc, svc.node, at.volgnummer)
    except GatewayError as exc:
        return _fault(exc, svc.node, None)
    return Response(soap.envelope(response(routering, submitted)), status_code=200, media_type=MEDIA_TYPE)


def _fault(exc: GatewayError, node: NodeRole, volgnummer: int | None) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else {}
    client = not (exc.transient or exc.status >= 500)
    content = soap.fault(client, exc.detail, fout(exc, node, volgnummer=volgnummer))
    return Response(content, status_code=500, media_type=MEDIA_TYPE, headers=headers)
