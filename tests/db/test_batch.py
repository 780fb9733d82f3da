"""Group commit: concurrent rows share a write, and every caller learns how its own row fared."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.db.batch import Batcher


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
