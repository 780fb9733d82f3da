"""Group commit: rows that arrive while a write is in progress go to the database together.

Each caller still returns only after its own row is committed, so nothing changes for it but the
number of transactions: one per message at low load, one per batch under load. A flush may answer each
row (a list as long as the batch, in its order), which ``add`` then returns to that row's caller.

A batcher made ``direct`` writes a caller's rows from the caller's own task when it finds nothing being
written and nothing waiting: no task to start, no future to wake it, two turns of the event loop fewer for
a lone message. Rows handed in while that write runs wait for it and then go together, from a task, as
before: batching only where writes overlap. Such a direct batch holds the rows of the writing task alone
(with ``linger``, also those its other coroutines hand in before its next turn), so cancelling that task
fails its own rows only, never another caller's.

Under load callers come in crowds (a closed loop's connections move together: their claims, then their
writes after the publish): a crowd's first caller writing alone would make the rest wait for its round
trip before theirs, and split the crowd's one transaction in two (bench, c=16: 0.45 transactions per
message against 0.33 without direct writes; 0.40 with what follows; one run each). So a direct batcher
writes directly only while the last batch held the rows of one caller: after a batch of several (or a
direct write others queued behind) the next rows go the task's way, where every row handed in before the
task runs shares its batch, until a batch holds a single caller again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Row = dict[str, Any]

MAX_BATCH = 500


class Batcher:
    """Hands rows to ``flush`` in batches; one flush at a time.

    ``direct``: a caller that finds the batcher idle writes its rows itself (see the module docstring);
    ``linger``: it first yields once, so that rows its own task hands in meanwhile (coroutines started
    together, ``gateway.pipeline.pipeline.started_together``, which resumes it once they have, without a
    turn of the event loop; a turn elsewhere) join its batch. Rows of
    such coroutines must be handed in before their first wait: one handed in by the writing task while it
    is being driven elsewhere would wait for a write that cannot go on.
    """

    def __init__(
        self,
        flush: Callable[[list[Row]], Awaitable[Sequence[Any] | None]],
        max_batch: int = MAX_BATCH,
        *,
        direct: bool = False,
        linger: bool = False,
    ) -> None:
        self._flush = flush
        self._max = max_batch
        self._direct = direct
        self._linger = linger
        self._waiting: list[tuple[Row, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        # the direct write in progress: its writing task, the rows of that task that joined it while it
        # lingered (None once it writes), and the futures of those who wait for it to end (wait)
        self._writer: asyncio.Task[Any] | None = None
        self._joined: list[tuple[Row, asyncio.Future[Any]]] | None = None
        self._written: list[asyncio.Future[None]] = []
        # callers come in crowds: the last batch held several (see the module docstring); the callers
        # (tasks) that handed rows in to the waiting ones since the task took its last batch
        self._crowd = False
        self._callers = 0
        self._last_caller: asyncio.Task[Any] | None = None

    def __repr__(self) -> str:
        return f"Batcher(waiting={len(self._waiting)}, direct={self._direct})"

    async def add(self, row: Row) -> Any:
        """Return once ``row`` is written (with the flush's answer for it, if it gives one); raise what
        writing its batch raised."""
        return (await self.add_many((row,)))[0]

    async def add_many(self, rows: Sequence[Row]) -> list[Any]:
        """:meth:`add` for several rows, handed in at once (so they share a batch): their answers."""
        if (
            self._direct
            and not self._crowd
            and self._writer is None
            and not self._waiting
            and (self._task is None or self._task.done())
            and 0 < len(rows) <= self._max
        ):
            return await self._write_now(rows)
        writer, joined, into = self._writer, self._joined, self._waiting
        # (the running loop is the writer's: no second look-up, each costs a system call in CPython 3.11)
        loop = asyncio.get_running_loop() if writer is None else writer.get_loop()
        if self._direct:
            caller = asyncio.current_task()
            if joined is not None and writer is caller:
                into = joined
            elif caller is not self._last_caller:
                self._callers += 1
                self._last_caller = caller
        futures: list[asyncio.Future[Any]] = []
        for row in rows:
            done: asyncio.Future[Any] = loop.create_future()
            into.append((row, done))
            futures.append(done)
        if into is self._waiting:
            self._start()
        return [await done for done in futures]

    def _start(self) -> None:
        """Start the task that writes the waiting rows, unless it runs or a direct write does (which starts
        it when it ends)."""
        if self._waiting and self._writer is None and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._drain())

    async def _write_now(self, rows: Sequence[Row]) -> list[Any]:
        """Write ``rows`` from this task (the batcher being idle), with what this task hands in meanwhile."""
        self._writer = asyncio.current_task()
        joined: list[tuple[Row, asyncio.Future[Any]]] = []
        try:
            if self._linger:
                self._joined = joined
                try:
                    await asyncio.sleep(0)
                finally:
                    self._joined = None
                if len(rows) + len(joined) > self._max:  # the batch's bound: the ones over it wait
                    self._waiting[:0] = joined[self._max - len(rows) :]
                    joined = joined[: self._max - len(rows)]
            batch = [*rows, *(row for row, _ in joined)]
            answers = await self._flush(batch)
            if answers is not None and len(answers) != len(batch):
                raise RuntimeError(f"flush answered {len(answers)} of {len(batch)} rows")
        except BaseException as exc:
            for _, done in joined:
                if not done.done():
                    if isinstance(exc, asyncio.CancelledError):
                        done.cancel()
                    else:
                        done.set_exception(exc)
            raise
        finally:
            self._writer, written, self._written = None, self._written, []
            self._crowd = bool(self._waiting)  # others came while it wrote
            for done in written:
                if not done.done():
                    done.set_result(None)
            self._start()
        if answers is None:
            for _, done in joined:
                if not done.done():
                    done.set_result(None)
            return [None] * len(rows)
        for i, (_, done) in enumerate(joined, len(rows)):
            if not done.done():
                done.set_result(answers[i])
        return list(answers[: len(rows)])

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
            self._crowd, self._callers, self._last_caller = self._callers > 1, 0, None
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
        while True:
            if self._writer is not None:
                written: asyncio.Future[None] = self._writer.get_loop().create_future()
                self._written.append(written)
                await written
            elif self._task is not None and not self._task.done():
                await asyncio.gather(self._task, return_exceptions=True)
            else:
                return
