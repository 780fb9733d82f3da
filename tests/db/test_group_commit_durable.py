"""The group commits: a lone claim and the writes after a publish are committed before they return, and so are
claims made together (adapters.db.batch)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.db import Database
from gateway.pipeline.pipeline import started_together
from gateway.ports import TrackingEvent
from tests.db.values import T0, record

RACERS = 20


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """A writer and a reader on separate engines of one database (as two processes would be)."""
    writer = await Database.connect(database_url)
    reader = await Database.connect(database_url)
    try:
        yield writer, reader
    finally:
        await writer.close()
        await reader.close()


async def test_a_lone_claim_and_its_confirm_are_committed_when_they_return(
    two: tuple[Database, Database],
) -> None:
    """Another engine reads a lone claim as soon as it returns, and the message accepted as soon as the writes
    after its publish return."""
    writer, reader = two
    r = record()
    claimed = await writer.tracking.claim(r)
    pending = await reader.tracking.record(r.tracking_id)
    await started_together(
        [
            writer.tracking.confirm(r.tracking_id, [TrackingEvent(r.tracking_id, "published", "ggk", T0)]),
            writer.tracking.add_referenties(r.tracking_id, "42420001", ("X1",)),
        ]
    )
    accepted = await reader.tracking.record(r.tracking_id)
    events = await reader.tracking.events(r.tracking_id)
    assert (claimed.outcome, getattr(pending, "status", None), getattr(accepted, "status", None)) == (
        "new",
        "pending",
        "accepted",
    )
    assert [e.event for e in events] == ["published"]


async def test_claims_made_together_are_each_committed_when_they_return(
    two: tuple[Database, Database],
) -> None:
    """Claims that overlap (written as one batch) are all readable elsewhere once they return."""
    writer, reader = two
    records = [record(f"ref-{i}") for i in range(RACERS)]
    claims = await asyncio.gather(*(writer.tracking.claim(r) for r in records))
    stored = [await reader.tracking.record(r.tracking_id) for r in records]
    assert ({c.outcome for c in claims}, [getattr(s, "status", None) for s in stored]) == (
        {"new"},
        ["pending"] * RACERS,
    )
