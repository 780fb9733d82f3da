"""The link consumer acks in batches (``multiple``): no batch may cover a message still in hand or refused.

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
from adapters.rabbitmq.topology import link_from, link_to
from gateway.errors import NodeRole, NotAuthorised, Unavailable
from gateway.pipeline.seal import SEAL_HEADER
from gateway.ports import NODES
from tests.broker.conftest import Cleanup, delivery, eventually, new_code

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
    settings = broker_cleanup.fresh(link_direct=direct)
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
