"""A claim left pending by a process that died mid-publish: the same bytes resume under its tracking id.

In-memory registry and tracking, the real engine; the publisher records what it was given (a test of the
ingest decision, not of the broker).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.db import MemoryRegistry, MemoryTracking
from gateway.checker import EngineChecker
from gateway.errors import Unavailable
from gateway.pipeline import Pipeline as Ingest
from gateway.ports import Delivery, Participant
from gateway.standard.engine import Engine
from tests.messages import example, new_id, set_header

pytestmark = pytest.mark.shared

GEMEENTE, AANBIEDER = "0384", "42420001"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ENGINE: list[Engine] = []


class Recorder:
    """Publishes into a list; ``hang`` makes the next publish wait for ever (a process about to die),
    ``lose_confirm`` makes the next one keep the message but report no confirm (a connection lost)."""

    def __init__(self) -> None:
        self.published: list[Delivery] = []
        self.hang = False
        self.lose_confirm = False

    async def publish(self, delivery: Delivery) -> None:
        if self.hang:
            self.hang = False
            await asyncio.Event().wait()
        self.published.append(delivery)
        if self.lose_confirm:
            self.lose_confirm = False
            raise Unavailable("the broker did not confirm the message")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def node() -> tuple[Ingest, Recorder, Clock, MemoryTracking]:
    if not _ENGINE:
        _ENGINE.append(Engine.load())
    registry = MemoryRegistry(
        (
            Participant(GEMEENTE, "gemeente", "Gemeente", "ggk", date(2015, 1, 1)),
            Participant(AANBIEDER, "aanbieder", "Aanbieder", "vecozo", date(2015, 1, 1)),
        )
    )
    tracking, publisher, clock = MemoryTracking(), Recorder(), Clock()
    ingest = Ingest("vecozo", EngineChecker(_ENGINE[0]), registry, tracking, publisher, clock=clock)
    return ingest, publisher, clock, tracking


def request() -> bytes:
    return set_header(example("WMO315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())


async def died_mid_publish(ingest: Ingest, publisher: Recorder, data: bytes) -> None:
    """The first attempt: claimed, then its process is gone before the confirm (the task is cancelled)."""
    publisher.hang = True
    task = asyncio.create_task(ingest.submit(data, AANBIEDER))
    for _ in range(1000):  # until the publish has begun (it resets ``hang``)
        if not publisher.hang:
            break
        await asyncio.sleep(0)
    assert not publisher.hang and not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_same_bytes_after_the_claim_went_stale_resume_under_its_tracking_id() -> None:
    ingest, publisher, clock, tracking = node()
    data = request()
    await died_mid_publish(ingest, publisher, data)
    (pending,) = [r for r in tracking._records.values()]
    clock.now = T0 + timedelta(seconds=61)
    accepted = await ingest.submit(data, AANBIEDER)
    stored = await tracking.record(pending.tracking_id)
    assert (accepted.tracking_id, accepted.conversation_id, [d.tracking_id for d in publisher.published]) == (
        pending.tracking_id,
        pending.conversation_id,
        [pending.tracking_id],
    )
    assert stored is not None and (stored.status, stored.received_at) == ("accepted", clock.now)


async def test_the_same_bytes_while_the_claim_is_fresh_are_told_to_retry() -> None:
    ingest, publisher, clock, _ = node()
    data = request()
    await died_mid_publish(ingest, publisher, data)
    clock.now = T0 + timedelta(seconds=30)
    with pytest.raises(Unavailable):
        await ingest.submit(data, AANBIEDER)
    assert publisher.published == []


async def test_other_bytes_after_the_claim_went_stale_replace_it() -> None:
    ingest, publisher, clock, tracking = node()
    data = request()
    await died_mid_publish(ingest, publisher, data)
    (pending,) = [r for r in tracking._records.values()]
    clock.now = T0 + timedelta(seconds=61)
    other = data + b"\n"  # the same message with one byte more: other bytes under the same reference
    accepted = await ingest.submit(other, AANBIEDER)
    assert (accepted.tracking_id != pending.tracking_id, await tracking.record(pending.tracking_id)) == (
        True,
        None,
    )


async def test_a_retry_after_a_lost_confirm_resumes_at_once_under_the_same_tracking_id() -> None:
    """The broker kept the message but the confirm was lost: 503; the retry publishes again under the same
    tracking id, so the recipient sees one message id twice (a redelivery) instead of two messages."""
    ingest, publisher, clock, tracking = node()
    data = request()
    publisher.lose_confirm = True
    with pytest.raises(Unavailable):
        await ingest.submit(data, AANBIEDER)
    clock.now = T0 + timedelta(seconds=2)
    accepted = await ingest.submit(data, AANBIEDER)
    stored = await tracking.record(accepted.tracking_id)
    assert [d.tracking_id for d in publisher.published] == [accepted.tracking_id] * 2
    assert stored is not None and (stored.status, stored.received_at) == ("accepted", clock.now)
