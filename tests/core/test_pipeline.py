"""The one pipeline: each carried message is read once, every refusal is recorded and told alike.

In-memory registry and tracking, the real engine; the publisher records what it was given and the
observers record what they were told (tests of the pipeline's decisions, not of the broker).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

import pytest

from adapters.db import MemoryRegistry, MemoryTracking
from gateway.checker import EngineChecker
from gateway.errors import NodeRole, NotAuthorised, NotUnique, SchemaInvalid, Unavailable
from gateway.interfaces.errors import EnvelopeMismatch
from gateway.pipeline import Decision, Facts, Kind, Observers, Pipeline, Read
from gateway.ports import Delivery, Participant
from gateway.standard.catalog import MessageType
from gateway.standard.engine import Engine
from gateway.standard.header import Header
from tests.messages import example, new_id, set_header

pytestmark = pytest.mark.shared

GEMEENTE, AANBIEDER, OTHER = "0384", "42420001", "42420002"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ENGINE: list[Engine] = []


class CountingChecker(EngineChecker):
    """The engine, counting how often it was asked to check bytes."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.checked = 0

    def check(self, data: bytes) -> Header:
        self.checked += 1
        return super().check(data)


class Recorder:
    def __init__(self) -> None:
        self.published: list[Delivery] = []

    async def publish(self, delivery: Delivery) -> None:
        self.published.append(delivery)


class Told:
    """What the pipeline told its observers (filled by a sink and a counter)."""

    def __init__(self) -> None:
        self.decided: list[str] = []
        self.counted: list[str] = []
        self.confirmed = 0


class Sink:
    def __init__(self, told: Told) -> None:
        self.told = told

    async def decided(self, decision: Decision) -> None:
        self.told.decided.append(decision.decision)


class Counter:
    def __init__(self, told: Told) -> None:
        self.told = told

    def counted(self, decision: Decision) -> None:
        self.told.counted.append(decision.decision)

    def published(self, delivery: Delivery) -> None:
        self.told.confirmed += 1

    def crossed(self, node: NodeRole, received_at: datetime | None) -> None: ...

    def refused_at_link(self, node: NodeRole, code: str) -> None: ...

    def delivered(self, node: NodeRole, received_at: datetime | None) -> None: ...


class IntoMailbox(Recorder):
    """A publisher that put a message for the other node straight into its mailbox there."""

    async def publish(self, delivery: Delivery) -> bool:  # type: ignore[override]
        await super().publish(delivery)
        return delivery.target_node != delivery.origin_node


class Unconfirmed:
    async def publish(self, delivery: Delivery) -> None:
        raise Unavailable("broker did not confirm in time")


def node() -> tuple[Pipeline, CountingChecker, Recorder, MemoryTracking, Told]:
    if not _ENGINE:
        _ENGINE.append(Engine.load())
    registry = MemoryRegistry(
        (
            Participant(GEMEENTE, "gemeente", "Gemeente", "ggk", date(2015, 1, 1)),
            Participant(AANBIEDER, "aanbieder", "Aanbieder", "vecozo", date(2015, 1, 1)),
            Participant(OTHER, "aanbieder", "Andere aanbieder", "vecozo", date(2015, 1, 1)),
        )
    )
    checker, publisher, tracking, told = CountingChecker(_ENGINE[0]), Recorder(), MemoryTracking(), Told()
    observers = Observers(sinks=(Sink(told),), counters=(Counter(told),))
    pipeline = Pipeline(
        "vecozo", checker, registry, tracking, publisher, clock=lambda: T0, observers=observers
    )
    return pipeline, checker, publisher, tracking, told


def request(name: str = "WMO315") -> bytes:
    return set_header(example(name), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())


def same_sender(reads: Sequence[Read]) -> None:
    if len({r.who.sender for r in reads}) != 1:
        raise EnvelopeMismatch("not one sender")


async def test_each_message_of_a_batch_is_read_once_and_published_once() -> None:
    """Two messages in one envelope: two reads of the engine, two deliveries, both accepted."""
    pipeline, checker, publisher, _, told = node()
    facts = Facts(interface="batch", sender=AANBIEDER, agree=same_sender, whole=True)
    verdict = await pipeline.run((request(), request()), AANBIEDER, facts)
    assert (None, 2, 2, 2, ["accepted", "accepted"]) == (
        verdict.refused,
        checker.checked,
        len(publisher.published),
        told.confirmed,
        told.decided,
    )


async def test_a_refusal_of_the_second_message_publishes_nothing() -> None:
    """A schema error in the second message refuses the batch at that position before anything travels."""
    pipeline, _, publisher, tracking, told = node()
    broken = request().replace(b"<wmo315:Header>", b"<wmo315:Header><wmo315:Onzin/>", 1)
    verdict = await pipeline.run((request(), broken), AANBIEDER, Facts(sender=AANBIEDER, whole=True))
    assert verdict.refused is not None and verdict.refused.tracking_id is not None
    events = await tracking.events(verdict.refused.tracking_id)
    assert (SchemaInvalid, 1, [], ["refused"], ["refused"], ["refused"]) == (
        type(verdict.refused),
        verdict.at,
        publisher.published,
        [e.event for e in events],
        told.decided,
        told.counted,
    )


async def test_the_envelope_sender_is_authorised_before_anything_is_read() -> None:
    """A caller that may not send for the envelope's sender is refused without the engine being asked."""
    pipeline, checker, publisher, _, told = node()
    verdict = await pipeline.run((request(),), OTHER, Facts(sender=AANBIEDER))
    assert (NotAuthorised, None, 0, [], ["refused"]) == (
        type(verdict.refused),
        verdict.at,
        checker.checked,
        publisher.published,
        told.decided,
    )


async def test_the_envelope_expectation_sees_the_message_once_read() -> None:
    """An expectation that fails refuses the message after one read, with nothing published."""

    def expect(header: Header, kind: Kind) -> None:
        raise EnvelopeMismatch("the envelope names another message")

    pipeline, checker, publisher, _, _ = node()
    verdict = await pipeline.run((request(),), AANBIEDER, Facts(expect=expect))
    assert (EnvelopeMismatch, 0, 1, []) == (
        type(verdict.refused),
        verdict.at,
        checker.checked,
        publisher.published,
    )


async def test_a_batch_holding_one_message_twice_is_refused_before_publishing() -> None:
    """Two messages with one reference in one batch: CC08 at the second, nothing published."""
    pipeline, _, publisher, _, _ = node()
    data = request()
    verdict = await pipeline.run((data, data), AANBIEDER, Facts(sender=AANBIEDER, whole=True))
    assert (NotUnique, 1, []) == (type(verdict.refused), verdict.at, publisher.published)


async def test_the_envelope_trail_is_recorded_with_each_accepted_message() -> None:
    """The envelope's trail becomes an ``enveloped`` event after received, routed and published."""

    def trail(position: int) -> Mapping[str, str]:
        return {"interface": "test", "position": str(position)}

    pipeline, _, _, tracking, _ = node()
    accepted = await pipeline.submit(request(), AANBIEDER, Facts(trail=trail))
    events = await tracking.events(accepted.tracking_id)
    assert (["received", "routed", "published", "enveloped"], {"interface": "test", "position": "0"}) == (
        [e.event for e in events],
        dict(events[-1].detail),
    )


def test_the_checker_lists_the_catalogue_by_name() -> None:
    """``kinds`` is the catalogue by message name, as an envelope's rules look a ``functie`` up."""
    if not _ENGINE:
        _ENGINE.append(Engine.load())
    kinds = EngineChecker(_ENGINE[0]).kinds()
    assert (True, "WMO315") == (isinstance(kinds["WMO315"], MessageType), kinds["WMO315"].name)


async def test_a_refused_submission_leaves_no_garbage_cycle() -> None:
    """A refusal raised by ``submit`` is freed by reference counting once its caller drops it: were it in a
    reference cycle with the frames of its traceback (and the message in them), only a full garbage
    collection would free it, and under overload refused requests piled up in the heap."""
    pipeline, *_ = node()
    pipeline.publisher = Unconfirmed()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            with contextlib.suppress(Unavailable):
                await pipeline.submit(request(), AANBIEDER)
        gc.collect()
        cycles = [type(o).__name__ for o in gc.garbage if isinstance(o, Unavailable)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert [] == cycles


async def test_a_message_put_into_the_other_nodes_mailbox_is_recorded_there_by_the_sender() -> None:
    """When the publisher put it straight into its mailbox on the other node, the sending node records the
    events that node's link would: ``crossed-link`` and ``in-mailbox`` of the receiving node, after
    ``published``, in the one write of the confirm."""
    pipeline, _, _, tracking, _ = node()
    pipeline.publisher = IntoMailbox()
    verdict = await pipeline.run((request(),), AANBIEDER, Facts(sender=AANBIEDER))
    accepted = verdict.accepted[0]
    events = [(e.event, e.node, dict(e.detail)) for e in await tracking.events(accepted.tracking_id)]
    assert events[-3:] == [
        ("published", "vecozo", {}),
        ("crossed-link", "ggk", {"from": "vecozo"}),
        ("in-mailbox", "ggk", {"mailbox": GEMEENTE}),
    ]
