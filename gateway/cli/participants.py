"""``gateway participants``: manage the participant registry, submitter relations and API credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from adapters.db import (
    Database,
    RegistryError,
    Submitter,
    UnknownParticipant,
)
from adapters.db.seed import Applied, SeedError, apply_seed, demo_tokens, load_seed, read_tokens, write_tokens
from gateway.cli.database import DbOption, database_url, on_database
from gateway.ports import Participant, PartyKind

group = typer.Typer(no_args_is_help=True, help="The participant registry: parties, submitters, credentials.")

T = TypeVar("T")

_HOME = {"gemeente": "ggk", "aanbieder": "vecozo"}


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="participants")


def _run(db: str | None, work: Callable[[Database], Awaitable[T]], *, create: bool = False) -> T:
    """``work`` on the database; only ``create`` (add, seed) makes a SQLite database that is not there."""
    try:
        return on_database(database_url(db, create=create), work)
    except (RegistryError, SeedError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _day(raw: str | None, option: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter(f"{raw!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for line in (headers, ["-" * w for w in widths], *rows):
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _participants_table(found: Sequence[Participant], today: date) -> None:
    _table(
        ["code", "kind", "home", "format", "from", "until", "active", "name"],
        [
            [
                p.code,
                p.kind,
                p.home_node,
                p.delivery_format,
                p.active_from.isoformat(),
                p.active_until.isoformat() if p.active_until else "-",
                "yes" if p.active_on(today) else "no",
                p.name,
            ]
            for p in found
        ],
    )


@group.command("add")
def add(
    code: Annotated[str, typer.Argument(help="CBS code (4 digits) or AGB-code (8 digits)")],
    name: Annotated[str, typer.Option("--name", help="Organisation name")],
    kind: Annotated[
        str | None, typer.Option("--kind", help="gemeente|aanbieder (default: by code length)")
    ] = None,
    home_node: Annotated[
        str | None, typer.Option("--home-node", help="ggk|vecozo (default: by kind)")
    ] = None,
    active_from: Annotated[
        str | None, typer.Option("--from", help="First active day (default: today)")
    ] = None,
    active_until: Annotated[str | None, typer.Option("--until", help="Last active day")] = None,
    delivery_format: Annotated[str, typer.Option("--format", help="xml|stuf")] = "xml",
    db: DbOption = None,
) -> None:
    """Register a participant."""
    chosen = kind or ("gemeente" if len(code) == 4 else "aanbieder")
    participant = Participant(
        code=code,
        kind=chosen,  # type: ignore[arg-type]  # checked by the registry
        name=name,
        home_node=home_node or _HOME.get(chosen, "?"),  # type: ignore[arg-type]
        active_from=_day(active_from, "--from") or date.today(),
        active_until=_day(active_until, "--until"),
        delivery_format=delivery_format,  # type: ignore[arg-type]
    )
    _run(db, lambda d: d.registry.add_participant(participant), create=True)
    _participants_table([participant], date.today())


@group.command("update")
def update(
    code: str,
    name: Annotated[str | None, typer.Option("--name", help="Organisation name")] = None,
    home_node: Annotated[str | None, typer.Option("--home-node", help="ggk|vecozo")] = None,
    active_from: Annotated[str | None, typer.Option("--from", help="First active day")] = None,
    active_until: Annotated[str | None, typer.Option("--until", help="Last active day")] = None,
    reactivate: Annotated[bool, typer.Option("--reactivate", help="Remove the end of registration")] = False,
    delivery_format: Annotated[str | None, typer.Option("--format", help="xml|stuf")] = None,
    db: DbOption = None,
) -> None:
    """Change a participant's data (only the options given)."""
    if reactivate and active_until is not None:
        raise typer.BadParameter("use either --until or --reactivate", param_hint="--reactivate")

    async def work(d: Database) -> Participant:
        current = await d.registry.participant(code)
        if current is None:
            raise UnknownParticipant(code)
        changed = replace(
            current,
            name=name or current.name,
            home_node=home_node or current.home_node,  # type: ignore[arg-type]  # checked by the registry
            active_from=_day(active_from, "--from") or current.active_from,
            active_until=None if reactivate else _day(active_until, "--until") or current.active_until,
            delivery_format=delivery_format or current.delivery_format,  # type: ignore[arg-type]
        )
        await d.registry.update_participant(changed)
        return changed

    _participants_table([_run(db, work)], date.today())


@group.command("list")
def list_(
    kind: Annotated[str | None, typer.Option("--kind", help="gemeente|aanbieder")] = None,
    active_on: Annotated[str | None, typer.Option("--active-on", help="Only parties active that day")] = None,
    db: DbOption = None,
) -> None:
    """List participants (and the submitter relations)."""
    if kind not in (None, "gemeente", "aanbieder"):
        raise typer.BadParameter("gemeente or aanbieder", param_hint="--kind")
    chosen: PartyKind | None = kind  # type: ignore[assignment]
    day = _day(active_on, "--active-on")

    async def work(d: Database) -> tuple[list[Participant], list[Submitter]]:
        return await d.registry.participants(chosen, day), await d.registry.submitters()

    found, relations = _run(db, work)
    _participants_table(found, day or date.today())
    if relations:
        typer.echo("")
        _submitters_table(relations)


def _submitters_table(relations: Sequence[Submitter]) -> None:
    _table(
        ["submitter", "for party", "from", "until"],
        [
            [
                s.submitter,
                s.party,
                s.active_from.isoformat(),
                s.active_until.isoformat() if s.active_until else "-",
            ]
            for s in relations
        ],
    )


@group.command("retire")
def retire(
    code: str,
    last_day: Annotated[
        str | None, typer.Option("--last-day", help="Last active day (default: yesterday, so from today on)")
    ] = None,
    db: DbOption = None,
) -> None:
    """End a participant's registration: from the day after --last-day it receives nothing new."""
    day = _day(last_day, "--last-day") or date.today() - timedelta(days=1)
    ended = _run(db, lambda d: d.registry.retire(code, day))
    _participants_table([ended], date.today())


@group.command("submitter-add")
def submitter_add(
    submitter: Annotated[str, typer.Argument(help="The party that sends")],
    party: Annotated[str, typer.Argument(help="The party it sends for")],
    active_from: Annotated[str | None, typer.Option("--from", help="First day (default: today)")] = None,
    active_until: Annotated[str | None, typer.Option("--until", help="Last day")] = None,
    db: DbOption = None,
) -> None:
    """Allow SUBMITTER to send messages on behalf of PARTY."""
    relation = Submitter(
        submitter, party, _day(active_from, "--from") or date.today(), _day(active_until, "--until")
    )
    _run(db, lambda d: d.registry.add_submitter(relation))
    _submitters_table([relation])


@group.command("submitter-remove")
def submitter_remove(submitter: str, party: str, db: DbOption = None) -> None:
    """Withdraw SUBMITTER's right to send on behalf of PARTY."""
    if not _run(db, lambda d: d.registry.remove_submitter(submitter, party)):
        typer.echo(f"error: {submitter} is not a submitter for {party}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed: {submitter} no longer submits for {party}")


@group.command("credential-issue")
def credential_issue(
    code: str,
    label: Annotated[str | None, typer.Option("--label", help="What the credential is for")] = None,
    db: DbOption = None,
) -> None:
    """Issue an API credential for CODE. The token is printed once and cannot be shown again."""
    issued = _run(db, lambda d: d.registry.issue_credential(code, label))
    typer.echo(f"key id: {issued.key_id}", err=True)
    typer.echo("token (shown once; send it as 'Authorization: Bearer <token>'):", err=True)
    typer.echo(issued.token)


@group.command("credential-revoke")
def credential_revoke(key_id: str, db: DbOption = None) -> None:
    """Revoke the API credential with this key id (the part of the token before the dot)."""
    if not _run(db, lambda d: d.registry.revoke_credential(key_id)):
        typer.echo(f"error: no active credential {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked: {key_id}")


@group.command("credential-list")
def credential_list(code: Annotated[str | None, typer.Argument()] = None, db: DbOption = None) -> None:
    """List API credentials (key ids only; tokens are never stored)."""
    found = _run(db, lambda d: d.registry.credentials(code))
    _table(
        ["key id", "participant", "created", "revoked", "label"],
        [
            [
                c.key_id,
                c.participant,
                c.created_at.isoformat(timespec="seconds"),
                "yes" if c.revoked else "no",
                c.label or "",
            ]
            for c in found
        ],
    )


@group.command("seed")
def seed(
    file: Annotated[Path, typer.Argument(help="Seed file (TOML), e.g. deploy/demo/participants.toml")],
    tokens_file: Annotated[
        Path | None,
        typer.Option("--demo-tokens", help="Also keep a working API token per participant in this JSON file"),
    ] = None,
    db: DbOption = None,
) -> None:
    """Add or update the participants and submitters of a seed file (running it again changes nothing)."""
    try:
        loaded = load_seed(file)
    except SeedError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    known = read_tokens(tokens_file) if tokens_file is not None else {}

    async def work(d: Database) -> tuple[Applied, dict[str, str]]:
        applied = await apply_seed(d.registry, loaded)
        tokens: dict[str, str] = {}
        if tokens_file is not None:
            tokens = await demo_tokens(d.registry, [p.code for p in loaded.participants], known)
        return applied, tokens

    applied, tokens = _run(db, work, create=True)
    typer.echo(
        f"seed {file}: {applied.added} added, {applied.updated} updated, {applied.unchanged} unchanged, "
        f"{applied.submitters} submitter relation(s)"
    )
    if tokens_file is not None:
        write_tokens(tokens_file, tokens)
        typer.echo(f"demo API tokens for {len(tokens)} participants in {tokens_file}")
