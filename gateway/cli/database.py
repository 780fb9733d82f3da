"""What the commands that work on the database share: the ``--db`` option and one connection per command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from adapters.db import Database, require_existing
from gateway.config import Settings

T = TypeVar("T")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: GATEWAY_DATABASE_URL, else the SQLite file)."),
]


def database_url(db: str | None, *, create: bool = False) -> str:
    """The database URL; a SQLite file that does not exist is reported (:class:`NoDatabase`) unless ``create``
    (a PostgreSQL URL names a server, not a file)."""
    url = db or Settings.from_env().database_url
    return url if create else require_existing(url)


def on_database(url: str, work: Callable[[Database], Awaitable[T]], *, create_schema: bool = True) -> T:
    """Connect, run ``work`` on the database, close."""

    async def main() -> T:
        database = await Database.connect(url, create_schema=create_schema)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(main())
