"""Tracking: uniqueness claims, records, events and conversation lookups (fake, SQLite, PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.ports import Claim
from tests.db.conftest import Store
from tests.db.values import T0, event, later, record, sha


async def test_first_claim_is_new_and_pending(store: Store) -> None:
    """The first claim of a key is new; the record is kept as pending."""
    r = record()
    claim = await store.tracking.claim(r)
    assert (Claim("new"), r) == (claim, await store.tracking.record(r.tracking_id))


async def test_same_bytes_again_is_same_with_the_first_record(store: Store) -> None:
    """A resubmission of the same bytes returns the record of the first submission."""
    first = record()
    await store.tracking.claim(first)
    await store.tracking.confirm(first.tracking_id)
    claim = await store.tracking.claim(record(received_at=later(1)))
    assert Claim("same", replace(first, status="accepted")) == claim


async def test_same_bytes_while_first_is_in_flight_is_same_and_pending(store: Store) -> None:
    """A resubmission while the first publish is still in flight returns the pending record."""
    first = record()
    await store.tracking.claim(first)
    assert Claim("same", first) == await store.tracking.claim(record())


async def test_other_bytes_under_a_used_reference_conflict(store: Store) -> None:
    """The same sender, message type and reference with other bytes is a conflict."""
    first = record()
    await store.tracking.claim(first)
    await store.tracking.confirm(first.tracking_id)
    claim = await store.tracking.claim(record(sha256=sha("other body")))
    assert Claim("conflict", replace(first, status="accepted")) == claim


@pytest.mark.parametrize(
    "change",
    [{"reference": "ref-2"}, {"message": "JW305"}, {"afzender": "0384"}],
    ids=["reference", "message-type", "sender"],
)
async def test_claims_differing_in_the_key_are_both_new(store: Store, change: dict[str, str]) -> None:
    """Uniqueness is per sender, message type and reference."""
    await store.tracking.claim(record())
    assert Claim("new") == await store.tracking.claim(record(**change))


async def test_confirm_marks_the_record_accepted(store: Store) -> None:
    """A confirmed claim is accepted."""
    r = record()
    await store.tracking.claim(r)
    await store.tracking.confirm(r.tracking_id)
    assert (await store.tracking.record(r.tracking_id)).status == "accepted"


async def test_released_claim_is_forgotten_and_the_key_free_again(store: Store) -> None:
    """Releasing a pending claim removes it; the same key can then be claimed anew."""
    r = record()
    await store.tracking.claim(r)
    await store.tracking.release(r.tracking_id)
    gone = await store.tracking.record(r.tracking_id)
    assert (None, Claim("new")) == (gone, await store.tracking.claim(record(sha256=sha("other"))))


async def test_release_never_removes_an_accepted_message(store: Store) -> None:
    """Release only forgets pending claims."""
    r = record()
    await store.tracking.claim(r)
    await store.tracking.confirm(r.tracking_id)
    await store.tracking.release(r.tracking_id)
    assert (await store.tracking.record(r.tracking_id)).status == "accepted"


async def test_stale_pending_claim_with_other_bytes_is_replaced(store: Store) -> None:
    """A claim left pending far longer than a publish takes (its process died) yields to other bytes."""
    abandoned = record()
    await store.tracking.claim(abandoned)
    retry = record(received_at=T0 + timedelta(minutes=2), sha256=sha("other"))
    claim = await store.tracking.claim(retry)
    assert (Claim("new"), None) == (claim, await store.tracking.record(abandoned.tracking_id))


async def test_stale_pending_claim_with_the_same_bytes_is_resumed_under_its_ids(store: Store) -> None:
    """The same bytes again after the claim went stale: resumed, keeping its tracking id, still pending."""
    abandoned = record()
    await store.tracking.claim(abandoned)
    retry = record(received_at=T0 + timedelta(minutes=2), submitter="42420002")
    claim = await store.tracking.claim(retry)
    stored = await store.tracking.record(abandoned.tracking_id)
    assert (claim.outcome, claim.previous and claim.previous.tracking_id) == (
        "resumed",
        abandoned.tracking_id,
    )
    assert stored is not None and (stored.status, stored.received_at, stored.submitter) == (
        "pending",
        retry.received_at,
        "42420002",
    )


async def test_a_resumed_claim_is_fresh_again_for_the_next_retry(store: Store) -> None:
    """Two retries after the claim went stale: the first resumes it, the second is told it is in flight."""
    abandoned = record()
    await store.tracking.claim(abandoned)
    first = await store.tracking.claim(record(received_at=T0 + timedelta(minutes=2)))
    second = await store.tracking.claim(record(received_at=T0 + timedelta(minutes=2, seconds=5)))
    assert (first.outcome, second.outcome, second.previous and second.previous.status) == (
        "resumed",
        "same",
        "pending",
    )


async def test_an_abandoned_claim_is_resumed_by_the_same_bytes_at_once(store: Store) -> None:
    """A publish without a confirm abandons its claim: the next submission of the same bytes resumes it."""
    first = record()
    await store.tracking.claim(first)
    await store.tracking.abandon(first)
    claim = await store.tracking.claim(record(received_at=T0 + timedelta(seconds=1)))
    assert (claim.outcome, claim.previous and claim.previous.tracking_id) == ("resumed", first.tracking_id)


async def test_an_abandoned_claim_is_replaced_by_other_bytes_at_once(store: Store) -> None:
    first = record()
    await store.tracking.claim(first)
    await store.tracking.abandon(first)
    claim = await store.tracking.claim(record(received_at=T0 + timedelta(seconds=1), sha256=sha("other")))
    assert (claim.outcome, await store.tracking.record(first.tracking_id)) == ("new", None)


async def test_abandoning_never_touches_an_accepted_message(store: Store) -> None:
    first = record()
    await store.tracking.claim(first)
    await store.tracking.confirm(first.tracking_id)
    await store.tracking.abandon(first)
    again = await store.tracking.claim(record(received_at=T0 + timedelta(seconds=1)))
    assert (again.outcome, again.previous and again.previous.status) == ("same", "accepted")


async def test_a_claim_younger_than_a_minute_is_not_stale(store: Store) -> None:
    """Within the stale time the claim is someone's publish in flight: the same bytes are 'same'."""
    await store.tracking.claim(record())
    claim = await store.tracking.claim(record(received_at=T0 + timedelta(seconds=45)))
    assert claim.outcome == "same"


async def test_old_accepted_message_is_never_taken_over(store: Store) -> None:
    """Only pending claims go stale: an accepted message keeps its reference for good."""
    first = record()
    await store.tracking.claim(first)
    await store.tracking.confirm(first.tracking_id)
    claim = await store.tracking.claim(record(received_at=T0 + timedelta(days=30), sha256=sha("other")))
    assert claim.outcome == "conflict"


async def test_reusing_a_tracking_id_is_refused(store: Store) -> None:
    """Two records cannot share a tracking id."""
    first = record()
    await store.tracking.claim(first)
    with pytest.raises(ValueError):
        await store.tracking.claim(record(reference="ref-2", tracking_id=first.tracking_id))


async def test_events_come_back_in_order_with_their_detail(store: Store) -> None:
    """Events of a message are returned in the order they were added."""
    r = record()
    added = [
        event(r.tracking_id, "received", 0, message="JW301", submitter="0363"),
        event(r.tracking_id, "routed", 0, to="vecozo"),
        event(r.tracking_id, "published", 0.01),
    ]
    for e in added:
        await store.tracking.add_event(e)
    await store.tracking.add_event(event(record().tracking_id, "received"))
    assert added == await store.tracking.events(r.tracking_id)


async def test_events_of_a_refused_message_are_kept_without_a_record(store: Store) -> None:
    """A refusal is recorded as an event even though no message record exists."""
    refused = event(
        "f3c1e0a4-0000-4000-8000-000000000001", "refused", code="IB210", reason="unknown-receiver"
    )
    await store.tracking.add_event(refused)
    assert ([refused], None) == (
        await store.tracking.events(refused.tracking_id),
        await store.tracking.record(refused.tracking_id),
    )


async def test_unknown_tracking_id_has_no_record_and_no_events(store: Store) -> None:
    """Nothing is known about an id that was never used."""
    tid = "00000000-0000-4000-8000-000000000000"
    assert (await store.tracking.record(tid), await store.tracking.events(tid)) == (None, [])


async def test_find_returns_the_accepted_original(store: Store) -> None:
    """A retour finds the original by its sender, message type and Identificatie."""
    original = record("ID-301")
    await store.tracking.claim(original)
    await store.tracking.confirm(original.tracking_id)
    found = await store.tracking.find("0363", "JW301", "ID-301")
    assert original.tracking_id == found.tracking_id


async def test_find_ignores_pending_claims(store: Store) -> None:
    """A message whose publish was not confirmed cannot be answered."""
    await store.tracking.claim(record("ID-301"))
    assert None is await store.tracking.find("0363", "JW301", "ID-301")


@pytest.mark.parametrize(
    "query",
    [("0384", "JW301", "ID-301"), ("0363", "JW305", "ID-301"), ("0363", "JW301", "ID-302")],
    ids=["other-sender", "other-type", "other-identificatie"],
)
async def test_find_matches_all_three_keys(store: Store, query: tuple[str, str, str]) -> None:
    """Sender, message type and Identificatie must all match."""
    original = record("ID-301")
    await store.tracking.claim(original)
    await store.tracking.confirm(original.tracking_id)
    assert None is await store.tracking.find(*query)


async def test_find_for_a_recipient_skips_a_message_sent_to_another(store: Store) -> None:
    """An answer looks only at messages addressed to its own sender: another party's 301 is not found."""
    original = record("ID-301")  # 0363 -> 42420001
    await store.tracking.claim(original)
    await store.tracking.confirm(original.tracking_id)
    assert (None, original.tracking_id) == (
        await store.tracking.find("0363", "JW301", "ID-301", ontvanger="42420002"),
        (await store.tracking.find("0363", "JW301", "ID-301", ontvanger="42420001")).tracking_id,
    )


async def test_find_matches_identificatie_not_reference(store: Store) -> None:
    """For a retour the Identificatie (of the message it answers) differs from its own reference."""
    retour = record("RET-1", identificatie="ID-301", message="JW302", afzender="42420001", ontvanger="0363")
    await store.tracking.claim(retour)
    await store.tracking.confirm(retour.tracking_id)
    found = await store.tracking.find("42420001", "JW302", "ID-301")
    assert (retour.tracking_id, None) == (
        found.tracking_id,
        await store.tracking.find("42420001", "JW302", "RET-1"),
    )


async def test_find_returns_the_latest_of_several(store: Store) -> None:
    """When several accepted messages match, the latest received wins."""
    older = record("RET-1", identificatie="ID-301", message="JW302")
    newer = record("RET-2", identificatie="ID-301", message="JW302", received_at=later(5))
    for r in (newer, older):
        await store.tracking.claim(r)
        await store.tracking.confirm(r.tracking_id)
    assert newer.tracking_id == (await store.tracking.find("0363", "JW302", "ID-301")).tracking_id


async def test_find_by_referentie_returns_the_latest_accepted_request(store: Store) -> None:
    """A 319 finds the latest accepted request of the aanbieder that carried its ReferentieAanbieder."""
    first = record("A", message="JW315", afzender="42420001", ontvanger="0384")
    second = record("B", message="JW317", afzender="42420001", ontvanger="0384", received_at=later(3))
    pending = record("C", message="JW315", afzender="42420001", ontvanger="0384", received_at=later(9))
    for r in (first, second):
        await store.tracking.claim(r)
        await store.tracking.confirm(r.tracking_id)
        await store.tracking.add_referenties(r.tracking_id, "42420001", ("40A12341234",))
    await store.tracking.claim(pending)
    await store.tracking.add_referenties(pending.tracking_id, "42420001", ("40A12341234",))
    found = await store.tracking.find_by_referentie("42420001", "40A12341234")
    assert second.tracking_id == found.tracking_id


async def test_find_by_referentie_is_per_aanbieder(store: Store) -> None:
    """Another aanbieder's ReferentieAanbieder with the same value does not match."""
    r = record("A", message="JW315", afzender="42420001", ontvanger="0384")
    await store.tracking.claim(r)
    await store.tracking.confirm(r.tracking_id)
    await store.tracking.add_referenties(r.tracking_id, "42420001", ("9003",))
    assert (
        await store.tracking.find_by_referentie("65656055", "9003"),
        await store.tracking.find_by_referentie("42420001", "9004"),
    ) == (None, None)


async def test_find_by_referentie_for_a_recipient_skips_a_request_sent_to_another(store: Store) -> None:
    """A 319 of one gemeente does not find the aanbieder's request to another gemeente."""
    r = record("A", message="JW315", afzender="42420001", ontvanger="0384")
    await store.tracking.claim(r)
    await store.tracking.confirm(r.tracking_id)
    await store.tracking.add_referenties(r.tracking_id, "42420001", ("9003",))
    assert (None, r.tracking_id) == (
        await store.tracking.find_by_referentie("42420001", "9003", ontvanger="0363"),
        (await store.tracking.find_by_referentie("42420001", "9003", ontvanger="0384")).tracking_id,
    )


async def test_adding_referenties_twice_keeps_one_link(store: Store) -> None:
    """Adding the same referenties again (or twice in one call) changes nothing."""
    r = record("A", message="JW315", afzender="42420001", ontvanger="0384")
    await store.tracking.claim(r)
    await store.tracking.confirm(r.tracking_id)
    await store.tracking.add_referenties(r.tracking_id, "42420001", ("X1", "X1", "X2"))
    await store.tracking.add_referenties(r.tracking_id, "42420001", ("X1",))
    await store.tracking.purge_before(T0 - timedelta(days=1))
    found = [await store.tracking.find_by_referentie("42420001", x) for x in ("X1", "X2")]
    assert [r.tracking_id, r.tracking_id] == [f.tracking_id for f in found]


async def test_referenties_need_a_known_message(store: Store) -> None:
    """Referenties link to a message that exists."""
    with pytest.raises(ValueError):
        await store.tracking.add_referenties("00000000-0000-4000-8000-000000000000", "42420001", ("X1",))


async def test_conversation_lists_its_messages_oldest_first(store: Store) -> None:
    """All messages of a conversation come back in the order they were received."""
    original = record("ID-301")
    retour = record(
        "RET-1",
        identificatie="ID-301",
        message="JW302",
        afzender="42420001",
        ontvanger="0363",
        conversation_id=original.conversation_id,
        answers=original.tracking_id,
        received_at=later(2),
    )
    for r in (retour, original, record("other")):
        await store.tracking.claim(r)
    assert [original, retour] == await store.tracking.conversation(original.conversation_id)


async def test_purge_forgets_old_messages_events_and_links(store: Store) -> None:
    """Retention removes messages and events from before the cutoff and keeps later ones."""
    old, new = record("old"), record("new", received_at=later(60))
    for r in (old, new):
        await store.tracking.claim(r)
        await store.tracking.confirm(r.tracking_id)
        await store.tracking.add_referenties(r.tracking_id, "0363", (r.reference,))
        await store.tracking.add_event(event(r.tracking_id, "received", 60 if r is new else 0))
    purged = await store.tracking.purge_before(later(30))
    remaining = (
        await store.tracking.record(old.tracking_id),
        await store.tracking.events(old.tracking_id),
        await store.tracking.find_by_referentie("0363", "old"),
        (await store.tracking.record(new.tracking_id)).tracking_id,
        len(await store.tracking.events(new.tracking_id)),
    )
    assert ((1, 1), (None, [], None, new.tracking_id, 1)) == ((purged.messages, purged.events), remaining)


async def test_purged_reference_can_be_used_again(store: Store) -> None:
    """Once retention forgot a message, its reference is free."""
    r = record()
    await store.tracking.claim(r)
    await store.tracking.confirm(r.tracking_id)
    await store.tracking.purge_before(later(1))
    assert Claim("new") == await store.tracking.claim(record(received_at=later(2), sha256=sha("x")))


async def test_times_keep_their_instant_and_come_back_in_utc(store: Store) -> None:
    """A time given in another zone is the same instant when read back, expressed in UTC."""
    amsterdam = timezone(timedelta(hours=1))
    r = record(received_at=datetime(2025, 3, 1, 10, 30, 0, 123456, tzinfo=amsterdam))
    await store.tracking.claim(r)
    back = (await store.tracking.record(r.tracking_id)).received_at
    assert (back, back.tzinfo) == (T0, UTC)


async def test_naive_times_are_refused(store: Store) -> None:
    """A datetime without a zone is a bug in the caller and is refused."""
    with pytest.raises(ValueError):
        await store.tracking.claim(record(received_at=datetime(2025, 3, 1, 9, 30)))
