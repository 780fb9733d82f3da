"""Transactions for the stores, with database faults turned into :class:`gateway.errors.Unavailable`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.errors import Unavailable

# faults of the database or the way to it; a constraint violation or a bug is not one of them
_TRANSIENT = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pooled connection free in time
    OSError,
    TimeoutError,
)


class Connections:
    """Hands out transactions on one engine.

    SQLite takes one writer at a time; writers of this process queue on an asyncio lock instead of
    polling the file lock (``busy_timeout`` still covers other processes). PostgreSQL writers run freely.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = asyncio.Lock() if self.dialect == "sqlite" else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success and rolls back on error."""
        try:
            if self._writer is None:
                async with self.engine.begin() as conn:
                    yield conn
            else:
                async with self._writer, self.engine.begin() as conn:
                    yield conn
        except _TRANSIENT as exc:
            raise Unavailable("the database is not available") from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
                yield conn
        except _TRANSIENT as exc:
            raise Unavailable("the database is not available") from exc
