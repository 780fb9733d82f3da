"""The tracking store's hot writes on PostgreSQL: one statement per batch, array parameters, through asyncpg.

Every accepted message costs a claim before its publish and a confirm, three events and its referenties
after it. Through SQLAlchemy these are several statements with a round trip and a client-side compile
each, plus BEGIN and COMMIT. Here a batch of claims is one ``INSERT .. SELECT FROM unnest(..)`` and a batch
of after-publish rows is one statement whose data-modifying CTEs update, insert the referenties and insert
the events: one round trip, atomic on its own (autocommit), with a fixed text that asyncpg prepares once per
connection. Events keep the order of their rows (``unnest`` yields array order, ids follow it).

SQLite keeps the SQLAlchemy statements (``adapters.db.tracking``): it runs in-process and has no round trip.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.connections import Connections
from adapters.db.schema import PUSHED_COLUMNS, messages
from gateway.errors import Unavailable

# a claim writes the whole row, but for what a REST push stated (``adapters.db.koppeling`` writes that)
CLAIM_COLUMNS = tuple(c.name for c in messages.columns if c.name not in PUSHED_COLUMNS)
CLAIM_TYPES = {"size": "bigint", "received_at": "timestamptz"}


def unnest_insert(table: str, columns: Sequence[str], types: Mapping[str, str], first: int = 1) -> str:
    """``INSERT INTO table (columns) SELECT * FROM unnest($first::type[], ...)``: any number of rows as one
    statement with one array parameter per column (``types``: the columns that are not varchar)."""
    arrays = ", ".join(f"${i}::{types.get(c, 'varchar')}[]" for i, c in enumerate(columns, first))
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"


def columns_of(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[list[Any]]:
    """The arguments of :func:`unnest_insert`: one list per column."""
    return [[row[c] for row in rows] for c in columns]


CLAIM = (
    unnest_insert("messages", CLAIM_COLUMNS, CLAIM_TYPES)
    + " ON CONFLICT (afzender, message, reference) DO NOTHING RETURNING tracking_id"
)

# the writes after a publish: confirm ($1), referenties ($2-$4), events ($5-$10)
_AFTER_CTES = """confirmed AS (
    UPDATE messages SET status = 'accepted' WHERE tracking_id = ANY($1::varchar[]) AND status = 'pending'
), linked AS (
    INSERT INTO referenties (aanbieder, referentie, tracking_id)
    SELECT * FROM unnest($2::varchar[], $3::varchar[], $4::varchar[])
    ON CONFLICT DO NOTHING
)"""
_EVENTS = """INSERT INTO events (tracking_id, event, node, at, detail, more)
SELECT * FROM unnest($5::varchar[], $6::varchar[], $7::varchar[], $8::timestamptz[], $9::json[], $10::json[])"""
AFTER = f"WITH {_AFTER_CTES}\n{_EVENTS}"
AFTER_ARGS = 10

# the BSN index (adapters.db.privacy): one row per accepted message and client BSN (as its keyed digest)
BSN_COLUMNS = ("bsn_hmac", "tracking_id", "message", "afzender", "ontvanger", "at")
BSN_TYPES = {"at": "timestamptz"}


def after_all(audit_ctes: str | None = None) -> str:
    """One statement for the writes after a publish of every store: :data:`AFTER`'s confirm, referenties
    and events, the BSN index rows ($11-$16) and, given ``audit_ctes`` (their parameters from $17), the
    audit chain's append (``adapters.db.auditchain``; the statement then returns its result)."""
    bsn = unnest_insert("bsn_index", BSN_COLUMNS, BSN_TYPES, AFTER_ARGS + 1)
    ctes = f"{_AFTER_CTES}, evented AS (\n{_EVENTS}\n), indexed AS ({bsn})"
    if audit_ctes is None:
        return f"WITH {ctes}\nSELECT 1"
    return f"WITH {ctes}, {audit_ctes}"


# json.dumps with its own separators builds an encoder per call (three events per message): one, kept
_compact = json.JSONEncoder(separators=(",", ":")).encode

# faults of the connection, not of the statement: the connection is dropped from the pool, the caller 503s
_TRANSIENT = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)


class ForeignKeyMissing(Exception):
    """A referentie named a tracking id that is not in ``messages``."""


class DuplicateTrackingId(Exception):
    """A claim reused a tracking id that is already in ``messages``."""


@asynccontextmanager
async def driver(conn: AsyncConnection, what: str = "the database") -> AsyncIterator[Any]:
    """The asyncpg connection under a pooled SQLAlchemy connection. A fault of the connection drops it from
    the pool and becomes :class:`Unavailable` (a 503 the client retries)."""
    raw = await conn.get_raw_connection()
    try:
        yield raw.driver_connection
    except _TRANSIENT as exc:
        await conn.invalidate()
        raise Unavailable(f"{what} is not available") from exc


# the kept connection's planner setting, for as long as a writer keeps it (see Held)
_INDEX_ONLY = "SET enable_seqscan = off"
_INDEX_ONLY_RESET = "RESET enable_seqscan"


class Held:
    """A pooled connection that one writer keeps between its statements, as the asyncpg connection under it.

    A group commit writes one batch at a time, so it needs one connection, and checking one out of
    SQLAlchemy's pool per batch cost about 0.2 ms of CPU, ten times the statement's own (measured: 244 against
    24 us per ``SELECT 1``): at low load, where every message is a batch, that was two checkouts per message.
    A fault of the connection (or a statement cut off) gives it back invalidated and becomes
    :class:`Unavailable`; the next statement checks out another. :meth:`release` gives it back (on close).

    While kept, the connection plans without sequential scans (``enable_seqscan`` off, reset when given back):
    every statement of a writer finds its rows by a key. asyncpg prepares a statement once per connection
    and PostgreSQL keeps the generic plan it makes at the sixth execution; made while ``messages`` was still
    a few pages (a new database, the first minute of a deployment), the confirm's ``tracking_id = ANY($1)``
    became a scan of the whole table, kept until an analyze or asyncpg's statement lifetime (5 minutes)
    replaced it: each batch then read every row, a cost that grew with the table.
    """

    def __init__(self, connections: Connections, what: str = "the database") -> None:
        self._db = connections
        self._what = what
        self._conn: AsyncConnection | None = None
        self._pg: Any = None

    def __repr__(self) -> str:
        return f"Held(held={self._conn is not None})"

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        if self._conn is None:
            async with self._db.checked_out() as conn:
                try:
                    pg: Any = (await conn.get_raw_connection()).driver_connection
                    await pg.execute(_INDEX_ONLY)
                except BaseException as exc:
                    with contextlib.suppress(Exception):
                        await conn.invalidate()
                    await conn.close()
                    if isinstance(exc, _TRANSIENT):
                        raise Unavailable(f"{self._what} is not available") from exc
                    raise
                self._conn, self._pg = conn, pg
        try:
            yield self._pg
        except asyncpg.PostgresError as exc:  # the statement's fault: the connection is fine
            if isinstance(exc, asyncpg.PostgresConnectionError):
                await self._drop()
                raise Unavailable(f"{self._what} is not available") from exc
            raise
        except _TRANSIENT as exc:
            await self._drop()
            raise Unavailable(f"{self._what} is not available") from exc
        except BaseException:  # cancelled mid-statement: the connection's state is unknown
            await self._drop()
            raise

    async def _drop(self) -> None:
        conn, self._conn, self._pg = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def release(self) -> None:
        conn, pg, self._conn, self._pg = self._conn, self._pg, None, None
        if conn is None:
            return
        try:
            await pg.execute(_INDEX_ONLY_RESET)  # the pool's next user plans as usual
        except Exception:  # not given back as it is: the pool opens another
            with contextlib.suppress(Exception):
                await conn.invalidate()
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            raise
        finally:
            await conn.close()


async def claim(conn: AsyncConnection | Held, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert the claims whose key is free; the tracking ids inserted."""
    try:
        async with conn.driver() if isinstance(conn, Held) else driver(conn) as pg:
            found = await pg.fetch(CLAIM, *columns_of(rows, CLAIM_COLUMNS))
    except asyncpg.UniqueViolationError as exc:  # not the uniqueness key (ON CONFLICT): a tracking id
        raise DuplicateTrackingId(str(exc.constraint_name)) from None
    return {r[0] for r in found}


def after_args(
    confirms: Sequence[str], links: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]
) -> list[Any]:
    """The parameters of :data:`AFTER` ($1-$10)."""
    return [
        list(confirms),
        [r["aanbieder"] for r in links],
        [r["referentie"] for r in links],
        [r["tracking_id"] for r in links],
        [r["tracking_id"] for r in events],
        [r["event"] for r in events],
        [r["node"] for r in events],
        [r["at"] for r in events],
        [_compact(r["detail"]) for r in events],
        [None if r.get("more") is None else _compact(r["more"]) for r in events],
    ]


async def after(
    conn: AsyncConnection,
    confirms: Sequence[str],
    links: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
) -> None:
    """Confirm, link and record in one statement; :class:`ForeignKeyMissing` when a link names no message
    (then nothing of the statement is written)."""
    try:
        async with driver(conn) as pg:
            await pg.execute(AFTER, *after_args(confirms, links, events))
    except asyncpg.ForeignKeyViolationError:
        raise ForeignKeyMissing from None
