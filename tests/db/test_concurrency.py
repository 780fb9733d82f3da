"""Claims racing for one uniqueness key resolve in the store, never by check-then-insert."""

from __future__ import annotations

import asyncio
from collections import Counter

from adapters.db import Database
from gateway.ports import MessageRecord
from tests.db.conftest import Store
from tests.db.values import event, record, sha

RACERS = 20


async def test_concurrent_claims_with_same_bytes_give_one_new(store: Store) -> None:
    """Twenty simultaneous submissions of the same bytes: exactly one is new, the others see it."""
    claims = await asyncio.gather(*(store.tracking.claim(record()) for _ in range(RACERS)))
    winners = {c.previous.tracking_id for c in claims if c.previous is not None}
    assert (dict(Counter(c.outcome for c in claims)), len(winners)) == ({"new": 1, "same": RACERS - 1}, 1)


async def test_concurrent_claims_with_different_bytes_give_one_new_and_conflicts(store: Store) -> None:
    """Twenty simultaneous submissions of different bytes under one reference: one new, the rest conflict."""
    claims = await asyncio.gather(*(store.tracking.claim(record(sha256=sha(str(i)))) for i in range(RACERS)))
    assert dict(Counter(c.outcome for c in claims)) == {"new": 1, "conflict": RACERS - 1}


async def test_concurrent_claims_from_separate_pools_give_one_new(database_url: str) -> None:
    """Claims through separate engines (as from separate processes) still leave one winner."""
    databases = [await Database.connect(database_url) for _ in range(4)]
    try:
        claims = await asyncio.gather(
            *(databases[i % 4].tracking.claim(record(sha256=sha(str(i % 2)))) for i in range(RACERS))
        )
        stored = await databases[0].tracking.record(
            next(c for c in claims if c.previous).previous.tracking_id
        )
    finally:
        for db in databases:
            await db.close()
    outcomes = Counter(c.outcome for c in claims)
    assert (
        outcomes["new"],
        outcomes["same"] + outcomes["conflict"],
        stored.status,
    ) == (1, RACERS - 1, "pending")


async def test_concurrent_confirms_and_events_are_all_recorded(store: Store) -> None:
    """Many messages confirmed and tracked at once all end accepted with their events in order."""
    records = [record(f"ref-{i}") for i in range(RACERS)]
    for r in records:
        await store.tracking.claim(r)

    async def life(r: MessageRecord) -> None:
        await store.tracking.confirm(r.tracking_id)
        for minutes, name in enumerate(("received", "routed", "published")):
            await store.tracking.add_event(event(r.tracking_id, name, minutes))

    await asyncio.gather(*(life(r) for r in records))
    statuses = {(await store.tracking.record(r.tracking_id)).status for r in records}
    names = {tuple(e.event for e in await store.tracking.events(r.tracking_id)) for r in records}
    assert (statuses, names) == ({"accepted"}, {("received", "routed", "published")})


async def test_many_new_claims_at_once_are_all_new_and_stored(store: Store) -> None:
    """Claims arriving together (one batch on the SQL stores) are each new and each readable afterwards."""
    records = [record(f"ref-{i}") for i in range(3 * RACERS)]
    claims = await asyncio.gather(*(store.tracking.claim(r) for r in records))
    stored = [await store.tracking.record(r.tracking_id) for r in records]
    assert ({c.outcome for c in claims}, [s.reference for s in stored if s]) == (
        {"new"},
        [r.reference for r in records],
    )


async def test_a_reused_tracking_id_in_a_batch_fails_only_its_own_claim(store: Store) -> None:
    """One bad row among claims made together: the others are new, only the bad one is refused."""
    first = record("ref-first")
    await store.tracking.claim(first)
    good = [record(f"ref-{i}") for i in range(RACERS)]
    bad = record("ref-bad", tracking_id=first.tracking_id)
    outcomes = await asyncio.gather(*(store.tracking.claim(r) for r in [*good, bad]), return_exceptions=True)
    assert ([getattr(o, "outcome", None) for o in outcomes[:-1]], type(outcomes[-1])) == (
        ["new"] * RACERS,
        ValueError,
    )


async def test_referenties_added_together_are_all_linked_and_a_bad_one_refused(store: Store) -> None:
    """Referenties of many messages written at once (one batch): all found; one for no message refused."""
    records = [record(f"ref-{i}") for i in range(RACERS)]
    for r in records:
        await store.tracking.claim(r)
        await store.tracking.confirm(r.tracking_id)
    outcomes = await asyncio.gather(
        *(
            store.tracking.add_referenties(r.tracking_id, "42420001", (f"X{i}",))
            for i, r in enumerate(records)
        ),
        store.tracking.add_referenties("00000000-0000-4000-8000-000000000000", "42420001", ("Y",)),
        return_exceptions=True,
    )
    found = [await store.tracking.find_by_referentie("42420001", f"X{i}") for i in range(RACERS)]
    assert (outcomes[:-1], type(outcomes[-1]), [f.tracking_id for f in found if f]) == (
        [None] * RACERS,
        ValueError,
        [r.tracking_id for r in records],
    )
