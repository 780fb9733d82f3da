"""``gateway audit``: check and show the keyed hash chain of the audit trail, and make its key."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect

from adapters.audit.checkpoints import default_checkpoint_file, load_chain_key, read_checkpoints
from adapters.audit.sql import SqlAuditLog
from gateway.cli.database import DbOption, database_url
from gateway.config import Settings
from gateway.security.audit import ChainKey, ChainVerifier, Problem

group = typer.Typer(no_args_is_help=True, help="The audit trail of routing decisions and operator actions.")

KeyOption = Annotated[
    Path | None,
    typer.Option("--key", help="The chain's key file (default: GATEWAY_AUDIT_KEY_FILE, else var/audit.key)."),
]
CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="The signed checkpoints (default: GATEWAY_AUDIT_CHECKPOINT_FILE, else beside the SQLite file "
        "or var/audit-{database}.checkpoints.jsonl).",
    ),
]


def _key(path: Path | None) -> ChainKey:
    path = path or Settings.from_env().security.audit_key_file
    try:
        return load_chain_key(path, create=False)
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot read the audit key: {exc}", err=True)
        raise typer.Exit(2) from None


async def _open(url: str, key: ChainKey) -> SqlAuditLog:
    log = await SqlAuditLog.connect(key, url, create_schema=False)
    async with log.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    if "audit" not in tables:
        await log.close()
        typer.echo("no audit trail in this database", err=True)
        raise typer.Exit(2)
    return log


async def _verify(url: str, key: ChainKey, checkpoints: Path) -> tuple[int, list[Problem], str, int]:
    signed = await asyncio.to_thread(read_checkpoints, checkpoints)
    log = await _open(url, key)
    try:
        verifier = ChainVerifier(key, signed)
        async for page in log.pages():
            for entry in page:
                verifier.feed(entry)
        head = await log.head()
        problems = verifier.finish(head, head_missing=head is None)
        return verifier.count, problems, head.hash if head is not None else "-", len(signed)
    finally:
        await log.close()


@group.command("verify")
def verify(db: DbOption = None, key: KeyOption = None, checkpoints: CheckpointOption = None) -> None:
    """Check the whole chain with its key and signed checkpoints; print OK, or each changed, removed,
    reordered, rewritten or truncated entry (and a missing head) and exit 1."""
    url = database_url(db)
    chain_key = _key(key)
    configured = Settings.from_env().security.audit_checkpoint_file
    checkpoint_file = checkpoints or configured or default_checkpoint_file(url)
    count, problems, head, signed = asyncio.run(_verify(url, chain_key, checkpoint_file))
    if problems:
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(f"TAMPERED: {len(problems)} problems in {count} entries", err=True)
        raise typer.Exit(1)
    if signed == 0:
        typer.echo(
            f"no checkpoints in {checkpoint_file}: entries removed from the end cannot be seen", err=True
        )
    typer.echo(f"OK: {count} entries, head {head}, {signed} signed checkpoints")


@group.command("key")
def key_file(key: KeyOption = None) -> None:
    """Make the chain's key file when it does not exist (32 random bytes, mode 0600; `gateway serve` makes
    it too) and print its path and fingerprint, never the key."""
    path = key or Settings.from_env().security.audit_key_file
    try:
        chain_key = load_chain_key(path)
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot read the audit key: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{path} {chain_key.fingerprint}")


@group.command("show")
def show(
    db: DbOption = None,
    key: KeyOption = None,
    last: Annotated[int, typer.Option(help="How many of the newest entries.")] = 20,
) -> None:
    """Print the newest entries (ids, parties, message types, decisions; never payload)."""
    url = database_url(db)
    chain_key = _key(key)

    async def newest() -> None:
        log = await _open(url, chain_key)
        try:
            head = await log.head()
            for e in await log.entries(after=max(0, (head.seq if head is not None else 0) - last)):
                typer.echo(
                    f"{e.seq:>8} {e.at} {e.kind:8} {e.decision:12} actor={e.actor} "
                    f"{e.sender or '-'}->{e.receiver or '-'} {e.message or '-'} "
                    f"tracking={e.tracking_id or '-'} reason={e.reason or '-'}"
                )
        finally:
            await log.close()

    asyncio.run(newest())


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="audit")
