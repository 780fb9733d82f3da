"""Fault injection under steady load from retrying clients: after each fault every message that got a 202
is in its mailbox (once, counting by tracking id; redeliveries are removed by the subscriber and counted),
nothing the gateway refused or never saw is delivered, and the figures are printed.

Every broker here is the tests' own (own node names, ports and folders); the machine's broker is never
touched. About five minutes in all, so ``scripts/test`` leaves the ``faults`` marker out and
``scripts/faults`` runs it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.rabbitmq import BrokerSettings, ManagementApi
from adapters.rabbitmq.topology import mailbox_spec, shovel_name, shovel_spec
from bench._serve import ready
from tests.broker.own_node import OwnNode
from tests.faults.cluster import LocalCluster
from tests.faults.conftest import report
from tests.faults.load import Figures
from tests.faults.processes import Gateway
from tests.faults.scenario import MAILBOX, SENDER, Scenario, in_flight_explained

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.shared]


def _gateway(
    tmp_path: Path,
    node: OwnNode,
    db_url: str,
    prefix: str,
    groups: dict[str, tuple[str, int]],
    extra: dict[str, str] | None = None,
) -> Gateway:
    return Gateway.prepare(tmp_path, node.amqp_url, node.management_url, db_url, prefix, groups, extra)


def _scenario(
    name: str, gw: Gateway, tokens: dict[str, str], prefix: str, urls: list[str], tmp: Path
) -> Scenario:
    return Scenario(name, gw, tokens[SENDER], f"{prefix}ggk", urls, tmp)


def _check(fig: Figures, scenario: Scenario, *, in_flight_allowed: bool) -> None:
    """The promises: every 202 delivered; nothing delivered that the client did not send and see fail."""
    report(fig)
    assert scenario.load is not None
    unexplained = in_flight_explained(fig, scenario.load, scenario.deliveries())
    assert (0, []) == (fig.missing, unexplained)
    if not in_flight_allowed:
        assert (0, 0) == (fig.delivered_without_202, fig.same_content_twice)
    assert fig.accepted > 0


async def test_broker_restart(
    own_node: OwnNode, tmp_path: Path, prefix: str, seeded: tuple[str, dict[str, str]]
) -> None:
    """(a) The broker node stops and starts again under load: 503s while it is down, readyz says so, every
    202 arrives after the restart."""
    db_url, tokens = seeded
    gw = _gateway(tmp_path, own_node, db_url, prefix, {"both": ("ggk,vecozo", 1)})
    await asyncio.to_thread(gw.start)
    scenario = _scenario("a broker restart", gw, tokens, prefix, [own_node.amqp_url], tmp_path)
    readiness: list[bool] = []

    async def restart() -> float:
        await asyncio.to_thread(own_node.ctl, "stop_app")
        await asyncio.sleep(3)
        readiness.append(await asyncio.to_thread(ready, gw.url("vecozo")))
        await asyncio.to_thread(own_node.start_app)
        return time.time()

    try:
        fig = await scenario.run(restart, extra=lambda: {"ready_while_down": readiness[0]})
        await asyncio.sleep(2)
        ready_after = await asyncio.to_thread(ready, gw.url("vecozo"))
    finally:
        await asyncio.to_thread(gw.stop)
    _check(fig, scenario, in_flight_allowed=True)
    assert (False, True) == (readiness[0], ready_after)


async def test_gateway_process_killed(
    own_node: OwnNode, tmp_path: Path, prefix: str, seeded: tuple[str, dict[str, str]]
) -> None:
    """(b) SIGKILL of one of two provider-node processes and of the municipal-node process (link consumer)
    under load; a supervisor starts them again after 2 s. Every 202 arrives."""
    db_url, tokens = seeded
    groups = {"vecozo": ("vecozo", 2), "ggk": ("ggk", 1)}
    gw = _gateway(tmp_path, own_node, db_url, prefix, groups)
    await asyncio.to_thread(gw.start)
    scenario = _scenario("b gateway SIGKILL", gw, tokens, prefix, [own_node.amqp_url], tmp_path)

    async def kill() -> float:
        gw.kill("vecozo", 0)
        gw.kill("ggk", 0)
        await asyncio.sleep(2)
        gw.restart("vecozo", 0)
        gw.restart("ggk", 0)
        await asyncio.to_thread(gw.wait_ready)
        return time.time()

    try:
        fig = await scenario.run(kill)
    finally:
        await asyncio.to_thread(gw.stop)
    _check(fig, scenario, in_flight_allowed=True)


async def test_subscriber_killed_mid_message(
    own_node: OwnNode, tmp_path: Path, prefix: str, seeded: tuple[str, dict[str, str]]
) -> None:
    """(c) The mailbox subscriber is SIGKILLed holding unacked messages (it holds each for 0.5 s before its
    ack, so about 20 are in hand); the next subscriber gets them again, marked redelivered."""
    db_url, tokens = seeded
    gw = _gateway(tmp_path, own_node, db_url, prefix, {"both": ("ggk,vecozo", 1)})
    await asyncio.to_thread(gw.start)
    scenario = _scenario("c subscriber SIGKILL", gw, tokens, prefix, [own_node.amqp_url], tmp_path)

    async def kill_subscriber() -> float:
        scenario.subscribers[0].kill()
        await asyncio.sleep(2)
        await asyncio.to_thread(scenario.subscribe)
        return time.time()

    try:
        fig = await scenario.run(kill_subscriber, hold=0.5)
    finally:
        await asyncio.to_thread(gw.stop)
    _check(fig, scenario, in_flight_allowed=False)
    assert fig.redelivered > 0


async def test_node_link_cut(
    own_node: OwnNode, tmp_path: Path, prefix: str, seeded: tuple[str, dict[str, str]]
) -> None:
    """(d) The shovel between the nodes is removed for 6 s and put back: ingest goes on, the link queue
    holds what came in meanwhile, and all of it arrives after the link is back. (On one cluster the nodes
    publish past the shovel by default: here they go through it, as between two clusters.)"""
    db_url, tokens = seeded
    direct_off = {"GATEWAY_LINK_DIRECT": "false"}
    gw = _gateway(tmp_path, own_node, db_url, prefix, {"both": ("ggk,vecozo", 1)}, direct_off)
    await asyncio.to_thread(gw.start)
    scenario = _scenario("d node link cut 6 s", gw, tokens, prefix, [own_node.amqp_url], tmp_path)
    settings = BrokerSettings(
        amqp_url=own_node.amqp_url, management_url=own_node.management_url, vhost_prefix=prefix
    )
    spec = shovel_spec(settings, "vecozo")

    async def cut() -> float:
        async with ManagementApi(settings) as api:
            await api._call("DELETE", f"/parameters/shovel/{spec.vhost}/{shovel_name('vecozo')}")
            await asyncio.sleep(6)
            await api.put_shovel(spec.vhost, spec.name, spec.value)
        return time.time()

    try:
        fig = await scenario.run(cut)
    finally:
        await asyncio.to_thread(gw.stop)
    _check(fig, scenario, in_flight_allowed=False)


async def test_cluster_mailbox_leader_killed(
    local_cluster: LocalCluster, tmp_path: Path, prefix: str, seeded: tuple[str, dict[str, str]]
) -> None:
    """(e) On a local 3-node cluster, SIGKILL of the node that leads the recipient's quorum mailbox: a new
    leader takes over and every 202 is in the mailbox."""
    db_url, tokens = seeded
    first, second, third = local_cluster.nodes
    settings = BrokerSettings(
        amqp_url=first.amqp_url, management_url=first.management_url, vhost_prefix=prefix
    )
    # the mailbox is declared through the second node, so that node leads it (client-local placement);
    # the gateway talks to the first node, the subscriber to the third (the first as fallback)
    vhost = f"{prefix}ggk"
    async with ManagementApi(settings) as api:
        await api.put_vhost(vhost)
        await api.put_permissions(vhost, "guest", ".*", ".*", ".*")
    await _declare_mailbox(second, vhost, settings)
    leader_before = await _leader(settings, vhost)
    assert leader_before is not None
    gw = _gateway(tmp_path, first, db_url, prefix, {"both": ("ggk,vecozo", 1)})
    await asyncio.to_thread(gw.start)
    scenario = _scenario(
        "e cluster: mailbox leader SIGKILL", gw, tokens, prefix, [third.amqp_url, first.amqp_url], tmp_path
    )
    leaders: list[str] = []

    async def kill_leader() -> float:
        await asyncio.to_thread(local_cluster.kill, local_cluster.by_name(leader_before))
        for _ in range(60):
            await asyncio.sleep(0.5)
            leader = await _leader(settings, vhost)
            if leader and leader != leader_before:
                leaders.append(leader)
                break
        return time.time()

    try:
        fig = await scenario.run(
            kill_leader, extra=lambda: {"leader_before": leader_before, "leader_after": leaders}
        )
    finally:
        await asyncio.to_thread(gw.stop)
    _check(fig, scenario, in_flight_allowed=True)
    assert leader_before == second.name
    assert len(leaders) == 1 and leaders[0] != leader_before


async def _declare_mailbox(node: OwnNode, vhost: str, settings: BrokerSettings) -> None:
    import aio_pika

    queue, _ = mailbox_spec(settings, MAILBOX.split(".")[1])
    connection = await aio_pika.connect(node.amqp_url.rstrip("/") + "/" + vhost)
    try:
        channel = await connection.channel()
        await channel.declare_queue(queue.name, durable=True, arguments=queue.declare_arguments)
    finally:
        await connection.close()


async def _leader(settings: BrokerSettings, vhost: str) -> str | None:
    async with ManagementApi(settings) as api:
        try:
            found = await api.queue(vhost, MAILBOX)
        except Exception:
            return None
    return None if found is None else found.get("leader")


@pytest.fixture(scope="module")
def second_node() -> Iterator[OwnNode]:
    """A second RabbitMQ node, not clustered with the first: the other organisation's cluster."""
    node = OwnNode.create()
    try:
        node.start()
        yield node
    finally:
        node.destroy()


async def test_two_clusters_destination_restarts(
    own_node: OwnNode, second_node: OwnNode, tmp_path: Path, prefix: str, seeded: tuple[str, dict[str, str]]
) -> None:
    """(f) The municipal node on one broker, the provider node on another, joined by the shovels through
    GATEWAY_SHOVEL_URI_*; the municipal side's broker stops and starts under load: the provider node goes
    on accepting, the link catches up, every 202 arrives."""
    db_url, tokens = seeded
    shovels = {
        "GATEWAY_SHOVEL_URI_GGK": own_node.amqp_url.rstrip("/"),
        "GATEWAY_SHOVEL_URI_VECOZO": second_node.amqp_url.rstrip("/"),
    }
    ggk = Gateway.prepare(
        tmp_path, own_node.amqp_url, own_node.management_url, db_url, prefix, {"ggk": ("ggk", 1)}, shovels
    )
    vecozo = Gateway.prepare(
        tmp_path,
        second_node.amqp_url,
        second_node.management_url,
        db_url,
        prefix,
        {"vecozo": ("vecozo", 1)},
        shovels,
    )
    await asyncio.to_thread(ggk.start)
    try:
        await asyncio.to_thread(vecozo.start)
    except BaseException:
        await asyncio.to_thread(ggk.stop)
        raise
    scenario = _scenario(
        "f two clusters: municipal broker restart", vecozo, tokens, prefix, [own_node.amqp_url], tmp_path
    )

    async def restart_destination() -> float:
        await asyncio.to_thread(own_node.ctl, "stop_app")
        await asyncio.sleep(3)
        await asyncio.to_thread(own_node.start_app)
        return time.time()

    try:
        fig = await scenario.run(restart_destination)
    finally:
        await asyncio.to_thread(vecozo.stop)
        await asyncio.to_thread(ggk.stop)
    _check(fig, scenario, in_flight_allowed=False)
    assert 0.0 == fig.ingest_recovered_s  # the provider node never stopped answering 202
