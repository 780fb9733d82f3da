"""Appending to the audit chain on PostgreSQL in one statement: the pieces the audit store
(``adapters.audit.sql``) and the after-publish write group (``adapters.db.aftergroup``) share.

A batch of events is sealed onto the head the writer last saw (:func:`sealed`); the statement's CTEs
(:func:`append_ctes`) lock the head row, move it and insert the entries only when the head is still the one
they were sealed onto, and :data:`APPEND_RESULT` returns the head found and whether it moved: on a mismatch
(another process appended meanwhile) nothing of the chain is written and the batch is sealed again onto
the head found. A missing head row is tampering (it is made with the table): nothing is appended, the
append raises :class:`~adapters.db.auditschema.HeadMissing` and logs ``audit.tampered``.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import structlog
from sqlalchemy import String

from adapters.db import pgwrite
from adapters.db.auditschema import HeadMissing, audit
from gateway.security.audit import AuditEntry, AuditEvent, ChainKey, Head, seal

COLUMNS = tuple(c.name for c in audit.columns)
LIMITS = {c.name: c.type.length for c in audit.columns if isinstance(c.type, String) and c.type.length}
READ_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
APPEND_RESULT = "SELECT found.seq, found.hash, EXISTS (SELECT 1 FROM moved) AS moved FROM found"

log = structlog.get_logger("gateway.audit")


def head_missing(action: str = "append refused") -> HeadMissing:
    """The refusal of an append to a chain without its head row, logged as tampering."""
    log.error("audit.tampered", problem="no-head", action=action)
    return HeadMissing()


def append_ctes(first: int) -> str:
    """The CTEs ``found``, ``moved`` and ``entries``; parameters from ``$first``: one array per column of
    ``audit`` (:data:`COLUMNS`), then the new head's seq and hash and the expected head's seq and hash."""
    n = first + len(COLUMNS)
    return (
        "found AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE), "
        f"moved AS (UPDATE audit_head SET seq = ${n}, hash = ${n + 1} FROM found "
        f"WHERE audit_head.id = 1 AND found.seq = ${n + 2} AND found.hash = ${n + 3} RETURNING 1), "
        f"entries AS ({pgwrite.unnest_insert('audit', COLUMNS, {'seq': 'bigint'}, first)} "
        "WHERE EXISTS (SELECT 1 FROM moved))"
    )


# the chain's append alone (parameters from $1)
APPEND = f"WITH {append_ctes(1)} {APPEND_RESULT}"


# the limits of the columns an event's own fields fill (the hashes are the entry's)
_EVENT_LIMITS = tuple(
    (name, limit) for name, limit in LIMITS.items() if name in AuditEvent.__dataclass_fields__
)


def check_event(event: AuditEvent) -> None:
    """Raise ValueError when a field of ``event`` is longer than its column (before it is sealed)."""
    for name, limit in _EVENT_LIMITS:
        value = getattr(event, name)
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"audit field {name} is longer than {limit} characters")


def sealed(events: Sequence[AuditEvent], head: Head, key: ChainKey) -> tuple[list[AuditEntry], Head]:
    """``events`` sealed (with ``key``) onto the chain after ``head``, in order, and the new head; ValueError
    for an event with a field longer than its column (what an entry adds to an event's fields always fits:
    its time stamp of 27 characters, two hashes of 64)."""
    for event in events:
        check_event(event)
    return _sealed(events, head, key)


def _sealed(events: Sequence[AuditEvent], head: Head, key: ChainKey) -> tuple[list[AuditEntry], Head]:
    entries = []
    for event in events:
        entry = seal(event, head, key)
        entries.append(entry)
        head = Head(entry.seq, entry.hash)
    return entries, head


async def append(
    pg: Any,
    statement: str,
    events: Sequence[AuditEvent],
    head: Head | None,
    key: ChainKey,
    first: Sequence[object] = (),
    again: str | None = None,
) -> tuple[list[AuditEntry], Head]:
    """Append ``events`` to the chain with ``statement`` (asyncpg connection ``pg``): sealed onto ``head``
    (None: the head the database holds), run with ``first`` and :func:`append_args`; when another process
    moved the head meanwhile, sealed again onto the head the statement found and appended by ``again`` (a
    statement of the chain only, parameters :func:`append_args`; None: ``statement`` without ``first``):
    what ``statement`` writes beside the chain is written once. Returns the entries and the new head; raises
    :class:`HeadMissing` (nothing of the chain written) when the head row is gone."""
    if head is None:
        row = await pg.fetchrow(READ_HEAD)
        if row is None:
            raise head_missing()
        head = Head(int(row["seq"]), str(row["hash"]))
    args = first
    entries, after = sealed(events, head, key)
    while True:
        row = await pg.fetchrow(statement, *args, *append_args(entries, after, head))
        statement, args = again or statement, ()
        if row is None:  # the head row was deleted since this process last appended
            raise head_missing()
        if row["moved"]:
            return entries, after
        head = Head(int(row["seq"]), str(row["hash"]))
        entries, after = _sealed(events, head, key)  # checked by the first


def append_args(entries: Sequence[AuditEntry], after: Head, head: Head) -> list[object]:
    """The parameters of :func:`append_ctes` for ``entries`` sealed onto ``head`` (new head ``after``)."""
    # a column's values read off the entries (as_dict's values, without a dict per entry)
    columns: list[object] = [list(map(get, entries)) for get in _COLUMN_OF]
    return [*columns, after.seq, after.hash, head.seq, head.hash]


_COLUMN_OF = tuple(attrgetter(name) for name in COLUMNS)
