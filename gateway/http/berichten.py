"""``/v1/berichten``: submit a standard message, follow it in track & trace."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.errors import GatewayError
from gateway.http.contract import PARTY, answers, json_answer
from gateway.http.deps import Caller, NodeServices, Services, caller, is_operator, xml_body
from gateway.ops.trace import amqp_note
from gateway.security.receipts import Receipt

router = APIRouter(prefix="/v1/berichten", tags=["berichten"])


class NotFound(GatewayError):
    code, vecozo_code, status, reason = "GW404", "GW404", 404, "not-found"
    title = "No such message for this party"


XML_BODY = {
    "required": True,
    "description": "One iJw or iWmo standard message, UTF-8 without BOM, at most 25 MB.",
    "content": {
        "application/xml": {
            "schema": {"type": "string", "format": "binary"},
            "example": "<?xml version='1.0' encoding='UTF-8'?><WMO315 xmlns='http://www.istandaarden.nl/iwmo/3_2/wmo315/schema'>...</WMO315>",
        }
    },
}
_ACCEPTED_SCHEMA = {
    "type": "object",
    "required": ["trackingId", "conversationId", "message", "sender", "recipient", "receivedAt", "status"],
    "properties": {
        "trackingId": {"type": "string", "format": "uuid"},
        "conversationId": {"type": "string"},
        "message": {"type": "string", "description": "message type, e.g. WMO315"},
        "sender": {"type": "string", "description": "AGB-code or gemeentecode"},
        "recipient": {"type": "string"},
        "receivedAt": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["accepted"]},
        "duplicate": {"type": "boolean", "description": "the same bytes were accepted before: first answer"},
        "receipt": {"type": "object", "description": "the node's Ed25519 signature; keys at GET /v1/keys"},
    },
}
_ACCEPTED_EXAMPLE = {
    "trackingId": "2f9b3c1e-8a47-4d5e-9c1f-0b6a7e2d4c13",
    "conversationId": "2f9b3c1e-8a47-4d5e-9c1f-0b6a7e2d4c13",
    "message": "WMO315",
    "sender": "42420001",
    "recipient": "0384",
    "receivedAt": "2026-05-04T09:30:00+00:00",
    "status": "accepted",
    "duplicate": False,
}
_TRACE_SCHEMA = {
    "type": "object",
    "required": ["trackingId", "events"],
    "properties": {
        "trackingId": {"type": "string"},
        "message": {"type": "string"},
        "sender": {"type": "string"},
        "recipient": {"type": "string"},
        "status": {"type": "string"},
        "conversation": {"type": "array", "items": {"type": "object"}},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["event", "node", "at"],
                "properties": {
                    "event": {"type": "string"},
                    "node": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                    "detail": {"type": "object"},
                },
            },
        },
        "note": {
            "type": "string",
            "description": "what the trace cannot see: a read over AMQP on a node that does not trace them",
        },
    },
}
_TRACE_EXAMPLE = {
    "trackingId": _ACCEPTED_EXAMPLE["trackingId"],
    "message": "WMO315",
    "sender": "42420001",
    "recipient": "0384",
    "status": "accepted",
    "events": [{"event": "received", "node": "vecozo", "at": "2026-05-04T09:30:00+00:00", "detail": {}}],
}


@router.post(
    "",
    status_code=202,
    summary="Submit one standard message",
    **answers(
        400,
        401,
        403,
        409,
        413,
        415,
        422,
        429,
        503,
        security=PARTY,
        body=XML_BODY,
        ok={
            202: {
                **json_answer(
                    "Accepted: the broker confirmed the message", _ACCEPTED_SCHEMA, _ACCEPTED_EXAMPLE
                ),
                "headers": {"Location": {"schema": {"type": "string"}, "description": "its track & trace"}},
            }
        },
    ),
)
async def submit(request: Request, svc: Services, party: Caller) -> Response:
    # what the OpenAPI document shows; a node serves POST /v1/berichten through `take` (gateway.http.app)
    return await accept(request, svc, party)


async def take(request: Request) -> Response:
    """``POST /v1/berichten`` as the node serves it: the route above without the framework's dependency
    injection, body handling and response layers (a fifth of a node's CPU per message under load); the
    same checks in the same order (credential, rate limit, media type, size), the same answer."""
    svc: NodeServices = request.app.state.services
    return await accept(request, svc, await caller(request, svc))


async def accept(request: Request, svc: NodeServices, party: str) -> Response:
    data = await xml_body(request, svc.max_bytes)
    accepted = await svc.pipeline.submit(data, party)
    body: dict[str, Any] = {
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
    return _Accepted(_json(body), accepted.tracking_id)


class _Accepted(Response):
    """The 202 as ``Response(body, 202, media_type="application/json", headers={"Location": ...})`` makes
    it, the same headers in the same order, without working them out again for every message."""

    media_type = "application/json"

    def __init__(self, body: bytes, tracking_id: str) -> None:
        self.status_code = 202
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"location", f"/v1/berichten/{tracking_id}".encode("latin-1")),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]


# as Starlette's JSONResponse renders
_json_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _json(body: dict[str, Any]) -> bytes:
    return _json_encode(body).encode("utf-8")


@router.get(
    "/{tracking_id}",
    summary="Track & trace: one message's life and its conversation",
    **answers(
        401,
        404,
        429,
        security=PARTY,
        ok={200: json_answer("The message's record and events", _TRACE_SCHEMA, _TRACE_EXAMPLE)},
    ),
)
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
    note = amqp_note(events, traced=svc.amqp_reads_traced)
    if note is not None:
        out["note"] = note
    return out
