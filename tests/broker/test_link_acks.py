"""The link consumer acks in batches (``multiple``): no batch may cover a message still in hand or refused,
the acks reach the broker in the order decided, and a message that comes back after it reached its mailbox
(the channel broke before its ack) is not published into the mailbox again.

A burst of link messages handled in a jumbled order, one refused for good and one failing once: every good
message lands in the mailbox once, the refused one in the DLQ, the failing one after its retry, and the
incoming link queue ends empty (every delivery settled, none acked by a batch it did not belong to).
"""

from __future__ import annotations

import asyncio
import random

import pytest
from aio_pika.abc import AbstractIncomingMessage

from adapters.rabbitmq.broker import RabbitBroker
from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.properties import LinkMessage
from adapters.rabbitmq.publisher import one_cluster
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.settle import BatchAcks
from adapters.rabbitmq.topology import MAILBOX, link_from, link_to
from gateway.errors import NodeRole, NotAuthorised, Unavailable
from gateway.pipeline.seal import SEAL_HEADER
from gateway.ports import NODES
from tests.broker.conftest import Cleanup, delivery, eventually, lease_one, new_code

pytestmark = pytest.mark.broker


class Jumbled:
    """Takes a random few milliseconds per message; refuses ``refused``, fails ``flaky`` once."""

    def __init__(self, refused: str, flaky: str) -> None:
        self.refused, self.flaky = refused, flaky
        self.seen: list[str] = []

    async def __call__(self, message: LinkMessage) -> None:
        self.seen.append(message.tracking_id)
        await asyncio.sleep(random.uniform(0, 0.03))
        if message.tracking_id == self.refused:
            raise NotAuthorised("refused by the test")
        if message.tracking_id == self.flaky and self.seen.count(self.flaky) == 1:
            raise Unavailable("a passing fault")


async def test_batched_acks_settle_every_delivery_once(rabbit_settings: BrokerSettings) -> None:
    code = new_code()
    sent = [delivery(code, origin="vecozo", target="ggk") for _ in range(60)]
    refused, flaky = sent[17].tracking_id, sent[33].tracking_id
    policy = Jumbled(refused, flaky)
    broker = RabbitBroker(rabbit_settings, on_link_message=policy)
    try:
        await broker.start({"ggk": [code]})
        await asyncio.gather(*(broker.publisher.publish(d) for d in sent))
        wanted = {d.tracking_id for d in sent} - {refused}
        got: list[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(got) < len(wanted) and loop.time() < deadline:
            batch = await broker.reader.lease("ggk", code, 100, 30)
            got += [m.tracking_id for m in batch]
            if not batch:
                await asyncio.sleep(0.1)
        assert (sorted(wanted), len(got)) == (sorted(set(got)), len(wanted))
        assert await eventually(lambda: broker.dlq_depth("ggk"), 1) == 1
        async with ManagementApi(rabbit_settings) as api:
            vhost = rabbit_settings.vhost("ggk")
            assert await eventually(lambda: api.queue_depth(vhost, link_from("ggk")), 0) == 0
        assert len(policy.seen) == len(sent) + 1  # each once, the flaky one twice: nothing redelivered
    finally:
        await broker.close()
        async with ManagementApi(rabbit_settings) as api:
            await api.delete_vhosts(rabbit_settings.vhost(node) for node in NODES)


async def _take(broker: RabbitBroker, node: NodeRole, queue: str) -> AbstractIncomingMessage | None:
    channel = await broker.sessions[node].channel()
    try:
        found = await (await channel.get_queue(queue, ensure=True)).get(fail=False)
        if found is not None:
            await found.ack()
        return found
    finally:
        await channel.close()


@pytest.mark.parametrize("direct", [True, False])
async def test_one_cluster_publishes_past_the_shovel_unless_told_not_to(
    broker_cleanup: Cleanup, direct: bool
) -> None:
    """On one cluster a message for the other node goes straight into its ``link.from-*`` queue; with
    ``link_direct`` off, or across two clusters, into ``link.to-*`` for the shovel. Sealed either way."""
    settings = broker_cleanup.fresh(link_direct=direct, link_into_mailbox=False)
    assert one_cluster(settings) is direct
    assert not one_cluster(settings.model_copy(update={"shovel_uri_ggk": "amqp://127.0.0.1"}))
    broker = RabbitBroker(settings, nodes=())  # no link consumer: what crossed stays where it was put
    try:
        await broker.start()
        if not direct:  # the shovel would move it on at once
            async with ManagementApi(settings) as api:
                await api._call("DELETE", f"/parameters/shovel/{settings.vhost('vecozo')}/link-vecozo-to-ggk")
        sent = delivery(new_code(), origin="vecozo", target="ggk")
        await broker.publisher.publish(sent)
        where: tuple[NodeRole, str] = ("ggk", link_from("ggk")) if direct else ("vecozo", link_to("vecozo"))
        got = await _take(broker, *where)
        assert got is not None
        headers = got.headers or {}
        assert (sent.tracking_id, True) == (
            got.message_id,
            str(headers.get(SEAL_HEADER, "")).startswith("v1:"),
        )
    finally:
        await broker.close()
        async with ManagementApi(settings) as api:
            await api.delete_vhosts(settings.vhost(node) for node in NODES)


def _as_put(message: AbstractIncomingMessage) -> tuple[object, ...]:
    """Everything of a mailbox message but what the broker adds (delivery tag, redelivered, exchange)."""
    return (
        bytes(message.body),
        message.headers,
        message.message_id,
        message.correlation_id,
        message.content_type,
        message.delivery_mode,
        message.priority,
        message.timestamp,
        message.expiration,
        message.reply_to,
        message.type,
        message.user_id,
        message.app_id,
        message.content_encoding,
    )


async def test_into_the_mailbox_the_sending_node_puts_what_the_link_would(broker_cleanup: Cleanup) -> None:
    """With ``link_into_mailbox`` (one cluster, a seal) the sending node publishes a message for the other
    node straight into the recipient's mailbox there, and it carries the very bytes and properties the link
    consumer puts there on the way through ``link.from-*`` (no seal header); the publish answers True."""
    settings = broker_cleanup.fresh(link_into_mailbox=True)
    code = new_code()
    sent = delivery(code, origin="vecozo", target="ggk")
    put: list[tuple[object, ...]] = []
    for into in (True, False):
        broker = RabbitBroker(
            settings.model_copy(update={"link_into_mailbox": into}), nodes=() if into else ("ggk",)
        )
        try:
            await broker.start({"ggk": [code]})
            assert await broker.publisher.publish(sent) is (True if into else None)
            got = None
            for _ in range(100):
                got = await _take(broker, "ggk", f"mailbox.{code}")
                if got is not None:
                    break
                await asyncio.sleep(0.1)
            assert got is not None
            put.append(_as_put(got))
        finally:
            await broker.close()
    assert put[0] == put[1]
    assert SEAL_HEADER not in (put[0][1] or {})  # type: ignore[operator]


async def test_into_the_mailbox_needs_one_cluster_and_a_seal(broker_cleanup: Cleanup) -> None:
    """Without the seal (no trust) or with the link through the shovel, the message crosses by the link."""
    code = new_code()
    for changes in ({"link_seal": False}, {"link_direct": False}, {"link_into_mailbox": False}):
        settings = broker_cleanup.fresh(**changes)
        broker = RabbitBroker(settings, nodes=())
        try:
            await broker.start({"ggk": [code]})
            assert await broker.publisher.publish(delivery(code, origin="vecozo", target="ggk")) is None
        finally:
            await broker.close()
            async with ManagementApi(settings) as api:
                await api.delete_vhosts(settings.vhost(node) for node in NODES)


class HeldBack:
    """A channel's ``basic_ack`` whose first call is held back until ``release`` (as aiormq holds a write
    behind its full frame buffer, where a writer from another task can pass it); the acks as sent, in order,
    in ``sent``."""

    def __init__(self, channel: object) -> None:
        self._ack = channel.basic_ack  # type: ignore[attr-defined]
        self.first = asyncio.Event()
        self.release = asyncio.Event()
        self.sent: list[tuple[int, bool]] = []

    async def __call__(self, delivery_tag: int, multiple: bool = False, wait: bool = True) -> None:
        self.sent.append((delivery_tag, multiple))
        if len(self.sent) == 1:
            self.first.set()
            await self.release.wait()
        await self._ack(delivery_tag=delivery_tag, multiple=multiple, wait=wait)


async def _queued(acks: BatchAcks, n: int) -> None:
    """Let the loop turn until ``n`` acks wait to be written."""
    for _ in range(10_000):
        if acks.queued >= n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{acks.queued} acks queued, not {n}")


async def test_batched_acks_reach_the_broker_in_the_order_decided(rabbit_settings: BrokerSettings) -> None:
    """A lone ack (a done delivery behind one in hand) held back in the client must still reach the broker
    before the multiple acks decided after it: the other way round the broker settles the lone one's tag
    with a batch, then closes the channel on the lone ack's unknown tag and requeues every delivery the
    channel held, so messages already in their mailbox would cross again. Two multiple acks queued behind
    it go as one."""
    broker = RabbitBroker(rabbit_settings, nodes=())  # no link consumer: the test consumes link.from itself
    channel = None
    try:
        await broker.start()
        code = new_code()
        await asyncio.gather(*(broker.publisher.publish(delivery(code)) for _ in range(5)))
        async with ManagementApi(rabbit_settings) as api:
            vhost = rabbit_settings.vhost("ggk")
            assert await eventually(lambda: api.queue_depth(vhost, link_from("ggk")), 5) == 5
            channel = await broker.sessions["ggk"].channel()
            queue = await channel.get_queue(link_from("ggk"), ensure=False)
            got = [await queue.get(no_ack=False, timeout=5) for _ in range(5)]
            acks = BatchAcks(straggle=0)
            for message in got:
                acks.hold(message)
            held = HeldBack(got[0].channel)
            got[0].channel.basic_ack = held  # type: ignore[method-assign]
            done = [asyncio.ensure_future(acks.ack(got[1]))]  # behind got[0], still in hand: acked alone
            await held.first.wait()
            done += [asyncio.ensure_future(acks.ack(got[0])), asyncio.ensure_future(acks.ack(got[2]))]
            await _queued(acks, 2)  # 1..3 as one multiple ack, behind the held one
            done.append(asyncio.ensure_future(acks.ack(got[3])))
            await _queued(acks, 3)  # and 4
            held.release.set()
            await asyncio.gather(*done)
            await queue.declare()  # a round trip: the broker has read the acks before it answers
            await acks.ack(got[4])
            assert [(tag - got[0].delivery_tag, multiple) for tag, multiple in held.sent] == [
                (1, False),
                (3, True),  # the multiple ack of 1..3 went with this one
                (4, True),
            ]
            await channel.close()
            assert await eventually(lambda: api.queue_depth(vhost, link_from("ggk")), 0) == 0
    finally:
        if channel is not None and not channel.is_closed:
            await channel.close()
        await broker.close()
        async with ManagementApi(rabbit_settings) as api:
            await api.delete_vhosts(rabbit_settings.vhost(node) for node in NODES)


class Remembers:
    """Link callbacks of a node that records what it put in a mailbox: a redelivery of such a message is
    answered False (the link acks it and does not publish it again)."""

    def __init__(self) -> None:
        self.in_mailbox: set[str] = set()
        self.seen: list[str] = []
        self.again = asyncio.Event()  # a message came a second time

    async def __call__(self, message: LinkMessage) -> bool:
        self.seen.append(message.tracking_id)
        if self.seen.count(message.tracking_id) > 1:
            self.again.set()
        return not (message.delivery_count > 0 and message.tracking_id in self.in_mailbox)

    async def delivered(self, message: LinkMessage) -> None:
        self.in_mailbox.add(message.tracking_id)


async def test_a_message_back_after_its_channel_broke_is_not_put_in_the_mailbox_twice(
    rabbit_settings: BrokerSettings,
) -> None:
    """The link's channel breaks right after the mailbox confirmed a message and before its ack: the broker
    redelivers it; the link acks the redelivery without a second copy in the mailbox."""
    code = new_code()
    policy = Remembers()
    broker = RabbitBroker(rabbit_settings, on_link_message=policy, on_delivered=policy.delivered)
    try:
        await broker.start({"ggk": [code]})
        (link,) = [link for link in broker._links if link.node == "ggk"]
        session = broker.sessions["ggk"]
        publish = session.publish_body
        broken: list[bool] = []

        async def then_break(exchange: str, key: str, body: bytes, properties: object) -> None:
            await publish(exchange, key, body, properties)  # type: ignore[arg-type]
            if exchange == MAILBOX and not broken:
                broken.append(True)
                assert link._channel is not None
                consumer = await link._channel.get_underlay_channel()
                await consumer.basic_ack(delivery_tag=2**40)  # unknown to the broker: it closes the channel

        session.publish_body = then_break  # type: ignore[method-assign]
        sent = delivery(code)
        await broker.publisher.publish(sent)
        first = await lease_one(broker.reader, "ggk", code)
        assert first is not None and first.tracking_id == sent.tracking_id
        assert await broker.reader.ack("ggk", code, first.lease_id) == sent.tracking_id
        async with asyncio.timeout(30):
            await policy.again.wait()
        assert (broken, policy.seen) == ([True], [sent.tracking_id] * 2)  # it did come back
        async with ManagementApi(rabbit_settings) as api:
            vhost = rabbit_settings.vhost("ggk")
            assert await eventually(lambda: api.queue_depth(vhost, link_from("ggk")), 0) == 0
        assert await lease_one(broker.reader, "ggk", code, within=3.0) is None
    finally:
        await broker.close()
        async with ManagementApi(rabbit_settings) as api:
            await api.delete_vhosts(rabbit_settings.vhost(node) for node in NODES)
