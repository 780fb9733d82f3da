"""Small factories for the store tests: codes, ids and hashes only."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.ports import MessageRecord, Participant, TrackingEvent

T0 = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
DAY = date(2025, 3, 1)


def gemeente(code: str = "0363", **changes: Any) -> Participant:
    p = Participant(
        code=code, kind="gemeente", name=f"Gemeente {code}", home_node="ggk", active_from=date(2015, 1, 1)
    )
    return replace(p, **changes)


def aanbieder(code: str = "42420001", **changes: Any) -> Participant:
    p = Participant(
        code=code,
        kind="aanbieder",
        name=f"Aanbieder {code}",
        home_node="vecozo",
        active_from=date(2015, 1, 1),
    )
    return replace(p, **changes)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def record(reference: str = "ref-1", **changes: Any) -> MessageRecord:
    """A pending JW301 from 0363 to 42420001 with its own tracking and conversation id."""
    r = MessageRecord(
        tracking_id=str(uuid.uuid4()),
        conversation_id=str(uuid.uuid4()),
        standard="ijw",
        release="3.2",
        message="JW301",
        afzender="0363",
        ontvanger="42420001",
        submitter="0363",
        reference=reference,
        identificatie=reference,
        sha256=sha("body"),
        size=3210,
        received_at=T0,
        status="pending",
    )
    return replace(r, **changes)


def later(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(tracking_id: str, name: str = "received", minutes: float = 0, **detail: str) -> TrackingEvent:
    return TrackingEvent(tracking_id, name, "ggk", later(minutes), detail)
