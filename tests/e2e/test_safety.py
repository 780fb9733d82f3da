"""Nothing accepted is lost: subscribers that die, messages that keep failing, a broker that stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from adapters.rabbitmq import BrokerSettings
from adapters.rabbitmq.definitions import DEFAULT_PATH
from tests.broker.conftest import Cleanup
from tests.broker.own_node import OwnNode
from tests.harness import GatewayUnderTest, gateway_under_test
from tests.messages import example, new_id, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE = "0384"
AANBIEDER = "42420001"


def request() -> bytes:
    return set_header(example("WMO315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())


async def get_one(queue: AbstractQueue, within: float = 20.0) -> AbstractIncomingMessage:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        message = await queue.get(no_ack=False, fail=False)
        if message is not None:
            return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing in {queue.name} within {within} s")


async def subscriber(settings: BrokerSettings, gw: GatewayUnderTest, cleanup: Cleanup) -> str:
    """The AMQP URL of municipality 0384's own broker user (read-only on its mailbox)."""
    password = await gw.runtime.broker.provision_mailbox("ggk", GEMEENTE, rotate=True)
    assert password is not None
    cleanup.users.add(settings.participant_user(GEMEENTE))
    return settings.node_url("ggk", user=settings.participant_user(GEMEENTE), password=password)


async def test_subscriber_that_dies_mid_message_gets_it_again(
    gw: GatewayUnderTest, e2e_broker_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """A municipal subscriber that dies before its ack receives the same message again."""
    url = await subscriber(e2e_broker_settings, gw, broker_cleanup)
    data = request()
    tracking_id = (await gw.submit(AANBIEDER, data)).json()["trackingId"]
    dying = await aio_pika.connect(url)
    channel = await dying.channel()
    first = await get_one(await channel.get_queue(f"mailbox.{GEMEENTE}", ensure=False))
    await dying.close()  # dies mid-message: no ack
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        again = await get_one(await channel.get_queue(f"mailbox.{GEMEENTE}", ensure=False))
        await again.ack()
    assert (data, tracking_id, data, tracking_id, True) == (
        first.body,
        first.message_id,
        again.body,
        again.message_id,
        again.redelivered,
    )


async def test_message_that_keeps_failing_ends_in_the_dlq(
    gw: GatewayUnderTest, e2e_broker_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """A message its subscriber keeps rejecting is dead-lettered after the delivery limit."""
    url = await subscriber(e2e_broker_settings, gw, broker_cleanup)
    tracking_id = (await gw.submit(AANBIEDER, request())).json()["trackingId"]
    attempts = 0
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"mailbox.{GEMEENTE}", ensure=False)
        while (message := await queue.get(no_ack=False, fail=False, timeout=5)) is not None or attempts == 0:
            if message is None:
                await asyncio.sleep(0.1)
                continue
            attempts += 1
            await message.nack(requeue=True)
    async with await aio_pika.connect(e2e_broker_settings.node_url("ggk")) as connection:
        channel = await connection.channel()
        dead = await get_one(await channel.get_queue("dlq", ensure=False))
        await dead.ack()
    assert (tracking_id, e2e_broker_settings.delivery_limit + 1) == (dead.message_id, attempts)


async def test_http_lease_not_acked_returns_to_the_mailbox(gw: GatewayUnderTest) -> None:
    """A lease that runs out returns the message; the next lease gets it again."""
    data = request()
    assert 202 == (await gw.submit(AANBIEDER, data)).status_code
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    leased: list[dict[str, object]] = []
    while not leased and loop.time() < deadline:
        leased = await gw.lease(GEMEENTE, 1, lease_seconds=5)
    assert 1 == len(leased)
    body, item = await gw.receive(GEMEENTE, within=30)
    assert (data, leased[0]["trackingId"], True) == (body, item["trackingId"], item["redelivered"])


# --- a broker that stops: a RabbitMQ node of this test's own ---------------------------------------------


@pytest.fixture(scope="module")
def own_node() -> Iterator[OwnNode]:
    node = OwnNode.create(definitions=DEFAULT_PATH)
    try:
        node.start()
        yield node
    finally:
        node.destroy()


@pytest.fixture
async def gw_own(own_node: OwnNode, tmp_path: Path) -> AsyncIterator[GatewayUnderTest]:
    settings = BrokerSettings(
        amqp_url=own_node.amqp_url,
        management_url=own_node.management_url,
        vhost_prefix="stop-",
        connect_timeout=2.0,
        confirm_timeout=5.0,
        retry_delay=0.2,
    )
    async with gateway_under_test(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}", settings) as gw:
        yield gw


@pytest.mark.faults
@pytest.mark.slow
async def test_broker_stopped_gives_503_and_restart_accepts_again(
    gw_own: GatewayUnderTest, own_node: OwnNode
) -> None:
    """With the broker stopped the node answers 503 with Retry-After; after restart it accepts again, and
    every message that got a 202 is in its mailbox."""
    gw = gw_own
    accepted: dict[str, bytes] = {}
    before = request()
    accepted[(await gw.submit(AANBIEDER, before)).json()["trackingId"]] = before
    await asyncio.to_thread(own_node.stop_app)
    during = await gw.submit(AANBIEDER, request())
    stopped = (during.status_code, during.json()["code"], "Retry-After" in during.headers)
    await asyncio.to_thread(own_node.start_app)
    after = request()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    response = await gw.submit(AANBIEDER, after)
    while response.status_code == 503 and loop.time() < deadline:
        await asyncio.sleep(0.5)
        response = await gw.submit(AANBIEDER, after)
    assert 202 == response.status_code, response.text
    accepted[response.json()["trackingId"]] = after
    received: dict[str, bytes] = {}
    while len(received) < len(accepted):
        body, item = await gw.receive(GEMEENTE, within=60)
        received[item["trackingId"]] = body
    assert ((503, "IB103", True), accepted) == (stopped, received)
