"""What only real RabbitMQ can show: declared topology, AMQP properties, participant users, redelivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractIncomingMessage

from adapters.rabbitmq.broker import RabbitBroker
from adapters.rabbitmq.declare import ForeignUser
from adapters.rabbitmq.mailbox import RabbitMailboxReader, TooManyLeases
from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import link_from, node_topology, shovel_spec
from gateway.errors import Unavailable
from gateway.ports import NODES
from tests.broker.conftest import Cleanup, delivery, eventually, lease_one, new_code

pytestmark = pytest.mark.broker


async def _queues(api: ManagementApi, vhost: str) -> dict[str, dict[str, Any]]:
    items = await api._call("GET", f"/queues/{vhost}")
    return {q["name"]: {"type": q["type"], "arguments": q["arguments"]} for q in items}


async def _subscriber(settings: BrokerSettings, cleanup: Cleanup, broker: RabbitBroker, code: str) -> str:
    """Provision ``code``'s mailbox on ggk and return the AMQP URL with the participant's own user."""
    cleanup.users.add(settings.participant_user(code))
    password = await broker.provision_mailbox("ggk", code)
    assert password is not None
    return settings.node_url("ggk", settings.participant_user(code), password)


async def _first(queue: aio_pika.abc.AbstractQueue) -> AbstractIncomingMessage:
    async with queue.iterator() as messages:
        async for message in messages:
            return message
    raise AssertionError("no message")


async def test_topology_is_declared_as_described(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings
) -> None:
    """Each vhost holds exactly the quorum queues, with their arguments, that the topology describes."""
    code = new_code()
    await rabbit.start({"ggk": [code]})
    expected = {
        q.name: {"type": "quorum", "arguments": q.declare_arguments}
        for q in node_topology(rabbit_settings, "ggk", [code]).queues
    }
    assert expected == await _queues(rabbit.api, rabbit_settings.vhost("ggk"))


async def test_declaring_twice_changes_nothing(rabbit: RabbitBroker, rabbit_settings: BrokerSettings) -> None:
    """Starting a second gateway on a declared topology succeeds and leaves the queues as they were."""
    before = await _queues(rabbit.api, rabbit_settings.vhost("vecozo"))
    again = RabbitBroker(rabbit_settings)
    await again.start()
    await again.close()
    assert before == await _queues(rabbit.api, rabbit_settings.vhost("vecozo"))


async def test_link_shovels_run_and_ack_on_confirm(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings
) -> None:
    """Both shovels of the node link exist with ack-mode on-confirm and reach the running state."""
    states = await eventually(
        rabbit.link_states, {"link-ggk-to-vecozo": "running", "link-vecozo-to-ggk": "running"}
    )
    stored = await rabbit.api.shovel(rabbit_settings.vhost("ggk"), "link-ggk-to-vecozo")
    assert stored is not None
    expected = dict(shovel_spec(rabbit_settings, "ggk").value)
    assert ({"link-ggk-to-vecozo": "running", "link-vecozo-to-ggk": "running"}, expected) == (
        states,
        stored["value"],
    )
    assert stored["value"]["ack-mode"] == "on-confirm"


async def test_subscriber_reads_every_property_with_its_own_user(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """A participant reading its mailbox over AMQP with its own user gets the exact bytes and all properties."""
    code = new_code()
    url = await _subscriber(rabbit_settings, broker_cleanup, rabbit, code)
    sent = delivery(code, origin="vecozo", target="ggk")
    await rabbit.publisher.publish(sent)
    async with await aio_pika.connect(url) as conn:
        channel = await conn.channel()
        queue = await channel.get_queue(f"mailbox.{code}", ensure=False)
        message = await asyncio.wait_for(_first(queue), 15)
        await message.ack()
        got = (
            message.body,
            message.message_id,
            message.correlation_id,
            message.content_type,
            message.delivery_mode,
            message.timestamp.replace(tzinfo=None) if message.timestamp else None,
            {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")},
        )
    expected = (
        sent.body,
        sent.tracking_id,
        sent.conversation_id,
        "application/xml",
        aio_pika.DeliveryMode.PERSISTENT,
        sent.received_at.replace(microsecond=0, tzinfo=None),
        sent.amqp_headers(),
    )
    assert expected == got


async def test_subscriber_cannot_read_another_mailbox(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """A participant's broker user is refused on any other mailbox."""
    other = new_code()
    await rabbit.ensure_mailboxes("ggk", [other])
    url = await _subscriber(rabbit_settings, broker_cleanup, rabbit, new_code())
    async with await aio_pika.connect(url) as conn:
        channel = await conn.channel()
        queue = await channel.get_queue(f"mailbox.{other}", ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await queue.get(fail=False)


async def test_subscriber_cannot_publish(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """A participant's broker user may not publish anywhere (its rights are read-only)."""
    code = new_code()
    url = await _subscriber(rabbit_settings, broker_cleanup, rabbit, code)
    async with await aio_pika.connect(url) as conn:
        channel = await conn.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("mailbox", ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await exchange.publish(aio_pika.Message(b"<x/>"), routing_key=code)


async def test_subscriber_dying_mid_message_gets_it_again(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """A subscriber whose connection closes before its ack receives the same message again, redelivered."""
    code = new_code()
    url = await _subscriber(rabbit_settings, broker_cleanup, rabbit, code)
    sent = delivery(code, origin="ggk", target="ggk")
    await rabbit.publisher.publish(sent)
    conn = await aio_pika.connect(url)
    queue = await (await conn.channel()).get_queue(f"mailbox.{code}", ensure=False)
    first = await asyncio.wait_for(_first(queue), 15)
    await conn.close()  # dies without acking
    async with await aio_pika.connect(url) as again:
        queue = await (await again.channel()).get_queue(f"mailbox.{code}", ensure=False)
        second = await asyncio.wait_for(_first(queue), 15)
        await second.ack()
    assert (sent.tracking_id, sent.tracking_id, sent.body, True) == (
        first.message_id,
        second.message_id,
        second.body,
        second.redelivered,
    )


async def test_subscriber_nacking_forever_ends_in_the_dlq(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """A message a subscriber keeps returning (nack with requeue) is dead-lettered after the delivery limit."""
    code = new_code()
    url = await _subscriber(rabbit_settings, broker_cleanup, rabbit, code)
    await rabbit.publisher.publish(delivery(code, origin="ggk", target="ggk"))
    deliveries = 0
    async with await aio_pika.connect(url) as conn:
        queue = await (await conn.channel()).get_queue(f"mailbox.{code}", ensure=False)
        for _ in range(50):
            message = await queue.get(fail=False)
            if message is None:
                if await rabbit.dlq_depth("ggk") == 1:
                    break
                await asyncio.sleep(0.2)
                continue
            deliveries += 1
            await message.nack(requeue=True)
    assert (deliveries, await eventually(lambda: rabbit.dlq_depth("ggk"), 1)) == (3, 1)


async def test_link_message_without_recipient_header_is_dead_lettered(
    rabbit: RabbitBroker, rabbit_settings: BrokerSettings
) -> None:
    """Something on the link queue that lacks the gateway headers is refused for good: DLQ."""
    session = rabbit.sessions["ggk"]
    await session.publish("", link_from("ggk"), aio_pika.Message(b"<x/>", message_id="m-1"))
    assert await eventually(lambda: rabbit.dlq_depth("ggk"), 1) == 1


async def test_many_concurrent_publishes_all_arrive(rabbit: RabbitBroker) -> None:
    """Three hundred publishes in flight at once are all confirmed and all land in the mailbox."""
    code = new_code()
    await rabbit.ensure_mailboxes("ggk", [code])
    sent = [delivery(code, origin="vecozo", target="ggk") for _ in range(300)]
    await asyncio.gather(*(rabbit.publisher.publish(d) for d in sent))
    received: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 60
    while len(received) < len(sent) and asyncio.get_running_loop().time() < deadline:
        batch = await rabbit.reader.lease("ggk", code, 100, 60)
        for item in batch:
            received.add(item.tracking_id)
            await rabbit.reader.ack("ggk", code, item.lease_id)
        if not batch:
            await asyncio.sleep(0.1)
    assert {d.tracking_id for d in sent} == received


async def test_closing_the_reader_returns_leased_messages(rabbit: RabbitBroker) -> None:
    """Messages leased but not acked go back to the mailbox when the reader closes."""
    code = new_code()
    await rabbit.ensure_mailboxes("ggk", [code])
    sent = delivery(code, origin="ggk", target="ggk")
    await rabbit.publisher.publish(sent)
    assert await lease_one(rabbit.reader, "ggk", code) is not None
    await rabbit.reader.close()
    again = await lease_one(rabbit.reader, "ggk", code)
    assert sent.tracking_id == (again.tracking_id if again else None)


async def test_broker_not_listening_is_unavailable(rabbit_settings: BrokerSettings) -> None:
    """A publisher whose broker does not answer raises Unavailable instead of waiting."""
    down = rabbit_settings.model_copy(update={"amqp_url": "amqp://guest:guest@127.0.0.1:5999/"})
    broker = RabbitBroker(down)
    try:
        with pytest.raises(Unavailable):
            await broker.publisher.publish(delivery(new_code(), origin="ggk", target="ggk"))
        with pytest.raises(Unavailable):  # again at once, while the failed connect is recent
            await broker.publisher.publish(delivery(new_code(), origin="ggk", target="ggk"))
    finally:
        await broker.close()


async def test_missing_vhost_is_unavailable(broker_cleanup: Cleanup) -> None:
    """A publisher on a topology that was never declared raises Unavailable (the vhost is refused)."""
    broker = RabbitBroker(broker_cleanup.fresh())
    try:
        with pytest.raises(Unavailable):
            await broker.publisher.publish(delivery(new_code(), origin="ggk", target="ggk"))
    finally:
        await broker.close()


async def test_link_start_without_broker_is_unavailable(rabbit_settings: BrokerSettings) -> None:
    """Starting against a broker that is not there fails with Unavailable."""
    down = rabbit_settings.model_copy(
        update={"amqp_url": "amqp://127.0.0.1:5999/", "management_url": "http://127.0.0.1:15999"}
    )
    broker = RabbitBroker(down)
    try:
        with pytest.raises(Unavailable):
            await broker.start()
    finally:
        await broker.close()


# --- two deployments on one broker ------------------------------------------------------------------------


@pytest.fixture
async def two_deployments(
    broker_cleanup: Cleanup,
) -> AsyncIterator[tuple[RabbitBroker, RabbitBroker]]:
    """Two gateways on the one broker, each with its own vhost prefix (as two deployments ``relA-``/``relB-``)."""
    brokers = [RabbitBroker(broker_cleanup.fresh()) for _ in range(2)]
    try:
        for broker in brokers:
            await broker.start()
        yield brokers[0], brokers[1]
    finally:
        for broker in brokers:
            await broker.close()
            async with ManagementApi(broker.settings) as api:
                for node in NODES:
                    await api.delete_vhost(broker.settings.vhost(node))


async def _issue(broker: RabbitBroker, cleanup: Cleanup, code: str) -> str:
    """Issue (rotate) ``code``'s broker credential in ``broker``'s deployment; its AMQP URL."""
    user = broker.settings.participant_user(code)
    cleanup.users.add(user)
    password = await broker.provision_mailbox("vecozo", code, rotate=True)
    assert password is not None
    return broker.settings.node_url("vecozo", user, password)


async def _reads_mailbox(url: str, code: str) -> bool:
    """Whether the credential of ``url`` may read ``mailbox.{code}`` in the vhost of ``url``."""
    try:
        async with await aio_pika.connect(url) as conn:
            channel = await conn.channel()
            queue = await channel.get_queue(f"mailbox.{code}", ensure=False)
            await queue.get(fail=False)
    except aiormq.exceptions.AMQPError:
        return False
    return True


async def test_two_deployments_issuing_one_code_keep_their_own_users(
    two_deployments: tuple[RabbitBroker, RabbitBroker], broker_cleanup: Cleanup
) -> None:
    """Both deployments issue 42420001: each credential reads only its own deployment's mailbox, and issuing
    in B leaves A's password working."""
    a, b = two_deployments
    code = "42420001"
    url_a = await _issue(a, broker_cleanup, code)
    url_b = await _issue(b, broker_cleanup, code)
    a_in_b = url_a.replace("/" + a.settings.vhost("vecozo"), "/" + b.settings.vhost("vecozo"))
    b_in_a = url_b.replace("/" + b.settings.vhost("vecozo"), "/" + a.settings.vhost("vecozo"))
    assert (True, True, False, False) == (
        await _reads_mailbox(url_a, code),
        await _reads_mailbox(url_b, code),
        await _reads_mailbox(a_in_b, code),
        await _reads_mailbox(b_in_a, code),
    )


async def test_a_participant_user_has_rights_on_one_vhost_only(
    two_deployments: tuple[RabbitBroker, RabbitBroker], broker_cleanup: Cleanup
) -> None:
    """The broker lists exactly one permission for a participant user: its node's vhost, its mailbox."""
    a, _ = two_deployments
    code = new_code()
    await _issue(a, broker_cleanup, code)
    user = a.settings.participant_user(code)
    rights = await a.api._call("GET", f"/users/{user}/permissions")
    expected = [(a.settings.vhost("vecozo"), "^$", "^$", rf"^mailbox\.{code}$")]
    assert expected == [(r["vhost"], r["configure"], r["write"], r["read"]) for r in rights]


async def test_a_user_the_gateway_did_not_make_is_left_alone(
    rabbit: RabbitBroker, broker_cleanup: Cleanup
) -> None:
    """A broker user of the participant's name made by someone else is refused, its password unchanged."""
    code = new_code()
    user = rabbit.settings.participant_user(code)
    broker_cleanup.users.add(user)
    await rabbit.api.put_user(user, "theirs", "")
    before = await rabbit.api._call("GET", f"/users/{user}")
    with pytest.raises(ForeignUser):
        await rabbit.provision_mailbox("vecozo", code, rotate=True)
    after = await rabbit.api._call("GET", f"/users/{user}")
    assert (before["password_hash"], [], []) == (
        after["password_hash"],
        after["tags"],
        await rabbit.api._call("GET", f"/users/{user}/permissions"),
    )


# --- lease caps ---------------------------------------------------------------------------------------------


async def test_lease_batches_are_capped_per_party_and_per_node(rabbit: RabbitBroker) -> None:
    """Held lease batches (each a channel) are capped per party and per node: one more is refused with a
    Retry-After until a batch ends, and a party at its cap leaves room for the others."""
    a, b, c = new_code(), new_code(), new_code()
    await rabbit.ensure_mailboxes("ggk", [a, b, c])
    for code in (a, b, c):
        for _ in range(3):
            await rabbit.publisher.publish(delivery(code, origin="ggk", target="ggk"))
    reader = RabbitMailboxReader(rabbit.sessions, per_party=2, per_node=3)
    try:
        held = [await lease_one(reader, "ggk", a, lease_seconds=30) for _ in range(2)]
        with pytest.raises(TooManyLeases) as party_full:
            await reader.lease("ggk", a, 1, 30)
        other = await lease_one(reader, "ggk", b, lease_seconds=30)
        with pytest.raises(TooManyLeases) as node_full:
            await reader.lease("ggk", c, 1, 30)
        assert held[0] is not None and other is not None
        await reader.ack("ggk", a, held[0].lease_id)  # a batch ends: room again
        again = await lease_one(reader, "ggk", c, lease_seconds=30)
    finally:
        await reader.close()
    assert (429, True, 429, True, True) == (
        party_full.value.status,
        1 <= party_full.value.retry_after <= 30,
        node_full.value.status,
        "this node" in node_full.value.detail,
        again is not None,
    )
