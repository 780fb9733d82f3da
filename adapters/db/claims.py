"""The batched claim writer of the tracking store and the REST store (one logic, two hot paths).

A claim is an ``INSERT .. ON CONFLICT DO NOTHING RETURNING key``: concurrent claims share one statement
(group commit, :class:`adapters.db.batch.Batcher`), and each caller learns whether its own row went in. A row
that did not (its key is taken), or every row of a batch the database refused as a whole (an id in use), is
settled by its caller alone, which finds out why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from adapters.db.batch import Batcher
from adapters.db.connections import Connections
from adapters.db.pgwrite import DuplicateTrackingId, Held

# a batch's statement through asyncpg on the kept connection: the keys inserted
PgClaim = Callable[[Held, Sequence[dict[str, Any]]], Awaitable[set[str]]]


class ClaimWriter:
    """Concurrent claims of one table as one statement per batch: ``statement()`` (SQLAlchemy, executed
    with the batch's rows) or, on PostgreSQL when given, ``pg`` on a connection kept between batches
    (:class:`adapters.db.pgwrite.Held`: no pool checkout per batch). ``add(row)`` returns once the row's
    batch is written: True when the row went in."""

    def __init__(
        self, connections: Connections, statement: Callable[[], Any], key: str, pg: PgClaim | None = None
    ) -> None:
        self._db = connections
        self._statement = statement
        self._key = key
        self._pg = pg
        self._held = Held(connections) if pg is not None and connections.dialect == "postgresql" else None
        self._batcher = Batcher(self._write)
        # the batcher's own ``add``, no frame of this class's in between (a claim per message)
        self.add: Callable[[dict[str, Any]], Awaitable[bool]] = self._batcher.add

    def __repr__(self) -> str:
        return f"ClaimWriter(key={self._key!r}, held={self._held is not None})"

    async def _write(self, rows: list[dict[str, Any]]) -> list[bool]:
        try:
            if self._held is not None and self._pg is not None:
                inserted = await self._pg(self._held, rows)
            else:
                async with self._db.statement() as conn:
                    inserted = {r[0] for r in await conn.execute(self._statement(), rows)}
        except (IntegrityError, DuplicateTrackingId):
            return [False] * len(rows)
        return [row[self._key] in inserted for row in rows]

    async def wait(self) -> None:
        """Wait until every claim handed in so far is written; the kept connection goes back to the pool."""
        await self._batcher.wait()
        if self._held is not None:
            await self._held.release()
