"""Tracking on SQLAlchemy: the uniqueness index, message records, lifecycle events, conversation lookups.

Implements ``gateway.ports.Tracking``. Uniqueness rests on the UNIQUE constraint over
(afzender, message, reference): a claim inserts first (``ON CONFLICT DO NOTHING``, which on PostgreSQL waits
for a concurrent insert of the same key to commit or roll back) and reads the winner afterwards, so
concurrent claims of one key resolve in the database, never by check-then-insert. Each of these statements
is atomic on its own, so they run in autocommit mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import tenacity
from sqlalchemy import Insert, Select, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db import aftergroup, pgwrite
from adapters.db.aftergroup import AfterPublish
from adapters.db.batch import Batcher
from adapters.db.claims import ClaimWriter
from adapters.db.connections import Connections
from adapters.db.schema import RETOUR_ONLY, events, messages
from adapters.db.schema import referenties as links
from gateway.ports import Claim, MessageRecord, TrackingEvent

# a claim still pending this long after it was made belongs to a process that died between claim and
# confirm/release (a live one settles within the broker's connect + confirm timeouts, 15 s by default);
# a later submission of the same key takes it over instead of being told to retry for ever: the same bytes
# resume under the old tracking id (a publish that did happen is then a redelivery the recipient drops),
# other bytes replace it
STALE_AFTER = timedelta(seconds=60)
_ATTEMPTS = 5

_FIELDS = tuple(MessageRecord.__dataclass_fields__)
# the kinds of row the after-publish batch carries
_KIND, _CONFIRM, _EVENT, _LINK = "_kind", "confirm", "event", "link"


@dataclass(frozen=True, slots=True)
class Purged:
    """How much :meth:`SqlTracking.purge_before` removed."""

    messages: int
    events: int


def record_row(record: MessageRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _FIELDS}


def _record(row: RowMapping) -> MessageRecord:
    return MessageRecord(**{name: row[name] for name in _FIELDS})


def _detail(detail: Mapping[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in detail.items()}


def _events(row: RowMapping) -> list[TrackingEvent]:
    """The events of one row: its own, then those it carries in ``more`` (see :func:`_event_rows`)."""
    tracking_id = row["tracking_id"]
    first = TrackingEvent(tracking_id, row["event"], row["node"], row["at"], _detail(row["detail"]))
    return [first] + [
        TrackingEvent(tracking_id, event, node, datetime.fromisoformat(at), _detail(detail))
        for event, node, at, detail in row["more"] or ()
    ]


def abandoned_at(received_at: datetime, stale_after: timedelta) -> datetime:
    """The receipt time an abandoned claim is given: old enough to be stale for any later submission."""
    return received_at - stale_after - timedelta(seconds=1)


def check_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("naive datetime: the tracking store needs timezone-aware datetimes")


def _event_row(event: TrackingEvent, more: list[list[Any]] | None = None) -> dict[str, Any]:
    check_aware(event.at)
    return {
        "tracking_id": event.tracking_id,
        "event": event.event,
        "node": event.node,
        "at": event.at,
        "detail": dict(event.detail),
        "more": more,
    }


def _event_rows(events: Sequence[TrackingEvent]) -> list[dict[str, Any]]:
    """The events of one hand-over as rows: one per message, its first event in the row's columns and the
    others, in order, in ``more`` as ``[event, node, at (ISO 8601, UTC), detail]``. An accepted message's
    three to six events are then one row (one heap tuple and two index entries) instead of one each; they
    read back as they were handed over (:func:`_events`). The retention purge takes a row by its first
    event's time, which for an accepted message is its receipt, as for its ``messages`` row."""
    by_message: dict[str, list[TrackingEvent]] = {}
    for event in events:
        check_aware(event.at)
        by_message.setdefault(event.tracking_id, []).append(event)
    return [
        _event_row(
            first, [[e.event, e.node, e.at.astimezone(UTC).isoformat(), dict(e.detail)] for e in rest] or None
        )
        for first, *rest in by_message.values()
    ]


class SqlTracking:
    """Message records and events in the database. Never the payload."""

    def __init__(self, connections: Connections, stale_after: timedelta = STALE_AFTER) -> None:
        self._db = connections
        self.stale_after = stale_after
        # confirms and events (several per message) are the most frequent writes: under load, concurrent
        # ones share one statement; each caller still returns only after its own row is committed
        # the writes after a publish (confirm, events, referenties) share one transaction per batch: at low
        # load one commit per message instead of one per row kind, under load one per batch
        self._after = Batcher(self._write_after)
        # PostgreSQL: those writes share one statement with the other stores' writes after a publish (the
        # privacy index, the audit trail), when they are wired to the same group (adapters.db.aftergroup)
        self.group = AfterPublish(connections) if connections.dialect == "postgresql" else None
        # claims too: concurrent new claims go in as one INSERT .. ON CONFLICT DO NOTHING RETURNING; a row
        # that was not inserted (its key exists) is then settled on its own, as before
        self._claims = ClaimWriter(connections, self._claim_statement, "tracking_id", pgwrite.claim)

    def __repr__(self) -> str:
        return f"SqlTracking(dialect={self._db.dialect!r})"

    def _insert(self) -> Any:
        if self._db.dialect == "postgresql":
            return postgresql.insert(messages)
        return sqlite.insert(messages)

    def _claim_statement(self, row: Mapping[str, Any] | None = None) -> Insert:
        stmt = self._insert() if row is None else self._insert().values(dict(row))
        return stmt.on_conflict_do_nothing(  # type: ignore[no-any-return]
            index_elements=["afzender", "message", "reference"]
        ).returning(messages.c.tracking_id)

    # --- gateway.ports.Tracking ---------------------------------------------------------------------

    async def claim(self, record: MessageRecord) -> Claim:
        check_aware(record.received_at)
        row = record_row(record)
        if await self._claims.add(row):
            return Claim("new")
        try:
            settled: Claim = await tenacity.AsyncRetrying(  # while the key changes under us
                retry=tenacity.retry_if_result(lambda found: found is None),
                stop=tenacity.stop_after_attempt(_ATTEMPTS),
                retry_error_callback=_unsettled,
            )(self._try_claim, row, record)
        except IntegrityError:  # not the uniqueness key (handled by ON CONFLICT): the tracking id
            raise ValueError(f"tracking id {record.tracking_id} is already in use") from None
        return settled

    async def _try_claim(self, row: Mapping[str, Any], record: MessageRecord) -> Claim | None:
        """One attempt, one atomic statement at a time; None when the key changed under us: try again."""
        key = (
            messages.c.afzender == record.afzender,
            messages.c.message == record.message,
            messages.c.reference == record.reference,
        )
        async with self._db.statement() as conn:
            inserted = (await conn.execute(self._claim_statement(row))).first()
            if inserted is not None:
                return Claim("new")
            # the conflicting row is committed (PostgreSQL waited for its transaction) and visible now
            found = (await conn.execute(select(messages).where(*key))).first()
            if found is None:
                return None  # released between our insert and our read
            previous = _record(found._mapping)
            if self._stale(previous, record):
                if previous.sha256 == record.sha256:
                    return await self._resume(conn, previous, record)
                await self._drop_pending(conn, previous.tracking_id)
                return None
            return Claim("same" if previous.sha256 == record.sha256 else "conflict", previous)

    @staticmethod
    async def _resume(conn: AsyncConnection, previous: MessageRecord, record: MessageRecord) -> Claim | None:
        """Take a stale claim of the same bytes over, keeping its tracking and conversation ids; None when
        another submission took it first (the caller reads the key again)."""
        done = await conn.execute(
            update(messages)
            .where(
                messages.c.tracking_id == previous.tracking_id,
                messages.c.status == "pending",
                messages.c.received_at == previous.received_at,
            )
            .values(received_at=record.received_at, submitter=record.submitter)
        )
        if done.rowcount != 1:
            return None
        return Claim("resumed", previous)

    def _stale(self, previous: MessageRecord, record: MessageRecord) -> bool:
        return previous.status == "pending" and record.received_at - previous.received_at > self.stale_after

    @staticmethod
    async def _drop_pending(conn: AsyncConnection, tracking_id: str) -> None:
        await conn.execute(
            delete(messages).where(messages.c.tracking_id == tracking_id, messages.c.status == "pending")
        )

    async def confirm(self, tracking_id: str, events: Sequence[TrackingEvent] = ()) -> None:
        # one hand-over of the confirm and the events: rows of one batch, no task or future per row kind
        rows = [(_CONFIRM, {"tracking_id": tracking_id}), *((_EVENT, row) for row in _event_rows(events))]
        if self.group is not None:
            await self.group.add_kinds(rows)
            return
        await self._after.add_many([{_KIND: kind, **row} for kind, row in rows])

    async def _write_after(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Confirms, events and referenties of a batch in one transaction: True for each row written. When
        the database refuses the batch for a referentie of no message (a foreign key), the rest is written
        without the referenties, which answer False and are written by their callers alone."""
        by_kind: dict[str, list[dict[str, Any]]] = {_CONFIRM: [], _EVENT: [], _LINK: []}
        for row in rows:
            by_kind[row[_KIND]].append({k: v for k, v in row.items() if k != _KIND})
        try:
            await self._write_kinds(by_kind)
        except (IntegrityError, pgwrite.ForeignKeyMissing):
            if not by_kind[_LINK]:
                raise
            await self._write_kinds({**by_kind, _LINK: []})
            return [row[_KIND] != _LINK for row in rows]
        return [True] * len(rows)

    async def _write_kinds(self, by_kind: dict[str, list[dict[str, Any]]]) -> None:
        if self._db.dialect == "postgresql":  # one statement, one round trip (adapters.db.pgwrite)
            async with self._db.statement() as conn:
                await pgwrite.after(
                    conn, [r["tracking_id"] for r in by_kind[_CONFIRM]], by_kind[_LINK], by_kind[_EVENT]
                )
            return
        async with self._db.transaction() as conn:
            if by_kind[_CONFIRM]:
                await conn.execute(self._confirm_statement([r["tracking_id"] for r in by_kind[_CONFIRM]]))
            if by_kind[_EVENT]:
                await conn.execute(events.insert(), by_kind[_EVENT])
            if by_kind[_LINK]:
                await conn.execute(self._links_statement(), by_kind[_LINK])

    @staticmethod
    def _confirm_statement(ids: list[str]) -> Any:
        return (
            update(messages)
            .where(messages.c.tracking_id.in_(ids), messages.c.status == "pending")
            .values(status="accepted")
        )

    async def abandon(self, record: MessageRecord) -> None:
        check_aware(record.received_at)
        async with self._db.statement() as conn:
            await conn.execute(
                update(messages)
                .where(messages.c.tracking_id == record.tracking_id, messages.c.status == "pending")
                .values(received_at=abandoned_at(record.received_at, self.stale_after))
            )

    async def release(self, tracking_id: str) -> None:
        async with self._db.statement() as conn:
            await self._drop_pending(conn, tracking_id)

    async def add_event(self, event: TrackingEvent) -> None:
        row = _event_row(event)
        if self.group is not None:
            await self.group.add(aftergroup.EVENT, row)
            return
        await self._after.add({_KIND: _EVENT, **row})

    async def record(self, tracking_id: str) -> MessageRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(messages).where(messages.c.tracking_id == tracking_id))).first()
        return None if row is None else _record(row._mapping)

    async def events(self, tracking_id: str) -> list[TrackingEvent]:
        query = select(events).where(events.c.tracking_id == tracking_id).order_by(events.c.id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [event for r in rows for event in _events(r._mapping)]

    async def find(
        self, afzender: str, message: str, identificatie: str, *, ontvanger: str | None = None
    ) -> MessageRecord | None:
        # the Identificatie is the message's own reference (the uniqueness key) or not (a retour: the partial
        # index, its predicate stated so that it is used); either way every message with this Identificatie
        key = (messages.c.afzender == afzender, messages.c.message == message)
        own = and_(*key, messages.c.reference == identificatie, messages.c.identificatie == identificatie)
        other = and_(*key, messages.c.identificatie == identificatie, text(RETOUR_ONLY))
        return await self._latest(
            select(messages).where(
                or_(own, other), *([] if ontvanger is None else [messages.c.ontvanger == ontvanger])
            )
        )

    async def find_by_referentie(
        self, aanbieder: str, referentie: str, *, ontvanger: str | None = None
    ) -> MessageRecord | None:
        return await self._latest(
            select(messages)
            .join(links, links.c.tracking_id == messages.c.tracking_id)
            .where(
                links.c.aanbieder == aanbieder,
                links.c.referentie == referentie,
                *([] if ontvanger is None else [messages.c.ontvanger == ontvanger]),
            )
        )

    async def _latest(self, query: Select[Any]) -> MessageRecord | None:
        """The newest accepted message the query finds."""
        query = (
            query.where(messages.c.status == "accepted")
            .order_by(messages.c.received_at.desc(), messages.c.tracking_id.desc())
            .limit(1)
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _record(row._mapping)

    async def add_referenties(self, tracking_id: str, aanbieder: str, referenties: tuple[str, ...]) -> None:
        if not referenties:
            return
        rows = [
            {"aanbieder": aanbieder, "referentie": r, "tracking_id": tracking_id}
            for r in dict.fromkeys(referenties)
        ]
        if self.group is not None:
            added = await self.group.add_many(aftergroup.LINK, rows)
        else:
            added = await self._after.add_many([{_KIND: _LINK, **row} for row in rows])
        if all(added):
            return
        try:  # the batch was refused as a whole: write this message's rows alone to find out why
            async with self._db.statement() as conn:
                await conn.execute(self._links_statement(), rows)
        except IntegrityError:
            raise ValueError(f"no message {tracking_id} to link referenties to") from None

    def _links_statement(self) -> Any:
        insert_ = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        return insert_(links).on_conflict_do_nothing()

    # --- beyond the port ----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every confirm and event handed in so far is written."""
        await self._claims.wait()
        await self._after.wait()
        if self.group is not None:  # nothing is being written: the kept connections go back to the pool
            await self.group.wait()
            await self.group.release()

    async def conversation(self, conversation_id: str) -> list[MessageRecord]:
        """Every message of one conversation, oldest first (pending claims included)."""
        query = (
            select(messages)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.received_at, messages.c.tracking_id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_record(r._mapping) for r in rows]

    async def purge_before(self, cutoff: datetime) -> Purged:
        """Forget messages received and events recorded before ``cutoff`` (retention)."""
        check_aware(cutoff)
        old_events = events.c.at < cutoff  # a row of several events: by its first (see _event_rows)
        carried = func.coalesce(func.sum(func.json_array_length(events.c.more)), 0)
        async with self._db.transaction() as conn:
            more = int((await conn.execute(select(carried).where(old_events))).scalar_one())
            gone_events = await conn.execute(delete(events).where(old_events))
            old = select(messages.c.tracking_id).where(messages.c.received_at < cutoff)
            await conn.execute(delete(links).where(links.c.tracking_id.in_(old)))
            gone = await conn.execute(delete(messages).where(messages.c.received_at < cutoff))
            return Purged(messages=int(gone.rowcount), events=int(gone_events.rowcount) + more)


def _unsettled(state: tenacity.RetryCallState) -> Claim:
    raise RuntimeError("claim did not settle; the uniqueness key keeps changing")
