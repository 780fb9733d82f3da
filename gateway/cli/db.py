"""``gateway db``: the database schema's migrations (Alembic): upgrade, where it stands, compare."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from adapters.db import Database
from adapters.db.migrate import SchemaError
from gateway.cli.database import DbOption, database_url, on_database

group = typer.Typer(no_args_is_help=True, help="The database schema: migrations (Alembic) and checks.")

T = TypeVar("T")


def _run(db: str | None, work: Callable[[Database], Awaitable[T]], *, create: bool = False) -> T:
    """Run ``work`` on the database; a SQLite file that does not exist is reported (made only when ``create``)."""
    url = database_url(db, create=create)
    try:
        return on_database(url, work, create_schema=False)
    except SchemaError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@group.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Bring the database to the newest revision (a database made before migrations is adopted)."""

    async def work(database: Database) -> str:
        return await database.upgrade()

    typer.echo(f"database at revision {_run(db, work, create=True)}")


@group.command("status")
def status(db: DbOption = None) -> None:
    """The database's revision and the newest one; exit 1 when an upgrade is due."""

    async def work(database: Database) -> tuple[str | None, str]:
        return await database.revision()

    at, newest = _run(db, work)
    typer.echo(f"database at revision {at or 'none'}, newest {newest}")
    if at != newest:
        typer.echo("run `gateway db upgrade`", err=True)
        raise typer.Exit(1)


@group.command("check")
def check(db: DbOption = None) -> None:
    """Compare the database's tables with the models (as `alembic check`); exit 1 on any difference."""

    async def work(database: Database) -> str:
        return await database.differences()

    found = _run(db, work)
    if found:
        typer.echo(f"the database differs from the models: {found}", err=True)
        raise typer.Exit(1)
    typer.echo("the database equals the models")


@group.command("revision")
def revision(message: Annotated[str, typer.Argument(help="What the schema change does.")]) -> None:
    """Write the next revision from the difference between the models and the migrations (then review it)."""
    from adapters.db.migrate import new_revision

    typer.echo(f"wrote {new_revision(message)}")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="db")
