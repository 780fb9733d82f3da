"""VECOZO's retention on the REST data: a payload 24 hours after its first download, the rest 2 months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.db.koppelingmemory import MemoryKoppeling
from gateway.koppeling.service import Koppeling, KoppelingSettings
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
