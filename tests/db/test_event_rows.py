"""The events of one hand-over in one row (``events.more``, revision 0007): read back as handed over, purged
and counted as events, and a database of the revision before upgraded (and downgraded) with its events."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

from sqlalchemy import Connection, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.db import Database
from adapters.db import database_url as driver_url
from adapters.db.migrate import config
from adapters.db.schema import events
from gateway.ports import TrackingEvent
from tests.db.conftest import Store
from tests.db.values import T0, event, later, record


def _hand_over(tracking_id: str) -> list[TrackingEvent]:
    """What a publisher hands over for an accepted message put straight into the other node's mailbox."""
    elsewhere = timezone(timedelta(hours=2))
    return [
        event(tracking_id, "received", 0, message="JW301", sender="0363", submitter="0363"),
        event(tracking_id, "routed", 0, to="vecozo"),
        TrackingEvent(
            tracking_id, "published", "ggk", (T0 + timedelta(microseconds=1_700)).astimezone(elsewhere), {}
        ),
        TrackingEvent(tracking_id, "crossed-link", "vecozo", later(0.01), {"from": "ggk"}),
        TrackingEvent(tracking_id, "in-mailbox", "vecozo", later(0.01), {"mailbox": "42420001"}),
    ]


async def test_a_hand_over_reads_back_as_it_was_handed_over(store: Store) -> None:
    """The events of one confirm come back in order, each with its node, instant (in UTC) and detail, and
    events recorded later after them."""
    r = record()
    await store.tracking.claim(r)
    handed = _hand_over(r.tracking_id)
    await store.tracking.confirm(r.tracking_id, handed)
    fetched = event(r.tracking_id, "fetched", 5, by="42420001", via="http")
    await store.tracking.add_event(fetched)
    read = await store.tracking.events(r.tracking_id)
    assert [*handed, fetched] == read
    assert all(e.at.utcoffset() == timedelta(0) for e in read)


async def test_purge_counts_every_event_of_a_row(store: Store) -> None:
    """A purged row of five events counts five; a later message's events stay."""
    old, new = record("old"), record("new", received_at=later(60))
    for r, minutes in ((old, 0), (new, 60)):
        await store.tracking.claim(r)
        await store.tracking.confirm(
            r.tracking_id,
            [event(r.tracking_id, "received", minutes), *_hand_over(r.tracking_id)[1:]]
            if r is old
            else [event(r.tracking_id, "received", minutes)],
        )
    purged = await store.tracking.purge_before(later(30))
    assert ((1, 5), [], 1) == (
        (purged.messages, purged.events),
        await store.tracking.events(old.tracking_id),
        len(await store.tracking.events(new.tracking_id)),
    )


async def _rows(url: str, tracking_id: str) -> int:
    engine = create_async_engine(driver_url(url))
    try:
        async with engine.connect() as conn:
            query = select(func.count()).select_from(events).where(events.c.tracking_id == tracking_id)
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def test_an_accepted_message_s_events_are_one_row(database_url: str) -> None:
    """The five events of an accepted message are one row in ``events``."""
    db = await Database.connect(database_url)
    try:
        r = record()
        await db.tracking.claim(r)
        await db.tracking.confirm(r.tracking_id, _hand_over(r.tracking_id))
        await db.tracking.flush()
    finally:
        await db.close()
    assert 1 == await _rows(database_url, r.tracking_id)


async def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    from alembic import command

    def work(conn: Connection) -> None:
        (command.downgrade if down else command.upgrade)(config(conn), revision)

    engine = create_async_engine(driver_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(work)
    finally:
        await engine.dispose()


async def test_a_database_of_the_revision_before_keeps_its_events(database_url: str) -> None:
    """A 0006 database with events is upgraded: its events read as before, new ones are one row per hand-over;
    downgraded again, every event is a row of its own."""
    await _migrate(database_url, "0006")
    old = record("old")
    engine = create_async_engine(driver_url(database_url))
    try:
        async with engine.begin() as conn:
            values = {
                **{k: getattr(old, k) for k in ("tracking_id", "conversation_id", "standard", "release")}
            }
            await conn.execute(
                text(
                    "INSERT INTO messages (tracking_id, conversation_id, standard, release, message, afzender, "
                    "ontvanger, submitter, reference, identificatie, sha256, size, received_at, status) VALUES "
                    "(:tracking_id, :conversation_id, :standard, :release, 'JW301', '0363', '42420001', '0363', "
                    "'old', 'old', :sha, 1, :at, 'accepted')"
                ),
                {**values, "sha": old.sha256, "at": T0},
            )
            for name, detail in (("received", '{"sender":"0363"}'), ("published", "{}")):
                await conn.execute(
                    text(
                        "INSERT INTO events (tracking_id, event, node, at, detail) "
                        "VALUES (:t, :e, 'ggk', :at, :d)"
                    ),
                    {"t": old.tracking_id, "e": name, "at": T0, "d": detail},
                )
    finally:
        await engine.dispose()
    db = await Database.connect(database_url)  # upgrades to the newest revision
    try:
        before = await db.tracking.events(old.tracking_id)
        new = record("new")
        await db.tracking.claim(new)
        await db.tracking.confirm(new.tracking_id, _hand_over(new.tracking_id))
        await db.tracking.flush()
    finally:
        await db.close()
    assert [("received", {"sender": "0363"}), ("published", {})] == [(e.event, e.detail) for e in before]
    assert (2, 1) == (await _rows(database_url, old.tracking_id), await _rows(database_url, new.tracking_id))
    await _migrate(database_url, "0006", down=True)
    assert 5 == await _rows(database_url, new.tracking_id)
    assert T0.astimezone(UTC) == before[0].at
