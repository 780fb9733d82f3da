"""Group commit: rows that arrive while a write is in progress go to the database together.

Each caller still returns only after its own row is committed, so nothing changes for it but the
number of transactions: one per message at low load, one per batch under load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Row = dict[str, Any]

MAX_BATCH = 500


class Batcher:
    """Hands rows to ``flush`` in batches; one flush at a time."""

    def __init__(self, flush: Callable[[list[Row]], Awaitable[None]], max_batch: int = MAX_BATCH) -> None:
        self._flush = flush
        self._max = max_batch
        self._waiting: list[tuple[Row, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Batcher(waiting={len(self._waiting)})"

    async def add(self, row: Row) -> None:
        """Return once ``row`` is written; raise what writing its batch raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
            try:
                await self._flush([row for row, _ in batch])
            except asyncio.CancelledError:  # the loop is shutting down: nobody may wait forever
                for _, done in (*batch, *self._waiting):
                    done.cancel()
                self._waiting = []
                raise
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def wait(self) -> None:
        """Wait until everything handed in so far is written (used on close)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
