"""The schema's migrations (Alembic) on SQLite and PostgreSQL: equal to the models, adopting older databases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from adapters.db import Database, database_url
from adapters.db.migrate import SchemaError, config, current, differences, head, models
from adapters.db.schema import participants


async def _sync(url: str, work: object) -> object:
    """Run ``work(connection)`` in one transaction on ``url``."""
    engine = create_async_engine(database_url(url))
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def _create_all(conn: Connection) -> None:
    """What the gateway did before migrations: ``metadata.create_all`` of each store."""
    for meta in models():
        meta.create_all(conn)


def _replay(conn: Connection) -> None:
    command.upgrade(config(conn), "head")


def _state(conn: Connection) -> tuple[str | None, list[object]]:
    return current(conn), differences(conn)


async def test_replayed_migrations_equal_the_models(database_url: str) -> None:
    """Every revision replayed on an empty database gives the models' schema (``alembic check`` finds nothing)."""
    await _sync(database_url, _replay)
    assert (head(), []) == await _sync(database_url, _state)


async def test_new_database_is_at_the_newest_revision(database_url: str) -> None:
    """``Database.connect`` on an empty database makes the schema at the newest revision, equal to the models."""
    db = await Database.connect(database_url)
    await db.close()
    assert (head(), []) == await _sync(database_url, _state)


async def test_database_made_by_create_all_is_adopted(database_url: str) -> None:
    """A database made by ``create_all`` before migrations is stamped, its rows kept, and equals the models."""
    await _sync(database_url, _create_all)
    await _sync(
        database_url,
        lambda conn: conn.execute(
            participants.insert().values(
                code="0363", kind="gemeente", name="Amsterdam", home_node="ggk", active_from=date(2020, 1, 1)
            )
        ),
    )
    db = await Database.connect(database_url)
    try:
        kept = [p.code for p in await db.registry.participants()]
    finally:
        await db.close()
    assert (["0363"], (head(), [])) == (kept, await _sync(database_url, _state))


async def test_partly_made_database_gets_the_missing_tables(database_url: str) -> None:
    """A database where only the registry's tables were made (``gateway participants`` before the first
    ``serve``) is adopted and gets the audit and BSN index tables."""
    await _sync(database_url, models()[0].create_all)
    db = await Database.connect(database_url)
    await db.close()
    assert (head(), []) == await _sync(database_url, _state)


async def test_adoption_refuses_a_database_that_differs(database_url: str) -> None:
    """Tables that exist but differ from the models are not stamped: the upgrade fails naming the difference."""
    await _sync(database_url, _create_all)
    await _sync(database_url, lambda conn: conn.execute(text("DROP INDEX ix_messages_received_at")))
    with pytest.raises(SchemaError, match="ix_messages_received_at"):
        await Database.connect(database_url)
    assert None is await _sync(database_url, current)


async def test_several_processes_may_upgrade_at_once(database_url: str) -> None:
    """Processes starting together on one new database all come up; the schema is made once."""
    dbs = await asyncio.gather(*(Database.connect(database_url) for _ in range(3)))
    for db in dbs:
        await db.close()
    assert (head(), []) == await _sync(database_url, _state)


async def test_check_mode_refuses_an_old_database(database_url: str) -> None:
    """With GATEWAY_DB_MIGRATE=check a node does not change the schema: it refuses to start on an old database,
    naming the command that upgrades it, and leaves the database as it was."""
    from gateway.config import Settings
    from gateway.runtime import Runtime
    from tests.harness import shared_engine

    await _sync(database_url, _create_all)
    settings = Settings(database_url=database_url, db_migrate="check")
    with pytest.raises(SchemaError, match="gateway db upgrade"):
        await Runtime.start(settings, engine=shared_engine())
    assert None is await _sync(database_url, current)


def test_cli_upgrade_status_and_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``gateway db upgrade`` adopts an old SQLite file; ``status`` and ``check`` then report it current (and
    make no file where there is none)."""
    import typer

    from gateway.cli import db as db_cli
    from gateway.cli.failures import OneLineErrors

    url = f"sqlite:///{tmp_path / 'g.db'}"
    monkeypatch.setenv("GATEWAY_DATABASE_URL", url)
    asyncio.run(_sync(url, models()[0].create_all))  # type: ignore[arg-type]
    app = typer.Typer(cls=OneLineErrors)

    @app.callback()
    def _root() -> None: ...

    db_cli.register(app)
    runner = CliRunner()
    missing = runner.invoke(app, ["db", "status", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    before = runner.invoke(app, ["db", "status"])
    upgraded = runner.invoke(app, ["db", "upgrade"])
    after = runner.invoke(app, ["db", "status"])
    checked = runner.invoke(app, ["db", "check"])
    tables = asyncio.run(_sync(url, lambda conn: sorted(inspect(conn).get_table_names())))  # type: ignore[arg-type]
    assert (2, False, 1, 0, f"database at revision {head()}\n", 0, 0, True) == (
        missing.exit_code,
        (tmp_path / "none.db").exists(),
        before.exit_code,
        upgraded.exit_code,
        upgraded.stdout,
        after.exit_code,
        checked.exit_code,
        "bsn_index" in tables,  # type: ignore[operator]
    )


def _at(revision: str) -> Callable[[Connection], None]:
    def work(conn: Connection) -> None:
        command.upgrade(config(conn), revision)

    return work


def _back_to(revision: str) -> Callable[[Connection], None]:
    def work(conn: Connection) -> None:
        command.downgrade(config(conn), revision)

    return work


async def test_pushes_written_before_revision_0006_keep_their_traceer_ids(database_url: str) -> None:
    """Upgraded from 0005 with a push and its message written then: the push is found as before and keeps
    its traceerId for its sender (BRS114); a new push goes in without a row of its own, and a downgrade
    gives it one again."""
    from adapters.db.schema import koppeling_pushes, messages
    from adapters.db.tracking import record_row
    from gateway.koppeling.store import TraceerIdTaken, push_id
    from tests.db.test_koppeling_store import T0, message_of, pushed
    from tests.db.values import record

    await _sync(database_url, _at("0005"))
    old = pushed()
    old_id = str(uuid.uuid4())  # a tracking id of before: random
    row = {**record_row(record("ref-0", tracking_id=old_id, received_at=T0)), "status": "accepted"}

    stated = {name: getattr(old, name) for name in ("afzender", "submitter", "traceer_id", "sha256")}
    push = {**stated, "id": old_id, "tracking_id": old_id, "conversatie_id": old.conversatie_id}
    push |= {"received_at": T0, "berichtstroom": {}, "state": "pending", "meldingen": []}

    def rows_of_0005(conn: Connection) -> None:
        conn.execute(messages.insert().values(row))
        conn.execute(koppeling_pushes.insert().values(push))

    await _sync(database_url, rows_of_0005)
    db = await Database.connect(database_url)  # to the newest revision
    try:
        koppeling, tracking = db.koppeling, db.tracking
        assert [old_id] == [p.id for p in await koppeling.pushes_by_traceer(old.traceer_id)]
        again = pushed(traceer=old.traceer_id, sha256="c" * 64)
        with pytest.raises(TraceerIdTaken) as taken:
            await koppeling.claim_with(again, message_of(again, "ref-1"), tracking.claim)
        assert (old_id, None) == (taken.value.held.id, await tracking.record(again.id))
        stroom = {"berichttype": "JW301", "berichtversie": 3, "berichtsubversie": 2, "actie": "Indienen"}
        new = pushed(routing={"routeringgegevens": {"berichtstroom": stroom}})
        assert "new" == (await koppeling.claim_with(new, message_of(new, "ref-2"), tracking.claim)).outcome
        assert [new.id] == [p.id for p in await koppeling.pushes_by_traceer(new.traceer_id, [new.afzender])]
    finally:
        await db.close()
    assert (head(), []) == await _sync(database_url, _state)

    def pushes(conn: Connection) -> dict[str, object]:
        found = conn.execute(koppeling_pushes.select()).mappings()
        return {r["id"]: r["berichtstroom"] for r in found}

    assert [old_id] == list(await _sync(database_url, pushes))
    await _sync(database_url, _back_to("0005"))
    back = {old_id: {}, push_id(new.afzender, new.traceer_id): stroom}
    assert back == await _sync(database_url, pushes)


async def test_messages_written_before_revision_0008_are_found_by_identificatie(database_url: str) -> None:
    """Upgraded from 0007 with a message and a retour written then: ``find`` links each by its Identificatie
    as before, the partial index holds the retour only; a downgrade gives every message its entry again."""
    from adapters.db.schema import messages
    from adapters.db.tracking import record_row
    from tests.db.values import record

    await _sync(database_url, _at("0007"))
    original = record("ID-301")
    retour = record("RET-1", identificatie="ID-301", message="JW302", afzender="42420001", ontvanger="0363")
    rows = [{**record_row(r), "status": "accepted"} for r in (original, retour)]

    def rows_of_0007(conn: Connection) -> None:
        conn.execute(messages.insert(), rows)

    def entries(conn: Connection) -> int:
        """The rows the index holds: those its predicate (as the database keeps it) accepts."""
        where = _predicate(conn, "ix_messages_afzender_message_identificatie")
        return int(conn.execute(text(f"SELECT count(*) FROM messages WHERE {where}")).scalar_one())

    async def found() -> list[str | None]:
        db = await Database.connect(database_url)
        try:
            by_sender = [
                await db.tracking.find(r.afzender, r.message, r.identificatie) for r in (original, retour)
            ]
        finally:
            await db.close()
        return [None if r is None else r.tracking_id for r in by_sender]

    await _sync(database_url, rows_of_0007)
    assert [original.tracking_id, retour.tracking_id] == await found()  # to the newest revision
    assert (head(), []) == await _sync(database_url, _state)
    assert 1 == await _sync(database_url, entries)
    await _sync(database_url, _back_to("0007"))
    assert 2 == await _sync(database_url, entries)


def _predicate(conn: Connection, index: str) -> str:
    """The condition of a partial index as the database keeps it (TRUE for an index of every row)."""
    if conn.dialect.name == "sqlite":
        made = str(
            conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :i"), {"i": index}).scalar_one()
        )
        return f"({made.split(' WHERE ', 1)[1]})" if " WHERE " in made else "TRUE"
    where = conn.execute(
        text("SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = CAST(:i AS regclass)"),
        {"i": index},
    ).scalar_one()
    return f"({where})" if where is not None else "TRUE"
