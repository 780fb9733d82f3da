"""The BSN index on SQLAlchemy: which parties exchanged which message type about one person, and when.

A table of its own (``bsn_index``), in the node's database, holding the client's BSN only as its keyed
HMAC-SHA256 (the key lives in a file outside the database, see :mod:`gateway.privacy.bsnkey`). Implements
:class:`gateway.privacy.index.PrivacyIndex`. Adds from concurrent requests share one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from adapters.db import aftergroup, migrate, pgwrite
from adapters.db.aftergroup import AfterPublish
from adapters.db.batch import Batcher
from adapters.db.connections import Connections
from adapters.db.engine import lock_schema
from adapters.db.schema import bsn_index
from adapters.db.tracking import check_aware
from gateway.privacy.index import Exchange

_COLUMNS = pgwrite.BSN_COLUMNS
_PG_INSERT = pgwrite.unnest_insert("bsn_index", _COLUMNS, pgwrite.BSN_TYPES)


def _row(exchange: Exchange) -> dict[str, Any]:
    check_aware(exchange.at)
    return {name: getattr(exchange, name) for name in _COLUMNS}


class SqlPrivacyIndex:
    """The BSN index in the database the tracking store uses (same connections, same writer turn)."""

    def __init__(self, connections: Connections, group: AfterPublish | None = None) -> None:
        """``group``: on PostgreSQL, the tracking store's after-publish writes, which the rows then join
        (one statement and commit with the confirm, the events and the audit entry)."""
        self._db = connections
        self._batch = Batcher(self._write)
        self._group = group

    def __repr__(self) -> str:
        return f"SqlPrivacyIndex(dialect={self._db.dialect!r})"

    async def create_schema(self) -> None:
        """Bring the database's schema to the newest revision (adapters.db.migrate); safe to run again and
        from several processes at once."""
        async with self._db.transaction() as conn:
            await lock_schema(conn)
            await migrate.upgrade(conn)

    async def add(self, rows: Sequence[Exchange]) -> None:
        if self._group is not None:
            await self._group.add_many(aftergroup.BSN, [_row(exchange) for exchange in rows])
            return
        await self._batch.add_many([_row(exchange) for exchange in rows])

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        async with self._db.statement() as conn:
            if self._db.dialect == "postgresql":  # one statement per batch (adapters.db.pgwrite)
                async with pgwrite.driver(conn) as pg:
                    await pg.execute(_PG_INSERT, *pgwrite.columns_of(rows, _COLUMNS))
            else:
                await conn.execute(bsn_index.insert(), rows)

    async def flush(self) -> None:
        await self._batch.wait()
        if self._group is not None:
            await self._group.wait()

    async def exchanges(
        self, bsn_hmac: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Exchange]:
        """The exchanges about one person (by digest), oldest first, ``since <= at < until``."""
        query = select(bsn_index).where(bsn_index.c.bsn_hmac == bsn_hmac)
        if since is not None:
            check_aware(since)
            query = query.where(bsn_index.c.at >= since)
        if until is not None:
            check_aware(until)
            query = query.where(bsn_index.c.at < until)
        query = query.order_by(bsn_index.c.at, bsn_index.c.tracking_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [Exchange(**{name: row[name] for name in _COLUMNS}) for row in rows]

    async def purge_before(self, cutoff: datetime) -> int:
        """Forget exchanges before ``cutoff`` (retention); how many were removed."""
        check_aware(cutoff)
        async with self._db.statement() as conn:
            gone = await conn.execute(delete(bsn_index).where(bsn_index.c.at < cutoff))
        return int(gone.rowcount)
