"""VECOZO's retention on the REST data: a payload 24 hours after its first download, the rest (metadata,
status) 2 months."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from adapters.db.koppelingmemory import MemoryKoppeling
from adapters.db.memory import MemoryTracking
from gateway.koppeling.service import Koppeling, KoppelingSettings
from gateway.koppeling.statuses import Statuses
from gateway.ports import MessageRecord
from tests.db.test_koppeling_store import inboxed

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


async def test_payloads_go_a_day_after_download_and_messages_after_the_retention() -> None:
    """Downloaded 25 h ago: payload gone; 23 h ago: kept; never downloaded: kept; received 62 days ago: gone."""
    store = MemoryKoppeling()
    old, yesterday, today, waiting = (
        inboxed(at=NOW - timedelta(days=62)),
        inboxed(at=NOW - timedelta(days=2)),
        inboxed(at=NOW - timedelta(days=1)),
        inboxed(at=NOW - timedelta(days=3)),
    )
    await store.add_inboxed([old, yesterday, today, waiting])
    await store.payload(yesterday.party, yesterday.traceer_id, NOW - timedelta(hours=25))
    await store.payload(today.party, today.traceer_id, NOW - timedelta(hours=23))
    koppeling = Koppeling(
        push=None, pull=None, statuses=None, store=store, settings=KoppelingSettings(24, 61)
    )  # type: ignore[arg-type]
    purged = await koppeling.purge(NOW)
    assert (1, 1) == (purged.payloads, purged.inboxed)
    kept = {i.traceer_id for i in await store.ready(yesterday.party, 10)}
    assert {today.traceer_id, waiting.traceer_id} == kept


def _record(received_at: datetime) -> MessageRecord:
    tracking_id = str(uuid.uuid4())
    return MessageRecord(
        tracking_id, tracking_id, "iwmo", "3.2", "WMO301", "0384", "42420001", "0384",
        tracking_id, tracking_id, "c" * 64, 3, received_at, "accepted",
    )  # fmt: skip


async def test_no_status_of_a_message_older_than_the_retention() -> None:
    """A message received 62 days ago has no status any more, though track & trace keeps it longer (90
    days); one of 60 days ago still has."""
    tracking = MemoryTracking()
    old, kept = _record(NOW - timedelta(days=62)), _record(NOW - timedelta(days=60))
    for record in (old, kept):
        await tracking.claim(record)
        await tracking.confirm(record.tracking_id)
    statuses = Statuses(tracking, MemoryKoppeling(), timedelta(days=61), lambda: NOW)
    found = [await statuses.by_traceer("42420001", r.tracking_id) for r in (old, kept)]
    assert [0, 1] == [len(f) for f in found]
