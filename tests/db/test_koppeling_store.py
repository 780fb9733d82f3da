"""The REST store of the VSP-Koppeling behaves the same in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.db import Database
from adapters.db.koppelingmemory import MemoryKoppeling
from adapters.db.memory import MemoryTracking
from gateway.koppeling.problems import Meld
from gateway.koppeling.store import Filter, Inboxed, Pushed, Settled, TraceerIdTaken, push_id
from gateway.ports import MessageRecord
from tests.db.values import record

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    """A fresh REST store (fake, SQLite file or PostgreSQL) with the tracking store beside it (a push is
    written with its message's claim)."""
    if request.param == "memory":
        yield MemoryKoppeling(), MemoryTracking()
        return
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    db = await Database.connect(url)
    try:
        yield db.koppeling, db.tracking
    finally:
        await db.close()


@pytest.fixture
def koppeling(stores: tuple[Any, Any]) -> Any:
    """A fresh REST store: fake, SQLite file or PostgreSQL."""
    return stores[0]


def pushed(afzender: str = "42420001", traceer: str | None = None, **changes: Any) -> Pushed:
    traceer = traceer or str(uuid.uuid4())
    values: dict[str, Any] = {
        "id": push_id(afzender, traceer),
        "tracking_id": push_id(afzender, traceer),
        "afzender": afzender,
        "submitter": afzender,
        "traceer_id": traceer,
        "conversatie_id": str(uuid.uuid4()),
        "sha256": "a" * 64,
        "received_at": T0,
        "routing": {"routeringgegevens": {"berichtstroom": {"berichttype": "WMO315"}}},
    }
    return Pushed(**{**values, **changes})


def message_of(push: Pushed, reference: str = "ref-1", **changes: Any) -> MessageRecord:
    """The claim of a push's message: under the push's id, from its sender (BRS33), of its bytes."""
    values = {"afzender": push.afzender, "submitter": push.submitter, "sha256": push.sha256}
    return record(reference, **{"tracking_id": push.id, **values, **changes})


def inboxed(party: str = "42420001", at: datetime = T0, **changes: Any) -> Inboxed:
    traceer = str(uuid.uuid4())
    values: dict[str, Any] = {
        "party": party,
        "traceer_id": traceer,
        "tracking_id": traceer,
        "ontvangen_op": at,
        "size": 3,
        "sha256": "b" * 64,
        "metadata": {"routeringgegevens": {"berichtstroom": {"berichttype": "WMO301", "actie": "Verzenden"}}},
        "berichttype": "WMO301",
        "conversatie_id": str(uuid.uuid4()),
        "payload": b"<x/>",
    }
    return Inboxed(**{**values, **changes})


async def test_a_traceer_id_is_claimed_once_per_sender(koppeling: Any) -> None:
    """A second claim of one sender's traceerId gets the first push back; another sender may use it."""
    first = pushed()
    assert None is await koppeling.claim_push(first)
    held = await koppeling.claim_push(pushed(traceer=first.traceer_id))
    assert first.id == held.id
    assert None is await koppeling.claim_push(pushed("65656055", traceer=first.traceer_id))


async def test_concurrent_claims_of_one_traceer_id_give_one_winner(koppeling: Any) -> None:
    """Of ten concurrent claims of one traceerId exactly one wins."""
    traceer = str(uuid.uuid4())
    results = await asyncio.gather(*(koppeling.claim_push(pushed(traceer=traceer)) for _ in range(10)))
    assert 1 == sum(r is None for r in results)


async def test_a_settled_push_keeps_its_tracking_id_and_meldingen(koppeling: Any) -> None:
    """Settling a push stores its state, tracking id and meldingen, found by traceerId and tracking id."""
    push = pushed()
    await koppeling.claim_push(push)
    melding = Meld("BRS13", "Berichtinhoud voldoet niet aan XSD", "regel 3 /Bericht/Header")
    await koppeling.settle_push(Settled(push.id, "refused", "t-1", (melding,), T0 + timedelta(seconds=1)))
    [found] = await koppeling.pushes_by_traceer(push.traceer_id)
    assert ("refused", "t-1", (melding,)) == (found.state, found.tracking_id, found.meldingen)
    assert {"t-1"} == set(await koppeling.pushes_by_tracking(["t-1", "t-2"]))
    assert [push.id] == [p.id for p in await koppeling.pushes_in_conversation(push.conversatie_id)]


async def test_a_push_is_found_by_the_tracking_id_it_has_now(koppeling: Any) -> None:
    """A push whose message has the push's id is found by it; settled under another message, by that one only."""
    push = pushed()
    push = pushed(id=push.id, tracking_id=push.id)
    await koppeling.claim_push(push)
    before = set(await koppeling.pushes_by_tracking([push.id]))
    await koppeling.settle_push(Settled(push.id, "accepted", "t-9", (), T0 + timedelta(seconds=1)))
    after = set(await koppeling.pushes_by_tracking([push.id, "t-9"]))
    assert ({push.id}, {"t-9"}) == (before, after)


async def test_a_released_claim_frees_the_traceer_id(koppeling: Any) -> None:
    """A pending claim released after a broker fault lets the same traceerId be claimed again."""
    push = pushed()
    await koppeling.claim_push(push)
    await koppeling.release_push(push.id)
    assert None is await koppeling.claim_push(pushed(traceer=push.traceer_id))


async def test_pushes_answering_a_traceer_id_are_found_by_it(koppeling: Any) -> None:
    """A push whose alsAntwoordOp names a traceerId is found by that traceerId too."""
    original = pushed()
    answer = pushed(als_antwoord_op=original.traceer_id)
    for push in (original, answer):
        await koppeling.claim_push(push)
    assert {original.id, answer.id} == {p.id for p in await koppeling.pushes_by_traceer(original.traceer_id)}


async def test_the_pull_list_answers_the_oldest_unconfirmed_first(koppeling: Any) -> None:
    """Ready messages come oldest first, without payload, up to the limit; a redelivery is kept once."""
    items = [inboxed(at=T0 + timedelta(minutes=m)) for m in (3, 1, 2)]
    await koppeling.add_inboxed(items)
    await koppeling.add_inboxed(items[:1])
    ready = await koppeling.ready("42420001", 2)
    assert [items[1].traceer_id, items[2].traceer_id] == [i.traceer_id for i in ready]
    assert [None, None] == [i.payload for i in ready]
    assert 3 == await koppeling.unconfirmed("42420001")
    assert [] == await koppeling.ready("65656055", 10)


async def test_a_confirmed_message_does_not_come_back(koppeling: Any) -> None:
    """After DELETE a message leaves the list for good; confirming again still finds it, another party not."""
    item = inboxed()
    await koppeling.add_inboxed([item])
    assert item.traceer_id == (await koppeling.confirm("42420001", item.traceer_id, T0)).traceer_id
    assert [] == await koppeling.ready("42420001", 10)
    assert None is not await koppeling.confirm("42420001", item.traceer_id, T0 + timedelta(seconds=1))
    assert None is await koppeling.confirm("65656055", item.traceer_id, T0)


async def test_a_confirmed_message_has_no_payload_to_fetch(koppeling: Any) -> None:
    """Once confirmed a message is no longer available for pull: its payload is not handed out (the spec's
    404), nor marked downloaded."""
    item = inboxed()
    await koppeling.add_inboxed([item])
    await koppeling.confirm("42420001", item.traceer_id, T0)
    assert None is await koppeling.payload("42420001", item.traceer_id, T0 + timedelta(seconds=1))


async def test_a_message_whose_payload_was_purged_takes_no_room_on_the_list(koppeling: Any) -> None:
    """Downloaded, never confirmed, its payload purged a day later: it is off the list and no longer counts
    as waiting, so the list fills up with new messages again."""
    item = inboxed()
    await koppeling.add_inboxed([item])
    await koppeling.payload("42420001", item.traceer_id, T0)
    before = await koppeling.unconfirmed("42420001")
    await koppeling.purge(T0 + timedelta(hours=1), T0 - timedelta(days=1))
    assert (1, 0, []) == (
        before,
        await koppeling.unconfirmed("42420001"),
        await koppeling.ready("42420001", 9),
    )


async def test_a_payload_is_marked_downloaded_once_and_purged_a_day_later(koppeling: Any) -> None:
    """The first download is remembered; the purge drops the payload a day after it, the row after 61 days."""
    item = inboxed()
    await koppeling.add_inboxed([item])
    got = await koppeling.payload("42420001", item.traceer_id, T0 + timedelta(hours=1))
    again = await koppeling.payload("42420001", item.traceer_id, T0 + timedelta(hours=2))
    assert (b"<x/>", T0 + timedelta(hours=1)) == (got.payload, again.downloaded_at)
    assert None is await koppeling.payload("65656055", item.traceer_id, T0)
    purged = await koppeling.purge(T0 + timedelta(hours=25), T0 - timedelta(days=1))
    assert (1, 0) == (purged.payloads, purged.inboxed)
    assert None is await koppeling.payload("42420001", item.traceer_id, T0 + timedelta(hours=26))
    purged = await koppeling.purge(T0, T0 + timedelta(days=61))
    assert 1 == purged.inboxed


async def test_a_search_path_filters_the_pull_list(koppeling: Any) -> None:
    """The search paths filter on message type, conversation, answer and the stated stream."""
    a = inboxed()
    b = inboxed(berichttype="WMO302", als_antwoord_op="c0ffee00-0000-4000-8000-000000000000")
    await koppeling.add_inboxed([a, b])
    assert [a.traceer_id] == [i.traceer_id for i in await koppeling.ready("42420001", 9, Filter("WMO301"))]
    assert [b.traceer_id] == [
        i.traceer_id for i in await koppeling.ready("42420001", 9, Filter(als_antwoord_op=b.als_antwoord_op))
    ]
    assert [a.traceer_id] == [
        i.traceer_id for i in await koppeling.ready("42420001", 9, Filter(conversatie_id=a.conversatie_id))
    ]
    assert [] == await koppeling.ready("42420001", 9, Filter("WMO301", actie="Indienen"))


async def test_a_push_is_written_with_its_message_s_claim(
    stores: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    koppeling, tracking = stores
    if not isinstance(koppeling, MemoryKoppeling):  # in one statement, not the two writes of the fallback
        monkeypatch.setattr("adapters.db.koppeling.claim_in_turn", None)
    push = pushed()
    claimed = await koppeling.claim_with(push, message_of(push), tracking.claim)
    assert claimed.outcome == "new"
    assert (await tracking.record(push.id)).status == "pending"
    assert [p.id for p in await koppeling.pushes_by_traceer(push.traceer_id, [push.afzender])] == [push.id]
    assert [push.id] == list(await koppeling.pushes_by_tracking([push.id]))
    found = await koppeling.pushes_in_conversation(push.conversatie_id)
    assert [push.id] == [p.id for p in found]  # a conversatieId of its own: in the partial index
    assert (push.traceer_id, push.routing) == (found[0].traceer_id, found[0].routing)


USUAL = {"berichttype": "JW301", "berichtversie": 3, "berichtsubversie": 2, "actie": "Indienen"}


@pytest.mark.parametrize("stroom", [USUAL, {**USUAL, "berichttype": "414"}, {**USUAL, "berichtsubtype": "x"}])
async def test_the_stated_berichtstroom_comes_back_as_stated(
    stores: tuple[Any, Any], stroom: dict[str, Any]
) -> None:
    """Kept short where it names the message's own type and release, shown again as it was stated."""
    koppeling, tracking = stores
    push = pushed(routing={"routeringgegevens": {"berichtstroom": stroom}})
    await koppeling.claim_with(push, message_of(push), tracking.claim)
    [found] = (await koppeling.pushes_by_tracking([push.id])).values()
    assert stroom == found.routing["routeringgegevens"]["berichtstroom"]


async def test_a_push_that_starts_its_conversation_is_found_by_it(stores: tuple[Any, Any]) -> None:
    """conversatieId = traceerId (as most pushes): found by the sender's tracking id, not by anyone's."""
    koppeling, tracking = stores
    push = pushed()
    push = pushed(traceer=push.traceer_id, conversatie_id=push.traceer_id)
    await koppeling.claim_with(push, message_of(push), tracking.claim)
    found = await koppeling.pushes_in_conversation(push.traceer_id, [push.afzender])
    assert [push.id] == [p.id for p in found]


async def test_a_push_for_another_party_is_found_by_its_submitter(stores: tuple[Any, Any]) -> None:
    """A push submitted for another party keeps a row of its own: its submitter finds it by traceerId."""
    koppeling, tracking = stores
    push = pushed(submitter="65656055")
    await koppeling.claim_with(push, message_of(push), tracking.claim)
    assert [push.id] == [p.id for p in await koppeling.pushes_by_traceer(push.traceer_id, ["65656055"])]


async def test_a_push_answering_a_traceer_id_is_found_by_it(stores: tuple[Any, Any]) -> None:
    koppeling, tracking = stores
    original = pushed()
    answer = pushed(als_antwoord_op=original.traceer_id)
    await koppeling.claim_with(answer, message_of(answer), tracking.claim)
    assert [answer.id] == [p.id for p in await koppeling.pushes_by_traceer(original.traceer_id)]


async def test_a_refusal_meets_the_message_that_holds_its_traceer_id(stores: tuple[Any, Any]) -> None:
    """A push refused under a traceerId whose message is claimed gets that push back (BRS114), nothing
    written; refused after its own message's claim went in (the same bytes), it is written refused."""
    koppeling, tracking = stores
    first = pushed()
    claim = message_of(first, "ref-1")
    await koppeling.claim_with(first, claim, tracking.claim)
    other = pushed(traceer=first.traceer_id, sha256="e" * 64, state="refused", changed_at=T0)
    held = await koppeling.claim_push(other)
    assert (first.id, first.sha256) == (held.id, held.sha256)
    assert [first.id] == [p.id for p in await koppeling.pushes_by_traceer(first.traceer_id, ["42420001"])]
    itself = replace(first, state="refused", changed_at=T0)
    own = await koppeling.claim_push(itself)  # written; or (a row of its own already) to be settled
    if own is not None:
        assert own.id == first.id
        await koppeling.settle_push(Settled(first.id, "refused", first.id, (), T0))
    [found] = await koppeling.pushes_by_traceer(first.traceer_id, ["42420001"])
    assert (first.id, "refused") == (found.id, found.state)


async def test_the_purge_forgets_what_a_push_stated_not_its_traceer_id(stores: tuple[Any, Any]) -> None:
    koppeling, tracking = stores
    push = pushed()
    await koppeling.claim_with(push, message_of(push), tracking.claim)
    purged = await koppeling.purge(T0, T0 + timedelta(days=61))
    assert 1 == purged.pushed
    assert [] == await koppeling.pushes_by_traceer(push.traceer_id, [push.afzender])
    if isinstance(koppeling, MemoryKoppeling):  # the fake forgets the traceerId with the push
        return
    again = pushed(traceer=push.traceer_id, sha256="f" * 64)
    with pytest.raises(TraceerIdTaken):
        await koppeling.claim_with(again, message_of(again, "ref-2"), tracking.claim)


async def test_a_taken_traceer_id_writes_neither_push_nor_message(stores: tuple[Any, Any]) -> None:
    koppeling, tracking = stores
    first = pushed()
    await koppeling.claim_with(first, message_of(first, "ref-1"), tracking.claim)
    again = pushed(traceer=first.traceer_id, sha256="c" * 64)
    with pytest.raises(TraceerIdTaken) as taken:
        await koppeling.claim_with(again, message_of(again, "ref-2"), tracking.claim)
    assert taken.value.held.id == first.id
    assert (await tracking.record(again.id)).reference == "ref-1"  # the first push's message, alone
    assert [p.id for p in await koppeling.pushes_by_traceer(first.traceer_id, ["42420001"])] == [first.id]


async def test_a_push_whose_message_key_is_held_gets_the_tracking_store_s_answer(
    stores: tuple[Any, Any],
) -> None:
    koppeling, tracking = stores
    first = pushed()
    await koppeling.claim_with(first, message_of(first, "ref-1"), tracking.claim)
    other = pushed()  # a new traceerId, the same Identificatie with other bytes
    claimed = await koppeling.claim_with(other, message_of(other, "ref-1", sha256="d" * 64), tracking.claim)
    assert claimed.outcome == "conflict"
    assert claimed.previous.tracking_id == first.id
    assert [p.id for p in await koppeling.pushes_by_traceer(other.traceer_id, ["42420001"])] == [other.id]


async def test_concurrent_pushes_of_one_traceer_id_claim_one_message(stores: tuple[Any, Any]) -> None:
    koppeling, tracking = stores
    traceer = str(uuid.uuid4())
    pushes = [pushed(traceer=traceer) for _ in range(8)]

    async def one(push: Pushed, n: int) -> str:
        try:
            await koppeling.claim_with(push, message_of(push, f"ref-{n}"), tracking.claim)
        except TraceerIdTaken:
            return "taken"
        return "new"

    results = await asyncio.gather(*(one(p, n) for n, p in enumerate(pushes)))
    assert sorted(results) == ["new"] + ["taken"] * 7
    winner = results.index("new")
    found = await tracking.record(pushes[0].id)  # one tracking id per sender and traceerId
    assert (found.tracking_id, found.reference) == (pushes[winner].id, f"ref-{winner}")
