"""An in-memory ``AuditLog`` for tests that are not about the database; same behaviour as the SQL one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gateway.security.audit import AuditEntry, AuditEvent, ChainKey, Head, seal


class MemoryAuditLog:
    """The chain in a list; appends of concurrent tasks take turns on a lock."""

    def __init__(self, key: ChainKey) -> None:
        self.key = key
        self.chain: list[AuditEntry] = []  # tests may tamper with it directly
        self.recorded_head: Head | None = Head()  # None: the head record is gone
        self._turn = asyncio.Lock()

    async def append(self, event: AuditEvent) -> AuditEntry:
        async with self._turn:
            entry = seal(event, self.recorded_head or Head(), self.key)
            self.chain.append(entry)
            self.recorded_head = Head(entry.seq, entry.hash)
        return entry

    async def append_many(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        return [await self.append(event) for event in events]

    async def record(self, event: AuditEvent) -> None:
        await self.append(event)

    async def flush(self) -> None:
        return None

    async def entries(self, after: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        selected = [e for e in self.chain if e.seq > after]
        return selected if limit is None else selected[:limit]

    async def head(self) -> Head | None:
        return self.recorded_head

    def __repr__(self) -> str:
        return f"MemoryAuditLog(entries={len(self.chain)})"
