"""The audit chain in storage (fake, SQLite, PostgreSQL): appends chain, tampering is found, concurrency holds."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from dataclasses import replace
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from adapters.audit import MemoryAuditLog, SqlAuditLog
from adapters.db.auditschema import audit
from gateway.cli import _load as load_commands
from gateway.cli import app
from gateway.security.audit import AuditEntry, AuditEvent, Head, seal, verify

from .test_audit_chain import event
from .values import AUDIT_KEY, AUDIT_KEY_BYTES, NOW

AuditStore = MemoryAuditLog | SqlAuditLog


async def fill(log: AuditStore, count: int = 6) -> list[AuditEntry]:
    return [await log.append(event(n)) for n in range(1, count + 1)]


async def problems(log: AuditStore) -> list[tuple[int, str]]:
    found = verify(await log.entries(), AUDIT_KEY, await log.head())
    return [(p.seq, p.kind) for p in found]


async def change_reason(log: AuditStore, seq: int, reason: str) -> None:
    if isinstance(log, MemoryAuditLog):
        log.chain[seq - 1] = replace(log.chain[seq - 1], reason=reason)
        return
    async with log.engine.begin() as conn:
        await conn.execute(update(audit).where(audit.c.seq == seq).values(reason=reason))


async def remove(log: AuditStore, seq: int) -> None:
    if isinstance(log, MemoryAuditLog):
        del log.chain[seq - 1]
        return
    async with log.engine.begin() as conn:
        await conn.execute(delete(audit).where(audit.c.seq == seq))


async def swap(log: AuditStore, a: int, b: int) -> None:
    if isinstance(log, MemoryAuditLog):
        log.chain[a - 1], log.chain[b - 1] = log.chain[b - 1], log.chain[a - 1]
        return
    async with log.engine.begin() as conn:
        await conn.execute(update(audit).where(audit.c.seq == a).values(seq=-1))
        await conn.execute(update(audit).where(audit.c.seq == b).values(seq=a))
        await conn.execute(update(audit).where(audit.c.seq == -1).values(seq=b))


async def test_appended_entries_read_back_in_order(audit_log: AuditStore) -> None:
    """Entries come back exactly as appended, in sequence order."""
    appended = await fill(audit_log)
    assert appended == list(await audit_log.entries())


async def test_appends_form_one_chain(audit_log: AuditStore) -> None:
    """Each entry links to the previous one and the head names the newest."""
    appended = await fill(audit_log)
    assert ([], Head(6, appended[-1].hash)) == (await problems(audit_log), await audit_log.head())


async def test_entries_page_after_a_sequence_number(audit_log: AuditStore) -> None:
    """entries(after, limit) returns the next page of the chain."""
    await fill(audit_log)
    assert [e.seq for e in await audit_log.entries(after=2, limit=2)] == [3, 4]


async def test_changed_entry_is_found(audit_log: AuditStore) -> None:
    """An entry whose stored reason was changed is reported as changed."""
    await fill(audit_log)
    await change_reason(audit_log, 3, "IB002")
    assert await problems(audit_log) == [(3, "changed")]


async def test_removed_entry_is_found(audit_log: AuditStore) -> None:
    """A deleted entry in the middle is reported as removed."""
    await fill(audit_log)
    await remove(audit_log, 3)
    assert (4, "removed") in await problems(audit_log)


async def test_removed_newest_entry_is_found(audit_log: AuditStore) -> None:
    """A deleted newest entry is reported as truncated against the head."""
    await fill(audit_log)
    await remove(audit_log, 6)
    assert await problems(audit_log) == [(6, "truncated")]


async def test_reordered_entries_are_found(audit_log: AuditStore) -> None:
    """Two entries that traded places are reported at both places."""
    await fill(audit_log)
    await swap(audit_log, 3, 4)
    assert {3, 4} <= {seq for seq, _ in await problems(audit_log)}


async def test_concurrent_appends_keep_one_chain(audit_url: str) -> None:
    """Four logs on their own engines appending at once still make one unbroken chain."""
    logs = [await SqlAuditLog.connect(AUDIT_KEY, audit_url) for _ in range(4)]
    try:
        await asyncio.gather(*(log.append(event(n)) for n in range(1, 26) for log in logs))
        entries = await logs[0].entries()
        assert ([], list(range(1, 101))) == (
            verify(entries, AUDIT_KEY, await logs[0].head()),
            [e.seq for e in entries],
        )
    finally:
        for log in logs:
            await log.close()


async def test_concurrent_appends_in_memory_keep_one_chain() -> None:
    """Concurrent tasks appending to the fake make one unbroken chain too."""
    log = MemoryAuditLog(AUDIT_KEY)
    await asyncio.gather(*(log.append(event(n)) for n in range(1, 51)))
    assert (verify(await log.entries(), AUDIT_KEY, await log.head()), len(log.chain)) == ([], 50)


APPENDER = """
import asyncio, sys
from datetime import UTC, datetime
from adapters.audit import SqlAuditLog
from gateway.security.audit import AuditEvent
from tests.security.values import AUDIT_KEY

async def main(url, count):
    log = await SqlAuditLog.connect(AUDIT_KEY, url)
    for n in range(count):
        await log.append(AuditEvent.operator_action(at=datetime.now(UTC), operator="proc", action="redrive"))
    await log.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


@pytest.mark.slow
async def test_appends_from_several_processes_keep_one_chain(audit_url: str) -> None:
    """Three processes appending at once leave one unbroken chain with every entry."""
    procs = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", APPENDER, audit_url, "30")
        for _ in range(3)
    ]
    codes = [await p.wait() for p in procs]
    log = await SqlAuditLog.connect(AUDIT_KEY, audit_url)
    try:
        entries = await log.entries()
        assert (codes, verify(entries, AUDIT_KEY, await log.head()), len(entries)) == ([0, 0, 0], [], 90)
    finally:
        await log.close()


async def test_too_long_field_is_refused_before_storage(audit_url: str) -> None:
    """A field longer than its column is refused with ValueError and nothing is stored."""
    log = await SqlAuditLog.connect(AUDIT_KEY, audit_url)
    try:
        long = AuditEvent.operator_action(at=NOW, operator="x" * 101, action="discard")
        with pytest.raises(ValueError):
            await log.append(long)
        assert (Head(), []) == (await log.head(), list(await log.entries()))
    finally:
        await log.close()


def _cli(args: list[str]) -> tuple[int, str]:
    load_commands()
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def verify_args(url: str, tmp_path: Path) -> list[str]:
    """``gateway audit verify`` of ``url`` with the tests' key file and a checkpoint file in ``tmp_path``."""
    key_file = tmp_path / "audit.key"
    if not key_file.exists():
        key_file.write_text(AUDIT_KEY_BYTES.hex() + "\n", encoding="ascii")
    return [
        "audit",
        "verify",
        "--db",
        url,
        "--key",
        str(key_file),
        "--checkpoints",
        str(checkpoints(tmp_path)),
    ]


def checkpoints(tmp_path: Path) -> Path:
    return tmp_path / "audit.checkpoints.jsonl"


async def _filled(url: str) -> None:
    log = await SqlAuditLog.connect(AUDIT_KEY, url)
    try:
        await fill(log)
    finally:
        await log.close()


async def test_cli_verify_says_ok(audit_url: str, tmp_path: Path) -> None:
    """`gateway audit verify --db URL` prints OK for an intact chain and exits 0."""
    await _filled(audit_url)
    code, output = await asyncio.to_thread(_cli, verify_args(audit_url, tmp_path))
    assert (code, "OK: 6 entries" in output) == (0, True)


async def test_cli_verify_exits_1_on_tampering(audit_url: str, tmp_path: Path) -> None:
    """After an entry was changed `gateway audit verify` names it and exits 1."""
    await _filled(audit_url)
    log = await SqlAuditLog.connect(AUDIT_KEY, audit_url)
    try:
        await change_reason(log, 2, "none")
    finally:
        await log.close()
    code, output = await asyncio.to_thread(_cli, verify_args(audit_url, tmp_path))
    assert (code, "entry 2: changed" in output) == (1, True)


def test_cli_verify_without_database_file(tmp_path: Path) -> None:
    """A SQLite file that does not exist is reported (not created) and exits 2."""
    code = _cli(verify_args(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path))[0]
    assert (code, (tmp_path / "missing.db").exists()) == (2, False)


def test_cli_verify_without_audit_table(tmp_path: Path) -> None:
    """A database without an audit table is reported and exits 2."""
    sqlite3.connect(tmp_path / "empty.db").close()
    assert _cli(verify_args(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path))[0] == 2


def test_event_times_are_kept_in_utc() -> None:
    """An event time with an offset is stored as the same instant in UTC."""
    local = NOW.astimezone(timezone(timedelta(hours=2)))
    assert (
        seal(AuditEvent.operator_action(at=local, operator="o", action="a"), Head(), AUDIT_KEY).at
        == "2025-03-01T12:00:00.000000Z"
    )
