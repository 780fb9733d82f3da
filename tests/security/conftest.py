"""Fixtures of the security tests: a dev CA made in memory, and audit stores (fake, SQLite, PostgreSQL).

PostgreSQL tests carry the ``postgres`` marker and use a database created for this session
(``gateway_audit_test_<random>``), dropped afterwards; they skip when the server does not answer.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from adapters.audit import MemoryAuditLog, SqlAuditLog
from adapters.db.auditschema import audit, audit_head
from gateway.security import pki
from tests.db.conftest import _admin_sync

from .values import AUDIT_KEY, NOW

POSTGRES_URL = os.environ.get(
    "GATEWAY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def ca() -> pki.Issued:
    """The dev CA the tests trust."""
    return pki.new_ca(now=NOW)


@pytest.fixture(scope="session")
def foreign_ca() -> pki.Issued:
    """A CA this node does not trust, with the same name as the trusted one."""
    return pki.new_ca(now=NOW)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own on the PostgreSQL test server, for this session."""
    url = make_url(POSTGRES_URL)
    name = f"gateway_audit_test_{secrets.token_hex(4)}"
    try:
        _admin_sync(url, f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {url.host}:{url.port} ({type(exc).__name__})")
    yield url.set(database=name).render_as_string(hide_password=False)
    _admin_sync(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _empty_audit(url: str) -> None:
    log = await SqlAuditLog.connect(AUDIT_KEY, url)
    try:
        async with log.engine.begin() as conn:
            await conn.execute(
                audit.delete()
            )  # and the head of the empty chain, which a test may have deleted
            await conn.execute(audit_head.delete())
            await conn.execute(audit_head.insert().values(id=1, seq=0, hash="0" * 64))
    finally:
        await log.close()


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def audit_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database with empty audit tables: a SQLite file or the session's PostgreSQL database."""
    url = _url(request.param, request, tmp_path)
    await _empty_audit(url)
    return url


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def audit_log(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MemoryAuditLog | SqlAuditLog]:
    """An empty audit log: in-memory fake, SQLite file or PostgreSQL."""
    if request.param == "memory":
        yield MemoryAuditLog(AUDIT_KEY)
        return
    url = _url(request.param, request, tmp_path)
    await _empty_audit(url)
    log = await SqlAuditLog.connect(AUDIT_KEY, url)
    try:
        yield log
    finally:
        await log.close()
