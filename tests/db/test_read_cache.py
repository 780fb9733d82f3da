"""The registry's read cache: reused for a few seconds, emptied by a change made through the same process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from adapters.db import Database
from adapters.db.registry import CACHE_ENTRIES, CACHE_MISSES, ReadCache
from tests.db.values import aanbieder, gemeente


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Pair:
    """Two processes' view of one database: ``cached`` reuses reads for 5 s, ``other`` makes changes."""

    cached: Database
    other: Database
    clock: Clock


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    cached = await Database.connect(url, registry_cache_seconds=5)
    other = await Database.connect(url)
    clock = Clock()
    cached.registry.cache = ReadCache(5, clock=clock)
    await other.registry.add_participant(gemeente("0363"))
    await other.registry.add_participant(aanbieder("42420001"))
    try:
        yield Pair(cached, other, clock)
    finally:
        await cached.close()
        await other.close()


async def test_another_process_change_is_seen_after_the_cache_time(pair: Pair) -> None:
    before = await pair.cached.registry.participant("0363")
    await pair.other.registry.update_participant(gemeente("0363", name="Renamed"))
    still = await pair.cached.registry.participant("0363")
    pair.clock.now += 5.1
    after = await pair.cached.registry.participant("0363")
    names = [p.name if p else None for p in (before, still, after)]
    assert names == [gemeente("0363").name, gemeente("0363").name, "Renamed"]


async def test_a_revoked_credential_stops_working_within_the_cache_time(pair: Pair) -> None:
    issued = await pair.other.registry.issue_credential("42420001")
    first = await pair.cached.registry.authenticate(issued.token)
    await pair.other.registry.revoke_credential(issued.key_id)
    pair.clock.now += 5.1
    assert (first, await pair.cached.registry.authenticate(issued.token)) == ("42420001", None)


async def test_a_cached_credential_row_still_checks_the_secret(pair: Pair) -> None:
    issued = await pair.other.registry.issue_credential("42420001")
    await pair.cached.registry.authenticate(issued.token)
    forged = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    assert None is await pair.cached.registry.authenticate(forged)


async def test_a_change_through_the_same_registry_is_seen_at_once(pair: Pair) -> None:
    issued = await pair.cached.registry.issue_credential("42420001")
    first = await pair.cached.registry.authenticate(issued.token)
    await pair.cached.registry.revoke_credential(issued.key_id)
    await pair.cached.registry.participant("0363")
    await pair.cached.registry.update_participant(replace(gemeente("0363"), name="Renamed"))
    renamed = await pair.cached.registry.participant("0363")
    assert (first, await pair.cached.registry.authenticate(issued.token), renamed and renamed.name) == (
        "42420001",
        None,
        "Renamed",
    )


async def test_no_cache_reads_every_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    async with await Database.connect(url) as plain, await Database.connect(url) as other:
        await other.registry.add_participant(gemeente("0363"))
        await plain.registry.participant("0363")
        await other.registry.update_participant(gemeente("0363", name="Renamed"))
        renamed = await plain.registry.participant("0363")
    assert renamed is not None and renamed.name == "Renamed"


async def test_a_full_cache_is_emptied_not_grown() -> None:
    cache = ReadCache(60)

    async def read() -> int:
        return 1

    for i in range(CACHE_ENTRIES + 10):
        await cache.get(("k", str(i)), read)
    assert len(cache._entries) <= CACHE_ENTRIES


async def test_callers_that_miss_the_same_key_at_once_share_one_read() -> None:
    """An entry read by many requests at the moment it expires is read once, not once per request."""
    cache = ReadCache(60)
    reads = 0
    release = asyncio.Event()

    async def read() -> str:
        nonlocal reads
        reads += 1
        await release.wait()
        return "value"

    waiting = [asyncio.ensure_future(cache.get(("k",), read)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert ["value"] * 20 == await asyncio.gather(*waiting)
    assert 1 == reads


async def test_a_read_that_fails_fails_every_waiter_and_is_not_kept() -> None:
    """Its error reaches each caller; the next caller reads again."""
    cache = ReadCache(60)
    answers = iter([RuntimeError("down"), "value"])

    async def read() -> str:
        await asyncio.sleep(0)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    failed = await asyncio.gather(*(cache.get(("k",), read) for _ in range(3)), return_exceptions=True)
    assert [RuntimeError] * 3 == [type(f) for f in failed]
    assert "value" == await cache.get(("k",), read)


async def test_a_read_begun_before_a_change_is_not_kept() -> None:
    """A change through this process (clear) while a read is under way: that read's answer is not cached."""
    cache = ReadCache(60)
    values = iter(["before", "after"])
    release = asyncio.Event()

    async def read() -> str:
        value = next(values)
        if value == "before":
            await release.wait()
        return value

    first = asyncio.ensure_future(cache.get(("k",), read))
    await asyncio.sleep(0)
    cache.clear()
    release.set()
    assert "before" == await first
    assert "after" == await cache.get(("k",), read)


async def test_a_caller_that_gives_up_does_not_cancel_the_others_read() -> None:
    """A cancelled request leaves the shared read running for the requests still waiting."""
    cache = ReadCache(60)
    release = asyncio.Event()

    async def read() -> str:
        await release.wait()
        return "value"

    quitter = asyncio.ensure_future(cache.get(("k",), read))
    stayer = asyncio.ensure_future(cache.get(("k",), read))
    await asyncio.sleep(0)
    quitter.cancel()
    release.set()
    assert "value" == await stayer


async def test_a_flood_of_unknown_key_ids_does_not_evict_the_known_entries() -> None:
    """10,000 distinct bogus key ids (misses) leave the cached answers of real callers in place."""
    cache = ReadCache(5, clock=Clock())
    reads: list[tuple[str, ...]] = []

    def reader(key: tuple[str, ...], value: object) -> Callable[[], Awaitable[object]]:
        async def read() -> object:
            reads.append(key)
            return value

        return read

    good = [("credential", f"good-{i}") for i in range(50)]
    for key in good:
        await cache.get(key, reader(key, ("42420001", "salt", "digest")))
    for i in range(10_000):
        key = ("credential", f"bogus-{i}")
        await cache.get(key, reader(key, None))
    reads.clear()
    for key in good:
        await cache.get(key, reader(key, None))
    assert ([], True) == (reads, len(cache._misses) <= CACHE_MISSES)
