"""Group commit: rows that arrive while a write is in progress go to the database together.

Each caller still returns only after its own row is committed, so nothing changes for it but the
number of transactions: one per message at low load, one per batch under load. A flush may answer each
row (a list as long as the batch, in its order), which ``add`` then returns to that row's caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Row = dict[str, Any]

MAX_BATCH = 500


class Batcher:
    """Hands rows to ``flush`` in batches; one flush at a time."""

    def __init__(
        self,
        flush: Callable[[list[Row]], Awaitable[Sequence[Any] | None]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._flush = flush
        self._max = max_batch
        self._waiting: list[tuple[Row, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Batcher(waiting={len(self._waiting)})"

    async def add(self, row: Row) -> Any:
        """Return once ``row`` is written (with the flush's answer for it, if it gives one); raise what
        writing its batch raised."""
        return (await self.add_many((row,)))[0]

    async def add_many(self, rows: Sequence[Row]) -> list[Any]:
        """:meth:`add` for several rows, handed in at once (so they share a batch): their answers."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = []
        for row in rows:
            done: asyncio.Future[Any] = loop.create_future()
            self._waiting.append((row, done))
            futures.append(done)
        if futures and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._drain())
        return [await done for done in futures]

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
            try:
                answers = await self._flush([row for row, _ in batch])
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
                if answers is not None and len(answers) != len(batch):
                    error = RuntimeError(f"flush answered {len(answers)} of {len(batch)} rows")
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for i, (_, done) in enumerate(batch):
                    if not done.done():
                        done.set_result(None if answers is None else answers[i])

    async def wait(self) -> None:
        """Wait until everything handed in so far is written (used on close)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
