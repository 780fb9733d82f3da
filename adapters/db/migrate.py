"""The schema's migrations (Alembic, in ``adapters/db/migrations``) for SQLite and PostgreSQL.

:func:`upgrade` brings a database to the newest revision under the schema lock (several processes may start
at once). A database made by ``metadata.create_all`` before there were migrations has the tables but no
``alembic_version``: it is adopted (the initial revision leaves existing tables alone) and then must equal
the models, or the upgrade fails naming what differs. :func:`differences` is the ``alembic check``
equivalent: what the database lacks or has beyond the models.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast

from alembic import command, op
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, MetaData, create_engine, inspect
from sqlalchemy.ext.asyncio import AsyncConnection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


@cache
def models() -> tuple[MetaData, ...]:
    """The tables of every store in the one database: registry and tracking, audit trail, BSN index.

    Imported here, not at the top: the stores themselves run the migrations.
    """
    from adapters.db.auditschema import metadata as audit_metadata
    from adapters.db.schema import metadata as db_metadata
    from adapters.db.schema import privacy_metadata

    return (db_metadata, audit_metadata, privacy_metadata)


def create_missing(table: str, *elements: Any, indexes: Mapping[str, Sequence[str]] | None = None) -> None:
    """In a revision: create ``table`` from its columns and constraints, then its ``indexes`` (name: columns),
    unless the database has the table already (made by ``create_all`` before migrations: it is adopted as
    it is, and :func:`upgrade_sync` then compares it with the models)."""
    if inspect(op.get_bind()).has_table(table):
        return
    op.create_table(table, *elements)
    for name, columns in (indexes or {}).items():
        op.create_index(name, table, list(columns))


class SchemaError(Exception):
    """The database's schema is not what this version of the gateway needs; the message says what to do."""


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, without an ini file: the migrations of the package, on ``connection``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def scripts() -> ScriptDirectory:
    """The revisions (read once per process)."""
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The newest revision this version of the gateway knows."""
    found = scripts().get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    """The revision the database is at; None for a database without migrations (empty or made by create_all)."""
    return MigrationContext.configure(conn).get_current_revision()


def differences(conn: Connection) -> list[Any]:
    """What separates the database from the models (Alembic's autogenerate diff); empty when they are equal."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    # Alembic takes a sequence of MetaData here as for target_metadata; its annotation names only one
    return list(compare_metadata(context, cast(MetaData, list(models()))))


def describe(diffs: Sequence[Any]) -> str:
    """The differences in one line: ``add_table bsn_index; remove_index ix_messages_received_at``."""

    def one(diff: Any) -> str:
        if isinstance(diff, list):  # column modifications come as a list of tuples
            return "; ".join(one(d) for d in diff)
        kind, *rest = diff
        names = [getattr(x, "name", None) for x in rest if getattr(x, "name", None)]
        names += [x for x in rest if isinstance(x, str)]
        return " ".join([kind, *dict.fromkeys(str(n) for n in names)])

    return "; ".join(one(d) for d in diffs)


def _model_tables() -> set[str]:
    return {name for meta in models() for name in meta.tables}


def upgrade_sync(conn: Connection, revision: str = "head") -> str:
    """Bring the database on ``conn`` to ``revision`` (inside the caller's transaction); returns the revision.

    An empty database is built from the models and stamped with the newest revision (Alembic's way for a
    new database: one ``create_all`` instead of replaying every revision); the test of the migrations
    checks that replaying them gives the same schema.
    """
    at = current(conn)
    if at == revision or (revision == "head" and at == head()):
        return at
    present = _model_tables() & set(inspect(conn).get_table_names())
    if at is None and not present and revision == "head":
        for meta in models():
            meta.create_all(conn)
        MigrationContext.configure(conn).stamp(scripts(), "head")
        return head()
    adopting = at is None and bool(present)
    command.upgrade(config(conn), revision)
    if adopting:
        diffs = differences(conn)
        if diffs:
            raise SchemaError(
                "the database's tables (made before migrations) differ from the models: "
                f"{describe(diffs)}; compare them by hand before adopting it"
            )
    found = current(conn)
    assert found is not None
    return found


def new_revision(message: str) -> Path:
    """Write the next revision from what the models have beyond the migrations (Alembic's autogenerate,
    against the revisions replayed on a scratch SQLite database); review it before committing."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        try:
            with engine.begin() as conn:
                command.upgrade(config(conn), "head")
                number = len(list(scripts().walk_revisions())) + 1
                written = command.revision(config(conn), message, autogenerate=True, rev_id=f"{number:04d}")
        finally:
            engine.dispose()
    assert isinstance(written, Script)
    return Path(written.path)


async def upgrade(conn: AsyncConnection, revision: str = "head") -> str:
    """:func:`upgrade_sync` on an async connection (in a transaction that holds the schema lock)."""
    return await conn.run_sync(upgrade_sync, revision)


async def state(conn: AsyncConnection) -> tuple[str | None, str]:
    """(the database's revision, the newest revision)."""
    return await conn.run_sync(current), head()


async def require_head(conn: AsyncConnection) -> None:
    """Raise :class:`SchemaError` unless the database is at the newest revision."""
    at, newest = await state(conn)
    if at != newest:
        raise SchemaError(
            f"the database is at revision {at or 'none'}, this gateway needs {newest}: run `gateway db upgrade`"
        )
