"""``Database.connect(url)``: the engine, the schema, and the registry and tracking stores on top."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

import asyncpg
import tenacity
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from adapters.db import migrate
from adapters.db.connections import Connections
from adapters.db.koppeling import SqlKoppeling
from adapters.db.registry import SqlRegistry
from adapters.db.tracking import STALE_AFTER, SqlTracking
from gateway import paths

DEFAULT_URL = (
    paths.DATABASE_URL
)  # the SQLite file var/gateway.db of the checkout, not of the working directory
BUSY_TIMEOUT_MS = 30_000
MAX_OVERFLOW = 20  # connections a pool may open above its size at peaks (closed again after use)
# any constant: the key of the PostgreSQL advisory lock held while the schema is created
_SCHEMA_LOCK = 0x6B6E6F6F70756E74

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
}


class BadDatabaseUrl(ValueError):
    """A database URL of a driver the gateway does not use."""


def database_url(url: str | None = None) -> URL:
    """The async URL for ``url`` (default: the SQLite file ``var/gateway.db`` of the checkout).

    ``sqlite:///`` and ``postgresql://`` are accepted and given their async driver.
    """
    parsed = make_url(url or DEFAULT_URL)
    driver = _DRIVERS.get(parsed.drivername, parsed.drivername)
    if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise BadDatabaseUrl(f"unsupported database driver {parsed.drivername!r}: use SQLite or PostgreSQL")
    return parsed.set(drivername=driver)


def environment_url(url: str, name: str) -> str:
    """The database of environment ``name`` beside ``url``'s: the SQLite file ``gateway-tst.db`` next to
    ``gateway.db``, the PostgreSQL database ``<database>_tst`` on the same server."""
    parsed = database_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = sqlite_file(parsed)
        if path is None:
            raise ValueError("an environment needs a database of its own: not an in-memory SQLite database")
        return str(parsed.set(database=str(path.with_name(f"{path.stem}-{name}{path.suffix}"))))
    return parsed.set(database=f"{parsed.database}_{name}").render_as_string(hide_password=False)


async def ensure_database(url: str, server: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist, through the database of ``server``
    (the gateway's own); SQLite files are made when first opened."""
    parsed, admin = database_url(url), database_url(server)
    if not parsed.drivername.startswith("postgresql"):
        return
    conn = await asyncpg.connect(
        host=admin.host or "127.0.0.1",
        port=admin.port or 5432,
        user=admin.username,
        password=admin.password,
        database=admin.database,
    )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database):
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # another process made it just now
                await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


def private_file(path: Path) -> None:
    """Make the SQLite file ``path`` readable by its owner only (0600) before SQLite opens it: it holds
    credential digests, BSN HMACs and the audit chain. SQLite gives its -wal and -shm files the same mode.
    A file made earlier with wider rights is narrowed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if side.stat().st_mode & 0o077:
                side.chmod(0o600)


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite ``url``; None for an in-memory or ``file:`` URI database."""
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


class NoDatabase(LookupError):
    """A command that only works on an existing database found no SQLite file; the text names it."""


def require_existing(url: str | None = None) -> str:
    """``url`` (default: :data:`DEFAULT_URL`) when it is a server or an existing SQLite file, else
    :class:`NoDatabase`: a command that reads must not create an empty database and show nothing."""
    chosen = url or DEFAULT_URL
    parsed = database_url(chosen)
    path = sqlite_file(parsed) if parsed.drivername.startswith("sqlite") else None
    if path is not None and not path.exists():
        raise NoDatabase(
            f"no database file {path}: `scripts/run` or `gateway participants seed` makes it; "
            "GATEWAY_DATABASE_URL or --db names another"
        )
    return chosen


class Database(contextlib.AbstractAsyncContextManager["Database"]):
    """One database: an engine plus the stores that implement ``Registry`` and ``Tracking``."""

    def __init__(
        self,
        engine: AsyncEngine,
        autocommit: AsyncEngine | None = None,
        stale_after: timedelta = STALE_AFTER,
        registry_cache_seconds: float = 0.0,
    ) -> None:
        self.engine = engine
        self.connections = Connections(engine, autocommit)
        self.registry = SqlRegistry(self.connections, cache_seconds=registry_cache_seconds)
        self.tracking = SqlTracking(self.connections, stale_after=stale_after)
        self.koppeling = SqlKoppeling(self.connections)  # VECOZO REST: pushes by traceerId, pull lists

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        url = self.engine.url
        return f"Database(dialect={self.dialect!r}, host={url.host!r}, database={url.database!r})"

    @classmethod
    async def connect(
        cls,
        url: str | None = None,
        *,
        create_schema: bool = True,
        pool_size: int = 10,
        max_overflow: int = MAX_OVERFLOW,
        pool_timeout: float = 10.0,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        sqlite_synchronous: str = "FULL",
        pre_ping: bool = False,
        stale_after: timedelta = STALE_AFTER,
        registry_cache_seconds: float = 0.0,
    ) -> Database:
        """Open ``url`` (see :func:`database_url`) and, unless told not to, create missing tables.

        SQLite: the parent directory is created; WAL journal, ``busy_timeout``, foreign keys on.
        PostgreSQL: a pool of ``pool_size`` (+ ``max_overflow``) connections. ``pre_ping`` tests each
        connection before use, which costs three round trips (BEGIN, ping, ROLLBACK) per checkout; without
        it a dropped connection fails one call with ``Unavailable`` (a 503 the client retries) and
        SQLAlchemy then replaces every pooled connection. ``registry_cache_seconds`` > 0 lets the registry
        reuse participants and credentials it read for that long (see ``adapters.db.registry.ReadCache``).
        """
        parsed = database_url(url)
        kwargs: dict[str, Any] = {"pool_timeout": pool_timeout}
        if parsed.drivername.startswith("sqlite"):
            path = sqlite_file(parsed)
            if path is not None:
                private_file(path)
                kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
            else:
                kwargs.pop("pool_timeout")
            engine = create_async_engine(parsed, **kwargs)
            # a pool of its own whose connections are in autocommit mode from the start: switching a pooled
            # connection costs SQLite two thread hops per use; no transaction is ever open here to reset
            autocommit = create_async_engine(
                parsed,
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
                skip_autocommit_rollback=True,
                **kwargs,
            )
            for each in (engine, autocommit):
                sqlite_pragmas(each, busy_timeout_ms, sqlite_synchronous)
        else:
            kwargs.update(
                pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800, pool_pre_ping=pre_ping
            )
            engine = create_async_engine(parsed, **kwargs)
            autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")  # same pool
        db = cls(engine, autocommit, stale_after=stale_after, registry_cache_seconds=registry_cache_seconds)
        return await with_schema(db, create_schema)

    async def create_schema(self) -> None:
        """Bring the schema to the newest revision; safe to run again and from several processes at once."""
        await self.upgrade()

    async def upgrade(self) -> str:
        """Apply the migrations the database lacks (adopting one made before migrations); the new revision."""
        async with self.connections.transaction() as conn:
            await lock_schema(conn)
            return await migrate.upgrade(conn)

    async def revision(self) -> tuple[str | None, str]:
        """(the database's revision, the newest one this gateway knows)."""
        async with self.engine.connect() as conn:
            return await migrate.state(conn)

    async def require_newest(self) -> None:
        """Raise :class:`SchemaError` unless the database is at the newest revision (nothing is changed)."""
        async with self.engine.connect() as conn:
            await migrate.require_head(conn)

    async def differences(self) -> str:
        """What separates the database's tables from the models, in one line; empty when they are equal."""
        async with self.engine.connect() as conn:
            return migrate.describe(await conn.run_sync(migrate.differences))

    async def close(self) -> None:
        await self.tracking.flush()
        await self.koppeling.flush()
        await self.connections.dispose()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class _Store(Protocol):
    async def create_schema(self) -> None: ...

    async def close(self) -> None: ...


_S = TypeVar("_S", bound=_Store)


async def with_schema(store: _S, create_schema: bool = True) -> _S:
    """``store`` once its missing tables are created (unless ``create_schema`` is false); closed again when
    that fails."""
    try:
        if create_schema:
            await store.create_schema()
    except BaseException:
        await store.close()
        raise
    return store


async def lock_schema(conn: AsyncConnection) -> None:
    """Serialise schema creation between processes for the rest of this transaction."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
    else:
        # take SQLite's write lock now: a second process waits (busy_timeout) and then sees the tables
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_pragmas(engine: AsyncEngine, busy_timeout_ms: int, synchronous: str) -> None:
    """Set up every new SQLite connection of ``engine``: ``busy_timeout``, WAL journal (see :func:`_wal`),
    ``synchronous`` (FULL or NORMAL), foreign keys on."""
    if synchronous.upper() not in ("FULL", "NORMAL"):
        raise ValueError("sqlite_synchronous is FULL or NORMAL")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _wal(cursor, busy_timeout_ms)
        cursor.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


def _wal(cursor: Any, busy_timeout_ms: int) -> None:
    """Switch to WAL. SQLite may answer 'database is locked' here at once, without its busy handler,
    while other connections open the same new file; retry within the busy timeout."""
    for attempt in tenacity.Retrying(
        retry=tenacity.retry_if_exception(_locked),
        stop=tenacity.stop_after_delay(busy_timeout_ms / 1000),
        wait=tenacity.wait_fixed(0.02),
        reraise=True,
    ):
        with attempt:
            cursor.execute("PRAGMA journal_mode = WAL")


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
