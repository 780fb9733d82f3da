"""Security on the real broker: each participant's broker rights, unfetched mailbox messages expiring to the
dead-letter queue (seen in track & trace), and the audit trail of a whole conversation checked by the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import aiormq
import pytest
from typer.testing import CliRunner

from adapters.rabbitmq import BrokerSettings
from adapters.rabbitmq.deadletters import WATCH_QUEUE
from adapters.rabbitmq.topology import DLQ, DLX, MAILBOX, OUTBOUND, link_from, link_to, mailbox_queue
from gateway.cli import _load
from gateway.cli import app as cli
from gateway.config import SecuritySettings
from gateway.errors import NodeRole
from tests.broker.conftest import Cleanup, new_code
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest, gateway_under_test
from tests.messages import example, new_id, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

AANBIEDER, GEMEENTE = "42420001", "0384"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
EXCHANGES = (OUTBOUND, MAILBOX, DLX, "", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match")

Refused = (aiormq.exceptions.ChannelAccessRefused, aiormq.exceptions.ChannelNotFoundEntity)


@dataclasses.dataclass(frozen=True)
class Subscriber:
    code: str
    node: NodeRole
    url: str


async def register(gw: GatewayUnderTest, cleanup: Cleanup, node: NodeRole) -> Subscriber:
    """A new provider on ``node`` with its own broker user (issued through the admin API)."""
    code = new_code()
    ggk = gw.clients["ggk"]
    added = await ggk.post(
        "/v1/admin/participants",
        json={"code": code, "kind": "aanbieder", "name": "Test", "home_node": node},
        headers=OPERATOR,
    )
    assert 201 == added.status_code, added.text
    settings: BrokerSettings = gw.runtime.broker.settings
    cleanup.users.add(settings.participant_user(code))
    issued = (await ggk.post(f"/v1/admin/participants/{code}/broker-credential", headers=OPERATOR)).json()
    return Subscriber(code, node, settings.node_url(node, issued["user"], issued["password"]))


@pytest.fixture
async def pair(gw: GatewayUnderTest, broker_cleanup: Cleanup) -> tuple[Subscriber, Subscriber]:
    """Participants A and B on the provider node, each with its own broker user."""
    return await register(gw, broker_cleanup, "vecozo"), await register(gw, broker_cleanup, "vecozo")


@pytest.fixture
async def connection_a(pair: tuple[Subscriber, Subscriber]) -> AsyncIterator[aio_pika.abc.AbstractConnection]:
    connection = await aio_pika.connect(pair[0].url)
    try:
        yield connection
    finally:
        await connection.close()


async def refused(
    connection: aio_pika.abc.AbstractConnection, action: Callable[[Any], Awaitable[Any]]
) -> bool:
    """Whether the broker refuses ``action`` on a fresh channel (a refusal closes the channel)."""
    channel = await connection.channel(publisher_confirms=True)
    try:
        await action(channel)
    except Refused:
        return True
    finally:
        if not channel.is_closed:
            await channel.close()
    return False


async def test_participant_reads_its_own_mailbox(
    connection_a: aio_pika.abc.AbstractConnection, pair: tuple[Subscriber, Subscriber]
) -> None:
    """Participant A's user may read A's own mailbox."""

    async def read_own(channel: Any) -> Any:
        queue = await channel.get_queue(mailbox_queue(pair[0].code), ensure=True)
        return await queue.get(fail=False)

    assert await refused(connection_a, read_own) is False


async def test_participant_is_refused_on_anothers_mailbox(
    connection_a: aio_pika.abc.AbstractConnection, pair: tuple[Subscriber, Subscriber]
) -> None:
    """Participant A's user gets ACCESS_REFUSED reading B's mailbox, the DLQ, the link and watch queues."""
    queues = [mailbox_queue(pair[1].code), DLQ, WATCH_QUEUE, link_to("vecozo"), link_from("vecozo")]

    def reading(name: str) -> Callable[[Any], Awaitable[Any]]:
        async def read(channel: Any) -> Any:
            queue = await channel.get_queue(name, ensure=False)
            return await queue.get(fail=False)

        return read

    assert [True] * len(queues) == [await refused(connection_a, reading(name)) for name in queues]


async def test_participant_may_publish_to_no_exchange(
    connection_a: aio_pika.abc.AbstractConnection, pair: tuple[Subscriber, Subscriber]
) -> None:
    """Participant A's user gets ACCESS_REFUSED publishing to every exchange of its vhost, default included."""

    def publishing(name: str) -> Callable[[Any], Awaitable[Any]]:
        async def publish(channel: Any) -> Any:
            exchange = (
                channel.default_exchange if name == "" else await channel.get_exchange(name, ensure=False)
            )
            return await exchange.publish(aio_pika.Message(b"<x/>"), routing_key=pair[1].code)

        return publish

    assert [True] * len(EXCHANGES) == [await refused(connection_a, publishing(name)) for name in EXCHANGES]


async def test_participant_may_configure_nothing(
    connection_a: aio_pika.abc.AbstractConnection, pair: tuple[Subscriber, Subscriber]
) -> None:
    """Participant A's user may not declare queues or exchanges, bind, or delete even its own mailbox."""
    own = mailbox_queue(pair[0].code)

    async def declare_queue(channel: Any) -> Any:
        return await channel.declare_queue("sneaky", durable=True)

    async def declare_exchange(channel: Any) -> Any:
        return await channel.declare_exchange("sneaky", aio_pika.ExchangeType.FANOUT)

    async def bind_own(channel: Any) -> Any:
        queue = await channel.get_queue(own, ensure=False)
        return await queue.bind(MAILBOX, routing_key=pair[1].code)

    async def delete_own(channel: Any) -> Any:
        return await channel.queue_delete(own)

    actions = [declare_queue, declare_exchange, bind_own, delete_own]
    assert [True] * len(actions) == [await refused(connection_a, action) for action in actions]


async def test_participant_is_refused_on_the_other_vhost(
    gw: GatewayUnderTest, pair: tuple[Subscriber, Subscriber]
) -> None:
    """Participant A's user has no rights at all on the other node's vhost: the connection is refused."""
    settings: BrokerSettings = gw.runtime.broker.settings
    url = pair[0].url.replace("/" + settings.vhost("vecozo"), "/" + settings.vhost("ggk"))
    with pytest.raises(aiormq.exceptions.AMQPError) as refused:
        connection = await aio_pika.connect(url)
        await connection.close()
    assert "Connection.Close" in str(refused.value)  # the broker closes instead of opening the vhost


# --- mailbox TTL ---------------------------------------------------------------------------------------------


@pytest.fixture
async def gw_short_ttl(
    sqlite_url: str, e2e_broker_settings: BrokerSettings, tmp_path: Path
) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway with a mailbox TTL of one second."""
    sec = SecuritySettings(
        receipt_dir=tmp_path / "pki",
        privacy_key_file=tmp_path / "privacy.key",
        purge_interval=0,
        mailbox_ttl=1,
    )
    async with gateway_under_test(sqlite_url, e2e_broker_settings, security=sec) as found:
        yield found


async def test_unfetched_message_dead_letters_and_sender_sees_it(gw_short_ttl: GatewayUnderTest) -> None:
    """A message left in its mailbox past the TTL dead-letters; its sender sees `dead-lettered` (expired)."""
    data = set_header(example("WMO315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())
    tracking_id = (await gw_short_ttl.submit(AANBIEDER, data)).json()["trackingId"]
    dead: dict[str, Any] = {}
    for _ in range(300):
        events = (await gw_short_ttl.trace(AANBIEDER, tracking_id))["events"]
        dead = next((e for e in events if e["event"] == "dead-lettered"), {})
        if dead:
            break
        await asyncio.sleep(0.1)
    depth = 0  # the original stays in the DLQ for the operators (management counts lag a few seconds)
    for _ in range(100):
        depth = await gw_short_ttl.runtime.broker.dlq_depth("ggk")
        if depth:
            break
        await asyncio.sleep(0.2)
    left = await gw_short_ttl.lease(GEMEENTE)
    assert ("expired", f"mailbox.{GEMEENTE}", "ggk", [], 1) == (
        dead.get("detail", {}).get("reason"),
        dead.get("detail", {}).get("queue"),
        dead.get("node"),
        left,
        depth,
    )


# --- the audit trail of a real conversation ------------------------------------------------------------------


def run_cli(*args: str) -> Any:
    _load()
    return CliRunner().invoke(cli, list(args))


async def test_audit_verify_detects_tampering_after_real_traffic(gw: GatewayUnderTest) -> None:
    """After a request, its retour and a refusal over the real broker the chain verifies; changing one
    entry's decision, or removing one, is reported by `gateway audit verify`."""
    request = set_header(example("WMO301"), Afzender=GEMEENTE, Ontvanger=AANBIEDER, Identificatie=new_id())
    assert 202 == (await gw.submit(GEMEENTE, request)).status_code
    await gw.receive(AANBIEDER)
    await gw.submit(AANBIEDER, b"<niet/>")
    protection = gw.runtime.protection
    assert protection is not None
    await protection.audit.flush()
    url = gw.runtime.settings.database_url
    db_file = Path(url.split("///", 1)[1])
    ok = await asyncio.to_thread(run_cli, "audit", "verify", "--db", url)
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE audit SET decision = 'accepted' WHERE decision = 'refused'")
    changed = await asyncio.to_thread(run_cli, "audit", "verify", "--db", url)
    with sqlite3.connect(db_file) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 1")
    removed = await asyncio.to_thread(run_cli, "audit", "verify", "--db", url)
    assert (0, 1, True, 1, True) == (
        ok.exit_code,
        changed.exit_code,
        ": changed:" in changed.output,
        removed.exit_code,
        "broken-link" in removed.output or "removed" in removed.output,
    )


# --- reads over AMQP in track & trace ---------------------------------------------------------------------


@pytest.fixture
async def gw_traced(
    sqlite_url: str, e2e_broker_settings: BrokerSettings, tmp_path: Path
) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway with RabbitMQ's firehose on its vhosts (GATEWAY_TRACE_AMQP_DELIVERIES)."""
    sec = SecuritySettings(
        receipt_dir=tmp_path / "pki",
        privacy_key_file=tmp_path / "privacy.key",
        purge_interval=0,
        trace_amqp_deliveries=True,
    )
    async with gateway_under_test(sqlite_url, e2e_broker_settings, security=sec) as found:
        yield found


async def _read_over_amqp(subscriber: Subscriber) -> None:
    """Take one message from the subscriber's mailbox over AMQP with its own user, and ack it."""
    async with await aio_pika.connect(subscriber.url) as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(mailbox_queue(subscriber.code), ensure=False)
        for _ in range(100):
            message = await queue.get(fail=False)
            if message is not None:
                await message.ack()
                return
            await asyncio.sleep(0.2)
    raise AssertionError("nothing arrived in the mailbox")


async def _events(gw: GatewayUnderTest, party: str, tracking_id: str, event: str) -> dict[str, Any]:
    """The trace of the message once it shows ``event`` (waiting up to 20 s), else as it is then."""
    for _ in range(100):
        trace = await gw.trace(party, tracking_id)
        if any(e["event"] == event for e in trace["events"]):
            return trace
        await asyncio.sleep(0.2)
    return trace


async def test_a_read_over_amqp_is_in_track_and_trace(
    gw_traced: GatewayUnderTest, broker_cleanup: Cleanup
) -> None:
    """A provider reading its mailbox over AMQP with its own broker user: the sender's trace shows the
    message fetched via amqp by that provider, and no note."""
    provider = await register(gw_traced, broker_cleanup, "vecozo")
    data = set_header(example("WMO301"), Afzender=GEMEENTE, Ontvanger=provider.code, Identificatie=new_id())
    sent = await gw_traced.submit(GEMEENTE, data)
    assert 202 == sent.status_code, sent.text
    await _read_over_amqp(provider)
    trace = await _events(gw_traced, GEMEENTE, sent.json()["trackingId"], "fetched")
    fetched = [e["detail"] for e in trace["events"] if e["event"] == "fetched"]
    assert ([{"by": provider.code, "via": "amqp", "redelivered": "no"}], None) == (fetched, trace.get("note"))


async def test_without_the_firehose_the_trace_says_what_it_cannot_see(
    gw: GatewayUnderTest, broker_cleanup: Cleanup
) -> None:
    """Tracing off: a message read over AMQP stays in-mailbox, and its trace says that such a read is not
    seen, why (the firehose's measured cost) and how to switch it on."""
    provider = await register(gw, broker_cleanup, "vecozo")
    data = set_header(example("WMO301"), Afzender=GEMEENTE, Ontvanger=provider.code, Identificatie=new_id())
    sent = (await gw.submit(GEMEENTE, data)).json()
    await _read_over_amqp(provider)
    trace = await _events(gw, GEMEENTE, sent["trackingId"], "in-mailbox")
    note = trace.get("note", "")
    assert (False, True, True) == (
        any(e["event"] == "fetched" for e in trace["events"]),
        "GATEWAY_TRACE_AMQP_DELIVERIES" in note,
        "times the CPU per message" in note,
    )
