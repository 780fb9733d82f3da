"""One behavioural suite for the registry and tracking stores: in-memory fake, SQLite and PostgreSQL.

The ``store`` fixture runs each test against all three; PostgreSQL tests carry the ``postgres`` marker and use
a database created for this session (``gateway_test_<random>``), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from adapters.db import Database, MemoryRegistry, MemoryTracking
from adapters.db.schema import metadata

POSTGRES_URL = os.environ.get(
    "GATEWAY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"
)


async def _admin(url: URL, sql: str) -> None:
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _admin_sync(url: URL, sql: str) -> None:
    """Run one statement from a thread of its own, away from whatever event loop a test runs."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin(url, sql)).result()


class PostgresServer:
    """Creates and drops databases on the test server."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.created: list[str] = []

    def new_database(self) -> str:
        name = f"gateway_test_{secrets.token_hex(4)}"
        _admin_sync(self.url, f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.created:
            _admin_sync(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server at GATEWAY_TEST_POSTGRES_URL; the tests skip when it does not answer."""
    url = make_url(POSTGRES_URL)
    try:
        _admin_sync(url, "SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {url.host}:{url.port} ({type(exc).__name__}: {exc})")
    server = PostgresServer(url)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A database created for this test session."""
    return postgres_server.new_database()


@dataclass
class Store:
    """A registry and a tracking store of one kind; ``open_another`` gives a second handle on the same data."""

    kind: str
    registry: Any
    tracking: Any
    url: str | None = None


async def _empty(db: Database) -> None:
    async with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The registry and tracking of a fresh, empty store: fake, SQLite file or PostgreSQL."""
    kind = request.param
    if kind == "memory":
        yield Store(kind, MemoryRegistry(), MemoryTracking())
        return
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = await Database.connect(url)
    await _empty(db)
    try:
        yield Store(kind, db.registry, db.tracking, url)
    finally:
        await _empty(db)
        await db.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database without a schema: a SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()
