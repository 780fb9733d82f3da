"""VECOZO-style submission on the provider node: ``POST /soap/vsp``, SOAP 1.1 ``IndienenBericht``.

The routing header and the ZIP are read and checked (:mod:`gateway.interfaces.vsp`,
:mod:`gateway.interfaces.ziparchive`); then every message of the archive is checked and its parties routed
*before* any is published, so a refused archive delivers nothing; the ``TraceerId`` is claimed for the
sender (reused with another archive: CC08); then each message goes through the same ingest as REST. The
answer is ``IndienenBerichtResponse`` with a tracking id per message, or a SOAP fault (500) whose detail
``vsp:Fout`` carries the chain code.

What only the publishing can find (the broker down half-way) may leave the first messages of an archive
accepted: the fault then names the message that failed, and sending the same archive again with the same
``TraceerId`` answers the accepted ones as duplicates and submits the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

from fastapi import APIRouter, Request, Response

from gateway.errors import GatewayError, NodeRole, NotUnique, TooLarge, Unavailable
from gateway.http.deps import NodeServices, Services, caller, xml_body
from gateway.http.stuf import ENVELOPED, MEDIA_TYPE, envelope_limit
from gateway.ingest import THREAD_THRESHOLD, Kind
from gateway.interfaces import soap
from gateway.interfaces.errors import WrongNode
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
from gateway.ports import MessageRecord, TrackingEvent
from gateway.routing import Parties, authorise, parties, route
from gateway.standard.header import Header

router = APIRouter(tags=["vsp"])

CLAIM_MESSAGE: Final = "vsp"  # the uniqueness key of a TraceerId: (AGB-code, "vsp", TraceerId)

_BODY = {
    "requestBody": {
        "required": True,
        "description": "SOAP 1.1 envelope: vsp:Routering header, vsp:IndienenBericht body with a base64 ZIP.",
        "content": {"text/xml": {"schema": {"type": "string"}}},
    }
}


@dataclass(frozen=True, slots=True)
class _Checked:
    entry: Entry
    header: Header
    kind: Kind
    who: Parties


class _At(Exception):
    """A refusal of one message of the archive, with its position."""

    def __init__(self, exc: GatewayError, volgnummer: int) -> None:
        super().__init__(exc.detail)
        self.exc = exc
        self.volgnummer = volgnummer


def _read(data: bytes) -> tuple[Routering, bytes]:
    request = soap.unwrap(parse_envelope(data))
    return read_routering(request.headers), read_bestand(request.body)


async def _check_all(svc: NodeServices, entries: Sequence[Entry]) -> list[_Checked]:
    checked: list[_Checked] = []
    for entry in entries:
        try:
            header = await svc.ingest.check(entry.data)
            kind = svc.ingest.checker.kind_of(header)
        except GatewayError as exc:
            raise _At(exc, entry.index) from None
        checked.append(_Checked(entry, header, kind, parties(header, kind)))
    return checked


async def _route_all(
    svc: NodeServices, party: str, routering: Routering, checked: list[_Checked], today: date
) -> None:
    """Authorise the caller for the sender, route every message (IB002, IB213, IB210, IB234, IB102), and
    find ids used twice in the archive or already used with other content (CC08)."""
    agb = routering.agb_code
    may = party == agb or await svc.registry.may_submit_for(party, agb, today)
    authorise(party, agb, may)
    sender = await svc.registry.participant(agb)
    seen: set[tuple[str, str]] = set()
    for item in checked:
        try:
            route(
                item.kind,
                item.who,
                sender,
                await svc.registry.participant(item.who.recipient),
                svc.node,
                today,
            )
            key = (item.header.message, item.header.reference)
            if key in seen:
                raise NotUnique(f"the archive holds two {item.header.message} with one reference")
            seen.add(key)
            if not item.header.is_retour:
                earlier = await svc.tracking.find(agb, item.header.message, item.header.identificatie)
                if earlier is not None and earlier.sha256 != hashlib.sha256(item.entry.data).hexdigest():
                    raise NotUnique(f"{agb} already sent a {item.header.message} with this reference")
        except GatewayError as exc:
            raise _At(exc, item.entry.index) from None


async def _claim(
    svc: NodeServices, party: str, routering: Routering, archive: bytes, now: datetime
) -> str | None:
    """Claim the TraceerId for the sender; the claim's id when it is new, None for the same archive again."""
    claim_id = str(uuid.uuid4())
    record = MessageRecord(
        tracking_id=claim_id,
        conversation_id=claim_id,
        standard="vsp",
        release="1",
        message=CLAIM_MESSAGE,
        afzender=routering.agb_code,
        ontvanger=routering.geadresseerden[0],
        submitter=party,
        reference=routering.traceer_id,
        identificatie=routering.traceer_id,
        sha256=hashlib.sha256(archive).hexdigest(),
        size=len(archive),
        received_at=now,
        status="pending",
    )
    claim = await svc.tracking.claim(record)
    if claim.outcome == "conflict":
        raise NotUnique(f"{routering.agb_code} already used this TraceerId for another archive")
    return claim.owned(claim_id)


async def _submit_all(
    svc: NodeServices,
    party: str,
    routering: Routering,
    checked: list[_Checked],
    claim_id: str | None,
    now: datetime,
) -> list[Submitted]:
    submitted: list[Submitted] = []
    try:
        for item in checked:
            try:
                accepted = await svc.ingest.submit(item.entry.data, party)
            except GatewayError as exc:
                raise _At(exc, item.entry.index) from None
            submitted.append(
                Submitted(
                    item.entry.index,
                    accepted.message,
                    accepted.recipient,
                    accepted.tracking_id,
                    accepted.conversation_id,
                    accepted.duplicate,
                )
            )
            if not accepted.duplicate:
                detail = {
                    "interface": "vsp",
                    "traceerId": routering.traceer_id,
                    "conversatieId": routering.conversatie_id,
                    "volgnummer": str(item.entry.index),
                }
                await svc.tracking.add_event(
                    TrackingEvent(accepted.tracking_id, ENVELOPED, svc.node, now, detail)
                )
    except _At:
        if claim_id is not None:
            # nothing accepted: the TraceerId is free again; something accepted: a retry must be the same
            await (svc.tracking.confirm(claim_id) if submitted else svc.tracking.release(claim_id))
        raise
    if claim_id is not None:
        await svc.tracking.confirm(claim_id)
    return submitted


async def _indienen(request: Request, svc: NodeServices, now: datetime) -> tuple[Routering, list[Submitted]]:
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
    checked = await _check_all(svc, entries)
    check_routing(routering, [(c.header, c.who.sender, c.who.recipient) for c in checked])
    await _route_all(svc, party, routering, checked, now.date())
    claim_id = await _claim(svc, party, routering, archive, now)
    return routering, await _submit_all(svc, party, routering, checked, claim_id, now)


@router.post(
    "/soap/vsp",
    openapi_extra=_BODY,
    responses={
        200: {"description": "SOAP Body with vsp:IndienenBerichtResponse"},
        500: {"description": "SOAP fault whose detail vsp:Fout carries the chain code"},
    },
    summary="IndienenBericht (SOAP 1.1): a base64 ZIP of messages with routing in the SOAP header",
)
async def indienen_bericht(request: Request, svc: Services) -> Response:
    now = datetime.now(UTC)
    try:
        routering, submitted = await _indienen(request, svc, now)
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
