"""``gateway privacy``: citizen access (inzage) by BSN without any BSN stored, and the retention purge."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer

from adapters.db import Database
from adapters.db.privacy import SqlPrivacyIndex
from gateway.cli.database import DbOption, database_url, on_database
from gateway.config import Settings
from gateway.privacy.bsnkey import BsnHasher, load_or_create_key
from gateway.privacy.index import Exchange
from gateway.privacy.retention import PurgeReport, Retention

group = typer.Typer(
    no_args_is_help=True, help="Citizen access without stored BSNs; retention (bewaartermijn)."
)

_BSN = re.compile(r"^\d{9}$")


def _settings() -> Settings:
    return Settings.from_env()


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    """A date (start of that day, UTC) or an ISO datetime; ``end`` makes a date mean the day after it."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + (timedelta(days=1) if end else timedelta())
            return datetime.combine(day, time(), tzinfo=UTC)
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or ISO datetime") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _elfproef(bsn: str) -> bool:
    """The BSN's eleven-test (9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11)."""
    digits = [int(c) for c in bsn]
    total = sum(w * d for w, d in zip(range(9, 1, -1), digits[:8], strict=True)) - digits[8]
    return total % 11 == 0


async def _index(database: Database) -> SqlPrivacyIndex:
    index = SqlPrivacyIndex(database.connections)
    await index.create_schema()
    return index


def _hasher(key_file: Path) -> BsnHasher:
    if not key_file.exists():
        typer.echo(f"no BSN key {key_file}: nothing can have been indexed with it", err=True)
        raise typer.Exit(2)
    return BsnHasher(load_or_create_key(key_file))


@group.command("inzage")
def inzage(
    bsn: Annotated[str, typer.Argument(help="The person's BSN (9 digits); used only to compute its digest.")],
    since: Annotated[
        str | None, typer.Option("--from", help="From this date (YYYY-MM-DD) or time on.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Up to and including this date (or before a time).")
    ] = None,
    db: DbOption = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="The BSN key file (default: GATEWAY_PRIVACY_KEY_FILE).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Which parties exchanged which messages about this person, and when (the BSN itself is never stored)."""
    bsn = bsn.strip()
    if not _BSN.match(bsn) or not _elfproef(bsn):
        raise typer.BadParameter("a BSN has 9 digits and passes the eleven-test", param_hint="BSN")
    key_file = key or _settings().security.privacy_key_file
    hasher = _hasher(key_file)
    since_at, until_at = _day(since), _day(until, end=True)

    async def work(database: Database) -> list[Exchange]:
        index = await _index(database)
        return await index.exchanges(hasher.digest(bsn), since_at, until_at)

    found = on_database(database_url(db), work, create_schema=False)
    for exchange in found:
        if as_json:
            typer.echo(json.dumps(exchange.as_dict(), sort_keys=True))
        else:
            typer.echo(
                f"{exchange.at.isoformat()}  {exchange.message:7} {exchange.afzender:>8} -> {exchange.ontvanger:<8} "
                f"tracking={exchange.tracking_id}"
            )
    if not as_json:
        typer.echo(f"{len(found)} {'message' if len(found) == 1 else 'messages'}")


@group.command("purge")
def purge(
    db: DbOption = None,
    retention_days: Annotated[
        int | None, typer.Option(help="Keep this many days (default: GATEWAY_RETENTION_DAYS).", min=1)
    ] = None,
) -> None:
    """Remove tracking detail and BSN index entries older than the retention period (the audit chain stays)."""
    url = database_url(db)
    days = retention_days or _settings().security.retention_days

    async def work(database: Database) -> PurgeReport:
        return await Retention(days, database.tracking, await _index(database)).purge()

    report = on_database(url, work)
    typer.echo(
        f"purged before {report.cutoff.isoformat()}: {report.messages} messages, {report.events} events, "
        f"{report.exchanges} BSN index entries"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="privacy")
