"""The writes after a publish, started together without a task each: as gather runs them."""

from __future__ import annotations

import asyncio

import pytest

from gateway.pipeline.pipeline import started_together


async def test_every_coroutine_hands_in_before_any_waits_and_all_end() -> None:
    loop = asyncio.get_running_loop()
    handed: list[int] = []
    futures: list[asyncio.Future[int]] = []
    ended: list[int] = []

    async def write(n: int) -> None:
        done: asyncio.Future[int] = loop.create_future()
        handed.append(n)
        futures.append(done)
        await done
        await asyncio.sleep(0)
        ended.append(await asyncio.shield(asyncio.sleep(0, n)))

    running = asyncio.create_task(started_together([write(n) for n in range(3)]))
    await asyncio.sleep(0)
    assert (handed, ended) == ([0, 1, 2], [])
    for n, done in reversed(list(enumerate(futures))):
        done.set_result(n)
    await running
    assert ended == [0, 1, 2]


async def test_the_first_error_is_raised_once_the_others_ended() -> None:
    loop = asyncio.get_running_loop()
    gate: asyncio.Future[None] = loop.create_future()
    ended: list[str] = []

    async def fails() -> None:
        await gate
        raise ValueError("first")

    async def fails_at_once() -> None:
        raise KeyError("at once")

    async def waits() -> None:
        await gate
        ended.append("waits")

    loop.call_soon(gate.set_result, None)
    with pytest.raises(KeyError):
        await started_together([fails(), fails_at_once(), waits()])
    assert ended == ["waits"]


async def test_an_error_of_what_a_coroutine_waits_for_goes_to_it() -> None:
    loop = asyncio.get_running_loop()
    broken: asyncio.Future[None] = loop.create_future()
    caught: list[str] = []

    async def handles() -> None:
        try:
            await broken
        except OSError as exc:
            caught.append(str(exc))

    loop.call_soon(broken.set_exception, OSError("gone"))
    await started_together([handles()])
    assert caught == ["gone"]


async def test_cancelling_closes_the_coroutines_not_ended() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    closed: list[int] = []

    async def waits(n: int) -> None:
        try:
            await never
        finally:
            closed.append(n)

    running = asyncio.create_task(started_together([waits(0), waits(1)]))
    await asyncio.sleep(0)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert sorted(closed) == [0, 1]
