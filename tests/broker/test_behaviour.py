"""What every broker does, the in-memory fake and real RabbitMQ alike (the ``broker`` fixture runs both)."""

from __future__ import annotations

import pytest

from adapters.rabbitmq.broker import Broker
from gateway.errors import NotAuthorised, Unavailable
from tests.broker.conftest import LinkPolicy, delivery, eventually, lease_one, new_code


async def test_same_node_message_lands_byte_identical(broker: Broker) -> None:
    """A message for a party on the same node lands in its mailbox with the exact bytes and ids."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    sent = delivery(code, origin="ggk", target="ggk")
    await broker.publisher.publish(sent)
    got = await lease_one(broker.reader, "ggk", code)
    assert got is not None
    expected = (sent.body, sent.tracking_id, sent.conversation_id, sent.amqp_headers())
    assert expected == (got.body, got.tracking_id, got.conversation_id, dict(got.headers))


async def test_message_crosses_the_link_to_the_other_node(broker: Broker) -> None:
    """A message for a party on the other node crosses the link and lands byte-identical in its mailbox."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    sent = delivery(code, origin="vecozo", target="ggk")
    await broker.publisher.publish(sent)
    got = await lease_one(broker.reader, "ggk", code)
    assert got is not None
    assert (sent.body, sent.tracking_id, sent.amqp_headers()) == (
        got.body,
        got.tracking_id,
        dict(got.headers),
    )


async def test_link_callback_sees_the_message(broker: Broker, link_policy: LinkPolicy) -> None:
    """The receiving node's link callback gets the exact bytes and the tracking id before delivery."""
    code = new_code()
    await broker.ensure_mailboxes("vecozo", [code])
    sent = delivery(code, origin="ggk", target="vecozo")
    await broker.publisher.publish(sent)
    await lease_one(broker.reader, "vecozo", code)
    assert [(sent.tracking_id, sent.body)] == [(m.tracking_id, m.body) for m in link_policy.seen]


async def test_unroutable_message_is_unavailable(broker: Broker) -> None:
    """A message for a party without a mailbox on the same node is not confirmed: Unavailable."""
    with pytest.raises(Unavailable):
        await broker.publisher.publish(delivery(new_code(), origin="ggk", target="ggk"))


async def test_acked_message_leaves_the_mailbox(broker: Broker) -> None:
    """After an ack the mailbox no longer offers the message, and a second ack of the lease finds nothing."""
    code = new_code()
    await broker.ensure_mailboxes("vecozo", [code])
    sent = delivery(code, origin="vecozo", target="vecozo")
    await broker.publisher.publish(sent)
    got = await lease_one(broker.reader, "vecozo", code)
    assert got is not None
    first = await broker.reader.ack("vecozo", code, got.lease_id)
    again = await broker.reader.ack("vecozo", code, got.lease_id)
    left = await broker.reader.lease("vecozo", code, 10, 30)
    assert (sent.tracking_id, None, []) == (first, again, left)


async def test_ack_by_another_party_is_refused(broker: Broker) -> None:
    """A lease can only be acked by the party whose mailbox it came from."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    await broker.publisher.publish(delivery(code, origin="ggk", target="ggk"))
    got = await lease_one(broker.reader, "ggk", code)
    assert got is not None
    assert await broker.reader.ack("ggk", new_code(), got.lease_id) is None


async def test_unacked_lease_returns_the_message(broker: Broker) -> None:
    """A lease that ends without an ack puts the message back; it is offered again, marked redelivered."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    sent = delivery(code, origin="ggk", target="ggk")
    await broker.publisher.publish(sent)
    first = await lease_one(broker.reader, "ggk", code, lease_seconds=1)
    second = await lease_one(broker.reader, "ggk", code)
    assert first is not None and second is not None
    assert (sent.tracking_id, False, True) == (second.tracking_id, first.redelivered, second.redelivered)


async def test_lease_batch_holds_at_most_max_messages(broker: Broker) -> None:
    """A lease hands out at most the asked number of messages; the rest stay for the next lease."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    for _ in range(3):
        await broker.publisher.publish(delivery(code, origin="ggk", target="ggk"))
    first = await broker.reader.lease("ggk", code, 2, 30)
    second = await broker.reader.lease("ggk", code, 10, 30)
    assert (len(first), len(second)) == (2, 1)


@pytest.mark.slow
async def test_message_never_acked_ends_in_the_dlq(broker: Broker) -> None:
    """A message whose leases keep running out is dead-lettered after the delivery limit (2 here)."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    await broker.publisher.publish(delivery(code, origin="ggk", target="ggk"))
    leases = 0
    while await lease_one(broker.reader, "ggk", code, lease_seconds=1, within=3) is not None:
        leases += 1
    assert leases == 3
    assert await eventually(lambda: broker.dlq_depth("ggk"), 1) == 1


async def test_refused_link_message_is_dead_lettered(broker: Broker, link_policy: LinkPolicy) -> None:
    """A message the receiving node refuses for good goes to its DLQ, not to the mailbox."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    link_policy.errors.append(NotAuthorised("refused by the test"))
    await broker.publisher.publish(delivery(code, origin="vecozo", target="ggk"))
    assert await eventually(lambda: broker.dlq_depth("ggk"), 1) == 1
    assert await broker.reader.lease("ggk", code, 10, 30) == []


async def test_link_message_failing_once_is_retried(broker: Broker, link_policy: LinkPolicy) -> None:
    """A transient failure on the receiving node is retried and the message still arrives."""
    code = new_code()
    await broker.ensure_mailboxes("vecozo", [code])
    link_policy.errors.append(Unavailable("database down for a moment"))
    sent = delivery(code, origin="ggk", target="vecozo")
    await broker.publisher.publish(sent)
    got = await lease_one(broker.reader, "vecozo", code)
    assert got is not None
    assert (sent.tracking_id, [0, 1]) == (got.tracking_id, [m.delivery_count for m in link_policy.seen])


async def test_link_message_without_mailbox_is_dead_lettered(broker: Broker) -> None:
    """A message that crossed the link for a party with no mailbox there ends in that node's DLQ."""
    await broker.publisher.publish(delivery(new_code(), origin="vecozo", target="ggk"))
    assert await eventually(lambda: broker.dlq_depth("ggk"), 1) == 1


async def test_mailbox_depth_counts_waiting_and_leased(broker: Broker) -> None:
    """The mailbox depth counts messages waiting and messages leased but not acked."""
    code = new_code()
    await broker.ensure_mailboxes("ggk", [code])
    for _ in range(2):
        await broker.publisher.publish(delivery(code, origin="ggk", target="ggk"))
    await broker.reader.lease("ggk", code, 1, 30)
    assert await eventually(lambda: broker.mailbox_depth("ggk", code), 2) == 2


async def test_provision_returns_the_password_once(broker: Broker, request: pytest.FixtureRequest) -> None:
    """Provisioning a mailbox makes its reader's credentials once; again it keeps them, rotate makes new."""
    code = new_code()
    if "rabbit" in request.fixturenames:
        request.getfixturevalue("broker_cleanup").users.add(broker.settings.participant_user(code))
    first = await broker.provision_mailbox("vecozo", code)
    again = await broker.provision_mailbox("vecozo", code)
    rotated = await broker.provision_mailbox("vecozo", code, rotate=True)
    assert (bool(first), again, bool(rotated) and rotated != first) == (True, None, True)
