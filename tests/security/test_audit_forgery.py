"""The forgeries of the audit chain that a plain hash chain let through, each seen by `gateway audit verify`:
entries deleted with the head moved back, an entry changed and the rest re-sealed, everything deleted; and a
chain whose head row is gone takes no more appends (no new chain hides what was removed)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, text, update
from structlog.testing import capture_logs

from adapters.audit import SqlAuditLog
from adapters.audit.checkpoints import CheckpointWriter, read_checkpoints
from adapters.db import migrate
from adapters.db.auditschema import HeadMissing, audit, audit_head
from gateway.security.audit import AuditEntry, ChainKey, ChainVerifier, Checkpoint, Head, seal, verify

from .test_audit_chain import event
from .test_audit_store import _cli, checkpoints, verify_args
from .values import AUDIT_KEY, NOW


async def sealed_chain(url: str, tmp_path: Path, count: int = 6) -> list[AuditEntry]:
    """``count`` entries in the database, and a signed checkpoint of the head in the checkpoint file."""
    log = await SqlAuditLog.connect(AUDIT_KEY, url)
    try:
        entries = [await log.append(event(n)) for n in range(1, count + 1)]
        await CheckpointWriter(log, AUDIT_KEY, checkpoints(tmp_path)).write()
    finally:
        await log.close()
    return entries


async def edit(url: str, *statements: object) -> None:
    """Run ``statements`` straight on the database, as someone with write access to it would."""
    log = await SqlAuditLog.connect(AUDIT_KEY, url, create_schema=False)
    try:
        async with log.engine.begin() as conn:
            for statement in statements:
                await conn.execute(statement)  # type: ignore[call-overload]
    finally:
        await log.close()


async def verify_cli(url: str, tmp_path: Path) -> tuple[int, str]:
    return await asyncio.to_thread(_cli, verify_args(url, tmp_path))


async def test_intact_chain_with_its_checkpoint_verifies(audit_url: str, tmp_path: Path) -> None:
    """An untouched chain with its signed checkpoint is OK."""
    await sealed_chain(audit_url, tmp_path)
    code, output = await verify_cli(audit_url, tmp_path)
    assert (0, True) == (code, "OK: 6 entries" in output and "1 signed checkpoints" in output)


async def test_deleted_entries_with_the_head_moved_back_are_found(audit_url: str, tmp_path: Path) -> None:
    """Deleting the newest entries and moving the head back to the last one left is reported as truncated."""
    entries = await sealed_chain(audit_url, tmp_path)
    kept = entries[3]
    await edit(
        audit_url,
        delete(audit).where(audit.c.seq > kept.seq),
        update(audit_head).values(seq=kept.seq, hash=kept.hash),
    )
    code, output = await verify_cli(audit_url, tmp_path)
    assert (1, True) == (code, "entry 6: truncated" in output)


async def test_changed_and_resealed_entries_are_found(audit_url: str, tmp_path: Path) -> None:
    """An entry changed and every later one re-sealed without the key (and the head moved along) is found."""
    entries = await sealed_chain(audit_url, tmp_path)
    forger = ChainKey(b"not the chain key, but 32 bytes!")
    head = Head(entries[1].seq, entries[1].hash)
    resealed = []
    for n, original in enumerate(entries[2:], start=3):
        changed = replace(event(n), receiver="0363") if n == 3 else event(n)
        entry = seal(changed, head, forger)
        resealed.append(entry)
        head = Head(entry.seq, entry.hash)
        assert original.seq == entry.seq
    statements: list[object] = [delete(audit).where(audit.c.seq >= 3)]
    statements += [audit.insert().values(**e.as_dict()) for e in resealed]
    statements.append(update(audit_head).values(seq=head.seq, hash=head.hash))
    await edit(audit_url, *statements)
    code, output = await verify_cli(audit_url, tmp_path)
    assert (1, True, True) == (code, "entry 3: changed" in output, "entry 6: rewritten" in output)


async def test_everything_deleted_including_the_head_is_found(audit_url: str, tmp_path: Path) -> None:
    """Deleting every entry and the head row is tampering, not an empty chain."""
    await sealed_chain(audit_url, tmp_path)
    await edit(audit_url, delete(audit), delete(audit_head))
    code, output = await verify_cli(audit_url, tmp_path)
    assert (1, True, True) == (code, "no-head" in output, "entry 6: truncated" in output)


def test_a_missing_head_is_tampering_even_without_checkpoints() -> None:
    """With no checkpoint at all, a store without its head record still fails verification."""
    assert ["no-head"] == [p.kind for p in ChainVerifier(AUDIT_KEY).finish(None, head_missing=True)]


def test_a_forged_checkpoint_is_reported() -> None:
    """A checkpoint not signed with the chain's key is reported, not trusted."""
    forged = Checkpoint.of(Head(9, "a" * 64), ChainKey(b"x" * 32), NOW)
    assert [(9, "bad-checkpoint")] == [(p.seq, p.kind) for p in verify([], AUDIT_KEY, None, [forged])]


async def test_checkpoint_file_is_private_and_written_only_when_the_head_moved(
    audit_url: str, tmp_path: Path
) -> None:
    """The checkpoint file is 0600 and a second write without new entries adds nothing."""
    await sealed_chain(audit_url, tmp_path)
    log = await SqlAuditLog.connect(AUDIT_KEY, audit_url)
    try:
        writer = CheckpointWriter(log, AUDIT_KEY, checkpoints(tmp_path))
        first, second = await writer.write(), await writer.write()
    finally:
        await log.close()
    lines = checkpoints(tmp_path).read_text(encoding="utf-8").splitlines()
    mode = stat.S_IMODE(os.stat(checkpoints(tmp_path)).st_mode)
    assert (0o600, 2, None, 6) == (mode, len(lines), second, first.seq if first else None)
    assert (
        [6, 6]
        == [json.loads(line)["seq"] for line in lines]
        == [c.seq for c in read_checkpoints(checkpoints(tmp_path))]
    )


def test_audit_key_command_makes_a_private_key_file_and_prints_no_key(tmp_path: Path) -> None:
    """`gateway audit key` makes the key file 0600 and prints its path and fingerprint, never the key."""
    key_file = tmp_path / "keys" / "audit.key"
    code, output = _cli(["audit", "key", "--key", str(key_file)])
    key = key_file.read_text(encoding="ascii").strip()
    mode = stat.S_IMODE(os.stat(key_file).st_mode)
    assert (0, 0o600, 64, False) == (code, mode, len(key), key in output)
    assert output.split() == [str(key_file), ChainKey(bytes.fromhex(key)).fingerprint]


async def test_a_node_starting_on_a_cut_back_chain_says_so(audit_url: str, tmp_path: Path) -> None:
    """At start the checkpoint writer finds the newest signed head gone (entries deleted, head moved back)
    or rewritten (an entry changed and re-sealed onto the chain)."""
    entries = await sealed_chain(audit_url, tmp_path)
    kept = entries[3]
    await edit(
        audit_url,
        delete(audit).where(audit.c.seq > kept.seq),
        update(audit_head).values(seq=kept.seq, hash=kept.hash),
    )
    log = await SqlAuditLog.connect(AUDIT_KEY, audit_url)
    try:
        writer = CheckpointWriter(log, AUDIT_KEY, checkpoints(tmp_path))
        cut = await writer.check()
        await log.append_many([event(7), event(8)])  # the node seals on: entry 6 is not the signed one
        rewritten = await writer.check()
    finally:
        await log.close()
    assert (["truncated"], ["rewritten"]) == (cut, rewritten)


@pytest.mark.parametrize("deleted", ["head", "everything"])
async def test_appends_after_the_head_row_is_deleted_are_refused(
    audit_url: str, tmp_path: Path, deleted: str
) -> None:
    """With the head row deleted (the entries left, or gone too) neither a running process nor one started
    afterwards starts a new chain: every append is refused (``HeadMissing``, logged as ``audit.tampered``),
    nothing is written, and `gateway audit verify` still says ``no-head``."""
    await sealed_chain(audit_url, tmp_path)
    running = await SqlAuditLog.connect(AUDIT_KEY, audit_url)
    refused = []
    try:
        await running.append(event(7))  # PostgreSQL: the process now knows the head it sealed onto
        await edit(audit_url, *([delete(audit)] if deleted == "everything" else []), delete(audit_head))
        with capture_logs() as logs:
            for log in (running, restarted := await SqlAuditLog.connect(AUDIT_KEY, audit_url)):
                try:
                    await log.append(event(8))
                except HeadMissing:
                    refused.append(True)
            after = (len(await restarted.entries()), await restarted.head())
            await restarted.close()
    finally:
        await running.close()
    code, output = await verify_cli(audit_url, tmp_path)
    tampered = [e for e in logs if e["event"] == "audit.tampered" and e.get("problem") == "no-head"]
    assert ([True, True], (0 if deleted == "everything" else 7, None), True, (1, True)) == (
        refused,
        after,
        len(tampered) >= 3,  # each refused append, and the start that found no head
        (code, "no-head" in output),
    )


async def test_a_new_database_has_the_head_of_the_empty_chain(tmp_path: Path) -> None:
    """The head row is made with the table, whichever way it is made: the models on an empty database, or the
    first migration replayed (as for a database made before the head was)."""
    made = await SqlAuditLog.connect(AUDIT_KEY, f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    replayed = await SqlAuditLog.connect(
        AUDIT_KEY, f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", create_schema=False
    )
    try:
        async with replayed.engine.begin() as conn:
            await migrate.upgrade(conn, "0001")
        assert [Head(), Head()] == [await made.head(), await replayed.head()]
    finally:
        await made.close()
        await replayed.close()


def _rekey_statements() -> list[str]:
    """The SQL of docs/security.md's re-keying of a chain from before the key, as written there."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    block = text.split("To re-key", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [
        line.split("--")[0].strip()
        for line in block.splitlines()
        if line.split("--")[0].strip().endswith(";")
    ]


async def test_a_chain_from_before_the_key_is_rekeyed_as_the_docs_say(audit_url: str, tmp_path: Path) -> None:
    """A chain sealed with plain SHA-256 (before the key) verifies as changed; after the statements of
    docs/security.md the old rows are kept aside, the keyed chain starts at entry 1 and verifies OK."""
    plain, head = [], Head()
    for n in range(1, 4):
        fields = seal(event(n), head, AUDIT_KEY).as_dict()
        fields["hash"] = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        plain.append(fields)
        head = Head(n, fields["hash"])
    await edit(
        audit_url,
        *(audit.insert().values(**fields) for fields in plain),
        update(audit_head).values(seq=head.seq, hash=head.hash),
    )
    before, _ = await verify_cli(audit_url, tmp_path)
    await edit(audit_url, *(text(statement) for statement in _rekey_statements()))
    log = await SqlAuditLog.connect(AUDIT_KEY, audit_url)
    try:
        first = await log.append(event(4))
        async with log.engine.connect() as conn:
            kept = (await conn.execute(text("SELECT count(*) FROM audit_sha256"))).scalar()
        async with log.engine.begin() as conn:
            await conn.execute(text("DROP TABLE audit_sha256"))
    finally:
        await log.close()
    after, output = await verify_cli(audit_url, tmp_path)
    assert (1, 3, 1, 0, True) == (before, kept, first.seq, after, "OK: 1 entries" in output)
