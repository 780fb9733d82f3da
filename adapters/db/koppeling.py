"""The REST store of the VSP-Koppeling on SQLAlchemy: pushes by traceerId and the providers' pull lists.

Implements :class:`gateway.koppeling.store.KoppelingStore` on the tables ``koppeling_pushes`` and
``koppeling_inbox`` (``adapters.db.schema``) and the push columns of ``messages``. A push its sender submits
itself has no row of its own (revision 0006): it is its message's claim, under the tracking id
:func:`gateway.koppeling.store.push_id` derives from (afzender, traceerId), with what the push stated
(traceerId, conversatieId, alsAntwoordOp, referentieId, berichtstroom) on the message's row. The primary
key of ``messages`` then holds the traceerId for its sender (BRS114): a second push of it meets the first
there, and one the statement's ``NOT EXISTS`` finds in ``koppeling_pushes`` is not claimed either.
``koppeling_pushes`` keeps the refused pushes, those settled under another message, the pushes submitted
for another party (so that their submitter finds them by traceerId) and the rows written before revision
0006; its unique (traceer_id, afzender) is claimed by ``INSERT .. ON CONFLICT DO NOTHING``, so concurrent
pushes of one traceerId resolve in the database. A refused push looks for a message claimed under its
traceerId before and after its row goes in: only a claim still in flight while the refused row commits
(the same traceerId pushed at the same moment with a valid and an invalid payload) can stand beside it.
Concurrent claims share one statement (on PostgreSQL an asyncpg ``INSERT .. SELECT FROM unnest(..)``,
prepared once per connection, as the tracking store's own claims in ``adapters.db.pgwrite``); a push
submitted for another party is one statement whose first CTE inserts the pushes and whose second the
messages of those that went in; on SQLite each in one transaction. A message put on a pull list twice (a
redelivery from the mailbox) is inserted once.
"""

from __future__ import annotations

import json
from collections.abc import Collection
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
from adapters.db.schema import (
    ANSWERS_ONLY,
    JOINED_ONLY,
    MOVED_ONLY,
    PUSHED_COLUMNS,
    UtcDateTime,
    messages,
)
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
    push_id,
)
from gateway.koppeling.view import berichtstroom, release_numbers, stated
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
# a push its sender submits itself: its message's claim with what the push stated, unless the traceerId
# is in koppeling_pushes (a refused push, one submitted by another party, a row from before revision 0006);
# any key taken (the tracking id: the traceerId; or the message's own key) writes nothing
_OWN_COLUMNS: Final = (*pgwrite.CLAIM_COLUMNS, *PUSHED_COLUMNS)
_PG_CLAIM_OWN: Final = (
    unnest_insert("messages", _OWN_COLUMNS, {**pgwrite.CLAIM_TYPES, "berichtstroom": "json"})
    + f" AS m({', '.join(_OWN_COLUMNS)}) WHERE NOT EXISTS (SELECT 1 FROM koppeling_pushes p"
    " WHERE p.traceer_id = m.traceer_id AND p.afzender = m.afzender)"
    " ON CONFLICT DO NOTHING RETURNING tracking_id"
)
# what a push stated, as the message's row has it
_STATED = (
    messages.c.tracking_id,
    messages.c.message,
    messages.c.release,
    messages.c.afzender,
    messages.c.submitter,
    messages.c.sha256,
    messages.c.received_at,
    messages.c.status,
    *(messages.c[c] for c in PUSHED_COLUMNS),
)
# what the statement says of one push: written (with its message); its traceerId taken or, for a push
# without a row of its own, its message's key (nothing written); the push written, not its message (the
# tracking store settles that claim); or the batch refused (each alone)
_NEW, _TAKEN, _MESSAGE, _ALONE = "new", "taken", "message", "alone"
_PUSH, _RECORD, _OWN = "push", "record", "own"


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


def _stated(row: RowMapping, afzender: str | None = None, traceer_id: str | None = None) -> Pushed:
    """A push without a row of its own, from its message's row (``afzender`` and ``traceer_id``: of a row
    whose stated ids are purged already, what the push was looked up by)."""
    stroom = row["berichtstroom"] or {}
    if isinstance(stroom, str):  # the message's own type and release, stated with this action
        stroom = berichtstroom(row["message"], row["release"]) | {"actie": stroom}
    return Pushed(
        id=row["tracking_id"],
        afzender=afzender or row["afzender"],
        submitter=row["submitter"],
        traceer_id=row["traceer_id"] or traceer_id or "",
        conversatie_id=row["conversatie_id"] or row["traceer_id"] or traceer_id or "",
        sha256=row["sha256"],
        received_at=row["received_at"],
        routing={"routeringgegevens": {"berichtstroom": stroom}},
        als_antwoord_op=row["als_antwoord_op"],
        referentie_id=row["referentie_id"],
        state="accepted" if row["status"] == "accepted" else "pending",
        tracking_id=row["tracking_id"],
    )


_OWN_STROOM: Final = frozenset(("berichttype", "berichtversie", "berichtsubversie", "actie"))


def _own_row(pushed: Pushed, record: MessageRecord, encode: bool) -> dict[str, Any]:
    """The message's row of a push without a row of its own (``encode``: berichtstroom as JSON text). A
    berichtstroom that names the message's own type and release (as most do) is kept as its action alone,
    a JSON string: 10 bytes instead of 85 in the row and in the confirm's new version of it."""
    stroom: Any = stated(pushed).get("berichtstroom", {})
    # ``stroom == berichtstroom(record.message, record.release) | {"actie": stroom.get("actie")}``, without
    # the two dicts per push
    own = (
        stroom.keys() == _OWN_STROOM
        and stroom["berichttype"] == record.message
        and (stroom["berichtversie"], stroom["berichtsubversie"]) == release_numbers(record.release)
    )
    stroom = stroom["actie"] if own else dict(stroom)
    row = record_row(record)  # a dict of its own: the push's columns go in after the message's
    row["traceer_id"] = pushed.traceer_id
    # NULL where the push starts its own conversation (most do): its traceerId names it
    row["conversatie_id"] = None if pushed.conversatie_id == pushed.traceer_id else pushed.conversatie_id
    row["als_antwoord_op"] = pushed.als_antwoord_op
    row["referentie_id"] = pushed.referentie_id
    row["berichtstroom"] = _compact(stroom) if encode else stroom
    return row


def _merged(rows: list[Pushed], stated_rows: list[Pushed]) -> list[Pushed]:
    """Pushes of both kinds, once each (a row of its own wins), oldest first."""
    found = {p.id: p for p in stated_rows} | {p.id: p for p in rows}
    return sorted(found.values(), key=lambda p: (p.received_at, p.id))


def _own(held: Pushed, pushed: Pushed) -> bool:
    """``held`` (a message claimed under the traceerId of ``pushed``) is the message of ``pushed`` itself,
    being settled: the same bytes, the push refused or accepted after its claim went in."""
    return pushed.state != "pending" and held.sha256 == pushed.sha256


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
        if pushed.id != push_id(pushed.afzender, pushed.traceer_id):
            raise ValueError("a push's id is push_id(afzender, traceerId)")
        if pushed.state != "pending" or pushed.meldingen or pushed.changed_at is not None:
            raise ValueError("a push written with its message's claim is pending")
        if pushed.submitter == pushed.afzender == record.afzender:  # no row of its own: the message's row
            key = {"id": pushed.id, "traceer_id": pushed.traceer_id, "afzender": pushed.afzender}
            row = {_PUSH: key, _RECORD: _own_row(pushed, record, self._held is not None), _OWN: True}
        else:
            row = {_PUSH: _push_row(pushed), _RECORD: record_row(record), _OWN: False}
        found = await self._pairs.add(row)
        if found == _NEW:
            return Claim("new")
        if found == _MESSAGE:  # the push is written; the message's key is held: the tracking store says how
            return await claim(record)
        if found == _TAKEN:
            held = await self._holder(pushed)
            if held is not None:
                raise TraceerIdTaken(held)
        # alone; released since; or (no row of its own) the message's key held by another message: the push
        # and its message as two writes, the tracking store answering for the message
        return await claim_in_turn(self, pushed, record, claim)

    async def _write_pairs(self, rows: list[dict[str, Any]]) -> list[str]:
        """The claims of a batch: those of pushes without a row of their own in one statement, the pushes
        submitted for another party with their messages' claims in another (each one transaction on SQLite)."""
        answers = [_ALONE] * len(rows)
        for own in (True, False):
            at = [i for i, row in enumerate(rows) if row[_OWN] is own]
            if not at:
                continue
            batch = [rows[i] for i in at]
            try:
                if self._held is not None:
                    written = await (_pg_claim_own if own else _pg_claim_with)(self._held, batch)
                else:
                    async with self._db.transaction() as conn:
                        written = await (self._sqlite_claim_own if own else self._sqlite_claim_with)(
                            conn, batch
                        )
            except (IntegrityError, asyncpg.UniqueViolationError):  # an id in use: each alone finds out
                continue
            for i in at:  # of pushes of one traceerId in one batch (one id), the first went in
                answer = written.pop(rows[i][_PUSH]["id"], None)
                answers[i] = _TAKEN if answer is None else _NEW if answer else _MESSAGE
        return answers

    async def _sqlite_claim_own(self, conn: Any, rows: list[dict[str, Any]]) -> dict[str, bool]:
        keys = [(r[_PUSH]["traceer_id"], r[_PUSH]["afzender"]) for r in rows]
        listed = select(pushes.c.traceer_id, pushes.c.afzender).where(
            pushes.c.traceer_id.in_([traceer for traceer, _ in keys])
        )
        taken = {(r[0], r[1]) for r in await conn.execute(listed)}
        free = [r[_RECORD] for r, key in zip(rows, keys, strict=True) if key not in taken]
        if not free:
            return {}
        stmt = sqlite.insert(messages).on_conflict_do_nothing().returning(messages.c.tracking_id)
        return {r[0]: True for r in await conn.execute(stmt, free)}

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
        """The push that holds the traceerId of ``pushed``: a row of its own, else a claimed message."""
        key = and_(pushes.c.traceer_id == pushed.traceer_id, pushes.c.afzender == pushed.afzender)
        async with self._db.read() as conn:
            found = (await conn.execute(select(pushes).where(key))).first()
        return _pushed(found._mapping) if found is not None else await self._message_holder(pushed)

    async def _message_holder(self, pushed: Pushed) -> Pushed | None:
        """The message claimed under the traceerId of ``pushed`` (as its push), if any: also one whose
        stated ids are purged already (its tracking id still holds the traceerId)."""
        tracking_id = push_id(pushed.afzender, pushed.traceer_id)
        async with self._db.read() as conn:
            found = (
                await conn.execute(select(*_STATED).where(messages.c.tracking_id == tracking_id))
            ).first()
        return None if found is None else _stated(found._mapping, pushed.afzender, pushed.traceer_id)

    async def claim_push(self, pushed: Pushed) -> Pushed | None:
        check_aware(pushed.received_at)
        held = await self._message_holder(pushed)
        if held is not None and not _own(held, pushed):
            return held
        row = _push_row(pushed)
        if not await self._claims.add(row):
            async with self._db.statement() as conn:
                if (await conn.execute(self._claim_statement().values(row))).first() is None:
                    found = await self._holder(pushed)
                    if found is None:  # released between our insert and our read: try once more
                        return await self.claim_push(pushed)
                    return found
        if held is None:  # a message claimed under the traceerId while this row went in: it holds it
            late = await self._message_holder(pushed)
            if late is not None and not _own(late, pushed):
                async with self._db.statement() as conn:
                    await conn.execute(delete(pushes).where(pushes.c.id == pushed.id))
                return late
        return None

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

    async def _stated_pushes(self, *where: Any) -> list[Pushed]:
        """Pushes without a row of their own, from their messages' rows."""
        query = select(*_STATED).where(*where, messages.c.traceer_id.is_not(None))
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_stated(r._mapping) for r in rows]

    async def pushes_by_traceer(self, traceer_id: str, afzenders: Collection[str] = ()) -> list[Pushed]:
        rows = await self._pushes(
            or_(
                pushes.c.traceer_id == traceer_id,
                and_(pushes.c.als_antwoord_op == traceer_id, text(ANSWERS_ONLY)),
            )
        )
        # a push of one of ``afzenders`` by its tracking id; answers by the partial index of alsAntwoordOp
        ids = [push_id(afzender, traceer_id) for afzender in afzenders]
        answers = and_(messages.c.als_antwoord_op == traceer_id, text(ANSWERS_ONLY))
        own = and_(messages.c.tracking_id.in_(ids), messages.c.traceer_id == traceer_id)
        return _merged(rows, await self._stated_pushes(or_(own, answers) if ids else answers))

    async def pushes_by_tracking(self, tracking_ids: list[str]) -> dict[str, Pushed]:
        if not tracking_ids:
            return {}
        # a push's message has its ``id`` as tracking id, unless it was settled under another one: those
        # few are in the partial index of ``tracking_id`` (its predicate stated so that it is used)
        moved = and_(pushes.c.tracking_id.in_(tracking_ids), text(MOVED_ONLY))
        found = await self._pushes(or_(pushes.c.id.in_(tracking_ids), moved))
        wanted = set(tracking_ids)
        stated_rows = await self._stated_pushes(messages.c.tracking_id.in_(tracking_ids))
        by_tracking = {p.id: p for p in stated_rows}
        return by_tracking | {p.tracking_id: p for p in found if p.tracking_id in wanted}

    async def pushes_in_conversation(
        self, conversatie_id: str, afzenders: Collection[str] = ()
    ) -> list[Pushed]:
        # the partial index of conversatie_id holds the pushes whose conversatieId is not their traceerId
        # (its predicate stated so that it is used); the others are found by traceerId, the unique key
        joined = and_(pushes.c.conversatie_id == conversatie_id, text(JOINED_ONLY))
        own = and_(pushes.c.traceer_id == conversatie_id, pushes.c.conversatie_id == conversatie_id)
        rows = await self._pushes(or_(joined, own))
        # on the messages' rows the same two ways: the partial index, and a push of one of ``afzenders``
        # that started the conversation with its own traceerId (its conversatie_id NULL) by its tracking id
        ids = [push_id(afzender, conversatie_id) for afzender in afzenders]
        joined = and_(messages.c.conversatie_id == conversatie_id, text(JOINED_ONLY))
        started = and_(messages.c.conversatie_id.is_(None), messages.c.traceer_id == conversatie_id)
        own = and_(messages.c.tracking_id.in_(ids), started)
        return _merged(rows, await self._stated_pushes(or_(joined, own) if ids else joined))

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
            # what a push without a row of its own stated goes from its message's row (track & trace
            # keeps the message for its own retention, and its tracking id keeps the traceerId taken)
            stated_rows = await conn.execute(
                update(messages)
                .where(messages.c.traceer_id.is_not(None), messages.c.received_at < older_than)
                .values(dict.fromkeys(PUSHED_COLUMNS))
            )
        pushed = int(old.rowcount) + int(stated_rows.rowcount)
        return Purged(payloads=int(emptied.rowcount), inboxed=int(gone.rowcount), pushed=pushed)


async def _pg_claim_own(held: Held, rows: list[dict[str, Any]]) -> dict[str, bool]:
    """The messages' claims of pushes without a row of their own, as one statement: the ids inserted."""
    async with held.driver() as pg:
        found = await pg.fetch(_PG_CLAIM_OWN, *columns_of([r[_RECORD] for r in rows], _OWN_COLUMNS))
    return {r[0]: True for r in found}


async def _pg_claim_with(held: Held, rows: list[dict[str, Any]]) -> dict[str, bool]:
    """The pushes and their messages' claims as one statement (JSON columns as text): for each push
    inserted, whether its message was inserted too."""
    encoded = [{**row[_PUSH], "berichtstroom": _compact(row[_PUSH]["berichtstroom"])} for row in rows]
    args = columns_of(encoded, _PAIR_COLUMNS) + columns_of([r[_RECORD] for r in rows], pgwrite.CLAIM_COLUMNS)
    async with held.driver() as pg:
        found = await pg.fetch(_PG_CLAIM_WITH, *args)
    return {r[0]: r[1] is not None for r in found}
