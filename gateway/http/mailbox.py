"""``/v1/mailbox``: a participant reads its own mailbox over HTTP: lease a batch, ack each message.

The node remembers the leases it handed out (bounded, per process), so an ack of a lease it never issued
(or one already acknowledged) is told apart from an ack that came after the lease ended: 404 versus 410.
"""

from __future__ import annotations

import base64
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response

from gateway.errors import GatewayError
from gateway.http.contract import PARTY, answers, json_answer
from gateway.http.deps import Caller, Services
from gateway.http.stuf import envelop_leased
from gateway.ports import TrackingEvent

router = APIRouter(prefix="/v1/mailbox", tags=["mailbox"])


class LeaseGone(GatewayError):
    code, vecozo_code, status, reason = "GW410", "GW410", 410, "lease-gone"
    title = "Lease ended: the message went back to the mailbox and will be offered again"


class LeaseUnknown(GatewayError):
    code, vecozo_code, status, reason = "GW404", "GW404", 404, "lease-unknown"
    title = "No such lease: never handed out to this party by this node, or already acknowledged"


class LeaseBook:
    """The leases this process handed out and when they end, so an ack can say why it finds none."""

    KEPT = 100_000

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._ends: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._clock = clock

    def issued(self, party: str, lease_id: str, seconds: int) -> None:
        self._ends[(party, lease_id)] = self._clock() + seconds
        while len(self._ends) > self.KEPT:
            self._ends.popitem(last=False)

    def settle(self, party: str, lease_id: str) -> GatewayError:
        """Forget the lease; the refusal for an ack that found no message held under it."""
        ends = self._ends.pop((party, lease_id), None)
        if ends is None:
            return LeaseUnknown(
                f"lease {lease_id} was not handed out to {party} by this node, or was already acknowledged"
            )
        if self._clock() >= ends:
            return LeaseGone(f"lease {lease_id} expired; its message went back to the mailbox")
        return LeaseGone(f"lease {lease_id} ended early (broker channel lost); its message went back")

    def acked(self, party: str, lease_id: str) -> None:
        self._ends.pop((party, lease_id), None)


def lease_book(request: Request) -> LeaseBook:
    state = request.app.state
    if not hasattr(state, "leases"):
        state.leases = LeaseBook()
    book: LeaseBook = state.leases
    return book


class MailboxElsewhere(GatewayError):
    code, vecozo_code, status, reason = "GW404", "GW404", 404, "mailbox-elsewhere"
    title = "The caller's mailbox is not on this node"


async def _home_check(svc: Any, party: str) -> None:
    participant = await svc.registry.participant(party)
    if participant is None or participant.home_node != svc.node:
        home = participant.home_node if participant is not None else "no"
        raise MailboxElsewhere(f"the mailbox of {party} is on the {home} node, not on {svc.node}")


_BATCH_SCHEMA = {
    "type": "object",
    "required": ["leaseSeconds", "messages"],
    "properties": {
        "leaseSeconds": {"type": "integer"},
        "messages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["leaseId", "trackingId", "headers", "body"],
                "properties": {
                    "leaseId": {"type": "string"},
                    "trackingId": {"type": "string"},
                    "conversationId": {"type": ["string", "null"]},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "redelivered": {"type": "boolean"},
                    "contentType": {"type": "string"},
                    "body": {"type": "string", "format": "byte", "description": "the message, base64"},
                },
            },
        },
    },
}
_BATCH_EXAMPLE = {
    "leaseSeconds": 60,
    "messages": [
        {
            "leaseId": "5d0c2f6a9b7e4c1d8a3f2e1b0c9d8e7f",
            "trackingId": "2f9b3c1e-8a47-4d5e-9c1f-0b6a7e2d4c13",
            "conversationId": "2f9b3c1e-8a47-4d5e-9c1f-0b6a7e2d4c13",
            "headers": {"message": "WMO315", "afzender": "42420001", "ontvanger": "0384"},
            "redelivered": False,
            "contentType": "application/xml",
            "body": "PD94bWwgdmVyc2lvbj0nMS4wJz8+Li4u",
        }
    ],
}


@router.get(
    "",
    summary="Lease up to `max` messages from the caller's mailbox",
    **answers(
        400,
        401,
        404,
        429,
        503,
        security=PARTY,
        ok={200: json_answer("The leased messages (possibly none)", _BATCH_SCHEMA, _BATCH_EXAMPLE)},
    ),
)
async def lease(
    request: Request,
    svc: Services,
    party: Caller,
    max: int = Query(10, ge=1, le=100, description="messages to lease at most"),
    lease_seconds: int | None = Query(None, ge=5, le=3600, description="lease time; default from settings"),
) -> dict[str, Any]:
    seconds = lease_seconds or svc.lease_seconds
    await _home_check(svc, party)
    try:
        leased = await svc.reader.lease(svc.node, party, max, seconds)
    except LookupError:  # registered here, but its mailbox queue is gone: say so instead of a 500
        raise MailboxElsewhere(f"no mailbox for {party} on the {svc.node} node") from None
    leased = await envelop_leased(svc, party, leased)  # Di01/Du01 for a municipality receiving StUF
    now = datetime.now(UTC)
    book = lease_book(request)
    for item in leased:
        book.issued(party, item.lease_id, seconds)
        await svc.tracking.add_event(
            TrackingEvent(item.tracking_id, "fetched", svc.node, now, {"by": party, "via": "http"})
        )
    return {
        "leaseSeconds": seconds,
        "messages": [
            {
                "leaseId": item.lease_id,
                "trackingId": item.tracking_id,
                "conversationId": item.conversation_id,
                "headers": dict(item.headers),
                "redelivered": item.redelivered,
                "contentType": "application/xml",
                "body": base64.b64encode(item.body).decode("ascii"),
            }
            for item in leased
        ],
    }


@router.post(
    "/{lease_id}/ack",
    status_code=204,
    summary="Acknowledge a leased message: it leaves the mailbox",
    **answers(401, 404, 410, 429, 503, security=PARTY, ok={204: {"description": "Acknowledged"}}),
)
async def ack(
    request: Request,
    svc: Services,
    party: Caller,
    lease_id: str = Path(description="from the lease", examples=["5d0c2f6a9b7e4c1d8a3f2e1b0c9d8e7f"]),
) -> Response:
    tracking_id = await svc.reader.ack(svc.node, party, lease_id)
    book = lease_book(request)
    if tracking_id is None:
        raise book.settle(party, lease_id)
    book.acked(party, lease_id)
    await svc.tracking.add_event(
        TrackingEvent(tracking_id, "acked", svc.node, datetime.now(UTC), {"by": party, "via": "http"})
    )
    return Response(status_code=204)
