"""Reads over AMQP in track & trace, the pure parts: a firehose copy read for its headers only, and the note a
trace carries when the node does not see such reads."""

from __future__ import annotations

from adapters.rabbitmq.deliveries import delivery_of
from gateway.ops.trace import amqp_note
from gateway.ports import TrackingEvent

from .values import NOW

HEADERS = {
    "exchange_name": b"mailbox",
    "routing_keys": [b"42420001"],
    "properties": {"message_id": b"00000000-0000-4000-8000-000000000001", "delivery_mode": 2},
    "redelivered": 1,
    "user": b"relA-p-42420001",
}


def test_a_deliver_copy_names_the_message_the_mailbox_and_the_user() -> None:
    """A ``deliver.mailbox.CODE`` copy gives tracking id, party code, broker user and redelivered."""
    found = delivery_of("vecozo", "deliver.mailbox.42420001", HEADERS, NOW)
    assert found is not None
    assert ("00000000-0000-4000-8000-000000000001", "42420001", "relA-p-42420001", True) == (
        found.tracking_id,
        found.code,
        found.user,
        found.redelivered,
    )


def test_copies_of_publishes_and_other_queues_are_not_deliveries() -> None:
    """A publish copy, a delivery from another queue or one without a message id is no mailbox read."""
    assert [None, None, None] == [
        delivery_of("vecozo", "publish.mailbox", HEADERS, NOW),
        delivery_of("vecozo", "deliver.link.from-ggk", HEADERS, NOW),
        delivery_of("vecozo", "deliver.mailbox.42420001", {**HEADERS, "properties": {}}, NOW),
    ]


def _events(*names: str) -> list[TrackingEvent]:
    return [TrackingEvent("t", name, "vecozo", NOW, {}) for name in names]


def test_the_note_says_an_amqp_read_is_not_seen_only_when_it_could_have_happened() -> None:
    """Untraced: a message in its mailbox and not fetched carries the note; fetched, not yet in a mailbox,
    or on a traced node it does not."""
    in_mailbox = _events("received", "in-mailbox")
    assert [True, False, False, False] == [
        amqp_note(in_mailbox, traced=False) is not None,
        amqp_note(_events("received", "in-mailbox", "fetched"), traced=False) is not None,
        amqp_note(_events("received"), traced=False) is not None,
        amqp_note(in_mailbox, traced=True) is not None,
    ]
