"""Track & trace for operators: find a message by tracking id or by sender + Identificatie, and show its
life (every event on both nodes) and the conversation it belongs to. Ids, codes and party codes only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.ports import MessageRecord, Tracking, TrackingEvent

# the order of a message's life, for display when two events carry the same time
LIFE = (
    "received",
    "refused",
    "routed",
    "published",
    "crossed-link",
    "in-mailbox",
    "fetched",
    "acked",
    "dead-lettered",
    "redriven",
    "discarded",
)


# python -m bench firehose (docs/security.md): broker CPU per message with the deliveries traced / without
FIREHOSE_COST = "1.5 times the CPU per message (383 against 260 µs)"
AMQP_NOTE = (
    "in-mailbox and not fetched over HTTP: a read over AMQP (the subscriber's own broker user) is not seen by "
    "this node, so the message may already have been read. Seeing it takes RabbitMQ's firehose "
    f"(GATEWAY_TRACE_AMQP_DELIVERIES=1), off here because it costs the broker {FIREHOSE_COST}; "
    "see docs/security.md"
)


def amqp_note(events: Iterable[TrackingEvent], *, traced: bool) -> str | None:
    """What the trace cannot tell: a message that reached its mailbox and was not fetched, on a node that
    does not trace AMQP deliveries (``traced`` False); None when there is nothing to say."""
    seen = {e.event for e in events}
    return AMQP_NOTE if not traced and "in-mailbox" in seen and "fetched" not in seen else None


class ConversationTracking(Tracking, Protocol):
    """The tracking store plus its conversation lookup (``adapters.db`` has both)."""

    async def conversation(self, conversation_id: str) -> list[MessageRecord]: ...


@dataclass(frozen=True, slots=True)
class Life:
    """One message: its record (None for a refused message), its events, its conversation."""

    tracking_id: str
    record: MessageRecord | None
    events: tuple[TrackingEvent, ...]
    conversation: tuple[MessageRecord, ...] = ()
    amqp_reads_traced: bool = False  # the node sees reads over AMQP (GATEWAY_TRACE_AMQP_DELIVERIES)

    def stage(self) -> str:
        """The furthest step reached."""
        seen = {e.event for e in self.events}
        for name in reversed(LIFE):
            if name in seen:
                return name
        return "unknown" if self.record is None else self.record.status

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trackingId": self.tracking_id, "stage": self.stage()}
        if self.record is not None:
            out["record"] = record_dict(self.record)
        out["events"] = [
            {"event": e.event, "node": e.node, "at": e.at.isoformat(), "detail": dict(e.detail)}
            for e in self.events
        ]
        out["conversation"] = [record_dict(r) for r in self.conversation]
        note = amqp_note(self.events, traced=self.amqp_reads_traced)
        if note is not None:
            out["note"] = note
        return out


def record_dict(r: MessageRecord) -> dict[str, Any]:
    return {
        "trackingId": r.tracking_id,
        "conversationId": r.conversation_id,
        "standard": r.standard,
        "message": r.message,
        "sender": r.afzender,
        "recipient": r.ontvanger,
        "submitter": r.submitter,
        "reference": r.reference,
        "identificatie": r.identificatie,
        "size": r.size,
        "receivedAt": r.received_at.isoformat(),
        "status": r.status,
        "answers": r.answers,
    }


class Tracer:
    """Lookups over the tracking store; ``messages`` are the catalogue names to try for a sender search."""

    def __init__(
        self, tracking: ConversationTracking, messages: Iterable[str], *, amqp_reads_traced: bool = False
    ) -> None:
        self.tracking = tracking
        self.messages = tuple(messages)
        self.amqp_reads_traced = amqp_reads_traced

    def __repr__(self) -> str:
        return f"Tracer(messages={len(self.messages)})"

    async def by_sender(self, sender: str, identificatie: str) -> list[MessageRecord]:
        """Every accepted message that ``sender`` sent with this Identificatie (any message type)."""
        found = []
        for name in self.messages:
            record = await self.tracking.find(sender, name, identificatie)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda r: r.received_at)

    async def life(self, tracking_id: str) -> Life | None:
        record = await self.tracking.record(tracking_id)
        events = await self.tracking.events(tracking_id)
        if record is None and not events:
            return None
        conversation: list[MessageRecord] = []
        if record is not None:
            conversation = await self.tracking.conversation(record.conversation_id)
        return Life(tracking_id, record, tuple(events), tuple(conversation), self.amqp_reads_traced)
