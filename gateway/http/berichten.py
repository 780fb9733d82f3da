"""``/v1/berichten``: submit a standard message, follow it in track & trace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.errors import GatewayError
from gateway.http.deps import Caller, Services, caller, is_operator, xml_body
from gateway.security.receipts import Receipt

router = APIRouter(prefix="/v1/berichten", tags=["berichten"])


class NotFound(GatewayError):
    code, vecozo_code, status, reason = "GW404", "GW404", 404, "not-found"
    title = "No such message for this party"


_XML_BODY = {
    "requestBody": {
        "required": True,
        "description": "One iJw or iWmo standard message, UTF-8 without BOM, at most 25 MB.",
        "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "",
    status_code=202,
    openapi_extra=_XML_BODY,
    summary="Submit one standard message",
    responses={
        202: {"description": "Accepted: the broker confirmed the message"},
        400: {"description": "Unsafe or malformed XML (problem+json)"},
        401: {"description": "No valid credential"},
        403: {"description": "Not authorised for this sending party or direction"},
        409: {"description": "Reference already used with other content (IB216/CC08)"},
        413: {"description": "Too large (IB007/CC03)"},
        415: {"description": "Not application/xml"},
        422: {"description": "Not a standard message, not schema-conform, unknown party"},
        503: {"description": "Broker unavailable: retry after the Retry-After seconds"},
    },
)
async def submit(request: Request, svc: Services, party: Caller) -> JSONResponse:
    data = await xml_body(request, svc.max_bytes)
    accepted = await svc.pipeline.submit(data, party)
    body = {
        "trackingId": accepted.tracking_id,
        "conversationId": accepted.conversation_id,
        "message": accepted.message,
        "sender": accepted.sender,
        "recipient": accepted.recipient,
        "receivedAt": accepted.received_at.isoformat(),
        "status": "accepted",
        "duplicate": accepted.duplicate,
    }
    if accepted.findings:  # warn mode: accepted, but these content rules of the standard are broken
        body["ruleFindings"] = [item.as_dict() for item in accepted.findings]
    if svc.receipts is not None:  # the node's signature over what it accepted; key at GET /v1/keys
        body["receipt"] = svc.receipts.sign(
            Receipt.of(
                tracking_id=accepted.tracking_id,
                sha256=accepted.sha256,
                sender=accepted.sender,
                recipient=accepted.recipient,
                message=accepted.message,
                received_at=accepted.received_at,
                node=svc.node,
            )
        )
    return JSONResponse(body, status_code=202, headers={"Location": f"/v1/berichten/{accepted.tracking_id}"})


@router.get("/{tracking_id}", summary="Track & trace: one message's life and its conversation")
async def trace(tracking_id: str, request: Request, svc: Services) -> dict[str, Any]:
    operator = is_operator(request, svc)
    party = "operator" if operator else await caller(request, svc)
    record = await svc.tracking.record(tracking_id)
    events = await svc.tracking.events(tracking_id)
    if record is not None:
        allowed = operator or party in (record.afzender, record.ontvanger, record.submitter)
    else:
        allowed = operator or any(e.detail.get("submitter") == party for e in events)
    if not allowed or (record is None and not events):
        raise NotFound(f"no message {tracking_id} visible to {party}")
    out: dict[str, Any] = {"trackingId": tracking_id}
    if record is not None:
        out.update(
            conversationId=record.conversation_id,
            standard=record.standard,
            release=record.release,
            message=record.message,
            sender=record.afzender,
            recipient=record.ontvanger,
            reference=record.reference,
            sha256=record.sha256,
            size=record.size,
            receivedAt=record.received_at.isoformat(),
            status=record.status,
            answers=record.answers,
        )
    if record is not None:
        # the conversation as this party may see it: the messages it sent or received
        members = await svc.tracking.conversation(record.conversation_id)
        out["conversation"] = [
            {
                "trackingId": m.tracking_id,
                "message": m.message,
                "sender": m.afzender,
                "recipient": m.ontvanger,
                "receivedAt": m.received_at.isoformat(),
                "answers": m.answers,
            }
            for m in members
            if m.status == "accepted" and (operator or party in (m.afzender, m.ontvanger, m.submitter))
        ]
    out["events"] = [
        {"event": e.event, "node": e.node, "at": e.at.isoformat(), "detail": dict(e.detail)} for e in events
    ]
    return out
