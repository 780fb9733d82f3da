"""The audit chain on SQLAlchemy (SQLite or PostgreSQL), appended safely from many processes at once.

An append is one transaction that first takes the write turn, then reads the head, inserts the sealed entry
and moves the head: on PostgreSQL the head row is locked ``FOR UPDATE``; on SQLite the transaction starts
with ``BEGIN IMMEDIATE`` (the database's single write lock; other processes wait ``busy_timeout``), and
appends of one process queue on an asyncio lock first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from adapters.db import auditchain, migrate, pgwrite
from adapters.db.auditschema import audit, audit_head
from adapters.db.batch import Batcher
from adapters.db.connections import TRANSIENT
from adapters.db.engine import (
    BUSY_TIMEOUT_MS,
    database_url,
    lock_schema,
    private_file,
    sqlite_file,
    sqlite_pragmas,
    with_schema,
)
from adapters.db.engine import DEFAULT_URL as DEFAULT_URL
from gateway.errors import Unavailable
from gateway.security.audit import AuditEntry, AuditEvent, ChainKey, Head

PAGE = 5_000
# PostgreSQL: one statement per batch, a compare-and-set of the head (adapters.db.auditchain). One round trip
# and one commit where BEGIN, a locking read, the insert and COMMIT took four.
_PG_APPEND = auditchain.APPEND
_HEAD = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)


# the name ``gateway audit`` knows it by
async_url = database_url


def open_engine(url: str = DEFAULT_URL, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> AsyncEngine:
    """An engine of its own for ``url`` (see :func:`adapters.db.engine.database_url`); on SQLite its parent
    directory created and each connection set up as the database module's (WAL, busy timeout), with
    synchronous FULL."""
    parsed = database_url(url)
    engine = create_async_engine(parsed, pool_pre_ping=True)
    if parsed.drivername.startswith("sqlite"):
        path = sqlite_file(parsed)
        if path is not None:
            private_file(path)
        sqlite_pragmas(engine, busy_timeout_ms, "FULL")
    return engine


class SqlAuditLog:
    """``AuditLog`` on one engine (the node's database; the lead's ``Database.engine`` will do), sealing
    with ``key`` (kept outside the database)."""

    def __init__(self, engine: AsyncEngine, key: ChainKey, turn: asyncio.Lock | None = None) -> None:
        """``turn``: on SQLite, the lock the other writers of this process take (the tracking store's), so
        the audit queues with them instead of polling the database's file lock."""
        self.engine = engine
        self.key = key
        self.dialect = engine.dialect.name
        self._turn = (turn or asyncio.Lock()) if self.dialect == "sqlite" else None
        self._batch = Batcher(self._append_rows)
        self._pg_head: Head | None = None  # PostgreSQL: the head after this process's last append

    @classmethod
    async def connect(
        cls, key: ChainKey, url: str = DEFAULT_URL, *, create_schema: bool = True
    ) -> SqlAuditLog:
        return await with_schema(cls(open_engine(url), key), create_schema)

    async def close(self) -> None:
        await self.flush()
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"SqlAuditLog(dialect={self.dialect!r}, database={self.engine.url.database!r})"

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that holds the write turn of the whole chain until it ends."""
        try:
            if self._turn is None:
                async with self.engine.begin() as conn:
                    yield conn
            else:
                async with self._turn, self.engine.begin() as conn:
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
                    yield conn
        except TRANSIENT as exc:
            raise Unavailable("the audit store is not available") from exc

    async def create_schema(self) -> None:
        """Bring the database's schema to the newest revision (adapters.db.migrate; the head row is made with
        the tables); safe to run again and concurrently. A head row missing afterwards is never made again:
        logged as ``audit.tampered`` (``no-head``), and appends refuse (:class:`HeadMissing`)."""
        async with self._write() as conn:
            if self.dialect == "postgresql":
                await lock_schema(conn)
            await migrate.upgrade(conn)
            if (await conn.execute(_HEAD)).first() is None:
                auditchain.head_missing("found at start: appends will be refused")

    async def _locked_head(self, conn: AsyncConnection) -> Head:
        row = (await conn.execute(_HEAD)).first()  # SQLite: the transaction holds the write lock already
        if row is None:
            raise auditchain.head_missing()
        return Head(int(row.seq), str(row.hash))

    async def append(self, event: AuditEvent) -> AuditEntry:
        return (await self.append_many([event]))[0]

    async def append_many(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        """Seal and store ``events`` in this order, in one transaction."""
        if not events:
            return []
        if self.dialect == "postgresql":
            return await self._append_many_pg(events)
        async with self._write() as conn:
            entries, head = auditchain.sealed(events, await self._locked_head(conn), self.key)
            await conn.execute(insert(audit), [e.as_dict() for e in entries])
            await conn.execute(
                update(audit_head).where(audit_head.c.id == 1).values(seq=head.seq, hash=head.hash)
            )
        return entries

    async def _append_many_pg(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        """Seal the batch onto the head this process last saw and compare-and-set it in one statement
        (:data:`_PG_APPEND`); when another process moved the head meanwhile, seal again onto the head the
        statement found. Straight on asyncpg, the statement prepared once per connection."""
        try:
            async with self.engine.connect() as conn, pgwrite.driver(conn, "the audit store") as pg:
                entries, self._pg_head = await auditchain.append(
                    pg, _PG_APPEND, events, self._pg_head, self.key
                )
                return entries
        except TRANSIENT as exc:
            self._pg_head = None
            raise Unavailable("the audit store is not available") from exc
        except BaseException:
            self._pg_head = None
            raise

    async def record(self, event: AuditEvent) -> None:
        """Append ``event``; returns once it is stored. Concurrent calls share one transaction (group
        commit), so recording every routing decision costs one commit per batch, not per message."""
        await self._batch.add({"event": event})

    async def _append_rows(self, rows: list[dict[str, Any]]) -> None:
        await self.append_many([row["event"] for row in rows])

    async def flush(self) -> None:
        """Wait until every event handed to :meth:`record` so far is stored."""
        await self._batch.wait()

    async def entries(self, after: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Entries with ``seq > after`` in sequence order, at most ``limit`` of them."""
        query = select(audit).where(audit.c.seq > after).order_by(audit.c.seq)
        if limit is not None:
            query = query.limit(limit)
        try:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(query)).mappings().all()
        except TRANSIENT as exc:
            raise Unavailable("the audit store is not available") from exc
        return [AuditEntry.from_mapping(dict(row)) for row in rows]

    async def pages(self, size: int = PAGE) -> AsyncIterator[Sequence[AuditEntry]]:
        """The whole chain in order, ``size`` entries at a time."""
        after = 0
        while True:
            page = await self.entries(after, size)
            if not page:
                return
            yield page
            after = page[-1].seq

    async def head(self) -> Head | None:
        """The recorded head; None when the head row is missing (made with the tables, so only tampering
        removes it)."""
        try:
            async with self.engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
                    )
                ).first()
        except TRANSIENT as exc:
            raise Unavailable("the audit store is not available") from exc
        return None if row is None else Head(int(row.seq), str(row.hash))
