"""On a RabbitMQ node of the tests' own: the deploy definitions at boot (and a gateway start over them that
changes nothing), and a broker stop and start.

The machine's broker is never touched: the node here has its own name, ports and data, boots with
``deploy/rabbitmq/definitions.json`` and is stopped and removed at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.rabbitmq.broker import RabbitBroker
from adapters.rabbitmq.deadletters import (
    MAILBOX_TTL_POLICY,
    WATCH_QUEUE_SPEC,
    DeadLetter,
    DeadLetterWatcher,
    apply_mailbox_ttl,
)
from adapters.rabbitmq.definitions import DEFAULT_PATH, DEMO_MAILBOXES
from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import node_topology
from gateway.config import SecuritySettings
from gateway.errors import NodeRole, Unavailable
from gateway.ports import NODES, Delivery
from tests.broker.conftest import delivery, eventually
from tests.broker.own_node import OwnNode

pytestmark = [pytest.mark.faults, pytest.mark.slow]


@pytest.fixture(scope="module")
def own_node() -> Iterator[OwnNode]:
    node = OwnNode.create(definitions=DEFAULT_PATH)
    try:
        node.start()
        yield node
    finally:
        node.destroy()


@pytest.fixture
def own_settings(own_node: OwnNode) -> BrokerSettings:
    return BrokerSettings(
        amqp_url=own_node.amqp_url,
        management_url=own_node.management_url,
        connect_timeout=3.0,
        confirm_timeout=5.0,
        retry_delay=0.2,
    )


@pytest.fixture
async def own_broker(own_settings: BrokerSettings) -> AsyncIterator[RabbitBroker]:
    broker = RabbitBroker(own_settings)
    await broker.start(DEMO_MAILBOXES)
    yield broker
    await broker.close()


async def _management_answers(api: ManagementApi) -> bool:
    try:
        await api.vhosts()
    except Unavailable:
        return False
    return True


def _policy_of(queue: str) -> str | None:
    if queue.startswith("link."):
        return "link-delivery-limit"
    if queue.startswith("mailbox."):
        return MAILBOX_TTL_POLICY
    return None


async def test_definitions_load_into_a_fresh_node(own_settings: BrokerSettings) -> None:
    """A node booted with the deploy definitions holds the topology the code describes and the dead-letter
    watch queue, each queue under the policy meant for it (links: delivery limit, mailboxes: TTL), shovels
    running."""
    expected = {
        (node, q.name): ("quorum", q.declare_arguments, _policy_of(q.name))
        for node in ("ggk", "vecozo")
        for q in (*node_topology(own_settings, node, DEMO_MAILBOXES[node]).queues, WATCH_QUEUE_SPEC)
    }
    async with ManagementApi(own_settings) as api:
        await eventually(lambda: _management_answers(api), True)
        found = await eventually(lambda: _queues(api), expected, within=60)  # policies show with the stats
        states = await eventually(lambda: _shovel_states(api), ["running", "running"])
    assert (expected, ["running", "running"]) == (found, states)


async def _queues(api: ManagementApi) -> dict[tuple[str, str], tuple[str, dict[str, object], str | None]]:
    found = {}
    for node in ("ggk", "vecozo"):
        for q in await api._call("GET", f"/queues/{node}"):
            found[(node, q["name"])] = (q["type"], q["arguments"], q.get("policy"))
    return found


async def _shovel_states(api: ManagementApi) -> list[str]:
    return [state for node in ("ggk", "vecozo") for state in (await api.shovel_states(node)).values()]


async def _ignore(dead: DeadLetter) -> None:
    pass


async def test_gateway_start_changes_nothing_the_definitions_loaded(own_settings: BrokerSettings) -> None:
    """A gateway starting on a node that loaded the definitions declares what is there already: topology,
    mailbox TTL policy and dead-letter watch queue as the gateway's start puts them (see
    gateway.wiring.protection). The broker's definitions are the same before and after (a watch queue of
    other arguments would even fail the start), and the shovels keep running."""
    async with ManagementApi(own_settings) as api:
        await eventually(lambda: _management_answers(api), True)
        before = await api._call("GET", "/definitions")
        broker = RabbitBroker(own_settings)
        watchers: list[DeadLetterWatcher] = []
        try:
            await broker.start(DEMO_MAILBOXES)
            for node in NODES:
                await apply_mailbox_ttl(broker.api, own_settings, node, SecuritySettings().mailbox_ttl)
                watcher = DeadLetterWatcher(own_settings, node, _ignore, sessions=broker.sessions)
                watchers.append(watcher)
                await watcher.start()
        finally:
            for watcher in watchers:
                await watcher.stop()
            await broker.close()
        after = await api._call("GET", "/definitions")
        states = await eventually(lambda: _shovel_states(api), ["running", "running"])
    assert (before, ["running", "running"]) == (after, states)


async def _publish_until_confirmed(broker: RabbitBroker, sent: Delivery, within: float = 90.0) -> int:
    """Retry like a client that got 503: returns how many attempts were refused before the confirm."""
    refused = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            await broker.publisher.publish(sent)
            return refused
        except Unavailable:
            refused += 1
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _drain(
    broker: RabbitBroker, node: NodeRole, code: str, want: int, within: float = 30.0
) -> set[str]:
    got: set[str] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while len(got) < want and loop.time() < deadline:
        batch = await broker.reader.lease(node, code, 50, 60)
        for item in batch:
            got.add(item.tracking_id)
            await broker.reader.ack(node, code, item.lease_id)
        if not batch:
            await asyncio.sleep(0.2)
    return got


async def test_broker_stop_refuses_and_restart_accepts_again(
    own_node: OwnNode, own_broker: RabbitBroker
) -> None:
    """With the broker stopped a publish is Unavailable; after its restart the same publisher confirms again,
    and every message confirmed before the stop is still delivered."""
    before = [delivery("0384", origin="ggk", target="ggk") for _ in range(10)]
    before += [delivery("0384", origin="vecozo", target="ggk") for _ in range(10)]
    for sent in before:
        await own_broker.publisher.publish(sent)
    own_node.stop_app()
    try:
        with pytest.raises(Unavailable):
            await own_broker.publisher.publish(delivery("0384", origin="ggk", target="ggk"))
    finally:
        own_node.start_app()
    after = [delivery("0384", origin="vecozo", target="ggk")]
    await _publish_until_confirmed(own_broker, after[0])
    expected = {d.tracking_id for d in before + after}
    assert expected == await _drain(own_broker, "ggk", "0384", len(expected))
