"""The REST store of the VSP-Koppeling on SQLAlchemy: pushes by traceerId and the providers' pull lists.

Implements :class:`gateway.koppeling.store.KoppelingStore` on the tables ``koppeling_pushes`` and
``koppeling_inbox`` (``adapters.db.schema``). A traceerId is claimed by an ``INSERT .. ON CONFLICT DO
NOTHING`` on the unique (traceer_id, afzender), so concurrent pushes of one traceerId resolve in the database;
a message put on a pull list twice (a redelivery from the mailbox) is inserted once the same way. A push is
written together with the pipeline's claim of its message (``claim_with``): concurrent ones share one
statement, on PostgreSQL one asyncpg statement whose first CTE inserts the pushes (``INSERT .. SELECT FROM
unnest(..)``, prepared once per connection, as the tracking store's own claims in ``adapters.db.pgwrite``)
and whose second inserts the messages of those that went in; on SQLite both inserts in one transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

import asyncpg
from sqlalchemy import JSON, Select, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from adapters.db import pgwrite
from adapters.db.batch import Batcher
from adapters.db.claims import ClaimWriter
from adapters.db.connections import Connections
from adapters.db.pgwrite import Held, columns_of, unnest_insert
from adapters.db.schema import ANSWERS_ONLY, JOINED_ONLY, MOVED_ONLY, UtcDateTime, messages
from adapters.db.schema import koppeling_inbox as inbox
from adapters.db.schema import koppeling_pushes as pushes
from adapters.db.tracking import check_aware, record_row
from gateway.koppeling.problems import Meld
from gateway.koppeling.store import (
    ClaimMessage,
    Filter,
    Inboxed,
    Purged,
    Pushed,
    Settled,
    TraceerIdTaken,
    claim_in_turn,
)
from gateway.koppeling.view import stated
from gateway.ports import Claim, MessageRecord

_PUSH_FIELDS = tuple(f for f in Pushed.__dataclass_fields__ if f not in ("meldingen", "routing"))
_INBOX_FIELDS = tuple(Inboxed.__dataclass_fields__)
_LISTED = [c for c in inbox.c if c.name != "payload"]
_CLAIM_COLUMNS: Final = tuple(pushes.columns.keys())
# a push written with its message's claim is pending, without meldingen: those are constants of the statement
_PENDING: Final = {"state": "'pending'", "meldingen": "'[]'::json"}
_PAIR_COLUMNS: Final = tuple(c for c in _CLAIM_COLUMNS if c not in (*_PENDING, "changed_at"))
_PUSH_TYPES: Final = {
    "received_at": "timestamptz",
    "changed_at": "timestamptz",
    "berichtstroom": "json",
    "meldingen": "json",
}
_compact = json.JSONEncoder(separators=(",", ":")).encode
_MESSAGE_COLUMNS: Final = ", ".join(pgwrite.CLAIM_COLUMNS)
# pushes and the claims of their messages: the message of a push whose traceerId is taken is not inserted;
# one row per push inserted, with its message's tracking id when that went in too (synchronous commit: a
# 204 follows only after the message's publish, and its claim must be durable by then, as every claim)
_PUSHED: Final = unnest_insert("koppeling_pushes", _PAIR_COLUMNS, _PUSH_TYPES).replace(
    ") SELECT * FROM", f", {', '.join(_PENDING)}) SELECT *, {', '.join(_PENDING.values())} FROM", 1
)
_PG_CLAIM_WITH: Final = f"""WITH pushed AS (
{_PUSHED}
ON CONFLICT (traceer_id, afzender) DO NOTHING RETURNING id
), claimed AS (
{unnest_insert("messages", pgwrite.CLAIM_COLUMNS, pgwrite.CLAIM_TYPES, len(_PAIR_COLUMNS) + 1)}
AS m({_MESSAGE_COLUMNS}) WHERE m.tracking_id IN (SELECT id FROM pushed)
ON CONFLICT (afzender, message, reference) DO NOTHING RETURNING tracking_id
)
SELECT pushed.id, claimed.tracking_id FROM pushed LEFT JOIN claimed ON claimed.tracking_id = pushed.id"""
# what the statement says of one push: both written; its traceerId taken (nothing written); the push
# written, not its message (the tracking store settles that claim); or the batch refused (each alone)
_NEW, _TAKEN, _MESSAGE, _ALONE = "new", "taken", "message", "alone"
_PUSH, _RECORD = "push", "record"


def _push_row(pushed: Pushed) -> dict[str, Any]:
    row = {name: getattr(pushed, name) for name in _PUSH_FIELDS}
    row["berichtstroom"] = dict(stated(pushed).get("berichtstroom", {}))  # of the routing, what is shown
    row["meldingen"] = [m.as_dict() for m in pushed.meldingen]
    return row


def _pushed(row: RowMapping) -> Pushed:
    values = {name: row[name] for name in _PUSH_FIELDS}
    melds = tuple(Meld(m["code"], m["omschrijving"], m.get("toelichting")) for m in row["meldingen"] or ())
    routing = {"routeringgegevens": {"berichtstroom": row["berichtstroom"]}}
    return Pushed(**values, routing=routing, meldingen=melds)


def _inboxed(row: RowMapping) -> Inboxed:
    return Inboxed(**{name: row[name] for name in _INBOX_FIELDS if name in row})


class SqlKoppeling:
    """The REST store in the node's database (same connections as the tracking store)."""

    def __init__(self, connections: Connections) -> None:
        self._db = connections
        # pushes under load: concurrent pushes with their messages' claims share one statement, concurrent
        # refusals one INSERT, concurrent settlements one UPDATE
        self._pairs = Batcher(self._write_pairs)
        self._claims = ClaimWriter(connections, self._claim_statement, "id")
        self._settles = Batcher(self._write_settles)
        # PostgreSQL: the pushes go in on a connection the batcher keeps (one batch at a time), not one
        # checked out of the pool per batch, which at low load (a batch per push) cost a push about 0.2 ms
        self._held = Held(connections, "the database") if connections.dialect == "postgresql" else None

    def __repr__(self) -> str:
        return f"SqlKoppeling(dialect={self._db.dialect!r})"

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert)(table)

    async def claim_with(self, pushed: Pushed, record: MessageRecord, claim: ClaimMessage) -> Claim:
        check_aware(pushed.received_at)
        check_aware(record.received_at)
        if record.tracking_id != pushed.id:
            raise ValueError("a push's message is claimed under the push's id")
        if pushed.state != "pending" or pushed.meldingen or pushed.changed_at is not None:
            raise ValueError("a push written with its message's claim is pending")
        found = await self._pairs.add({_PUSH: _push_row(pushed), _RECORD: record_row(record)})
        if found == _NEW:
            return Claim("new")
        if found == _MESSAGE:  # the push is written; the message's key is held: the tracking store says how
            return await claim(record)
        if found == _TAKEN:
            held = await self._holder(pushed)
            if held is not None:
                raise TraceerIdTaken(held)
        return await claim_in_turn(self, pushed, record, claim)  # alone, or released since: once more

    async def _write_pairs(self, rows: list[dict[str, Any]]) -> list[str]:
        """Pushes and their messages' claims of a batch in one statement (one transaction on SQLite)."""
        try:
            if self._held is not None:
                written = await _pg_claim_with(self._held, rows)
            else:
                async with self._db.transaction() as conn:
                    written = await self._sqlite_claim_with(conn, rows)
        except (IntegrityError, asyncpg.UniqueViolationError):  # an id in use: each alone finds out
            return [_ALONE] * len(rows)
        answers = []
        for row in rows:
            push_id = row[_PUSH]["id"]
            answers.append(_TAKEN if push_id not in written else _NEW if written[push_id] else _MESSAGE)
        return answers

    async def _sqlite_claim_with(self, conn: Any, rows: list[dict[str, Any]]) -> dict[str, bool]:
        inserted = {r[0] for r in await conn.execute(self._claim_statement(), [r[_PUSH] for r in rows])}
        records = [r[_RECORD] for r in rows if r[_PUSH]["id"] in inserted]
        claimed: set[str] = set()
        if records:
            stmt = (
                sqlite.insert(messages)
                .on_conflict_do_nothing(index_elements=["afzender", "message", "reference"])
                .returning(messages.c.tracking_id)
            )
            claimed = {r[0] for r in await conn.execute(stmt, records)}
        return {push_id: push_id in claimed for push_id in inserted}

    async def _holder(self, pushed: Pushed) -> Pushed | None:
        key = and_(pushes.c.traceer_id == pushed.traceer_id, pushes.c.afzender == pushed.afzender)
        async with self._db.read() as conn:
            found = (await conn.execute(select(pushes).where(key))).first()
        return None if found is None else _pushed(found._mapping)

    async def claim_push(self, pushed: Pushed) -> Pushed | None:
        check_aware(pushed.received_at)
        row = _push_row(pushed)
        if await self._claims.add(row):
            return None
        async with self._db.statement() as conn:
            if (await conn.execute(self._claim_statement().values(row))).first() is not None:
                return None
        found = await self._holder(pushed)
        if found is None:  # released between our insert and our read: try once more
            return await self.claim_push(pushed)
        return found

    def _claim_statement(self) -> Any:
        return (
            self._insert(pushes)
            .on_conflict_do_nothing(index_elements=["traceer_id", "afzender"])
            .returning(pushes.c.id)
        )

    async def settle_push(self, settled: Settled) -> None:
        check_aware(settled.at)
        await self._settles.add(
            {
                "b_id": settled.push_id,
                "b_state": settled.state,
                "b_tracking_id": settled.tracking_id,
                "b_meldingen": [m.as_dict() for m in settled.meldingen],
                "b_changed_at": settled.at,
            }
        )

    async def _write_settles(self, rows: list[dict[str, Any]]) -> None:
        """Concurrent settlements in one statement (executemany)."""
        stmt = (
            update(pushes)
            .where(pushes.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"),
                tracking_id=bindparam("b_tracking_id"),
                meldingen=bindparam("b_meldingen", type_=JSON),
                changed_at=bindparam("b_changed_at", type_=UtcDateTime),
            )
        )
        async with self._db.transaction() as conn:
            await conn.execute(stmt, rows)

    async def flush(self) -> None:
        """Wait until every claim and settlement handed in so far is written."""
        await self._pairs.wait()
        await self._claims.wait()
        await self._settles.wait()
        if self._held is not None:  # nothing is being written: the kept connection goes back to the pool
            await self._held.release()

    async def release_push(self, push_id: str) -> None:
        async with self._db.statement() as conn:
            await conn.execute(delete(pushes).where(pushes.c.id == push_id, pushes.c.state == "pending"))

    async def _pushes(self, *where: Any) -> list[Pushed]:
        query = select(pushes).where(*where).order_by(pushes.c.received_at, pushes.c.id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_pushed(r._mapping) for r in rows]

    async def pushes_by_traceer(self, traceer_id: str) -> list[Pushed]:
        return await self._pushes(
            or_(
                pushes.c.traceer_id == traceer_id,
                and_(pushes.c.als_antwoord_op == traceer_id, text(ANSWERS_ONLY)),
            )
        )

    async def pushes_by_tracking(self, tracking_ids: list[str]) -> dict[str, Pushed]:
        if not tracking_ids:
            return {}
        # a push's message has its ``id`` as tracking id, unless it was settled under another one: those
        # few are in the partial index of ``tracking_id`` (its predicate stated so that it is used)
        moved = and_(pushes.c.tracking_id.in_(tracking_ids), text(MOVED_ONLY))
        found = await self._pushes(or_(pushes.c.id.in_(tracking_ids), moved))
        wanted = set(tracking_ids)
        return {p.tracking_id: p for p in found if p.tracking_id in wanted}

    async def pushes_in_conversation(self, conversatie_id: str) -> list[Pushed]:
        # the partial index of conversatie_id holds the pushes whose conversatieId is not their traceerId
        # (its predicate stated so that it is used); the others are found by traceerId, the unique key
        joined = and_(pushes.c.conversatie_id == conversatie_id, text(JOINED_ONLY))
        own = and_(pushes.c.traceer_id == conversatie_id, pushes.c.conversatie_id == conversatie_id)
        return await self._pushes(or_(joined, own))

    async def add_inboxed(self, items: list[Inboxed]) -> None:
        if not items:
            return
        rows = []
        for item in items:
            check_aware(item.ontvangen_op)
            row = {name: getattr(item, name) for name in _INBOX_FIELDS}
            row["metadata"] = dict(item.metadata)
            rows.append(row)
        stmt = self._insert(inbox).on_conflict_do_nothing(index_elements=["party", "traceer_id"])
        async with self._db.transaction() as conn:
            await conn.execute(stmt, rows)

    async def ready(self, party: str, limit: int, where: Filter | None = None) -> list[Inboxed]:
        query = select(*_LISTED).where(
            inbox.c.party == party, inbox.c.confirmed_at.is_(None), inbox.c.payload.is_not(None)
        )
        if where is not None:
            for column, wanted in (
                (inbox.c.berichttype, where.berichttype),
                (inbox.c.conversatie_id, where.conversatie_id),
                (inbox.c.als_antwoord_op, where.als_antwoord_op),
            ):
                if wanted is not None:
                    query = query.where(column == wanted)
        query = query.order_by(inbox.c.ontvangen_op, inbox.c.traceer_id)
        found: list[Inboxed] = []
        async with self._db.read() as conn:
            # the rest of the search path is judged on the stated metadata, a page at a time
            offset = 0
            while len(found) < limit:
                page = (await conn.execute(query.offset(offset).limit(max(limit, 100)))).all()
                for row in page:
                    item = _inboxed(row._mapping)
                    if where is None or where.matches(item):
                        found.append(item)
                if where is None or len(page) < max(limit, 100):
                    break
                offset += len(page)
        return found[:limit]

    async def unconfirmed(self, party: str) -> int:
        query = select(func.count()).where(
            inbox.c.party == party, inbox.c.confirmed_at.is_(None), inbox.c.payload.is_not(None)
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def payload(self, party: str, traceer_id: str, at: datetime) -> Inboxed | None:
        waiting = (inbox.c.payload.is_not(None), inbox.c.confirmed_at.is_(None))
        return await self._stamp(
            party, traceer_id, "downloaded_at", at, select(inbox).where(*waiting), waiting
        )

    async def confirm(self, party: str, traceer_id: str, at: datetime) -> Inboxed | None:
        return await self._stamp(party, traceer_id, "confirmed_at", at, select(*_LISTED))

    async def _stamp(
        self,
        party: str,
        traceer_id: str,
        column: str,
        at: datetime,
        found: Select[Any],
        only: tuple[Any, ...] = (),
    ) -> Inboxed | None:
        """In one transaction: set ``column`` of the item to ``at`` unless it is set (and only where ``only``
        holds), then read it (``found``)."""
        check_aware(at)
        key = (inbox.c.party == party, inbox.c.traceer_id == traceer_id)
        async with self._db.transaction() as conn:
            unset = inbox.c[column].is_(None)
            await conn.execute(update(inbox).where(*key, unset, *only).values({column: at}))
            row = (await conn.execute(found.where(*key))).first()
        return None if row is None else _inboxed(row._mapping)

    async def purge(self, downloaded_before: datetime, older_than: datetime) -> Purged:
        check_aware(downloaded_before)
        check_aware(older_than)
        async with self._db.transaction() as conn:
            gone = await conn.execute(delete(inbox).where(inbox.c.ontvangen_op < older_than))
            emptied = await conn.execute(
                update(inbox)
                .where(inbox.c.payload.is_not(None), inbox.c.downloaded_at < downloaded_before)
                .values(payload=None)
            )
            old = await conn.execute(delete(pushes).where(pushes.c.received_at < older_than))
        return Purged(payloads=int(emptied.rowcount), inboxed=int(gone.rowcount), pushed=int(old.rowcount))


async def _pg_claim_with(held: Held, rows: list[dict[str, Any]]) -> dict[str, bool]:
    """The pushes and their messages' claims as one statement (JSON columns as text): for each push
    inserted, whether its message was inserted too."""
    encoded = [{**row[_PUSH], "berichtstroom": _compact(row[_PUSH]["berichtstroom"])} for row in rows]
    args = columns_of(encoded, _PAIR_COLUMNS) + columns_of([r[_RECORD] for r in rows], pgwrite.CLAIM_COLUMNS)
    async with held.driver() as pg:
        found = await pg.fetch(_PG_CLAIM_WITH, *args)
    return {r[0]: r[1] is not None for r in found}
