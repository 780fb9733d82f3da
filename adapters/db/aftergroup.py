"""PostgreSQL: what every store writes after a publish, in one statement and one commit per batch.

Once the broker confirmed a message, the tracking store confirms its claim and records its events and
referenties, the privacy index adds its BSN rows and the audit trail appends the decision. Each store
committing on its own made a lone message cost three commits after the publish (four with the claim);
here they share one group commit: concurrent writes of all three go to the database as one statement
(``adapters.db.pgwrite.after_all``), which at low load is one commit per message and under load one per
batch. Each caller still returns only once its own rows are committed.

The audit part is the chain's compare-and-set (``adapters.db.auditchain``): when another process moved
the head since this one last saw it, the statement writes everything else and the audit entries are sealed
again onto the head it found and written by themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from adapters.db import auditchain, pgwrite
from adapters.db.batch import Batcher
from adapters.db.connections import Connections
from gateway.security.audit import AuditEntry, AuditEvent, ChainKey, Head

KIND = "_kind"
CONFIRM, EVENT, LINK, BSN, AUDIT = "confirm", "event", "link", "bsn", "audit"
_KINDS = (CONFIRM, EVENT, LINK, BSN, AUDIT)

_WRITE = pgwrite.after_all()
_WRITE_AND_APPEND = (
    f"{pgwrite.after_all(auditchain.append_ctes(pgwrite.AFTER_ARGS + 7))} {auditchain.APPEND_RESULT}"
)


class AfterPublish:
    """The group commit of the writes after a publish on PostgreSQL; see the module docstring."""

    def __init__(self, connections: Connections) -> None:
        self._db = connections
        self._batch = Batcher(self._flush)
        self._held = pgwrite.Held(connections)  # one batch at a time: one connection, kept
        self._head: Head | None = None  # the audit head after this process's last append
        self._key: ChainKey | None = None  # the audit chain's key (see chain)

    def __repr__(self) -> str:
        return "AfterPublish(postgresql)"

    async def add(self, kind: str, row: dict[str, Any]) -> bool:
        """Write ``row`` (of ``kind``) with the others of its batch: True once written; False for a
        referentie of a batch the database refused for a referentie (written again by its caller)."""
        return (await self.add_many(kind, (row,)))[0]

    async def add_many(self, kind: str, rows: Sequence[dict[str, Any]]) -> list[bool]:
        """:meth:`add` for several rows of one kind, handed in at once."""
        return await self.add_kinds([(kind, row) for row in rows])

    async def add_kinds(self, rows: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        """:meth:`add` for several rows, each with its kind, handed in at once (in this order)."""
        answers = await self._batch.add_many([{KIND: kind, **row} for kind, row in rows])
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
        return [bool(answer) for answer in answers]

    def chain(self, key: ChainKey) -> AfterPublish:
        """Take audit entries too, sealed with ``key`` (the audit store's); returns the group."""
        self._key = key
        return self

    async def record(self, event: AuditEvent) -> None:
        """Append ``event`` to the audit chain (``gateway.security.auditsink.AuditWriter``); see :meth:`chain`."""
        if self._key is None:
            raise RuntimeError("the group has no audit chain key")
        await self.add(AUDIT, {"event": event})

    async def wait(self) -> None:
        await self._batch.wait()

    async def release(self) -> None:
        """Give the kept connection back to the pool (when nothing is being written: on close)."""
        await self._held.release()

    async def _flush(self, rows: list[dict[str, Any]]) -> list[Any]:
        by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
        for row in rows:
            by_kind[row[KIND]].append(row)
        answers: list[Any] = [True] * len(rows)
        events: list[AuditEvent] = []
        for i, row in enumerate(rows):  # an entry the chain cannot hold fails its own caller only
            if row[KIND] == AUDIT:
                try:
                    auditchain.check_event(row["event"])
                except ValueError as exc:
                    answers[i] = exc
                    continue
                events.append(row["event"])
        try:
            await self._write(by_kind, events)
        except pgwrite.ForeignKeyMissing:
            if not by_kind[LINK]:
                raise
            await self._write({**by_kind, LINK: []}, events)
            return [False if row[KIND] == LINK else answer for row, answer in zip(rows, answers, strict=True)]
        return answers

    async def _write(self, by_kind: dict[str, list[dict[str, Any]]], events: Sequence[AuditEvent]) -> None:
        args = [
            *pgwrite.after_args([r["tracking_id"] for r in by_kind[CONFIRM]], by_kind[LINK], by_kind[EVENT]),
            *pgwrite.columns_of(by_kind[BSN], pgwrite.BSN_COLUMNS),
        ]
        try:
            async with self._held.driver() as pg:
                if not events:
                    await pg.execute(_WRITE, *args)
                    return
                await self._append(pg, args, events)
        except asyncpg.ForeignKeyViolationError:
            raise pgwrite.ForeignKeyMissing from None
        except BaseException:
            self._head = None
            raise

    async def _append(self, pg: Any, args: list[Any], events: Sequence[AuditEvent]) -> list[AuditEntry]:
        assert self._key is not None
        # the rest is written by the first try: a second try appends the chain only, by a statement that
        # opens its two tables, not the first's six
        entries, self._head = await auditchain.append(
            pg, _WRITE_AND_APPEND, events, self._head, self._key, args, auditchain.APPEND
        )
        return entries
