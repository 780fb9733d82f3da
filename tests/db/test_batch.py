"""Group commit: concurrent rows share a write, and every caller learns how its own row fared."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.db.batch import Batcher
from gateway.pipeline.pipeline import started_together


class Sink:
    """A flush target that records its batches and can be told to fail once."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.fail_next = False

    async def flush(self, rows: list[dict[str, Any]]) -> None:
        await asyncio.sleep(0)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("write failed")
        self.batches.append([row["n"] for row in rows])


async def test_one_row_is_written_before_add_returns() -> None:
    """A lone row is written by the time ``add`` returns."""
    sink = Sink()
    await Batcher(sink.flush).add({"n": 1})
    assert sink.batches == [[1]]


async def test_concurrent_rows_share_writes_in_order() -> None:
    """Rows added together are written in fewer writes, in the order they came."""
    sink = Sink()
    batcher = Batcher(sink.flush)
    await asyncio.gather(*(batcher.add({"n": n}) for n in range(50)))
    flat = [n for batch in sink.batches for n in batch]
    assert (flat, len(sink.batches) < 50) == (list(range(50)), True)


async def test_batches_respect_the_maximum_size() -> None:
    """No write carries more rows than the maximum."""
    sink = Sink()
    batcher = Batcher(sink.flush, max_batch=7)
    await asyncio.gather(*(batcher.add({"n": n}) for n in range(30)))
    assert max(len(b) for b in sink.batches) <= 7


async def test_a_failed_write_fails_its_callers_and_the_next_one_works() -> None:
    """Every caller of a failed write gets the error; a later row is written normally."""
    sink = Sink()
    batcher = Batcher(sink.flush)
    sink.fail_next = True
    results = await asyncio.gather(*(batcher.add({"n": n}) for n in range(3)), return_exceptions=True)
    await batcher.add({"n": 9})
    assert ([type(r) for r in results], sink.batches) == ([RuntimeError] * 3, [[9]])


async def test_wait_returns_when_everything_is_written() -> None:
    """``wait`` returns after all rows handed in so far are written."""
    sink = Sink()
    batcher = Batcher(sink.flush)
    adds = [asyncio.ensure_future(batcher.add({"n": n})) for n in range(5)]
    await asyncio.sleep(0)
    await batcher.wait()
    await asyncio.gather(*adds)
    assert sorted(n for b in sink.batches for n in b) == [0, 1, 2, 3, 4]


async def test_a_cancelled_caller_does_not_stop_the_others() -> None:
    """Cancelling one waiting caller leaves the other rows to be written."""
    sink = Sink()
    batcher = Batcher(sink.flush)
    first = asyncio.ensure_future(batcher.add({"n": 1}))
    second = asyncio.ensure_future(batcher.add({"n": 2}))
    await asyncio.sleep(0)
    first.cancel()
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert [n for b in sink.batches for n in b] == [1, 2]


class Recorder(Sink):
    """A sink that also records which task ran each write, and can hold a write until released."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[asyncio.Task[Any] | None] = []
        self.hold: asyncio.Event | None = None

    async def flush(self, rows: list[dict[str, Any]]) -> list[int]:
        self.tasks.append(asyncio.current_task())
        if self.hold is not None:
            await self.hold.wait()
        await super().flush(rows)
        return [row["n"] * 10 for row in rows]


async def test_a_direct_batcher_writes_a_lone_row_from_the_caller_s_task() -> None:
    """Idle, a direct batcher writes the row in the caller's own task, done by the time ``add`` returns."""
    sink = Recorder()
    answer = await Batcher(sink.flush, direct=True).add({"n": 4})
    assert (answer, sink.batches, sink.tasks) == (40, [[4]], [asyncio.current_task()])


async def test_a_batcher_that_is_not_direct_writes_from_its_own_task() -> None:
    """Without ``direct`` the write runs in the batcher's task, not the caller's."""
    sink = Recorder()
    await Batcher(sink.flush).add({"n": 4})
    assert sink.tasks[0] is not asyncio.current_task()


async def test_a_direct_batcher_still_batches_rows_that_overlap_a_write() -> None:
    """Rows handed in while a direct write runs go in a batch together, in order, with their own answers."""
    sink = Recorder()
    batcher = Batcher(sink.flush, direct=True)
    answers = await asyncio.gather(*(batcher.add({"n": n}) for n in range(50)))
    assert (answers, sink.batches) == ([n * 10 for n in range(50)], [[0], list(range(1, 50))])


async def test_after_a_crowd_a_direct_batcher_batches_the_next_crowd_whole() -> None:
    """Once a batch held several callers, the next crowd is not split by a lone direct write: one batch."""
    sink = Recorder()
    batcher = Batcher(sink.flush, direct=True)
    await asyncio.gather(*(batcher.add({"n": n}) for n in range(10)))
    await asyncio.gather(*(batcher.add({"n": n}) for n in range(10, 20)))
    assert (sink.batches, asyncio.current_task() in sink.tasks) == (
        [[0], list(range(1, 10)), list(range(10, 20))],
        False,
    )


async def test_a_direct_batcher_writes_directly_again_once_a_batch_holds_one_caller() -> None:
    """After a crowd, a lone row goes the task's way; its batch held one caller, so the next is written directly."""
    sink = Recorder()
    batcher = Batcher(sink.flush, direct=True)
    await asyncio.gather(*(batcher.add({"n": n}) for n in range(3)))
    await batcher.add({"n": 3})
    await batcher.add({"n": 4})
    me = asyncio.current_task()
    assert (sink.batches[-2:], [t is me for t in sink.tasks[-2:]]) == ([[3], [4]], [False, True])


async def test_a_direct_batcher_respects_the_maximum_size() -> None:
    """Overlapping rows of a direct batcher are written in batches no larger than the maximum."""
    sink = Recorder()
    batcher = Batcher(sink.flush, max_batch=7, direct=True)
    await asyncio.gather(*(batcher.add({"n": n}) for n in range(30)))
    assert ([n for b in sink.batches for n in b], max(len(b) for b in sink.batches)) == (list(range(30)), 7)


async def test_a_failed_direct_write_fails_its_caller_only_and_the_next_one_works() -> None:
    """A direct write that fails raises in its caller; rows waiting behind it are written, and so is a later one."""
    sink = Recorder()
    batcher = Batcher(sink.flush, direct=True)
    sink.fail_next = True
    results = await asyncio.gather(*(batcher.add({"n": n}) for n in range(3)), return_exceptions=True)
    await batcher.add({"n": 9})
    assert ([type(r) for r in results], sink.batches) == ([RuntimeError, int, int], [[1, 2], [9]])


async def test_cancelling_a_direct_writer_leaves_the_others_rows_to_be_written() -> None:
    """A caller cancelled during its own direct write fails alone: rows of other callers that came meanwhile
    are written after it."""
    sink = Recorder()
    sink.hold = asyncio.Event()
    batcher = Batcher(sink.flush, direct=True)
    first = asyncio.ensure_future(batcher.add({"n": 1}))
    await asyncio.sleep(0)  # the first writes its row itself and waits in that write
    others = [asyncio.ensure_future(batcher.add({"n": n})) for n in (2, 3)]
    await asyncio.sleep(0)
    first.cancel()
    sink.hold.set()
    assert await asyncio.gather(*others) == [20, 30]
    with pytest.raises(asyncio.CancelledError):
        await first
    assert sink.batches == [[2, 3]]


async def test_wait_returns_after_a_direct_write_and_what_waited_behind_it() -> None:
    """``wait`` covers a direct write in progress and the rows handed in while it ran."""
    sink = Recorder()
    sink.hold = asyncio.Event()
    batcher = Batcher(sink.flush, direct=True)
    adds = [asyncio.ensure_future(batcher.add({"n": n})) for n in range(3)]
    await asyncio.sleep(0)
    waited = asyncio.ensure_future(batcher.wait())
    await asyncio.sleep(0)
    assert not waited.done()
    sink.hold.set()
    await waited
    assert (sink.batches, [a.done() for a in adds]) == ([[0], [1, 2]], [True] * 3)


async def test_a_lingering_writer_takes_the_rows_its_own_task_hands_in_before_its_next_turn() -> None:
    """With ``linger``, coroutines started together in one task share the first one's write."""
    sink = Recorder()
    batcher = Batcher(sink.flush, direct=True, linger=True)
    answers: list[int] = []
    await started_together([_add(batcher, n, answers) for n in (1, 2, 3)])
    assert (answers, sink.batches, sink.tasks) == ([10, 20, 30], [[1, 2, 3]], [asyncio.current_task()])


async def test_a_lingering_writer_leaves_other_tasks_rows_to_the_next_batch() -> None:
    """Rows of another task handed in while a direct writer lingers are not in its batch (its cancellation
    cannot touch them): they go in the next one."""
    sink = Recorder()
    batcher = Batcher(sink.flush, direct=True, linger=True)
    await asyncio.gather(batcher.add({"n": 1}), batcher.add({"n": 2}), batcher.add({"n": 3}))
    assert (sink.batches, sink.tasks[0] is not sink.tasks[1]) == ([[1], [2, 3]], True)


async def _add(batcher: Batcher, n: int, into: list[int]) -> None:
    into.append(await batcher.add({"n": n}))
