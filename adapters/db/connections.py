"""Transactions for the stores, with database faults turned into :class:`gateway.errors.Unavailable`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.errors import Unavailable

# faults of the database or the way to it; a constraint violation or a bug is not one of them
TRANSIENT = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pooled connection free in time
    OSError,
    TimeoutError,
)


class Connections:
    """Hands out connections on one database.

    ``transaction()`` gives a transaction over several statements. ``statement()`` gives a connection in
    autocommit mode for work that is one atomic statement at a time (claims, confirms, events, reads): each
    statement commits on its own, which saves the BEGIN and COMMIT round trips. SQLite takes one writer at
    a time; writers of this process queue on an asyncio lock instead of polling the file lock
    (``busy_timeout`` still covers other processes). PostgreSQL writers run freely.
    """

    def __init__(self, engine: AsyncEngine, autocommit: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.autocommit = autocommit or engine.execution_options(isolation_level="AUTOCOMMIT")
        self.dialect = engine.dialect.name
        self._writer = asyncio.Lock() if self.dialect == "sqlite" else None

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction that commits on success and rolls back on error."""
        return self._connected(True, self.engine.begin)

    def statement(self, write: bool = True) -> AbstractAsyncContextManager[AsyncConnection]:
        """An autocommit connection: every statement is its own transaction."""
        return self._connected(write, self.autocommit.connect)

    @asynccontextmanager
    async def _connected(
        self, write: bool, connect: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    ) -> AsyncIterator[AsyncConnection]:
        """A connection from ``connect``, taken in the writers' turn when ``write``; faults: Unavailable."""
        try:
            async with self._writing(write), connect() as conn:
                yield conn
        except TRANSIENT as exc:
            raise Unavailable("the database is not available") from exc

    @asynccontextmanager
    async def checked_out(self) -> AsyncIterator[AsyncConnection]:
        """An autocommit connection checked out of the pool, which the caller keeps (and closes) itself."""
        try:
            yield await self.autocommit.connect()
        except TRANSIENT as exc:
            raise Unavailable("the database is not available") from exc

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self.statement(write=False)

    @property
    def writer_lock(self) -> asyncio.Lock | None:
        """The turn writers of this process take on SQLite (None on PostgreSQL), for stores beside these."""
        return self._writer

    def _writing(self, write: bool) -> AbstractAsyncContextManager[object]:
        if write and self._writer is not None:
            return self._writer
        return nullcontext()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.autocommit.sync_engine.pool is not self.engine.sync_engine.pool:
            await self.autocommit.dispose()
