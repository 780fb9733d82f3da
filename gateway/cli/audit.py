"""``gateway audit``: check and show the hash-chained audit trail."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from sqlalchemy import inspect

from adapters.audit.sql import SqlAuditLog
from gateway.cli.database import DbOption, database_url
from gateway.security.audit import ChainVerifier, Problem

group = typer.Typer(no_args_is_help=True, help="The audit trail of routing decisions and operator actions.")


async def _open(url: str) -> SqlAuditLog:
    log = await SqlAuditLog.connect(url, create_schema=False)
    async with log.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    if "audit" not in tables:
        await log.close()
        typer.echo("no audit trail in this database", err=True)
        raise typer.Exit(2)
    return log


async def _verify(url: str) -> tuple[int, list[Problem], str]:
    log = await _open(url)
    try:
        verifier = ChainVerifier()
        async for page in log.pages():
            for entry in page:
                verifier.feed(entry)
        head = await log.head()
        return verifier.count, verifier.finish(head), head.hash
    finally:
        await log.close()


@group.command("verify")
def verify(db: DbOption = None) -> None:
    """Check the whole chain; print OK, or each changed, removed or reordered entry and exit 1."""
    count, problems, head = asyncio.run(_verify(database_url(db)))
    if problems:
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(f"TAMPERED: {len(problems)} problems in {count} entries", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {count} entries, head {head}")


@group.command("show")
def show(
    db: DbOption = None, last: Annotated[int, typer.Option(help="How many of the newest entries.")] = 20
) -> None:
    """Print the newest entries (ids, parties, message types, decisions; never payload)."""
    url = database_url(db)

    async def newest() -> None:
        log = await _open(url)
        try:
            head = await log.head()
            for e in await log.entries(after=max(0, head.seq - last)):
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
