"""PostgreSQL: the writes after a publish of the tracking store, the BSN index and the audit trail share one
statement and one commit (adapters.db.aftergroup)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from adapters.audit.sql import SqlAuditLog
from adapters.db import Database, pgwrite
from adapters.db.aftergroup import AfterPublish
from adapters.db.privacy import SqlPrivacyIndex
from adapters.db.tracking import record_row
from gateway.pipeline.pipeline import started_together
from gateway.ports import TrackingEvent
from gateway.privacy.index import Exchange
from gateway.security.audit import AuditEvent, ChainKey, verify
from tests.db.values import T0, record, sha

pytestmark = pytest.mark.postgres
KEY = ChainKey(b"k" * 32)


@dataclass
class Stores:
    db: Database
    group: AfterPublish
    index: SqlPrivacyIndex
    audit: SqlAuditLog


@pytest.fixture
async def stores(postgres_server: object) -> AsyncIterator[Stores]:
    url = postgres_server.new_database()  # type: ignore[attr-defined]
    db = await Database.connect(url)
    audit = SqlAuditLog(db.engine, KEY)
    await audit.create_schema()
    group = db.tracking.group
    assert group is not None
    group.chain(KEY)
    index = SqlPrivacyIndex(db.connections, group)
    try:
        yield Stores(db, group, index, audit)
    finally:
        await db.close()


def _decision(tracking_id: str) -> AuditEvent:
    return AuditEvent.routing(
        at=T0,
        actor="0363",
        decision="accepted",
        sender="0363",
        receiver="42420001",
        message="JW301",
        tracking_id=tracking_id,
        body_sha256=sha("body"),
    )


async def _after_publish(s: Stores, tracking_id: str) -> None:
    """What the pipeline starts together once the broker confirmed a message."""
    await started_together(
        [
            s.db.tracking.confirm(tracking_id),
            s.db.tracking.add_event(TrackingEvent(tracking_id, "received", "ggk", T0, {"message": "JW301"})),
            s.db.tracking.add_event(TrackingEvent(tracking_id, "published", "ggk", T0)),
            s.db.tracking.add_referenties(tracking_id, "0363", ("r-1",)),
            s.index.add([Exchange(sha("bsn"), tracking_id, "JW301", "0363", "42420001", T0)]),
            s.group.record(_decision(tracking_id)),
        ]
    )


async def _transactions(s: Stores, tracking_id: str) -> set[str]:
    """The ids of the transactions that wrote the message's rows after its claim (xmin of each row)."""
    async with s.db.engine.connect() as conn:
        found = set()
        for table in ("events", "referenties", "bsn_index", "audit"):
            rows = await conn.execute(
                text(f"SELECT xmin::text FROM {table} WHERE tracking_id = :t"), {"t": tracking_id}
            )
            found |= {r[0] for r in rows}
        confirmed = await conn.execute(
            text("SELECT xmin::text FROM messages WHERE tracking_id = :t AND status = 'accepted'"),
            {"t": tracking_id},
        )
        found |= {r[0] for r in confirmed}
    return found


async def test_a_lone_message_s_writes_after_the_publish_are_one_commit(stores: Stores) -> None:
    """Confirm, events, referenties, BSN row and audit entry of one message are written by one transaction."""
    r = record()
    assert (await stores.db.tracking.claim(r)).outcome == "new"
    await _after_publish(stores, r.tracking_id)
    assert len(await _transactions(stores, r.tracking_id)) == 1
    assert (await stores.db.tracking.record(r.tracking_id)).status == "accepted"  # type: ignore[union-attr]


async def test_the_chain_holds_when_another_writer_moved_its_head(stores: Stores) -> None:
    """An audit entry appended by another writer in between is followed, not overwritten: the chain verifies."""
    first, second = record("ref-1"), record("ref-2")
    for r in (first, second):
        await stores.db.tracking.claim(r)
    await _after_publish(stores, first.tracking_id)
    await stores.audit.append(_decision("elsewhere"))  # the head moves behind the group's back
    await _after_publish(stores, second.tracking_id)
    entries = await stores.audit.entries()
    assert [e.tracking_id for e in entries] == [first.tracking_id, "elsewhere", second.tracking_id]
    assert verify(entries, KEY, await stores.audit.head()) == []


async def test_a_referentie_of_no_message_fails_alone(stores: Stores) -> None:
    """A referentie naming no message is refused; the other writes of its batch are written."""
    r = record()
    await stores.db.tracking.claim(r)
    results = await asyncio.gather(
        stores.db.tracking.confirm(r.tracking_id),
        stores.db.tracking.add_referenties("no-such-message", "0363", ("r-9",)),
        stores.group.record(_decision(r.tracking_id)),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ValueError)
    assert [e.tracking_id for e in await stores.audit.entries()] == [r.tracking_id]


async def test_a_kept_writer_finds_its_rows_by_key_after_the_table_grew(stores: Stores) -> None:
    """The confirm's plan, made by the kept connection while ``messages`` was a few rows, still finds a batch's
    rows by their key once the table holds thousands (no sequential scan); the pool's next user plans as usual."""
    held = pgwrite.Held(stores.db.connections)
    few = [record(f"few-{i}") for i in range(8)]
    await pgwrite.claim(held, [record_row(r) for r in few])
    for r in few:  # asyncpg prepares once; PostgreSQL keeps a generic plan from the sixth execution on
        async with held.driver() as pg:
            await pg.execute(pgwrite.AFTER, *pgwrite.after_args([r.tracking_id], [], []))
    many = [record(f"many-{i}") for i in range(3000)]
    await pgwrite.claim(held, [record_row(r) for r in many])
    scans = "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'messages'"
    async with held.driver() as pg, pg.transaction():
        before = await pg.fetchval(scans)  # this backend's counts not yet reported
        await pg.execute(pgwrite.AFTER, *pgwrite.after_args([r.tracking_id for r in many[:8]], [], []))
        assert await pg.fetchval(scans) == before
    await held.release()
    async with stores.db.engine.connect() as conn:
        assert (await conn.execute(text("SHOW enable_seqscan"))).scalar_one() == "on"
