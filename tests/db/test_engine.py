"""Connecting: URLs, the SQLite file, schema creation, and faults turned into Unavailable."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.db import Database, database_url
from adapters.db.schema import metadata
from gateway.errors import Unavailable
from tests.db.values import gemeente


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///var/x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///var/x.db", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_urls_get_their_async_driver(given: str, driver: str) -> None:
    """Plain SQLite and PostgreSQL URLs are given the async driver."""
    assert driver == database_url(given).drivername


def test_default_url_is_the_sqlite_file_under_the_checkout_s_var() -> None:
    """Without a URL the database is var/gateway.db of the checkout, whatever the working directory."""
    root = Path(__file__).resolve().parents[2]
    assert (database_url().drivername, database_url().database) == (
        "sqlite+aiosqlite",
        str(root / "var" / "gateway.db"),
    )


def test_other_databases_are_refused() -> None:
    """Only SQLite and PostgreSQL are supported."""
    with pytest.raises(ValueError):
        database_url("mysql://u@h/db")


async def test_sqlite_creates_its_directory(tmp_path: Path) -> None:
    """Connecting to a SQLite file in a directory that is not there yet creates both."""
    db = await Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'gateway.db'}")
    await db.close()
    assert (tmp_path / "var" / "gateway.db").is_file()


async def test_sqlite_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """var/gateway.db (credential digests, BSN HMACs, the audit chain) and its WAL files are made 0600,
    whatever the umask; a file made 0644 earlier is narrowed."""
    old = os.umask(0o022)
    try:
        (tmp_path / "old.db").touch(mode=0o644)
        for url in (f"sqlite:///{tmp_path / 'var' / 'gateway.db'}", f"sqlite:///{tmp_path / 'old.db'}"):
            db = await Database.connect(url)
            try:
                await db.registry.add_participant(gemeente("0363"))
            finally:
                await db.close()
    finally:
        os.umask(old)
    files = [tmp_path / "var" / "gateway.db", tmp_path / "old.db", *(tmp_path / "var").glob("gateway.db-*")]
    assert {0o600} == {stat.S_IMODE(f.stat().st_mode) for f in files}


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    """SQLite uses the write-ahead log, waits for locks and enforces foreign keys."""
    db = await Database.connect(f"sqlite:///{tmp_path / 'nested' / 'g.db'}")
    try:
        async with db.engine.connect() as conn:
            pragmas = [
                (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]
    finally:
        await db.close()
    assert pragmas == ["wal", 30000, 1]


async def test_schema_creation_is_idempotent(database_url: str) -> None:
    """Connecting again to a database with the schema keeps its data."""
    first = await Database.connect(database_url)
    await first.registry.add_participant(gemeente("0363"))
    await first.create_schema()
    await first.close()
    second = await Database.connect(database_url)
    try:
        found = await second.registry.participant("0363")
    finally:
        await second.close()
    assert gemeente("0363") == found


async def test_processes_starting_together_create_the_schema_once(database_url: str) -> None:
    """Several gateway processes creating the schema at the same moment all succeed."""
    databases = await asyncio.gather(*(Database.connect(database_url) for _ in range(6)))
    try:
        async with databases[0].engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    finally:
        for db in databases:
            await db.close()
    assert set(metadata.tables) <= tables


def test_no_table_holds_a_payload_or_personal_data() -> None:
    """The message table keeps codes, ids, a hash, a size and times: nothing of the content."""
    expected = {
        "tracking_id",
        "conversation_id",
        "standard",
        "release",
        "message",
        "afzender",
        "ontvanger",
        "submitter",
        "reference",
        "identificatie",
        "sha256",
        "size",
        "received_at",
        "status",
        "answers",
        # what a REST push stated: the sender's ids and the berichtstroom (type, version, action)
        "traceer_id",
        "conversatie_id",
        "als_antwoord_op",
        "referentie_id",
        "berichtstroom",
    }
    assert expected == set(metadata.tables["messages"].columns.keys())


async def test_unreachable_postgres_is_unavailable() -> None:
    """A database that cannot be reached turns into the transient Unavailable error."""
    db = await Database.connect("postgresql://postgres@127.0.0.1:1/none", create_schema=False, pool_timeout=2)
    try:
        with pytest.raises(Unavailable):
            await db.registry.participant("0363")
    finally:
        await db.close()


async def test_connect_to_unreachable_postgres_is_unavailable() -> None:
    """Connecting (with schema creation) to a server that does not answer raises Unavailable."""
    with pytest.raises(Unavailable):
        await Database.connect("postgresql://postgres@127.0.0.1:1/none")


async def test_repr_shows_no_password() -> None:
    """The database's repr names dialect, host and database, never the password."""
    db = await Database.connect("postgresql://u:s3cret@127.0.0.1:1/none", create_schema=False)
    try:
        shown = repr(db)
    finally:
        await db.close()
    assert "s3cret" not in shown
