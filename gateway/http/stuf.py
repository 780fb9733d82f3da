"""StUF-GGk ggk0210 on the municipal node: ``Di01``/``Du01`` envelopes in, ``Bv03``/``Fo01`` out.

- ``POST /stuf/ggk0210``: the envelope itself as the body; the answer is a ``Bv03`` (200) or a ``Fo01``
  with the refusal's HTTP status;
- ``POST /soap/ggk0210``: the envelope as the SOAP 1.1 Body of the ``OntvangAsynchroon`` operations
  ``ggk_Di01``/``ggk_Du01`` (dispatched by the body element, the SOAPAction header is not needed); the
  answer is a ``Bv03`` in the SOAP Body (200) or a SOAP fault (500) whose detail is the ``Fo01``.

The envelope is read (:mod:`gateway.interfaces.stufenvelope`); its payload goes into the one pipeline with
what the envelope states (:func:`_facts`): the envelope rules (:mod:`gateway.interfaces.stufcheck`), the
``referentienummer`` claimed for the sender (IB216), the expectation of the payload (IB240). Also here: :func:`envelop_leased`, which the
HTTP mailbox calls to hand a municipality with ``delivery_format == "stuf"`` its messages as Di01/Du01.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
from datetime import UTC, datetime
from typing import Any, Final

import structlog
from fastapi import APIRouter, Request, Response
from lxml import etree

from gateway.errors import GatewayError, NodeRole, Rejection
from gateway.http.contract import PARTY
from gateway.http.deps import NodeServices, Services, caller, xml_body
from gateway.http.problems import refusal_headers
from gateway.interfaces import soap
from gateway.interfaces.errors import WrongNode
from gateway.interfaces.soap import MEDIA_TYPE, envelope_limit
from gateway.interfaces.stufanswer import Addressing, bv03_element, fo01_element, serialise
from gateway.interfaces.stufcheck import check_envelope, expectation
from gateway.interfaces.stufdelivery import envelop, is_retour, wrapping_for
from gateway.interfaces.stufenvelope import Envelope, Stuurgegevens, read_envelope, stuurgegevens_of
from gateway.interfaces.stufschema import stuf_schema
from gateway.interfaces.xmlparse import parse_envelope
from gateway.pipeline import ENVELOPED, THREAD_THRESHOLD, EnvelopeClaim, Facts
from gateway.ports import Leased

log = structlog.get_logger("gateway.http.stuf")
router = APIRouter(tags=["stuf-ggk"])

CLAIM_MESSAGE: Final = "ggk0210"  # the uniqueness key of a referentienummer: (zender, "ggk0210", ref)

_BODY = {
    "requestBody": {
        "required": True,
        "description": "A StUF-GGk ggk0210 Di01 or Du01 envelope (bare, or as the body of a SOAP 1.1 envelope).",
        "content": {
            "text/xml": {"schema": {"type": "string"}, "example": "<StUF:Di01Bericht>...</StUF:Di01Bericht>"},
            "application/xml": {"schema": {"type": "string"}},
        },
    }
}


def _read(data: bytes, in_soap: bool) -> tuple[Stuurgegevens, Envelope | Rejection]:
    """Parse and read the envelope (pure, may run in a worker thread): what was readable, and the result."""
    root = parse_envelope(data)
    element = soap.unwrap(root).body if in_soap else root
    sg = stuurgegevens_of(element)
    try:
        return sg, read_envelope(element, stuf_schema())
    except Rejection as exc:
        return sg, exc


def _facts(env: Envelope, max_bytes: int) -> Facts:
    """What the envelope states, for the pipeline to hold the carried message to."""
    zender, ontvanger = env.zender.organisatie, env.ontvanger.organisatie
    detail = {"interface": "stuf", "envelope": env.kind, "referentienummer": env.referentienummer}
    if env.cross_refnummer:
        detail["crossRefnummer"] = env.cross_refnummer
    return Facts(
        interface="stuf",
        sender=zender,
        recipient=ontvanger,
        rules=functools.partial(check_envelope, env),
        limit=max_bytes,
        expect=expectation(env),
        claim=EnvelopeClaim(
            standard="stuf-ggk",
            release="0210",
            message=CLAIM_MESSAGE,
            sender=zender,
            recipient=ontvanger,
            reference=env.referentienummer,
            sha256=hashlib.sha256(env.payload).hexdigest(),
            size=env.size,
            reused=f"{zender} already used this referentienummer for another message",
        ),
        trail=lambda _: detail,
    )


async def _handle(request: Request, svc: NodeServices, in_soap: bool) -> Response:
    now = datetime.now(UTC)
    sg = Stuurgegevens()
    party: str | None = None
    try:
        if svc.node != "ggk":
            raise WrongNode("StUF-GGk envelopes are accepted by the municipal node")
        party = await caller(request, svc)
        data = await xml_body(request, envelope_limit(svc.max_bytes))
        if len(data) > THREAD_THRESHOLD:
            sg, result = await asyncio.to_thread(_read, data, in_soap)
        else:
            sg, result = _read(data, in_soap)
        if isinstance(result, Rejection):
            raise result
        accepted = await svc.pipeline.submit(result.payload, party, _facts(result, svc.max_bytes))
    except GatewayError as exc:
        return _refused(exc, svc.node, Addressing.answering(sg, party), now, in_soap)
    answer = bv03_element(Addressing.answering(sg, party), now)
    headers = {"X-Tracking-Id": accepted.tracking_id, "X-Conversation-Id": accepted.conversation_id}
    content = soap.envelope(answer) if in_soap else serialise(answer)
    return Response(content, status_code=200, media_type=MEDIA_TYPE, headers=headers)


def _refused(exc: GatewayError, node: NodeRole, to: Addressing, now: datetime, in_soap: bool) -> Response:
    fo01 = fo01_element(exc, node, to, now)
    headers = refusal_headers(exc)
    if exc.tracking_id is not None:
        headers["X-Tracking-Id"] = exc.tracking_id
    if in_soap:
        client = not (exc.transient or exc.status >= 500)
        content = soap.fault(client, exc.detail, fo01)
        return Response(content, status_code=500, media_type=MEDIA_TYPE, headers=headers)
    return Response(serialise(fo01), status_code=exc.status, media_type=MEDIA_TYPE, headers=headers)


_XML = {"schema": {"type": "string"}}
_BV03 = "<StUF:Bv03Bericht xmlns:StUF='http://www.egem.nl/StUF/StUF0301'><StUF:stuurgegevens>...</StUF:stuurgegevens></StUF:Bv03Bericht>"
_FO01 = "<StUF:Fo01Bericht xmlns:StUF='http://www.egem.nl/StUF/StUF0301'><StUF:stuurgegevens>...</StUF:stuurgegevens><StUF:body><StUF:code>IB213</StUF:code>...</StUF:body></StUF:Fo01Bericht>"


def _xml(description: str, example: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"text/xml": {**_XML, "example": example}}, **extra}


_REFUSALS = {
    400: "Fo01 StUF055: unreadable or unsafe envelope; IB009 reference not a UUID v4",
    401: "Fo01 IB002: no valid credential (`WWW-Authenticate: Bearer`; a client certificate is accepted)",
    403: "Fo01 IB002/IB234: may not send for this party or this message type",
    409: "Fo01 IB216: referentienummer or message id already used with other content",
    413: "Fo01 IB007: larger than 25 MB",
    415: "Fo01 StUF055: not text/xml or application/xml",
    422: "Fo01: StUF055, IB210, IB213, IB240",
    429: "Fo01 IB103: too many requests from this party (Retry-After)",
    503: "Fo01 IB103: broker or database unavailable (Retry-After)",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _xml("Bv03: the carried message is accepted (the broker confirmed it)", _BV03),
    **{status: _xml(text, _FO01) for status, text in _REFUSALS.items()},
}
_SOAP_FAULT = (
    "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body><soap:Fault>"
    "<faultcode>soap:Client</faultcode><faultstring>...</faultstring><detail>" + _FO01 + "</detail>"
    "</soap:Fault></soap:Body></soap:Envelope>"
)
_SOAP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _xml(
        "SOAP 1.1 Body with the Bv03",
        "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>"
        + _BV03
        + "</soap:Body></soap:Envelope>",
    ),
    500: _xml("SOAP 1.1 fault (as SOAP over HTTP answers every fault) whose detail is the Fo01", _SOAP_FAULT),
}


@router.post(
    "/stuf/ggk0210",
    openapi_extra={**_BODY, "security": PARTY},
    responses=_RESPONSES,
    summary="Submit a StUF-GGk Di01/Du01 envelope; answer Bv03 or Fo01",
    response_class=Response,
)
async def stuf_envelope(request: Request, svc: Services) -> Response:
    return await _handle(request, svc, in_soap=False)


@router.post(
    "/soap/ggk0210",
    openapi_extra={**_BODY, "security": PARTY},
    responses=_SOAP_RESPONSES,
    response_class=Response,
    summary="OntvangAsynchroon ggk_Di01 / ggk_Du01 (SOAP 1.1); answer Bv03 or a fault with a Fo01",
)
async def soap_envelope(request: Request, svc: Services) -> Response:
    return await _handle(request, svc, in_soap=True)


# --- delivery in envelopes ------------------------------------------------------------------------------


async def _cross_refnummer(svc: NodeServices, item: Leased) -> str | None:
    """The referentienummer of the message a retour answers: its sender's own if it came in an
    envelope, else its tracking id (the referentienummer it was, or would have been, delivered under)."""
    record = await svc.tracking.record(item.tracking_id)
    if record is None or record.answers is None:
        return None
    for event in await svc.tracking.events(record.answers):
        if event.event == ENVELOPED and event.detail.get("referentienummer"):
            return event.detail["referentienummer"]
    return record.answers


async def envelop_leased(svc: NodeServices, party: str, leased: list[Leased]) -> list[Leased]:
    """``leased`` as ``party`` receives it: wrapped in Di01/Du01 envelopes when its delivery format is
    ``stuf``, else unchanged. The headers gain ``format``, ``envelope`` and the envelope's references."""
    if not leased:
        return leased
    participant = await svc.registry.participant(party)
    if participant is None or participant.delivery_format != "stuf":
        return leased
    out: list[Leased] = []
    for item in leased:
        cross = await _cross_refnummer(svc, item) if is_retour(item.headers) else None
        wrapping = wrapping_for(item.headers, item.tracking_id, cross)
        headers = {
            **item.headers,
            "format": "stuf",
            "envelope": wrapping.kind,
            "referentienummer": wrapping.referentienummer,
        }
        if wrapping.cross_refnummer is not None:
            headers["crossRefnummer"] = wrapping.cross_refnummer
        out.append(dataclasses.replace(item, body=envelop(wrapping, item.body), headers=headers))
    return out


def parse_answer(content: bytes) -> etree._Element:
    """The Bv03/Fo01 element of an answer, bare or inside a SOAP response or fault (tests, clients)."""
    root = parse_envelope(content)
    if root.tag != f"{{{soap.SOAP11}}}Envelope":
        return root
    body = root.find(f"{{{soap.SOAP11}}}Body")
    assert body is not None
    fault = body.find(f"{{{soap.SOAP11}}}Fault")
    if fault is not None:
        _, _, detail = soap.read_fault(root)
        assert detail is not None
        return detail
    return body[0]
